// Shared helpers for the importer tests (ImportQemu, ImportFtrace): run an
// importer on text in memory and look at the records it wrote.
#ifndef IMS_TESTS_IMPORT_TEST_UTIL_H
#define IMS_TESTS_IMPORT_TEST_UTIL_H

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "trace_test_util.h"
#include "traces/import/import.h"

namespace import_test {

// What an import produced: its result, the trace text and the summary.
struct Imported {
    int rc = 0;
    std::string text, err;
    ims_import_summary sum{};
    Imported() = default;
    Imported(const Imported &) = delete;
    ~Imported() { ims_import_summary_free(&sum); }
    // The records' canonical lines (no header, no comments).
    std::vector<std::string> Lines() const
    {
        trace_test::Parsed p = trace_test::ReadText(text);
        EXPECT_EQ(p.error, "");
        std::vector<std::string> v;
        for (const auto &r : p.recs)
            v.push_back(trace_test::Canon(r.r));
        return v;
    }
    // Lines whose record (after an optional time prefix) starts with verb:
    // whole, or (strip_time) without their time prefix.
    std::vector<std::string> With(const std::string &verb, bool strip_time = false) const
    {
        std::vector<std::string> v;
        for (const auto &l : Lines()) {
            std::string body = (!l.empty() && (l[0] == '@' || l[0] == '+')) ? l.substr(l.find(' ') + 1) : l;
            if (body.rfind(verb, 0) == 0)
                v.push_back(strip_time ? body : l);
        }
        return v;
    }
    uint64_t Skipped(const char *prefix) const { return ims_import_summary_skipped(&sum, prefix); }
};

// Import `text` (named `name` in messages) in format fmt into out; tweak
// adjusts the options first.
inline void Import(Imported &out, ims_import_format fmt, const std::string &text, const char *name,
                   const std::function<void(ims_import_opts &)> &tweak = {})
{
    ims_import_opts o;
    ims_import_opts_init(&o);
    if (tweak)
        tweak(o);
    ims_trace_sink *sink = ims_trace_sink_mem();
    ims_error err{};
    out.rc = ims_import_mem(fmt, text.data(), text.size(), name, sink, &o, &out.sum, &err);
    out.err = err.msg;
    size_t len;
    const uint8_t *d = ims_trace_sink_mem_data(sink, &len);
    out.text.assign(reinterpret_cast<const char *>(d), len);
    ims_trace_sink_close(sink);
}

inline bool Has(const std::vector<std::string> &v, const std::string &line)
{
    for (const auto &l : v)
        if (l == line)
            return true;
    return false;
}

} // namespace import_test

#endif
