// The one N-D copy loop the data-movement kernels share: Transpose, Slice, Concat, Split, Expand, Tile,
// Pad and DepthToSpace/SpaceToDepth each describe their work as a strided copy instead of owning index loops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/ir/tensor.h"

namespace rtinfer::ref::tensor_ops {

// One dimension of a copy: its extent and the element strides of source and destination. A source stride
// may be 0 (broadcast) or negative (reversed).
struct CopyDim {
    int64_t size = 1;
    int64_t src_stride = 0;
    int64_t dst_stride = 0;
};

// Copies every element of the block described by dims from src to dst (elements of elem_size bytes).
// src and dst point at the block's first element. Contiguous runs become memcpy; transposing copies are
// walked in cache-sized tiles.
void strided_copy(std::vector<CopyDim> dims, size_t elem_size, const void* src, void* dst);

// Dims for reading a tensor of `shape` with the given source strides into a contiguous destination.
std::vector<CopyDim> dims_into_contiguous(const ir::Shape& shape, const std::vector<int64_t>& src_strides);

// out = transpose(in, perm), both dense row-major.
void transpose_copy(const void* src, const ir::Shape& in_shape, const std::vector<int64_t>& perm, size_t elem_size,
                    void* dst);

}  // namespace rtinfer::ref::tensor_ops
