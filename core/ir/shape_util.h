// Shape helpers shared by the kernels' infer functions.
#pragma once

#include <cstdint>
#include <vector>

#include "core/ir/tensor.h"

namespace rtinfer::ir {

// Numpy-style multidirectional broadcast; fails if dims differ and neither is 1.
Expected<Shape> broadcast_shapes(const Shape& a, const Shape& b);
// Maps axis in [-rank, rank) to [0, rank); fails otherwise.
Expected<int> normalize_axis(int64_t axis, int rank);
// For iterating a broadcast input: the strides of `in` seen in the output shape (0 where broadcast).
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out);

// Walks every element index of `out_shape` and the matching offsets of up to three broadcast inputs.
// Calls fn(out_index, off0, off1, off2). Written as a loop, not recursion.
template <class Fn>
void for_each_broadcast(const Shape& out_shape, const std::vector<Shape>& in_shapes, Fn&& fn) {
    const size_t rank = out_shape.size();
    const int64_t n = shape_numel(out_shape);
    std::vector<std::vector<int64_t>> strides;
    for (const auto& s : in_shapes) strides.push_back(broadcast_strides(s, out_shape));
    while (strides.size() < 3) strides.emplace_back(rank, 0);
    std::vector<int64_t> idx(rank, 0);
    int64_t off[3] = {0, 0, 0};
    for (int64_t i = 0; i < n; ++i) {
        fn(i, off[0], off[1], off[2]);
        for (size_t d = rank; d-- > 0;) {
            ++idx[d];
            for (int k = 0; k < 3; ++k) off[k] += strides[k][d];
            if (idx[d] < out_shape[d]) break;
            for (int k = 0; k < 3; ++k) off[k] -= strides[k][d] * idx[d];
            idx[d] = 0;
        }
    }
}

}  // namespace rtinfer::ir
