#include <gtest/gtest.h>

#include "core/planner/planner.h"

using rtinfer::planner::BufferRequest;
using rtinfer::planner::plan_arena;

namespace {
bool overlaps(uint64_t a, uint64_t as, uint64_t b, uint64_t bs) { return a < b + bs && b < a + as; }
}  // namespace

TEST(Planner, ReusesMemoryOfDeadBuffers) {
    // A chain a -> b -> c: a dies when c is written, so c can take a's place.
    std::vector<BufferRequest> reqs = {{1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}};
    auto plan = plan_arena(reqs, 64);
    EXPECT_EQ(plan.arena_bytes, 2 * 1024u);
    EXPECT_EQ(plan.naive_bytes, 3 * 1024u);
    EXPECT_EQ(plan.offsets[0], plan.offsets[2]);
    EXPECT_NE(plan.offsets[0], plan.offsets[1]);
}

TEST(Planner, LiveBuffersNeverOverlap) {
    std::vector<BufferRequest> reqs;
    uint32_t seed = 7;
    for (int i = 0; i < 200; ++i) {
        seed = seed * 1664525u + 1013904223u;
        const int first = static_cast<int>(seed % 50);
        const int len = static_cast<int>((seed >> 8) % 10);
        reqs.push_back({(seed >> 12) % 5000 + 1, first, first + len});
    }
    auto plan = plan_arena(reqs, 64);
    for (size_t i = 0; i < reqs.size(); ++i) {
        EXPECT_EQ(plan.offsets[i] % 64, 0u);
        EXPECT_LE(plan.offsets[i] + reqs[i].size, plan.arena_bytes);
        for (size_t j = i + 1; j < reqs.size(); ++j) {
            const bool live_together = reqs[i].first_use <= reqs[j].last_use && reqs[j].first_use <= reqs[i].last_use;
            if (live_together) {
                EXPECT_FALSE(overlaps(plan.offsets[i], reqs[i].size, plan.offsets[j], reqs[j].size)) << i << " " << j;
            }
        }
    }
    EXPECT_LT(plan.arena_bytes, plan.naive_bytes);
}
