// Tensor lifetimes -> offsets in one arena (the interface TFLite Micro uses: buffers with a size and a
// first and last use; the planner answers offsets and the arena size).
#pragma once

#include <cstdint>
#include <vector>

namespace rtinfer::planner {

struct BufferRequest {
    uint64_t size = 0;
    int first_use = 0;  // index of the step that writes the buffer
    int last_use = 0;   // index of the last step that reads it (inclusive)
};

struct MemoryPlan {
    std::vector<uint64_t> offsets;  // one per request, aligned
    uint64_t arena_bytes = 0;       // peak: the arena size needed
    uint64_t naive_bytes = 0;       // what one allocation per buffer would take
};

// Greedy by size: the largest buffers are placed first, each at the lowest aligned offset that does not
// overlap a placed buffer whose lifetime intersects. Deterministic for the same requests.
MemoryPlan plan_arena(const std::vector<BufferRequest>& requests, uint64_t alignment = 64);

}  // namespace rtinfer::planner
