// Tests of the typed configuration (sim/config.c) and the kernel's own keys.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" {
#include "sim/config.h"
}

namespace {

// name, type, def, min, max, fmin, fmax, choices, unit, help, source
const ims_cfg_key kTestKeys[] = {
    {"iotlb.entries", IMS_CFG_INT, "64", 1, 4096, 0, 0, nullptr, "entries", "IOTLB entries", "model choice"},
    {"iotlb.policy", IMS_CFG_ENUM, "lru", 0, 0, 0, 0, "lru|rr|random", nullptr, "replacement policy",
     "model choice"},
    {"mem.size", IMS_CFG_SIZE, "4G", 4096, 0, 0, 0, nullptr, "bytes", "memory size", "model choice"},
    {"mem.latency", IMS_CFG_TIME, "80ns", 1000, 10000000000ull, 0, 0, nullptr, "ns", "DRAM read latency",
     "calibration.md"},
    {"iotlb.enabled", IMS_CFG_BOOL, "true", 0, 0, 0, 0, nullptr, nullptr, "cache translations", nullptr},
    {nullptr, IMS_CFG_INT, nullptr, 0, 0, 0, 0, nullptr, nullptr, nullptr, nullptr},
};
const ims_cfg_key kMoreKeys[] = {
    {"vtd.cap", IMS_CFG_HEX, "0xd2008c40660462", 0, 0, 0, 0, nullptr, nullptr, "CAP_REG value", "model choice"},
    {"dev.load", IMS_CFG_FLOAT, "0.5", 0, 0, 0.0, 1.0, nullptr, "fraction", "offered load | share", "model choice"},
    {"trace.name", IMS_CFG_STRING, "default run", 0, 0, 0, 0, nullptr, nullptr, "label of the run", nullptr},
    {"pwc.entries", IMS_CFG_INT, "16", 0, 0, 0, 0, nullptr, "entries", "walk cache entries", "model choice"},
    {"ctx.entries", IMS_CFG_INT, "32", 0, 0, 0, 0, nullptr, "entries", "context cache entries", "model choice"},
    {nullptr, IMS_CFG_INT, nullptr, 0, 0, 0, 0, nullptr, nullptr, nullptr, nullptr},
};
const ims_cfg_key *const kTables[] = {kTestKeys, kMoreKeys};

struct Cfg {
    ims_config *c;
    ims_error err{};
    Cfg() : c(ims_config_create(kTables, 2, &err)) {}
    ~Cfg() { ims_config_destroy(c); }
    int set(const char *arg) { return ims_config_set_arg(c, arg, &err); }
    int load(const char *text) { return ims_config_load_string(c, text, "t.ini", &err); }
};

std::string capture(void (*fn)(const ims_config *, FILE *), const ims_config *c)
{
    FILE *f = tmpfile();
    fn(c, f);
    std::string s;
    rewind(f);
    for (int ch; (ch = fgetc(f)) != EOF;)
        s.push_back(static_cast<char>(ch));
    fclose(f);
    return s;
}

uint64_t u64(const char *s, int *rc)
{
    uint64_t v = 0xdeadbeef;
    *rc = ims_parse_u64(s, &v);
    return v;
}

} // namespace

TEST(ConfigParse, U64AcceptsDecimalAndHex)
{
    int rc;
    EXPECT_EQ(u64("0", &rc), 0u);
    EXPECT_EQ(u64("010", &rc), 10u); // leading zero is not octal
    EXPECT_EQ(u64("0x10", &rc), 16u);
    EXPECT_EQ(u64("0XfF", &rc), 255u);
    EXPECT_EQ(u64("18446744073709551615", &rc), UINT64_MAX);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(u64("0xffffffffffffffff", &rc), UINT64_MAX);
    EXPECT_EQ(rc, 0);
}

TEST(ConfigParse, U64IsStrict)
{
    uint64_t v = 7;
    for (const char *bad : {"", "-1", "+1", " 1", "1 ", "0x", "12a", "1.5", "1K", "0x1g"})
        EXPECT_EQ(ims_parse_u64(bad, &v), -EINVAL) << bad;
    EXPECT_EQ(ims_parse_u64(nullptr, &v), -EINVAL);
    EXPECT_EQ(ims_parse_u64("18446744073709551616", &v), -ERANGE);
    EXPECT_EQ(ims_parse_u64("0x10000000000000000", &v), -ERANGE);
    EXPECT_EQ(ims_parse_u64("99999999999999999999x", &v), -EINVAL); // garbage is reported before overflow
    EXPECT_EQ(v, 7u);                                                 // untouched on error
}

TEST(ConfigParse, SizeBinarySuffixes)
{
    uint64_t v;
    ASSERT_EQ(ims_parse_size("4096", &v), 0);
    EXPECT_EQ(v, 4096u);
    ASSERT_EQ(ims_parse_size("64K", &v), 0);
    EXPECT_EQ(v, 65536u);
    ASSERT_EQ(ims_parse_size("64KiB", &v), 0);
    EXPECT_EQ(v, 65536u);
    ASSERT_EQ(ims_parse_size("2M", &v), 0);
    EXPECT_EQ(v, 2u << 20);
    ASSERT_EQ(ims_parse_size("3GiB", &v), 0);
    EXPECT_EQ(v, 3ull << 30);
    ASSERT_EQ(ims_parse_size("1T", &v), 0);
    EXPECT_EQ(v, 1ull << 40);
    ASSERT_EQ(ims_parse_size("0x10K", &v), 0);
    EXPECT_EQ(v, 16384u);
    ASSERT_EQ(ims_parse_size("16777215T", &v), 0);
    EXPECT_EQ(v, 16777215ull << 40);
    for (const char *bad : {"", "4k", "4KB", "4 K", "K", "-4K", "1.5K", "4Kib", "4KiBs"})
        EXPECT_EQ(ims_parse_size(bad, &v), -EINVAL) << bad;
    EXPECT_EQ(ims_parse_size("16777216T", &v), -ERANGE); // 2^64
    EXPECT_EQ(ims_parse_size("99999999999999999999", &v), -ERANGE);
}

TEST(ConfigParse, TimeUnitsAndDecimals)
{
    uint64_t ps;
    struct { const char *text; uint64_t ps; } ok[] = {
        {"197", 197000},          {"197ns", 197000},  {"1.5us", 1500000}, {"1.500us", 1500000},
        {"2ms", 2000000000},      {"1s", 1000000000000ull}, {"7ps", 7}, {"0.001ns", 1},
        {"0", 0},                 {"0.000000000001s", 1},   {"18446744s", 18446744000000000000ull},
    };
    for (auto &t : ok) {
        ASSERT_EQ(ims_parse_time_ps(t.text, "ns", &ps), 0) << t.text;
        EXPECT_EQ(ps, t.ps) << t.text;
    }
    ASSERT_EQ(ims_parse_time_ps("3", "us", &ps), 0); // the caller picks the unit of a bare number
    EXPECT_EQ(ps, 3000000u);
    EXPECT_EQ(ims_parse_time_ps("3", nullptr, &ps), -EINVAL); // no default: the unit is required
    for (const char *bad : {"", "-1ns", "+1ns", "1.5ps", "0.0001ns", "1.ns", ".5ns", "5xs", "5 ns", "5NS", "ns",
                            "0x10ns", "1e3ns"})
        EXPECT_EQ(ims_parse_time_ps(bad, "ns", &ps), -EINVAL) << bad;
    EXPECT_EQ(ims_parse_time_ps("18446745s", "ns", &ps), -ERANGE);
    EXPECT_EQ(ims_parse_time_ps("18446744073709551616ps", "ns", &ps), -ERANGE);
}

TEST(ConfigEditDistance, KnownValues)
{
    EXPECT_EQ(ims_edit_distance("", ""), 0u);
    EXPECT_EQ(ims_edit_distance("abc", ""), 3u);
    EXPECT_EQ(ims_edit_distance("", "abcd"), 4u);
    EXPECT_EQ(ims_edit_distance("kitten", "sitting"), 3u);
    EXPECT_EQ(ims_edit_distance("flaw", "lawn"), 2u);
    EXPECT_EQ(ims_edit_distance("iotlb.entires", "iotlb.entries"), 2u);
    EXPECT_EQ(ims_edit_distance("sim.sead", "sim.seed"), 1u);
    std::string a(100, 'x'), b = a;
    b[50] = 'y';
    b += "zz";
    EXPECT_EQ(ims_edit_distance(a.c_str(), b.c_str()), 3u); // longer than the on-stack row
}

TEST(ConfigSchema, DefaultsAreReadable)
{
    Cfg t;
    ASSERT_NE(t.c, nullptr) << t.err.msg;
    EXPECT_EQ(ims_config_u64(t.c, "iotlb.entries"), 64u);
    EXPECT_EQ(ims_config_enum(t.c, "iotlb.policy"), 0u);
    EXPECT_STREQ(ims_config_enum_name(t.c, "iotlb.policy"), "lru");
    EXPECT_EQ(ims_config_u64(t.c, "mem.size"), 4ull << 30);
    EXPECT_EQ(ims_config_time_ps(t.c, "mem.latency"), 80000u);
    EXPECT_TRUE(ims_config_bool(t.c, "iotlb.enabled"));
    EXPECT_EQ(ims_config_u64(t.c, "vtd.cap"), 0xd2008c40660462ull);
    EXPECT_DOUBLE_EQ(ims_config_double(t.c, "dev.load"), 0.5);
    EXPECT_STREQ(ims_config_string(t.c, "trace.name"), "default run");
    EXPECT_TRUE(ims_config_has(t.c, "pwc.entries"));
    EXPECT_FALSE(ims_config_has(t.c, "pwc.entrie"));
    EXPECT_FALSE(ims_config_is_set(t.c, "iotlb.entries"));
}

TEST(ConfigSchema, BadTablesAreRejected)
{
    ims_error err{};
    const ims_cfg_key *const dup[] = {kTestKeys, kTestKeys};
    EXPECT_EQ(ims_config_create(dup, 2, &err), nullptr);
    EXPECT_EQ(err.code, -EINVAL);
    EXPECT_NE(std::string(err.msg).find("declared twice"), std::string::npos) << err.msg;

    auto one = [](ims_cfg_key k, const char *want) {
        ims_cfg_key tab[2] = {k, {}};
        const ims_cfg_key *const t[] = {tab};
        ims_error e{};
        ims_config *c = ims_config_create(t, 1, &e);
        EXPECT_EQ(c, nullptr) << want;
        ims_config_destroy(c);
        EXPECT_EQ(e.code, -EINVAL);
        EXPECT_NE(std::string(e.msg).find(want), std::string::npos) << e.msg;
    };
    one({"a.b", IMS_CFG_INT, "x", 0, 0, 0, 0, nullptr, nullptr, "", ""}, "bad default: bad integer 'x'");
    one({"a.b", IMS_CFG_INT, "0", 1, 8, 0, 0, nullptr, nullptr, "", ""}, "bad default: 0 is out of range");
    one({"a.b", IMS_CFG_INT, "5", 8, 1, 0, 0, nullptr, nullptr, "", ""}, "min is above max");
    one({"a.b", IMS_CFG_ENUM, "x", 0, 0, 0, 0, nullptr, nullptr, "", ""}, "enum needs choices");
    one({"a.b", IMS_CFG_ENUM, "x", 0, 0, 0, 0, "x||y", nullptr, "", ""}, "enum needs choices");
    one({"nosection", IMS_CFG_INT, "1", 0, 0, 0, 0, nullptr, nullptr, "", ""}, "bad key name 'nosection'");
    one({"a..b", IMS_CFG_INT, "1", 0, 0, 0, 0, nullptr, nullptr, "", ""}, "bad key name");
    one({"a.b", IMS_CFG_INT, nullptr, 0, 0, 0, 0, nullptr, nullptr, "", ""}, "no default");
    one({"a.b", IMS_CFG_FLOAT, "2", 0, 0, 0.0, 1.0, nullptr, nullptr, "", ""}, "out of range");
}

TEST(ConfigSet, EveryTypeFromText)
{
    Cfg t;
    ASSERT_EQ(t.set("iotlb.entries=0x80"), 0) << t.err.msg;
    EXPECT_EQ(ims_config_u64(t.c, "iotlb.entries"), 128u);
    ASSERT_EQ(t.set(" iotlb.policy = random "), 0) << t.err.msg; // blanks around key and value go
    EXPECT_EQ(ims_config_enum(t.c, "iotlb.policy"), 2u);
    EXPECT_STREQ(ims_config_enum_name(t.c, "iotlb.policy"), "random");
    ASSERT_EQ(t.set("mem.size=64KiB"), 0);
    EXPECT_EQ(ims_config_u64(t.c, "mem.size"), 65536u);
    ASSERT_EQ(t.set("mem.latency=1.5us"), 0);
    EXPECT_EQ(ims_config_time_ps(t.c, "mem.latency"), 1500000u);
    ASSERT_EQ(t.set("vtd.cap=255"), 0); // HEX also takes decimal
    EXPECT_EQ(ims_config_u64(t.c, "vtd.cap"), 255u);
    ASSERT_EQ(t.set("dev.load=0.25"), 0);
    EXPECT_DOUBLE_EQ(ims_config_double(t.c, "dev.load"), 0.25);
    ASSERT_EQ(t.set("trace.name=a=b c"), 0); // the first '=' splits
    EXPECT_STREQ(ims_config_string(t.c, "trace.name"), "a=b c");
    ASSERT_EQ(t.set("trace.name="), 0);
    EXPECT_STREQ(ims_config_string(t.c, "trace.name"), "");
    struct { const char *text; bool v; } bools[] = {{"false", false}, {"yes", true}, {"no", false}, {"on", true},
                                                    {"off", false},   {"1", true},   {"0", false},  {"TRUE", true}};
    for (auto &b : bools) {
        ASSERT_EQ(ims_config_set(t.c, "iotlb.enabled", b.text, "x", &t.err), 0) << b.text;
        EXPECT_EQ(ims_config_bool(t.c, "iotlb.enabled"), b.v) << b.text;
    }
}

TEST(ConfigSet, IsSetTracksExplicitValues)
{
    Cfg t;
    EXPECT_FALSE(ims_config_is_set(t.c, "iotlb.entries"));
    EXPECT_NE(t.set("iotlb.entries=0"), 0); // a failed set does not count
    EXPECT_FALSE(ims_config_is_set(t.c, "iotlb.entries"));
    EXPECT_EQ(ims_config_u64(t.c, "iotlb.entries"), 64u);
    ASSERT_EQ(t.set("iotlb.entries=64"), 0); // set to the default value: still explicit
    EXPECT_TRUE(ims_config_is_set(t.c, "iotlb.entries"));
    EXPECT_FALSE(ims_config_is_set(t.c, "mem.size"));
    EXPECT_FALSE(ims_config_is_set(t.c, "no.such"));
}

TEST(ConfigSet, UnknownKeySuggestsClosest)
{
    Cfg t;
    EXPECT_EQ(t.set("iotlb.entires=64"), -ENOENT);
    EXPECT_EQ(t.err.code, -ENOENT);
    EXPECT_STREQ(t.err.msg, "--set: unknown key 'iotlb.entires' (did you mean 'iotlb.entries'?)");
    // Only the section is wrong: 'cache.policy' is 5 edits away, but the key name matches.
    EXPECT_EQ(t.set("cache.policy=rr"), -ENOENT);
    EXPECT_STREQ(t.err.msg, "--set: unknown key 'cache.policy' (did you mean 'iotlb.policy'?)");
    EXPECT_EQ(ims_config_set(t.c, "latency", "5", nullptr, &t.err), -ENOENT); // section missing
    EXPECT_STREQ(t.err.msg, "unknown key 'latency' (did you mean 'mem.latency'?)");
    // Several sections have 'entries': the closest sections first, at most three.
    EXPECT_EQ(t.set("ctxx.entries=1"), -ENOENT);
    EXPECT_STREQ(t.err.msg, "--set: unknown key 'ctxx.entries' (did you mean 'ctx.entries'?)"); // 1 edit
    EXPECT_EQ(t.set("qqqqqqqq.entries=1"), -ENOENT);
    EXPECT_STREQ(t.err.msg, "--set: unknown key 'qqqqqqqq.entries' " // equally far: schema order
                            "(did you mean 'iotlb.entries', 'pwc.entries' or 'ctx.entries'?)");
    EXPECT_EQ(t.set("ctxxxxxxxx.entries=1"), -ENOENT);
    EXPECT_STREQ(t.err.msg, "--set: unknown key 'ctxxxxxxxx.entries' "
                            "(did you mean 'ctx.entries', 'iotlb.entries' or 'pwc.entries'?)");
    EXPECT_EQ(t.set("zzz.qqq=1"), -ENOENT);
    EXPECT_STREQ(t.err.msg, "--set: unknown key 'zzz.qqq'"); // nothing close: no guess
}

TEST(ConfigSet, ValueErrorsNameOriginKeyAndRange)
{
    Cfg t;
    struct { const char *arg; int code; const char *msg; } cases[] = {
        {"iotlb.entries=lots", -EINVAL,
         "--set: iotlb.entries: bad integer 'lots' (expected a decimal or 0x hex number)"},
        {"iotlb.entries=0", -ERANGE, "--set: iotlb.entries: 0 is out of range (must be between 1 and 4096 entries)"},
        {"iotlb.entries=4097", -ERANGE,
         "--set: iotlb.entries: 4097 is out of range (must be between 1 and 4096 entries)"},
        {"iotlb.entries=18446744073709551616", -ERANGE,
         "--set: iotlb.entries: '18446744073709551616' is too large"},
        {"mem.size=1K", -ERANGE, "--set: mem.size: 1K is out of range (must be at least 4K bytes)"},
        {"mem.size=4k", -EINVAL,
         "--set: mem.size: bad size '4k' (expected bytes with an optional K, M, G or T suffix, or KiB, MiB, GiB, "
         "TiB; 1K = 1024)"},
        {"mem.latency=5xs", -EINVAL,
         "--set: mem.latency: bad time '5xs' (expected a non-negative number with unit ps, ns, us, ms or s; no "
         "unit means ns)"},
        {"mem.latency=-5ns", -EINVAL,
         "--set: mem.latency: bad time '-5ns' (expected a non-negative number with unit ps, ns, us, ms or s; no "
         "unit means ns)"},
        {"mem.latency=1.5ps", -EINVAL, "--set: mem.latency: bad time '1.5ps' (finer than the 1 ps resolution)"},
        {"mem.latency=20ms", -ERANGE, "--set: mem.latency: 20ms is out of range (must be between 1ns and 10ms)"},
        {"iotlb.policy=LRU", -EINVAL, "--set: iotlb.policy: bad choice 'LRU' (choose one of lru|rr|random)"},
        {"iotlb.enabled=maybe", -EINVAL,
         "--set: iotlb.enabled: bad boolean 'maybe' (use true/false, yes/no, on/off or 1/0)"},
        {"dev.load=1.5", -ERANGE, "--set: dev.load: 1.5 is out of range (must be between 0 and 1 fraction)"},
        {"dev.load=nan", -EINVAL, "--set: dev.load: bad number 'nan' (expected a finite decimal number)"},
        {"dev.load=1e999", -ERANGE, "--set: dev.load: '1e999' is too large"},
        {"trace.name=a ; b", -EINVAL,
         "--set: trace.name: text cannot be written back to an INI file (line breaks, leading/trailing blanks, "
         "' ;' or a leading ';')"},
    };
    for (auto &c : cases) {
        EXPECT_EQ(t.set(c.arg), c.code) << c.arg;
        EXPECT_STREQ(t.err.msg, c.msg);
    }
    EXPECT_EQ(ims_config_set(t.c, "trace.name", " lead", "x", &t.err), -EINVAL);
    EXPECT_EQ(ims_config_set(t.c, "trace.name", "two\nlines", "x", &t.err), -EINVAL);
    EXPECT_EQ(ims_config_set(t.c, "trace.name", ";x", "x", &t.err), -EINVAL); // inih: a comment
    // Nothing above changed a value.
    EXPECT_EQ(ims_config_u64(t.c, "iotlb.entries"), 64u);
    EXPECT_EQ(ims_config_time_ps(t.c, "mem.latency"), 80000u);
    EXPECT_STREQ(ims_config_string(t.c, "trace.name"), "default run");
    EXPECT_EQ(ims_config_set(t.c, "trace.name", "a;b", "x", &t.err), 0); // ';' after a non-blank is text
}

TEST(ConfigSet, ArgNeedsKeyEqualsValue)
{
    Cfg t;
    EXPECT_EQ(t.set("iotlb.entries"), -EINVAL);
    EXPECT_STREQ(t.err.msg, "--set: 'iotlb.entries': expected KEY=VALUE");
    EXPECT_EQ(t.set("=5"), -EINVAL);
    EXPECT_STREQ(t.err.msg, "--set: '=5': empty key (expected KEY=VALUE)");
    EXPECT_EQ(t.set("  =5"), -EINVAL);
    EXPECT_EQ(ims_config_set_arg(t.c, nullptr, &t.err), -EINVAL);
}

TEST(ConfigIni, LoadsSectionsCommentsAndSyntaxes)
{
    Cfg t;
    ASSERT_EQ(t.load("# comment\n; comment\n[iotlb]\n  policy: rr\nentries = 256 ; inline comment\n\n"
                     "[mem]\r\nsize=1G\r\nlatency = 100\n[dev]\nload = 1\n"),
              0)
        << t.err.msg;
    EXPECT_EQ(ims_config_u64(t.c, "iotlb.entries"), 256u);
    EXPECT_EQ(ims_config_enum(t.c, "iotlb.policy"), 1u); // indented first key of a section
    EXPECT_EQ(ims_config_u64(t.c, "mem.size"), 1ull << 30);
    EXPECT_EQ(ims_config_time_ps(t.c, "mem.latency"), 100000u); // bare number = ns
    EXPECT_DOUBLE_EQ(ims_config_double(t.c, "dev.load"), 1.0);
    EXPECT_TRUE(ims_config_is_set(t.c, "mem.size"));
    EXPECT_FALSE(ims_config_is_set(t.c, "vtd.cap"));
}

TEST(ConfigIni, ErrorsNameFileAndLine)
{
    struct { const char *text; int code; const char *msg; } cases[] = {
        {"entries = 5\n", -EINVAL, "t.ini:1: entries: key outside any section (put it under a [section] header)"},
        {"[iotlb]\nentries = 5\njunk\n", -EINVAL,
         "t.ini:3: malformed line (expected '[section]' or 'key = value')"},
        {"\n[iotlb\nentries = 5\n", -EINVAL, "t.ini:2: section header without closing ']'"},
        {"[iotlb]\n\n\nentires = 5\n", -ENOENT, "t.ini:4: unknown key 'iotlb.entires' (did you mean 'iotlb.entries'?)"},
        {"[iotlb]\nentries = 0\n", -ERANGE,
         "t.ini:2: iotlb.entries: 0 is out of range (must be between 1 and 4096 entries)"},
        // Only the first error is reported, whichever kind it is.
        {"[iotlb]\nentries = x\njunk\n", -EINVAL,
         "t.ini:2: iotlb.entries: bad integer 'x' (expected a decimal or 0x hex number)"},
        {"[iotlb]\njunk\nentries = x\n", -EINVAL, "t.ini:2: malformed line (expected '[section]' or 'key = value')"},
        {"[iotlb]\nentries = 5\nentries = 6\n", -EINVAL,
         "t.ini:3: iotlb.entries: set twice in this file (first on line 2)"},
        {"[iotlb]\nentries = 5\n  6\n", -EINVAL,
         "t.ini:3: indented line continues the value of 'entries' (multi-line values are not supported; "
         "start keys in column 1)"},
        // inih reads an indented key after another key as a continuation too.
        {"[iotlb]\nentries = 5\n\n  policy = rr\n", -EINVAL,
         "t.ini:4: indented line continues the value of 'entries' (multi-line values are not supported; "
         "start keys in column 1)"},
        {"[iotlb]\nentries = 5 # five\n", -EINVAL,
         "t.ini:2: iotlb.entries: bad integer '5 # five' (expected a decimal or 0x hex number) ('#' starts a "
         "comment only at the start of a line; use ' ;' after a value)"},
    };
    for (auto &c : cases) {
        Cfg t;
        EXPECT_EQ(t.load(c.text), c.code) << c.text;
        EXPECT_STREQ(t.err.msg, c.msg);
    }
}

TEST(ConfigIni, LongLines)
{
    Cfg t;
    std::string longc = "[trace]\n# " + std::string(400, 'c') + "\nname = x\n";
    ASSERT_EQ(t.load(longc.c_str()), 0) << t.err.msg; // a long comment is fine
    EXPECT_STREQ(ims_config_string(t.c, "trace.name"), "x");
    std::string longv = "[trace]\n\nname = " + std::string(300, 'v') + "\n";
    EXPECT_EQ(t.load(longv.c_str()), -EINVAL);
    EXPECT_EQ(std::string(t.err.msg).rfind("t.ini:3: line too long", 0), 0u) << t.err.msg;
}

TEST(ConfigIni, LaterSourcesOverrideEarlierOnes)
{
    Cfg t;
    ASSERT_EQ(t.load("[iotlb]\nentries = 128\n"), 0);
    ASSERT_EQ(t.load("[iotlb]\nentries = 256\n"), 0); // a second file may repeat a key
    EXPECT_EQ(ims_config_u64(t.c, "iotlb.entries"), 256u);
    ASSERT_EQ(t.set("iotlb.entries=32"), 0); // --set overrides the file
    EXPECT_EQ(ims_config_u64(t.c, "iotlb.entries"), 32u);
}

TEST(ConfigIni, LoadFile)
{
    Cfg t;
    char path[] = "/tmp/ims_config_test_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("[mem]\nlatency = 2us\n[iotlb]\npolicy = lru\nbogus = 1\n", f);
    fclose(f);
    EXPECT_EQ(ims_config_load_file(t.c, path, &t.err), -ENOENT);
    EXPECT_EQ(std::string(t.err.msg), std::string(path) + ":5: unknown key 'iotlb.bogus'");
    EXPECT_EQ(ims_config_time_ps(t.c, "mem.latency"), 2000000u); // keys before the error are applied
    remove(path);
    EXPECT_EQ(ims_config_load_file(t.c, path, &t.err), -ENOENT);
    EXPECT_EQ(std::string(t.err.msg), std::string(path) + ": cannot open: No such file or directory");
}

TEST(ConfigDump, FormatAndSectionOrder)
{
    const ims_cfg_key keys[] = {
        {"b.x", IMS_CFG_INT, "64", 1, 4096, 0, 0, nullptr, "entries", "IOTLB entries", "model choice"},
        {"a.t", IMS_CFG_TIME, "1500", 0, 0, 0, 0, nullptr, "ns", "latency", nullptr},
        {"b.s", IMS_CFG_SIZE, "65536", 0, 0, 0, 0, nullptr, nullptr, "size", "x"},
        {"a.e", IMS_CFG_ENUM, "rr", 0, 0, 0, 0, "lru|rr", nullptr, "policy", "y"},
        {"b.h", IMS_CFG_HEX, "4096", 0, 0, 0, 0, nullptr, nullptr, "reg", "z"},
        {"b.n", IMS_CFG_STRING, "", 0, 0, 0, 0, nullptr, nullptr, "name", "w"},
        {},
    };
    const ims_cfg_key *const tabs[] = {keys};
    ims_error err{};
    ims_config *c = ims_config_create(tabs, 1, &err);
    ASSERT_NE(c, nullptr) << err.msg;
    ASSERT_EQ(ims_config_set(c, "b.s", "1536", "x", &err), 0);
    EXPECT_EQ(capture(ims_config_dump, c),
              "# iommusim configuration: load it with -c FILE; '#' lines give unit, default and source.\n"
              "\n[b]\n"
              "# IOTLB entries [entries] (default: 64; source: model choice)\nx = 64\n"
              "# size (default: 64K; source: x)\ns = 1536\n"
              "# reg (default: 0x1000; source: z)\nh = 0x1000\n"
              "# name (default: ; source: w)\nn =\n"
              "\n[a]\n"
              "# latency [ns] (default: 1.5us)\nt = 1.5us\n"
              "# policy (choices: lru|rr; default: rr; source: y)\ne = rr\n");
    ims_config_destroy(c);
}

TEST(ConfigDump, CanonicalTimeAndSize)
{
    Cfg t;
    struct { const char *set, *line; } cases[] = {
        {"mem.latency=197000ps", "latency = 197ns\n"}, {"mem.latency=1500ns", "latency = 1.5us\n"},
        {"mem.latency=1ns", "latency = 1ns\n"},        {"mem.latency=1234567ps", "latency = 1.234567us\n"},
        {"mem.latency=10ms", "latency = 10ms\n"},          {"mem.latency=1001ps", "latency = 1.001ns\n"},
        {"mem.size=65536", "size = 64K\n"},            {"mem.size=1536K", "size = 1536K\n"},
        {"mem.size=5000", "size = 5000\n"},            {"mem.size=2048G", "size = 2T\n"},
        {"vtd.cap=255", "cap = 0xff\n"},               {"dev.load=0.1", "load = 0.1\n"},
    };
    for (auto &c : cases) {
        ASSERT_EQ(t.set(c.set), 0) << c.set << ": " << t.err.msg;
        EXPECT_NE(capture(ims_config_dump, t.c).find(std::string("\n") + c.line), std::string::npos) << c.set;
    }
}

TEST(ConfigDump, RoundTripKeepsEveryValue)
{
    Cfg a;
    for (const char *s : {"iotlb.entries=4096", "iotlb.policy=random", "mem.size=3M", "mem.latency=1.234567us",
                          "iotlb.enabled=off", "vtd.cap=0xffffffffffffffff", "dev.load=0.3333333333333333",
                          "trace.name=run #7: a=b", "pwc.entries=18446744073709551615"})
        ASSERT_EQ(a.set(s), 0) << s << ": " << a.err.msg;
    std::string text = capture(ims_config_dump, a.c);
    Cfg b;
    ASSERT_EQ(b.load(text.c_str()), 0) << b.err.msg << "\n" << text;
    EXPECT_EQ(ims_config_u64(b.c, "iotlb.entries"), 4096u);
    EXPECT_EQ(ims_config_enum(b.c, "iotlb.policy"), 2u);
    EXPECT_EQ(ims_config_u64(b.c, "mem.size"), 3u << 20);
    EXPECT_EQ(ims_config_time_ps(b.c, "mem.latency"), 1234567u);
    EXPECT_FALSE(ims_config_bool(b.c, "iotlb.enabled"));
    EXPECT_EQ(ims_config_u64(b.c, "vtd.cap"), UINT64_MAX);
    EXPECT_EQ(ims_config_double(b.c, "dev.load"), 0.3333333333333333); // bit-exact
    EXPECT_STREQ(ims_config_string(b.c, "trace.name"), "run #7: a=b");
    EXPECT_EQ(ims_config_u64(b.c, "pwc.entries"), UINT64_MAX);
    EXPECT_EQ(capture(ims_config_dump, b.c), text);
}

TEST(ConfigDump, LongHelpWrapsAndStillLoads)
{
    std::string help(30, 'h');
    for (int i = 0; i < 10; i++)
        help += " word" + std::to_string(i) + std::string(20, 'w');
    const ims_cfg_key keys[] = {
        {"s.k", IMS_CFG_INT, "3", 0, 0, 0, 0, nullptr, nullptr, help.c_str(), "src"},
        {},
    };
    const ims_cfg_key *const tabs[] = {keys};
    ims_error err{};
    ims_config *c = ims_config_create(tabs, 1, &err);
    ASSERT_NE(c, nullptr);
    std::string text = capture(ims_config_dump, c);
    size_t start = 0;
    for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
        EXPECT_LE(nl - start, 102u) << text.substr(start, nl - start);
    EXPECT_EQ(ims_config_load_string(c, text.c_str(), "dump", &err), 0) << err.msg;
    ims_config_destroy(c);
}

TEST(ConfigMarkdown, TablePerSectionWithEveryKey)
{
    Cfg t;
    std::string md = capture(ims_config_write_markdown, t.c);
    for (const ims_cfg_key *const *tab : {kTables + 0, kTables + 1})
        for (const ims_cfg_key *k = *tab; k->name; k++)
            EXPECT_NE(md.find(std::string("| `") + k->name + "` |"), std::string::npos) << k->name;
    EXPECT_NE(md.find("\n### [iotlb]\n\n| key | type | unit | default | range/choices | description | source |\n"
                      "|---|---|---|---|---|---|---|\n"),
              std::string::npos)
        << md;
    EXPECT_NE(md.find("| `iotlb.entries` | int | entries | `64` | between 1 and 4096 entries | IOTLB entries | "
                      "model choice |\n"),
              std::string::npos)
        << md;
    EXPECT_NE(md.find("| `iotlb.policy` | enum | | `lru` | `lru`, `rr`, `random` |"), std::string::npos) << md;
    EXPECT_NE(md.find("| `mem.latency` | time | ns | `80ns` | between 1ns and 10ms |"), std::string::npos) << md;
    EXPECT_NE(md.find("| offered load \\| share |"), std::string::npos) << md; // '|' in a cell is escaped
    // One table per section, sections in first-appearance order.
    size_t iotlb = md.find("### [iotlb]"), mem = md.find("### [mem]"), vtd = md.find("### [vtd]");
    EXPECT_LT(iotlb, mem);
    EXPECT_LT(mem, vtd);
    EXPECT_EQ(md.find("### [iotlb]", iotlb + 1), std::string::npos);
}

TEST(ConfigDeathTest, GetterMisuseAborts)
{
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    Cfg t;
    EXPECT_DEATH(ims_config_u64(t.c, "iotlb.entrie"), "config key 'iotlb.entrie' is not in the schema");
    EXPECT_DEATH(ims_config_bool(t.c, "iotlb.entries"), "config key 'iotlb.entries' read with the wrong type");
    EXPECT_DEATH(ims_config_u64(t.c, "mem.latency"), "wrong type"); // TIME has its own getter
}

TEST(ConfigSimKeys, SeedAndClock)
{
    const ims_cfg_key *const tabs[] = {ims_sim_cfg_keys};
    ims_error err{};
    ims_config *c = ims_config_create(tabs, 1, &err);
    ASSERT_NE(c, nullptr) << err.msg;
    EXPECT_EQ(ims_config_u64(c, "sim.seed"), 1u);
    EXPECT_EQ(ims_config_u64(c, "sim.clock_mhz"), 1000u);
    EXPECT_EQ(ims_config_set_arg(c, "sim.clock_mhz=0", &err), -ERANGE);
    EXPECT_STREQ(err.msg, "--set: sim.clock_mhz: 0 is out of range (must be between 1 and 100000 MHz)");
    EXPECT_EQ(ims_config_set_arg(c, "sim.clock_mhz=100001", &err), -ERANGE);
    ASSERT_EQ(ims_config_set_arg(c, "sim.clock_mhz=2400", &err), 0);
    EXPECT_EQ(ims_config_u64(c, "sim.clock_mhz"), 2400u);
    ASSERT_EQ(ims_config_set_arg(c, "sim.seed=0xffffffffffffffff", &err), 0);
    EXPECT_EQ(ims_config_u64(c, "sim.seed"), UINT64_MAX);
    ims_config_destroy(c);
}
