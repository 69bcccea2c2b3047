// Host side of the elementwise CUDA kernels: the plain parameter structs their kernels take (broadcast
// index tables, device element types) and the create-time helpers that fill them from an OpSetup.
// Internal to core/kernels/cuda/elementwise; compiled by both the host compiler and nvcc.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/ir/shape_util.h"
#include "core/kernels/cuda/cuda_op.h"

namespace rtinfer::cuda::ew {

// Most output dims the generic broadcast kernel indexes, after coalescing (see make_broadcast).
constexpr int kMaxDims = 6;

// Where N operands read, for each output element i. rank == 0 is the flat case (equal shapes, scalars):
// operand k reads element i * flat[k], flat[k] being 1 (same shape as the output) or 0 (one element), with no
// index math. Otherwise `dims` are the output's dims after dropping 1s and merging dims that are contiguous
// or broadcast alike in every operand, and operand k reads sum(index[d] * strides[k][d]). A per-channel
// operand ([N,C,H,W] with [C,1,1]) becomes rank 3 ([N, C, H*W]), a row ([2,3,4] with [4]) rank 2.
template <int N>
struct Broadcast {
    int64_t n = 0;       // output elements
    int rank = 0;        // 0 = flat
    bool narrow = true;  // n < 2^31: index math in 32 bits (every offset is below n)
    int64_t flat[N] = {};
    int64_t dims[kMaxDims] = {};
    int64_t strides[N][kMaxDims] = {};
    // When narrow, x / dims[d] == (umulhi(x, magic[d]) + x) >> shift[d] (see fast_divisor).
    uint32_t magic[kMaxDims] = {};
    uint32_t shift[kMaxDims] = {};
};

// Division by d as a multiply-high, an add and a shift (Granlund and Montgomery, "Division by invariant
// integers using multiplication"; the form PyTorch's IntDivider uses): exact for every x, d in [1, 2^31).
inline void fast_divisor(uint32_t d, uint32_t* magic, uint32_t* shift) {
    uint32_t s = 0;
    while ((uint64_t{1} << s) < d) ++s;
    *shift = s;
    *magic = static_cast<uint32_t>(((uint64_t{1} << 32) * ((uint64_t{1} << s) - d)) / d + 1);
}

// The coalesced form of broadcasting `ins` to `out`, before it is packed into a Broadcast<N>.
struct Coalesced {
    std::vector<int64_t> dims;
    std::vector<std::vector<int64_t>> strides;  // [operand][dim]
};

// Fails with kInvalidModel (naming the node) if an input does not broadcast to `out`.
Expected<Coalesced> coalesce(const OpSetup& setup, const ir::Shape& out, const std::vector<ir::Shape>& ins);

// The index table for reading `ins` broadcast to `out`; kUnsupported past kMaxDims coalesced dims.
template <int N>
Expected<Broadcast<N>> make_broadcast(const OpSetup& setup, const ir::Shape& out, const std::vector<ir::Shape>& ins) {
    if (ins.size() != static_cast<size_t>(N)) {
        return Status(StatusCode::kInternal, setup.node.describe() + ": broadcast table for the wrong operand count");
    }
    RT_ASSIGN_OR_RETURN(Coalesced c, coalesce(setup, out, ins));
    Broadcast<N> b;
    b.n = ir::shape_numel(out);
    b.narrow = b.n < (int64_t{1} << 31);
    const size_t rank = c.dims.size();
    if (rank <= 1) {
        for (int k = 0; k < N; ++k) b.flat[k] = rank == 0 ? 0 : c.strides[static_cast<size_t>(k)][0];
        return b;
    }
    if (rank > static_cast<size_t>(kMaxDims)) {
        return setup.unsupported("broadcast needs " + std::to_string(rank) + " index dims, the CUDA kernel has " +
                                 std::to_string(kMaxDims));
    }
    b.rank = static_cast<int>(rank);
    for (size_t d = 0; d < rank; ++d) {
        b.dims[d] = c.dims[d];
        if (b.narrow) fast_divisor(static_cast<uint32_t>(c.dims[d]), &b.magic[d], &b.shift[d]);
        for (int k = 0; k < N; ++k) b.strides[k][d] = c.strides[static_cast<size_t>(k)][d];
    }
    return b;
}

// The element types the kernels see; kernels get these, never DataType.
// The same table over groups of `width` neighbouring output elements, for float16 kernels that move them
// together (half2, or 8 halves in 16 bytes): the inner dim is divided by width and every operand's inner
// stride multiplied by it (element units). vec[k] says operand k's group is `width` neighbouring elements
// (one wide load), else one element read for the whole group. False when the grouping does not fit: an
// inner dim not a multiple of width, an inner stride other than 0 or 1, or a stride elsewhere not a
// multiple of width for a grouped operand.
template <int N>
bool group_broadcast(const Broadcast<N>& b, int width, Broadcast<N>* out, bool (&vec)[N]) {
    if (b.n % width != 0) return false;
    *out = b;
    out->n = b.n / width;
    const int inner = b.rank == 0 ? -1 : b.rank - 1;
    if (inner >= 0 && b.dims[inner] % width != 0) return false;
    for (int k = 0; k < N; ++k) {
        const int64_t s = inner < 0 ? b.flat[k] : b.strides[k][inner];
        if (s != 0 && s != 1) return false;
        vec[k] = s == 1;
        if (inner < 0) {
            out->flat[k] = width * s;
            continue;
        }
        out->strides[k][inner] = width * s;
        for (int d = 0; d < inner; ++d) {
            if (vec[k] && b.strides[k][d] % width != 0) return false;
        }
    }
    if (inner >= 0) {
        out->dims[inner] = b.dims[inner] / width;
        if (out->narrow) fast_divisor(static_cast<uint32_t>(out->dims[inner]), &out->magic[inner], &out->shift[inner]);
    }
    return true;
}

enum class Elem : uint8_t { kF32, kF16, kI8, kU8, kI32, kI64, kBool };

// Type sets, as bit masks over DataType.
constexpr uint32_t type_bit(DataType t) {
    return 1u << static_cast<unsigned>(t);
}
constexpr uint32_t kFloatTypes = type_bit(DataType::kFloat32) | type_bit(DataType::kFloat16);
constexpr uint32_t kIndexTypes = type_bit(DataType::kInt32) | type_bit(DataType::kInt64);
constexpr uint32_t kBoolType = type_bit(DataType::kBool);
constexpr uint32_t kNumberTypes = kFloatTypes | kIndexTypes;
constexpr uint32_t kCastTypes = kNumberTypes | kBoolType | type_bit(DataType::kInt8) | type_bit(DataType::kUInt8);

inline bool type_in(DataType t, uint32_t mask) {
    return (type_bit(t) & mask) != 0;
}
// Elem of a DataType in kCastTypes.
Elem elem_of(DataType t);

// kUnsupported unless input i is present and its type is in `mask`.
Status check_input(const OpSetup& setup, size_t i, uint32_t mask);
// kUnsupported unless inputs i and j have the same type.
Status check_same_type(const OpSetup& setup, size_t i, size_t j);
// kInvalidModel unless output 0 is present with a known shape.
Status check_output(const OpSetup& setup);
// The shapes of inputs [first, first + count).
std::vector<ir::Shape> input_shapes(const OpSetup& setup, size_t first, size_t count);

// Input i as one double when it is a constant with exactly one element; false otherwise.
bool constant_scalar(const OpSetup& setup, size_t i, double* value);
// True when input i is a constant of an integer type with a zero element (integer division by zero).
bool constant_has_zero(const OpSetup& setup, size_t i);

}  // namespace rtinfer::cuda::ew
