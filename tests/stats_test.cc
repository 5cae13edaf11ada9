// Statistics registry: phases, totals, ratios, JSON keys/values, determinism,
// ns conversion and the text table.
#include <gtest/gtest.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <cjson/cJSON.h>

#include "sim/stats.h"

namespace {

struct Stats {
    ims_stats *s;
    explicit Stats(uint64_t hz = 1000000000) : s(ims_stats_create(hz)) { EXPECT_NE(s, nullptr); }
    ~Stats() { ims_stats_destroy(s); }
    Stats(const Stats &) = delete;
    Stats &operator=(const Stats &) = delete;
};

std::string json_of(const ims_stats *s)
{
    char *text = ims_stats_json_string(s);
    EXPECT_NE(text, nullptr);
    std::string out = text ? text : "";
    free(text);
    return out;
}

// The JSON parsed back: key -> number, in document order.
struct Parsed {
    std::vector<std::string> keys;
    std::map<std::string, double> num;
};

Parsed parse(const std::string &text)
{
    Parsed p;
    cJSON *root = cJSON_Parse(text.c_str());
    EXPECT_NE(root, nullptr) << text;
    if (!root)
        return p;
    EXPECT_TRUE(cJSON_IsObject(root));
    for (cJSON *it = root->child; it; it = it->next) {
        EXPECT_TRUE(cJSON_IsNumber(it)) << it->string;
        p.keys.push_back(it->string);
        p.num[it->string] = it->valuedouble;
    }
    cJSON_Delete(root);
    return p;
}

std::string table_of(const ims_stats *s)
{
    FILE *f = tmpfile();
    EXPECT_NE(f, nullptr);
    if (!f)
        return "";
    ims_stats_write_table(s, f);
    rewind(f);
    std::string out;
    char buf[512];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        out.append(buf, n);
    fclose(f);
    return out;
}

const char *kLatKeys[] = {".count", ".max", ".mean", ".min", ".p50", ".p90", ".p99"};

} // namespace

TEST(Stats, CountersPerPhaseAndTotals)
{
    Stats st;
    ims_counter *a = ims_stats_counter(st.s, "iotlb.hits", "IOTLB hits");
    ASSERT_NE(a, nullptr);
    ims_counter_add(a, 3);
    ASSERT_EQ(ims_stats_mark(st.s, "warm"), 0);
    ims_counter_add(a, 5);
    ASSERT_EQ(ims_stats_mark(st.s, "run"), 0);
    ims_counter_inc(a);
    ims_counter_add(a, 6);
    EXPECT_EQ(ims_stats_counter_total(st.s, "iotlb.hits"), 15u);

    Parsed p = parse(json_of(st.s));
    EXPECT_EQ(p.num["iotlb.hits"], 15);
    EXPECT_EQ(p.num["phase.start.iotlb.hits"], 3);
    EXPECT_EQ(p.num["phase.warm.iotlb.hits"], 5);
    EXPECT_EQ(p.num["phase.run.iotlb.hits"], 7);
    EXPECT_EQ(p.num["sim.phases"], 2);
    EXPECT_EQ(p.keys.size(), 5u);
}

TEST(Stats, SameNameReturnsSameHandle)
{
    Stats st;
    ims_counter *a = ims_stats_counter(st.s, "walk.reads", nullptr);
    // many more registrations grow the index; the handle must stay valid
    for (int i = 0; i < 200; i++)
        ASSERT_NE(ims_stats_counter(st.s, ("c." + std::to_string(i)).c_str(), "x"), nullptr);
    EXPECT_EQ(ims_stats_counter(st.s, "walk.reads", nullptr), a);
    ims_counter_add(a, 9);
    EXPECT_EQ(ims_stats_counter_total(st.s, "walk.reads"), 9u);
    ims_latency *l = ims_stats_latency(st.s, "walk.latency_ns", nullptr);
    EXPECT_EQ(ims_stats_latency(st.s, "walk.latency_ns", nullptr), l);
}

TEST(Stats, RegistryCopiesNames)
{
    Stats st;
    char name[] = "qi.descriptors";
    ims_counter_add(ims_stats_counter(st.s, name, nullptr), 4);
    char phase[] = "warm";
    ASSERT_EQ(ims_stats_mark(st.s, phase), 0);
    std::strcpy(name, "zz.overwrite..");
    std::strcpy(phase, "cold");
    Parsed p = parse(json_of(st.s));
    EXPECT_EQ(p.num["qi.descriptors"], 4);
    EXPECT_EQ(p.num["phase.warm.qi.descriptors"], 0);
    EXPECT_EQ(p.num.count("phase.cold.qi.descriptors"), 0u);
}

TEST(Stats, MarkRejectsDuplicateAndBadNames)
{
    Stats st;
    EXPECT_EQ(ims_stats_mark(st.s, "warm"), 0);
    EXPECT_EQ(ims_stats_mark(st.s, "warm"), -EINVAL);
    EXPECT_EQ(ims_stats_mark(st.s, ""), -EINVAL);
    EXPECT_EQ(ims_stats_mark(st.s, IMS_STATS_FIRST_PHASE), -EINVAL); // reserved for the implicit phase
    EXPECT_EQ(ims_stats_mark(st.s, "a.b"), -EINVAL);                 // would split the dotted key
    EXPECT_EQ(ims_stats_mark(st.s, "two words"), -EINVAL);
    EXPECT_EQ(ims_stats_mark(st.s, "steady-2"), 0);
    Parsed p = parse(json_of(st.s));
    EXPECT_EQ(p.num["sim.phases"], 2); // the rejected marks opened nothing
}

TEST(Stats, ImplicitPhaseReportedOnlyWithActivityAndNamedPhases)
{
    {
        // no named phase: no phase keys at all
        Stats st;
        ims_counter_add(ims_stats_counter(st.s, "dma.count", nullptr), 2);
        Parsed p = parse(json_of(st.s));
        EXPECT_EQ(p.keys, (std::vector<std::string>{"dma.count", "sim.phases"}));
        EXPECT_EQ(p.num["sim.phases"], 0);
    }
    {
        // named phase but nothing happened before it: no phase.start
        Stats st;
        ims_counter *c = ims_stats_counter(st.s, "dma.count", nullptr);
        ims_latency *l = ims_stats_latency(st.s, "dma.latency_ns", nullptr);
        ASSERT_EQ(ims_stats_mark(st.s, "warm"), 0);
        ims_counter_inc(c);
        ims_latency_record(l, 10);
        Parsed p = parse(json_of(st.s));
        for (const auto &k : p.keys)
            EXPECT_NE(k.rfind("phase.start.", 0), 0u) << k;
        EXPECT_EQ(p.num["phase.warm.dma.count"], 1);
    }
    {
        // a latency sample alone counts as activity
        Stats st;
        ims_stats_counter(st.s, "dma.count", nullptr);
        ims_latency_record(ims_stats_latency(st.s, "dma.latency_ns", nullptr), 50);
        ASSERT_EQ(ims_stats_mark(st.s, "warm"), 0);
        Parsed p = parse(json_of(st.s));
        EXPECT_EQ(p.num["phase.start.dma.latency_ns.count"], 1);
        EXPECT_EQ(p.num["phase.start.dma.latency_ns.p50"], 50);
        EXPECT_EQ(p.num["phase.start.dma.count"], 0);
        EXPECT_EQ(p.num["phase.warm.dma.latency_ns.count"], 0);
        EXPECT_EQ(p.num["phase.warm.dma.latency_ns.min"], 0); // empty: 0, not UINT64_MAX
    }
}

TEST(Stats, JsonExactKeysAndValues)
{
    Stats st;
    ims_counter *hits = ims_stats_counter(st.s, "iotlb.hits", "hits");
    ims_counter *lookups = ims_stats_counter(st.s, "iotlb.lookups", "lookups");
    ASSERT_EQ(ims_stats_ratio(st.s, "iotlb.hit_rate", "iotlb.hits", "iotlb.lookups"), 0);
    ims_latency *lat = ims_stats_latency(st.s, "dma.latency_ns", "DMA latency");
    ims_stats_set_u64(st.s, "trace.records", 1234);
    ims_stats_set_double(st.s, "host.wall_s", 0.25);
    ims_counter_add(hits, 3);
    ims_counter_add(lookups, 4);
    ims_latency_record(lat, 100);
    ims_latency_record(lat, 200);
    ims_latency_record(lat, 300);

    std::string text = json_of(st.s);
    Parsed p = parse(text);
    std::vector<std::string> want = {
        "dma.latency_ns.count", "dma.latency_ns.max", "dma.latency_ns.mean", "dma.latency_ns.min",
        "dma.latency_ns.p50",   "dma.latency_ns.p90", "dma.latency_ns.p99",  "host.wall_s",
        "iotlb.hit_rate",       "iotlb.hits",         "iotlb.lookups",       "sim.phases",
        "trace.records"};
    EXPECT_EQ(p.keys, want); // exactly these, in strcmp order
    EXPECT_EQ(p.num["dma.latency_ns.count"], 3);
    EXPECT_EQ(p.num["dma.latency_ns.mean"], 200);
    EXPECT_EQ(p.num["dma.latency_ns.min"], 100);
    EXPECT_EQ(p.num["dma.latency_ns.p50"], 200);
    EXPECT_EQ(p.num["dma.latency_ns.p90"], 300);
    EXPECT_EQ(p.num["dma.latency_ns.p99"], 300);
    EXPECT_EQ(p.num["dma.latency_ns.max"], 300);
    EXPECT_EQ(p.num["host.wall_s"], 0.25);
    EXPECT_EQ(p.num["iotlb.hit_rate"], 0.75);
    EXPECT_EQ(p.num["iotlb.hits"], 3);
    EXPECT_EQ(p.num["iotlb.lookups"], 4);
    EXPECT_EQ(p.num["sim.phases"], 0);
    EXPECT_EQ(p.num["trace.records"], 1234);
    // integers are written as integers; 2-space indent, no tabs
    EXPECT_NE(text.find("\n  \"dma.latency_ns.count\": 3,\n"), std::string::npos) << text;
    EXPECT_NE(text.find("\n  \"trace.records\": 1234\n}"), std::string::npos) << text;
    EXPECT_EQ(text.find('\t'), std::string::npos);
}

TEST(Stats, KeysSortedWithPhases)
{
    Stats st;
    ims_counter *z = ims_stats_counter(st.s, "z.last", nullptr);
    ims_counter *a = ims_stats_counter(st.s, "a.first", nullptr);
    ims_latency_record(ims_stats_latency(st.s, "m.lat", nullptr), 7);
    ims_counter_inc(z);
    ASSERT_EQ(ims_stats_mark(st.s, "b"), 0);
    ims_counter_inc(a);
    ASSERT_EQ(ims_stats_mark(st.s, "a"), 0);
    Parsed p = parse(json_of(st.s));
    for (size_t i = 1; i < p.keys.size(); i++)
        EXPECT_LT(std::strcmp(p.keys[i - 1].c_str(), p.keys[i].c_str()), 0) << p.keys[i];
    // 2 counters + 7 latency keys, at top level and in each of 3 reported phases, + sim.phases
    EXPECT_EQ(p.keys.size(), 4u * 9u + 1u);
    EXPECT_EQ(p.num["phase.start.z.last"], 1);
    EXPECT_EQ(p.num["phase.b.a.first"], 1);
    EXPECT_EQ(p.num["phase.a.a.first"], 0);
    EXPECT_EQ(p.num["phase.start.m.lat.max"], 7);
    for (const char *scope : {"", "phase.start.", "phase.b.", "phase.a."})
        for (const char *suffix : kLatKeys)
            EXPECT_EQ(p.num.count(std::string(scope) + "m.lat" + suffix), 1u) << scope << suffix;
}

TEST(Stats, LatencyPerPhaseAndTotals)
{
    Stats st;
    ims_latency *l = ims_stats_latency(st.s, "dma.latency_ns", nullptr);
    ASSERT_EQ(ims_stats_mark(st.s, "warm"), 0);
    for (uint64_t v = 1; v <= 100; v++)
        ims_latency_record(l, v);
    ASSERT_EQ(ims_stats_mark(st.s, "run"), 0);
    for (uint64_t v = 1001; v <= 1100; v++)
        ims_latency_record(l, v);
    EXPECT_EQ(ims_stats_latency_count(st.s, "dma.latency_ns"), 200u);
    EXPECT_EQ(ims_stats_latency_percentile_ns(st.s, "dma.latency_ns", 50), 100.0);
    EXPECT_EQ(ims_stats_latency_percentile_ns(st.s, "dma.latency_ns", 100), 1100.0);
    Parsed p = parse(json_of(st.s));
    EXPECT_EQ(p.num["phase.warm.dma.latency_ns.count"], 100);
    EXPECT_EQ(p.num["phase.warm.dma.latency_ns.p99"], 99);
    EXPECT_EQ(p.num["phase.warm.dma.latency_ns.mean"], 50.5);
    EXPECT_EQ(p.num["phase.run.dma.latency_ns.count"], 100);
    EXPECT_EQ(p.num["phase.run.dma.latency_ns.min"], 1001);
    EXPECT_EQ(p.num["phase.run.dma.latency_ns.max"], 1100);
    double p50 = p.num["phase.run.dma.latency_ns.p50"]; // exact 1050, bucket width 8
    EXPECT_LE(std::fabs(p50 - 1050), 0.01 * 1050);
    EXPECT_EQ(p.num["dma.latency_ns.count"], 200);
    EXPECT_EQ(p.num["dma.latency_ns.min"], 1);
    EXPECT_EQ(p.num["dma.latency_ns.mean"], 550.5);
    EXPECT_EQ(p.num.count("phase.start.dma.latency_ns.count"), 0u);
}

TEST(Stats, RatioZeroDenominatorAndPerPhase)
{
    Stats st;
    ims_counter *n = ims_stats_counter(st.s, "ctx.hits", nullptr);
    ims_counter *d = ims_stats_counter(st.s, "ctx.lookups", nullptr);
    ASSERT_EQ(ims_stats_ratio(st.s, "ctx.hit_rate", "ctx.hits", "ctx.lookups"), 0);
    EXPECT_EQ(parse(json_of(st.s)).num["ctx.hit_rate"], 0); // 0/0 -> 0
    ASSERT_EQ(ims_stats_mark(st.s, "a"), 0);
    ims_counter_add(n, 1);
    ims_counter_add(d, 4);
    ASSERT_EQ(ims_stats_mark(st.s, "b"), 0);
    ims_counter_add(n, 5); // numerator without denominator in this phase
    Parsed p = parse(json_of(st.s));
    EXPECT_EQ(p.num["phase.a.ctx.hit_rate"], 0.25);
    EXPECT_EQ(p.num["phase.b.ctx.hit_rate"], 0);
    EXPECT_EQ(p.num["ctx.hit_rate"], 1.5);
}

TEST(Stats, RatioRegistrationErrors)
{
    Stats st;
    ims_stats_counter(st.s, "a.x", nullptr);
    ims_stats_counter(st.s, "a.y", nullptr);
    ims_stats_latency(st.s, "a.lat", nullptr);
    EXPECT_EQ(ims_stats_ratio(st.s, "a.r", "a.x", "a.missing"), -EINVAL);
    EXPECT_EQ(ims_stats_ratio(st.s, "a.r", "a.lat", "a.y"), -EINVAL);
    EXPECT_EQ(ims_stats_ratio(st.s, "", "a.x", "a.y"), -EINVAL);
    EXPECT_EQ(ims_stats_ratio(st.s, "a.r", "a.x", "a.y"), 0);
    EXPECT_EQ(ims_stats_ratio(st.s, "a.r", "a.x", "a.y"), 0);     // same again: fine
    EXPECT_EQ(ims_stats_ratio(st.s, "a.r", "a.y", "a.x"), -EINVAL); // different operands
    EXPECT_EQ(ims_stats_ratio(st.s, "a.x", "a.x", "a.y"), -EINVAL); // name is a counter
}

TEST(Stats, CounterRegisteredLateIsZeroInEarlierPhases)
{
    Stats st;
    ims_counter_inc(ims_stats_counter(st.s, "early", nullptr));
    ASSERT_EQ(ims_stats_mark(st.s, "p1"), 0);
    ASSERT_EQ(ims_stats_mark(st.s, "p2"), 0);
    ims_counter_add(ims_stats_counter(st.s, "late", nullptr), 8);
    ims_latency_record(ims_stats_latency(st.s, "late.lat", nullptr), 5);
    Parsed p = parse(json_of(st.s));
    EXPECT_EQ(p.num["phase.start.late"], 0);
    EXPECT_EQ(p.num["phase.p1.late"], 0);
    EXPECT_EQ(p.num["phase.p2.late"], 8);
    EXPECT_EQ(p.num["phase.p1.late.lat.count"], 0);
    EXPECT_EQ(p.num["phase.p2.late.lat.count"], 1);
    EXPECT_EQ(p.num["late"], 8);
    EXPECT_EQ(p.num["early"], 1);
}

TEST(Stats, NsConversionAt1500MHz)
{
    Stats st(1500000000);
    ims_latency *l = ims_stats_latency(st.s, "qi.latency_ns", nullptr);
    ims_latency_record(l, 3);    // 2 ns
    ims_latency_record(l, 150);  // 100 ns
    ims_latency_record(l, 1500); // 1000 ns
    Parsed p = parse(json_of(st.s));
    EXPECT_DOUBLE_EQ(p.num["qi.latency_ns.min"], 2.0);
    EXPECT_DOUBLE_EQ(p.num["qi.latency_ns.p50"], 100.0);
    EXPECT_DOUBLE_EQ(p.num["qi.latency_ns.max"], 1000.0);
    EXPECT_DOUBLE_EQ(p.num["qi.latency_ns.mean"], 1653.0 / 3.0 / 1.5);
    EXPECT_EQ(p.num["qi.latency_ns.count"], 3); // a count, not converted
    EXPECT_DOUBLE_EQ(ims_stats_latency_percentile_ns(st.s, "qi.latency_ns", 0), 2.0);
}

TEST(Stats, JsonByteIdenticalForIdenticalRegistries)
{
    // same content registered in a different order must print the same bytes
    Stats a, b;
    auto fill = [](ims_stats *s, bool reverse) {
        const char *names[] = {"walk.reads", "iotlb.hits", "iotlb.misses", "qi.waits"};
        for (int i = 0; i < 4; i++) {
            const char *n = names[reverse ? 3 - i : i];
            ims_counter_add(ims_stats_counter(s, n, "h"), std::strlen(n));
        }
        ims_latency *l = ims_stats_latency(s, "dma.latency_ns", nullptr);
        for (uint64_t v = 0; v < 5000; v += 7)
            ims_latency_record(l, v * v);
        ASSERT_EQ(ims_stats_ratio(s, "iotlb.miss_rate", "iotlb.misses", "iotlb.hits"), 0);
        ASSERT_EQ(ims_stats_mark(s, "steady"), 0);
        ims_latency_record(l, 123456);
        ims_stats_set_double(s, "host.wall_s", 1.0 / 3.0);
        ims_stats_set_u64(s, "trace.records", 99);
    };
    fill(a.s, false);
    fill(b.s, true);
    std::string ja = json_of(a.s), jb = json_of(b.s);
    EXPECT_FALSE(ja.empty());
    EXPECT_EQ(ja, jb);
    EXPECT_EQ(ja, json_of(a.s)); // and printing twice changes nothing
}

TEST(Stats, WriteJsonMatchesString)
{
    Stats st;
    ims_counter_add(ims_stats_counter(st.s, "x.y", nullptr), 1);
    FILE *f = tmpfile();
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(ims_stats_write_json(st.s, f), 0);
    rewind(f);
    char buf[256] = {0};
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    EXPECT_EQ(std::string(buf, n), json_of(st.s) + "\n");
}

TEST(Stats, LargeCounterWrittenExactly)
{
    Stats st;
    ims_counter *c = ims_stats_counter(st.s, "big", nullptr);
    ims_counter_add(c, (UINT64_C(1) << 60) + 1); // beyond 2^53: a double would round it
    ims_stats_set_u64(st.s, "host.max", UINT64_MAX);
    std::string text = json_of(st.s);
    EXPECT_NE(text.find("\"big\": 1152921504606846977"), std::string::npos) << text;
    EXPECT_NE(text.find("\"host.max\": 18446744073709551615"), std::string::npos) << text;
    EXPECT_EQ(parse(text).num["big"], std::ldexp(1.0, 60));
}

TEST(Stats, HostValuesOverwriteAndAreNotPerPhase)
{
    Stats st;
    ims_stats_set_u64(st.s, "host.events", 5);
    ims_stats_set_u64(st.s, "host.events", 6);
    ims_stats_set_double(st.s, "host.wall_s", 2.5);
    ASSERT_EQ(ims_stats_mark(st.s, "w"), 0);
    Parsed p = parse(json_of(st.s));
    EXPECT_EQ(p.keys, (std::vector<std::string>{"host.events", "host.wall_s", "sim.phases"}));
    EXPECT_EQ(p.num["host.events"], 6);
    EXPECT_EQ(p.num["host.wall_s"], 2.5);
}

TEST(Stats, CollidingOutputKeysAreAnError)
{
    Stats st;
    ims_latency_record(ims_stats_latency(st.s, "x", nullptr), 1);
    ims_stats_counter(st.s, "x.p99", nullptr); // same key as the latency's p99
    FILE *f = tmpfile();
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(ims_stats_write_json(st.s, f), -EINVAL);
    fclose(f);
    errno = 0;
    EXPECT_EQ(ims_stats_json_string(st.s), nullptr);
    EXPECT_EQ(errno, EINVAL);
}

TEST(Stats, CreateRejectsZeroClock)
{
    errno = 0;
    EXPECT_EQ(ims_stats_create(0), nullptr);
    EXPECT_EQ(errno, EINVAL);
}

TEST(Stats, QueriesOfUnknownNamesAreZero)
{
    Stats st;
    ims_stats_counter(st.s, "a", nullptr);
    EXPECT_EQ(ims_stats_counter_total(st.s, "nope"), 0u);
    EXPECT_EQ(ims_stats_latency_count(st.s, "a"), 0u); // wrong kind
    EXPECT_EQ(ims_stats_latency_percentile_ns(st.s, "nope", 50), 0.0);
}

TEST(Stats, TableShowsTotalsAndPhases)
{
    Stats st;
    ims_counter *c = ims_stats_counter(st.s, "iotlb.hits", nullptr);
    ims_latency *l = ims_stats_latency(st.s, "dma.latency_ns", nullptr);
    ims_counter_add(c, 42);
    ASSERT_EQ(ims_stats_mark(st.s, "warm"), 0);
    for (int i = 0; i < 1000; i++)
        ims_latency_record(l, 100);
    ims_latency_record(l, 512);
    ims_stats_set_double(st.s, "host.wall_s", 1.5);
    std::string t = table_of(st.s);
    EXPECT_NE(t.find("name            value\n"), std::string::npos) << t;
    EXPECT_NE(t.find("iotlb.hits      42\n"), std::string::npos) << t;
    EXPECT_NE(t.find("host.wall_s     1.5\n"), std::string::npos) << t;
    EXPECT_NE(t.find("dma.latency_ns  count 1001  mean 100.412  p50 100  p90 100  p99 100  max 512\n"),
              std::string::npos)
        << t;
    EXPECT_NE(t.find("\nphase start\n  dma.latency_ns  count 0\n  iotlb.hits      42\n"), std::string::npos) << t;
    EXPECT_NE(t.find("\nphase warm\n  dma.latency_ns  count 1001"), std::string::npos) << t;
    EXPECT_NE(t.find("\nphase warm\n  dma.latency_ns  count 1001  mean 100.412  p50 100  p90 100  p99 100  max 512\n"
                     "  iotlb.hits      0\n"),
              std::string::npos)
        << t;
    EXPECT_EQ(t.find("phase warm\n  host"), std::string::npos); // host values are totals only
}
