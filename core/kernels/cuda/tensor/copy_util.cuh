// The copy machinery the tensor family's CUDA kernels share. Most data-movement ops (Transpose, Slice,
// Concat, Split, Expand, Tile, DepthToSpace, ...) are described at create() as one strided copy; enqueue()
// only launches it. Elements move by size, so every dtype works.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/kernels/cuda/cuda_op.h"

namespace rtinfer::cuda {

// The most dims a strided copy keeps after merging; Tile of a 6-D tensor needs 12 before merging.
constexpr int kMaxCopyDims = 12;

// One dim of a copy: its extent and the element strides of source and destination. A source stride may be
// 0 (broadcast) or negative (reversed).
struct CopyDim {
    int64_t size = 1;
    int64_t src_stride = 0;
    int64_t dst_stride = 0;
};

// Dims that read a tensor of `shape` with the given source strides into a dense destination.
std::vector<CopyDim> dims_into_contiguous(const ir::Shape& shape, const std::vector<int64_t>& src_strides);

// A strided copy planned at create: size-1 dims dropped, neighbouring dims merged, strides in bytes.
// launch() widens the moved unit (up to 16 bytes) where the innermost run and the pointers allow it.
class CopyPlan {
public:
    // Fails with kUnsupported when more than kMaxCopyDims dims remain after merging.
    static Expected<CopyPlan> make(const std::vector<CopyDim>& dims, size_t elem_size);
    // src and dst point at the first element of the block.
    Status launch(const void* src, void* dst, cudaStream_t stream) const;
    int64_t count() const { return count_; }

private:
    struct ByteDim {
        int64_t size;
        int64_t src;
        int64_t dst;
    };
    std::vector<ByteDim> dims_;
    size_t elem_size_ = 1;
    int64_t count_ = 0;
};

// out = transpose(in, perm) for dense row-major tensors: a memcpy when the permutation moves no data, a
// tiled shared-memory kernel when it is a (batched) swap of the last two merged dims, else a strided copy.
class TransposePlan {
public:
    static Expected<TransposePlan> make(const ir::Shape& in_shape, const std::vector<int64_t>& perm, size_t elem_size);
    Status launch(const void* src, void* dst, cudaStream_t stream) const;

private:
    enum class Kind { kEmpty, kMemcpy, kTiled, kStrided };
    Kind kind_ = Kind::kEmpty;
    size_t bytes_ = 0;
    size_t elem_size_ = 1;
    int64_t batch_ = 0;
    int64_t rows_ = 0;
    int64_t cols_ = 0;
    CopyPlan strided_;
};

// Fills n elements of elem_size (1, 2, 4 or 8) bytes with the low bytes of `bits`.
Status launch_fill(void* dst, int64_t n, size_t elem_size, uint64_t bits, cudaStream_t stream);

// A device-to-device copy of a whole tensor, none when source and destination are the same buffer.
Status copy_tensor(const DeviceTensor& src, const DeviceTensor& dst, cudaStream_t stream);

// The bytes of `value` converted to dtype (float16 rounded to nearest even, integers as C++ casts, bool 0/1),
// in the low bytes of the result.
uint64_t scalar_bits(DataType dtype, double value);

// The integer values of a constant shape-like input (int32/int64/...), or kUnsupported naming the input when
// its value is not known at create.
Expected<std::vector<int64_t>> constant_ints(const OpSetup& setup, size_t input, const char* what);
// Same for float inputs (Resize scales).
Expected<std::vector<double>> constant_doubles(const OpSetup& setup, size_t input, const char* what);

// Maps axis in [-rank, rank) to [0, rank); the error names the node.
Expected<int> setup_axis(const OpSetup& setup, int64_t axis, int rank);

// An error for a malformed node (kInvalidModel) naming it.
Status setup_error(const OpSetup& setup, const std::string& why);

// The same Expected, its error (if any) prefixed with the node's name.
template <class T>
Expected<T> named(const OpSetup& setup, Expected<T> e) {
    if (!e.has_value()) return e.status().with_context(setup.node.describe());
    return e;
}

}  // namespace rtinfer::cuda
