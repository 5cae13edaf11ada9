// The configuration keys the trace contract requires (trace-text-v1.md, "Config keys that MUST exist").
#include <gtest/gtest.h>

#include "sim/run/schema.h"

TEST(Schema, ContractKeysExistWithTheirTypes)
{
    ims_error err{};
    ims_config *c = ims_schema_config_create(&err);
    ASSERT_NE(c, nullptr) << err.msg;
    for (const char *k : {"iotlb.entries", "iotlb.ways", "iotlb.policy", "devtlb.entries", "mem.latency_ns",
                          "guest.unmap_policy", "sim.seed"})
        EXPECT_TRUE(ims_config_has(c, k)) << k;
    // Enumerations accept exactly the contract's words.
    for (const char *v : {"iotlb.policy=lru", "iotlb.policy=rr", "iotlb.policy=random", "guest.unmap_policy=strict",
                          "guest.unmap_policy=lazy"})
        EXPECT_EQ(ims_config_set_arg(c, v, &err), 0) << v << ": " << err.msg;
    EXPECT_STREQ(ims_config_enum_name(c, "guest.unmap_policy"), "lazy");
    EXPECT_LT(ims_config_set_arg(c, "guest.unmap_policy=sometimes", &err), 0);
    // mem.latency_ns is a time: 197 ns (calibration.md, Rubin et al.) by default.
    EXPECT_EQ(ims_config_time_ps(c, "mem.latency_ns"), 197000u);
    ims_config_destroy(c);
}
