// Helpers for the replay tests: run trace text through the run API and read
// the outcome (status, message, report, JSON statistics).
#ifndef IMS_TESTS_REPLAY_HARNESS_H
#define IMS_TESTS_REPLAY_HARNESS_H

#include <gtest/gtest.h>

#include <cjson/cJSON.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "sim/run/run.h"
#include "sim/run/schema.h"

namespace replay_test {

// A directory of this process: test binaries of several builds (and ctest's
// parallel cases) share TempDir().
inline const std::string &temp_dir()
{
    static const std::string d = [] {
        std::string p = ::testing::TempDir() + "ims_replay_" + std::to_string(getpid()) + "/";
        mkdir(p.c_str(), 0700);
        return p;
    }();
    return d;
}

inline std::string temp_path(const std::string &name) { return temp_dir() + name; }

inline std::string write_trace(const std::string &name, const std::string &text)
{
    std::string path = temp_path(name);
    std::ofstream(path) << text;
    return path;
}

struct Outcome {
    int status = -1;
    std::string error;  // the BAD_INPUT message
    std::string report; // expectation failures and violations
    std::string json;
    cJSON *root = nullptr;
    ims_run_result res{};

    Outcome() = default;
    Outcome(const Outcome &) = delete;
    Outcome &operator=(const Outcome &) = delete;
    Outcome(Outcome &&o) noexcept { *this = std::move(o); }
    Outcome &operator=(Outcome &&o) noexcept
    {
        std::swap(status, o.status);
        std::swap(error, o.error);
        std::swap(report, o.report);
        std::swap(json, o.json);
        std::swap(root, o.root);
        std::swap(res, o.res);
        return *this;
    }
    ~Outcome() { cJSON_Delete(root); }

    bool has(const std::string &key) const { return cJSON_GetObjectItemCaseSensitive(root, key.c_str()) != nullptr; }
    double num(const std::string &key) const
    {
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key.c_str());
        return cJSON_IsNumber(it) ? it->valuedouble : -1.0;
    }
};

// Run the trace files with the default configuration plus `sets` ("key=value").
inline Outcome run_files(const std::vector<std::string> &paths, std::initializer_list<const char *> sets = {})
{
    Outcome o;
    ims_error err{};
    ims_config *cfg = ims_schema_config_create(&err);
    for (const char *s : sets)
        if (ims_config_set_arg(cfg, s, &err) != 0) {
            o.error = err.msg;
            ims_config_destroy(cfg);
            return o;
        }
    std::vector<const char *> argv;
    for (const auto &p : paths)
        argv.push_back(p.c_str());
    char *buf = nullptr;
    size_t len = 0;
    FILE *rep = open_memstream(&buf, &len);
    ims_run_opts opts{};
    opts.report = rep;
    ims_run *run = nullptr;
    o.status = ims_run_traces(cfg, argv.data(), argv.size(), &opts, &run, &err);
    fclose(rep);
    o.report.assign(buf, len);
    free(buf);
    if (o.status == IOMMUSIM_EXIT_BAD_INPUT)
        o.error = err.msg;
    if (run) {
        o.res = ims_run_result_get(run);
        char *j = ims_run_json(run);
        if (j) {
            o.json = j;
            o.root = cJSON_Parse(j);
            free(j);
        }
    }
    ims_run_destroy(run);
    ims_config_destroy(cfg);
    return o;
}

// Run trace text (the header line is added).
inline Outcome run_text(const std::string &name, const std::string &body,
                        std::initializer_list<const char *> sets = {})
{
    return run_files({write_trace(name, "iommusim-trace 1\n" + body)}, sets);
}

} // namespace replay_test

#endif
