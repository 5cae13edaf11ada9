// End-to-end tests of the iommusim command-line tool: exit codes, messages, outputs.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <sys/wait.h>

namespace {

struct Out {
    int status;
    std::string out; // stdout and stderr, merged
};

Out run(const std::string &args)
{
    std::string cmd = std::string(IMS_CLI_PATH) + " " + args + " 2>&1";
    FILE *p = popen(cmd.c_str(), "r");
    Out o{-1, {}};
    if (!p)
        return o;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        o.out.append(buf, n);
    int st = pclose(p);
    o.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return o;
}

std::string temp_file(const std::string &name, const std::string &text)
{
    std::string path = ::testing::TempDir() + name;
    std::ofstream(path) << text;
    return path;
}

TEST(Cli, HelpAndVersion)
{
    Out h = run("--help");
    EXPECT_EQ(h.status, 0);
    EXPECT_NE(h.out.find("usage: iommusim <command>"), std::string::npos);
    EXPECT_NE(h.out.find("config"), std::string::npos);
    Out v = run("--version");
    EXPECT_EQ(v.status, 0);
    EXPECT_EQ(v.out.rfind("iommusim ", 0), 0u);
    EXPECT_EQ(run("config --help").status, 0);
    EXPECT_EQ(run("help config").status, 0);
}

TEST(Cli, BadInputExitsTwoWithMessage)
{
    Out none = run("");
    EXPECT_EQ(none.status, 2);
    Out u = run("frobnicate");
    EXPECT_EQ(u.status, 2);
    EXPECT_NE(u.out.find("iommusim: unknown command 'frobnicate'"), std::string::npos);
    Out o = run("config --dump --bogus");
    EXPECT_EQ(o.status, 2);
    EXPECT_NE(o.out.find("unknown option '--bogus'"), std::string::npos);
    Out m = run("config --dump --set");
    EXPECT_EQ(m.status, 2);
    EXPECT_NE(m.out.find("--set needs a value"), std::string::npos);
}

TEST(Cli, ConfigDumpShowsDefaultsAndOverrides)
{
    Out d = run("config --dump");
    ASSERT_EQ(d.status, 0) << d.out;
    EXPECT_NE(d.out.find("[sim]"), std::string::npos);
    EXPECT_NE(d.out.find("seed = 1"), std::string::npos);
    EXPECT_NE(d.out.find("[vtd]"), std::string::npos);
    Out s = run("config --dump --set sim.seed=77");
    ASSERT_EQ(s.status, 0) << s.out;
    EXPECT_NE(s.out.find("seed = 77"), std::string::npos);
}

TEST(Cli, ConfigUnknownKeySuggestsClosest)
{
    Out s = run("config --dump --set sim.sead=3");
    EXPECT_EQ(s.status, 2);
    EXPECT_NE(s.out.find("iommusim: "), std::string::npos);
    EXPECT_NE(s.out.find("sim.sead"), std::string::npos);
    EXPECT_NE(s.out.find("did you mean 'sim.seed'"), std::string::npos) << s.out;
}

TEST(Cli, ConfigFileErrorNamesFileAndLine)
{
    std::string path = temp_file("cli_bad.ini", "[sim]\nseed = 3\nclock_mhz = lots\n");
    Out s = run("config --dump -c " + path);
    EXPECT_EQ(s.status, 2);
    EXPECT_NE(s.out.find(path + ":3:"), std::string::npos) << s.out;
    EXPECT_EQ(run("config --dump -c /nonexistent/x.ini").status, 2);
}

TEST(Cli, LaterOptionsOverrideEarlierOnes)
{
    std::string path = temp_file("cli_ok.ini", "[sim]\nseed = 3\n");
    Out a = run("config --dump -c " + path);
    ASSERT_EQ(a.status, 0) << a.out;
    EXPECT_NE(a.out.find("seed = 3"), std::string::npos);
    Out b = run("config --dump -c " + path + " --set sim.seed=9");
    ASSERT_EQ(b.status, 0) << b.out;
    EXPECT_NE(b.out.find("seed = 9"), std::string::npos);
    EXPECT_EQ(b.out.find("seed = 3"), std::string::npos);
}

TEST(Cli, DumpIsLoadableAndStable)
{
    Out d = run("config --dump");
    ASSERT_EQ(d.status, 0);
    std::string path = temp_file("cli_dump.ini", d.out);
    Out again = run("config --dump -c " + path);
    ASSERT_EQ(again.status, 0) << again.out;
    EXPECT_EQ(again.out, d.out);
}

TEST(Cli, ShippedConfigsLoad)
{
    for (const char *name : {"default.ini", "legacy-server.ini", "scalable-server.ini"}) {
        std::string path = std::string(IMS_SOURCE_DIR) + "/configs/" + name;
        Out o = run("config --dump -c " + path);
        EXPECT_EQ(o.status, 0) << name << ": " << o.out;
    }
}

TEST(Cli, DocsConfigMatchesSchema)
{
    // docs/config.md embeds `iommusim config --markdown` verbatim between markers, so the
    // documentation cannot drift from the schema.
    Out md = run("config --markdown");
    ASSERT_EQ(md.status, 0);
    std::ifstream f(std::string(IMS_SOURCE_DIR) + "/docs/config.md");
    std::string doc((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const std::string begin = "<!-- BEGIN SCHEMA -->\n", end = "<!-- END SCHEMA -->";
    size_t b = doc.find(begin), e = doc.find(end);
    ASSERT_NE(b, std::string::npos);
    ASSERT_NE(e, std::string::npos);
    EXPECT_EQ(doc.substr(b + begin.size(), e - b - begin.size()), md.out)
        << "regenerate docs/config.md with tools/update-config-docs.sh";
}

TEST(Cli, DefaultIniIsTheDefaultDump)
{
    Out d = run("config --dump");
    ASSERT_EQ(d.status, 0);
    std::ifstream f(std::string(IMS_SOURCE_DIR) + "/configs/default.ini");
    std::string ini((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_EQ(ini, d.out) << "regenerate configs/default.ini with tools/update-config-docs.sh";
}

} // namespace
