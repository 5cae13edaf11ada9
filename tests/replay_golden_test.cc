// Golden traces: every tests/traces/NAME.ist runs through the command line
// (`iommusim run NAME.ist --quiet --json OUT`) and must match
// tests/traces/NAME.expect.json: "exit" (the exit status), "stderr"
// (substrings of the messages, $TRACE = the trace's path) and any statistic
// key, compared exactly. Drop a pair of files in the folder to add a case.
#include <gtest/gtest.h>

#include <cjson/cJSON.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

#include "replay_harness.h"

namespace fs = std::filesystem;

namespace {

const fs::path kDir = fs::path(IMS_SOURCE_DIR) / "tests" / "traces";

std::vector<std::string> traces()
{
    std::vector<std::string> v;
    if (fs::is_directory(kDir))
        for (const auto &e : fs::directory_iterator(kDir))
            if (e.path().extension() == ".ist")
                v.push_back(e.path().stem().string());
    std::sort(v.begin(), v.end());
    return v;
}

std::string slurp(const fs::path &p)
{
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string replace_all(std::string s, const std::string &from, const std::string &to)
{
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
    return s;
}

class ReplayGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(ReplayGolden, MatchesExpectedJson)
{
    const std::string name = GetParam();
    const fs::path trace = kDir / (name + ".ist");
    const fs::path expect = kDir / (name + ".expect.json");
    ASSERT_TRUE(fs::exists(expect)) << "every golden trace needs " << expect;
    cJSON *want = cJSON_Parse(slurp(expect).c_str());
    ASSERT_NE(want, nullptr) << expect << " is not valid JSON";

    const std::string json = replay_test::temp_path("golden_" + name + ".json");
    const std::string err = replay_test::temp_path("golden_" + name + ".err");
    std::remove(json.c_str());
    std::string cmd = std::string(IMS_CLI_PATH) + " run '" + trace.string() + "' --quiet --json '" + json +
                      "' >/dev/null 2>'" + err + "'";
    int st = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(st)) << cmd;
    int status = WEXITSTATUS(st);
    std::string messages = slurp(err);

    const cJSON *exit_status = cJSON_GetObjectItemCaseSensitive(want, "exit");
    ASSERT_TRUE(cJSON_IsNumber(exit_status)) << expect << " needs \"exit\"";
    EXPECT_EQ(status, exit_status->valueint) << messages;

    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(want, "stderr");
    for (const cJSON *m = msgs ? msgs->child : nullptr; m; m = m->next) {
        std::string s = replace_all(m->valuestring, "$TRACE", trace.string());
        EXPECT_NE(messages.find(s), std::string::npos) << "stderr lacks: " << s << "\n--- stderr:\n" << messages;
    }

    cJSON *got = fs::exists(json) ? cJSON_Parse(slurp(json).c_str()) : nullptr;
    if (status == 2) {
        EXPECT_EQ(got, nullptr) << "no JSON is written for bad input";
    }
    for (const cJSON *item = want->child; item; item = item->next) {
        std::string key = item->string;
        if (key == "exit" || key == "stderr")
            continue;
        ASSERT_NE(got, nullptr) << "no JSON written; " << messages;
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(got, key.c_str());
        ASSERT_TRUE(cJSON_IsNumber(g)) << "JSON lacks " << key;
        EXPECT_EQ(g->valuedouble, item->valuedouble) << key;
    }
    cJSON_Delete(got);
    cJSON_Delete(want);
}

INSTANTIATE_TEST_SUITE_P(ReplayTraces, ReplayGolden, ::testing::ValuesIn(traces()),
                         [](const ::testing::TestParamInfo<std::string> &i) {
                             std::string n = i.param;
                             for (char &c : n)
                                 if (!isalnum((unsigned char)c))
                                     c = '_';
                             return n;
                         });

TEST(ReplayGoldenFolder, HoldsTheCheckerProofTraces)
{
    std::vector<std::string> t = traces();
    for (const char *n : {"checker_inv_ok", "checker_inv_missing", "ats_inv_ok", "ats_devtlb_missing"})
        EXPECT_NE(std::find(t.begin(), t.end(), n), t.end()) << n;
}

} // namespace
