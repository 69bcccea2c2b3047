#include "core/planner/planner.h"

#include <algorithm>
#include <numeric>

namespace rtinfer::planner {

namespace {
uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
}  // namespace

MemoryPlan plan_arena(const std::vector<BufferRequest>& requests, uint64_t alignment) {
    MemoryPlan plan;
    plan.offsets.assign(requests.size(), 0);
    std::vector<size_t> order(requests.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return requests[a].size > requests[b].size; });

    struct Placed {
        uint64_t begin, end;
        int first, last;
    };
    std::vector<Placed> placed;
    for (size_t idx : order) {
        const BufferRequest& r = requests[idx];
        const uint64_t size = align_up(std::max<uint64_t>(r.size, 1), alignment);
        plan.naive_bytes += size;
        // Intervals of live buffers, by offset; find the first gap that fits.
        std::vector<std::pair<uint64_t, uint64_t>> busy;
        for (const Placed& p : placed) {
            if (p.first <= r.last_use && r.first_use <= p.last) busy.emplace_back(p.begin, p.end);
        }
        std::sort(busy.begin(), busy.end());
        uint64_t offset = 0;
        for (const auto& [b, e] : busy) {
            if (offset + size <= b) break;
            offset = std::max(offset, align_up(e, alignment));
        }
        plan.offsets[idx] = offset;
        placed.push_back({offset, offset + size, r.first_use, r.last_use});
        plan.arena_bytes = std::max(plan.arena_bytes, offset + size);
    }
    return plan;
}

}  // namespace rtinfer::planner
