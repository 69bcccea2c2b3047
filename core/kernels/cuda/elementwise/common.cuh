// Device side of the elementwise CUDA kernels: element load/store (float16 is loaded as float, computed in
// float and rounded once on store), broadcast index math, one grid-stride kernel for unary and one for
// binary functors, their launchers, and the CudaOp classes most ops are made of. An op is then a small
// functor plus a table line: `const CudaKernel kXxxCuda = {"Xxx", "", unary_create<Xxx, kFloatTypes>};`.
// Internal to core/kernels/cuda/elementwise.
#pragma once

#include <cuda_fp16.h>

#include <algorithm>
#include <memory>
#include <type_traits>
#include <utility>

#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/elementwise/common.h"

namespace rtinfer::cuda::ew {

// ---- element access ----------------------------------------------------------------------------------

template <class T>
struct MathType {
    using type = T;
};
template <>
struct MathType<__half> {
    using type = float;
};
// The type a functor computes in for element type T.
template <class T>
using math_t = typename MathType<T>::type;

template <class T>
__device__ __forceinline__ math_t<T> load(const T* p, int64_t i) {
    return p[i];
}
__device__ __forceinline__ float load(const __half* p, int64_t i) {
    return __half2float(p[i]);
}
// bool results are stored as 0/1 bytes (uint8_t).
template <class T, class V>
__device__ __forceinline__ void store(T* p, int64_t i, V v) {
    p[i] = static_cast<T>(v);
}
template <class V>
__device__ __forceinline__ void store(__half* p, int64_t i, V v) {
    p[i] = __float2half_rn(static_cast<float>(v));
}

// std::max / std::min as the reference kernels use them (the first argument wins on NaN or ties).
template <class T>
__device__ __forceinline__ T std_max(T a, T b) {
    return a < b ? b : a;
}
template <class T>
__device__ __forceinline__ T std_min(T a, T b) {
    return b < a ? b : a;
}

// ---- broadcast index math ----------------------------------------------------------------------------

// off[k] = where operand k's element for output element i lies.
template <int N>
__device__ __forceinline__ void broadcast_offsets(const Broadcast<N>& b, int64_t i, int64_t (&off)[N]) {
    if (b.rank == 0) {
#pragma unroll
        for (int k = 0; k < N; ++k) off[k] = i * b.flat[k];
        return;
    }
    if (b.narrow) {
        // Every offset is below n < 2^31: 32-bit math, dividing by multiplication (no divide instruction).
        uint32_t idx = static_cast<uint32_t>(i);
        uint32_t o[N];
#pragma unroll
        for (int k = 0; k < N; ++k) o[k] = 0;
#pragma unroll
        for (int d = kMaxDims - 1; d > 0; --d) {
            if (d < b.rank) {
                const uint32_t q = (__umulhi(idx, b.magic[d]) + idx) >> b.shift[d];
                const uint32_t r = idx - q * static_cast<uint32_t>(b.dims[d]);
#pragma unroll
                for (int k = 0; k < N; ++k) o[k] += r * static_cast<uint32_t>(b.strides[k][d]);
                idx = q;
            }
        }
#pragma unroll
        for (int k = 0; k < N; ++k) off[k] = o[k] + idx * static_cast<uint32_t>(b.strides[k][0]);
        return;
    }
    int64_t idx = i;
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] = 0;
#pragma unroll
    for (int d = kMaxDims - 1; d > 0; --d) {
        if (d < b.rank) {
            const int64_t q = idx / b.dims[d];
            const int64_t r = idx - q * b.dims[d];
#pragma unroll
            for (int k = 0; k < N; ++k) off[k] += r * b.strides[k][d];
            idx = q;
        }
    }
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] += idx * b.strides[k][0];
}

// ---- kernels and launchers ---------------------------------------------------------------------------

constexpr int kThreads = 256;

// Grid-stride loops: the grid is capped and each thread takes several elements of very large tensors.
inline unsigned int blocks_for(int64_t n) {
    return static_cast<unsigned int>(std::min<int64_t>((n + kThreads - 1) / kThreads, int64_t{1} << 20));
}

#define RT_EW_FOR_EACH(i, n)                                                               \
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
         i += static_cast<int64_t>(gridDim.x) * blockDim.x)

struct UnaryArgs {
    const void* x = nullptr;
    void* y = nullptr;
    int64_t n = 0;
};

struct BinaryArgs {
    const void* a = nullptr;
    const void* b = nullptr;
    void* y = nullptr;
    Broadcast<2> bc;
};

template <class Op, class T, class R>
__global__ void unary_kernel(UnaryArgs args, Op op) {
    const T* x = static_cast<const T*>(args.x);
    R* y = static_cast<R*>(args.y);
    RT_EW_FOR_EACH(i, args.n) {
        store(y, i, op(load(x, i)));
    }
}

// y may be a or b (the variadic ops fold into their output): each element is read before it is written by
// the same thread.
template <class Op, class T, class R>
__global__ void binary_kernel(BinaryArgs args, Op op) {
    const T* a = static_cast<const T*>(args.a);
    const T* b = static_cast<const T*>(args.b);
    R* y = static_cast<R*>(args.y);
    RT_EW_FOR_EACH(i, args.bc.n) {
        int64_t off[2];
        broadcast_offsets(args.bc, i, off);
        store(y, i, op(load(a, off[0]), load(b, off[1])));
    }
}

// float16 groups of W elements (see group_broadcast): args.bc is the group table; W = 2 moves half2, W = 8
// moves 16 bytes.
template <int W>
struct alignas(2 * W) HalfGroup {
    __half h[W];
};

template <int W, class Op>
__global__ void binary_half_group_kernel(BinaryArgs args, bool vec_a, bool vec_b, Op op) {
    using G = HalfGroup<W>;
    const __half* a = static_cast<const __half*>(args.a);
    const __half* b = static_cast<const __half*>(args.b);
    G* y = static_cast<G*>(args.y);
    RT_EW_FOR_EACH(j, args.bc.n) {
        int64_t off[2];
        broadcast_offsets(args.bc, j, off);
        G ga, gb, gy;
        if (vec_a) {
            ga = *reinterpret_cast<const G*>(a + off[0]);
        } else {
#pragma unroll
            for (int e = 0; e < W; ++e) ga.h[e] = a[off[0]];
        }
        if (vec_b) {
            gb = *reinterpret_cast<const G*>(b + off[1]);
        } else {
#pragma unroll
            for (int e = 0; e < W; ++e) gb.h[e] = b[off[1]];
        }
#pragma unroll
        for (int e = 0; e < W; ++e) {
            gy.h[e] = __float2half_rn(static_cast<float>(op(__half2float(ga.h[e]), __half2float(gb.h[e]))));
        }
        y[j] = gy;
    }
}

template <class T, class R, class Op>
Status launch_unary(const UnaryArgs& args, const Op& op, cudaStream_t stream) {
    if (args.n == 0) return Status();
    unary_kernel<Op, T, R><<<blocks_for(args.n), kThreads, 0, stream>>>(args, op);
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

template <class T, class R, class Op>
Status launch_binary(const BinaryArgs& args, const Op& op, cudaStream_t stream) {
    if (args.bc.n == 0) return Status();
    binary_kernel<Op, T, R><<<blocks_for(args.bc.n), kThreads, 0, stream>>>(args, op);
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

template <class Op>
Status launch_binary_half_group(const BinaryArgs& group_args, int width, bool vec_a, bool vec_b, const Op& op,
                                cudaStream_t stream) {
    if (group_args.bc.n == 0) return Status();
    const unsigned blocks = blocks_for(group_args.bc.n);
    if (width == 8) {
        binary_half_group_kernel<8, Op><<<blocks, kThreads, 0, stream>>>(group_args, vec_a, vec_b, op);
    } else {
        binary_half_group_kernel<2, Op><<<blocks, kThreads, 0, stream>>>(group_args, vec_a, vec_b, op);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

// ---- dtype dispatch ----------------------------------------------------------------------------------

template <class T>
struct Tag {
    using type = T;
};

// Calls fn(Tag<T>{}) with the device element type of `t` if `t` is in Mask; false otherwise. Only the types
// in Mask are instantiated. bool is uint8_t (0/1), float16 __half.
template <uint32_t Mask, class Fn>
bool dispatch(DataType t, Fn&& fn) {
    switch (t) {
        case DataType::kFloat32:
            if constexpr ((Mask & type_bit(DataType::kFloat32)) != 0) return fn(Tag<float>{}), true;
            break;
        case DataType::kFloat16:
            if constexpr ((Mask & type_bit(DataType::kFloat16)) != 0) return fn(Tag<__half>{}), true;
            break;
        case DataType::kInt32:
            if constexpr ((Mask & type_bit(DataType::kInt32)) != 0) return fn(Tag<int32_t>{}), true;
            break;
        case DataType::kInt64:
            if constexpr ((Mask & type_bit(DataType::kInt64)) != 0) return fn(Tag<int64_t>{}), true;
            break;
        case DataType::kBool:
            if constexpr ((Mask & type_bit(DataType::kBool)) != 0) return fn(Tag<uint8_t>{}), true;
            break;
        default:
            break;
    }
    return false;
}

inline Status unexpected_type(DataType t) {
    return Status(StatusCode::kInternal, std::string("elementwise CUDA op dispatched on type ") + data_type_name(t));
}

// Functors are built from the node when they take attributes, default-constructed otherwise.
template <class Op>
Op make_op(const ir::Node& node) {
    if constexpr (std::is_constructible_v<Op, const ir::Node&>) {
        return Op(node);
    } else {
        return Op();
    }
}

// ---- op classes --------------------------------------------------------------------------------------

// y = op(x), y of x's type, or bool when BoolOut.
template <class Op, uint32_t Mask, bool BoolOut = false>
class UnaryCudaOp final : public CudaOp {
public:
    UnaryCudaOp(const Op& op, DataType dtype, int64_t n) : op_(op), dtype_(dtype), n_(n) {}

    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        const UnaryArgs args{inputs[0].data, outputs[0].data, n_};
        Status status;
        const bool handled = dispatch<Mask>(dtype_, [&](auto tag) {
            using T = typename decltype(tag)::type;
            status = launch_unary<T, std::conditional_t<BoolOut, uint8_t, T>>(args, op_, libs.stream);
        });
        return handled ? status : unexpected_type(dtype_);
    }

private:
    Op op_;
    DataType dtype_;
    int64_t n_;
};

// y = op(a, b) with numpy broadcasting, y of the inputs' type, or bool when BoolOut.
template <class Op, uint32_t Mask, bool BoolOut = false>
class BinaryCudaOp final : public CudaOp {
public:
    BinaryCudaOp(const Op& op, DataType dtype, const Broadcast<2>& bc) : op_(op), dtype_(dtype), bc_(bc) {
        if (!BoolOut && dtype == DataType::kFloat16) {
            for (int width : {8, 2}) {
                if (group_broadcast(bc_, width, &groups_, vec_)) {
                    width_ = width;
                    break;
                }
            }
        }
    }

    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        BinaryArgs args;
        args.a = inputs[0].data;
        args.b = inputs[1].data;
        args.y = outputs[0].data;
        args.bc = bc_;
        if constexpr (!BoolOut && (Mask & type_bit(DataType::kFloat16)) != 0) {
            const size_t bytes = 2 * static_cast<size_t>(width_);
            const auto aligned = [bytes](const void* p) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; };
            if (width_ > 1 && aligned(args.y) && (!vec_[0] || aligned(args.a)) && (!vec_[1] || aligned(args.b))) {
                args.bc = groups_;
                return launch_binary_half_group(args, width_, vec_[0], vec_[1], op_, libs.stream);
            }
        }
        Status status;
        const bool handled = dispatch<Mask>(dtype_, [&](auto tag) {
            using T = typename decltype(tag)::type;
            status = launch_binary<T, std::conditional_t<BoolOut, uint8_t, T>>(args, op_, libs.stream);
        });
        return handled ? status : unexpected_type(dtype_);
    }

private:
    Op op_;
    DataType dtype_;
    Broadcast<2> bc_;
    // float16 with an inner dim that is a multiple of width_ (8, else 2): the group kernel over groups_ when
    // the pointers allow; width_ 1: none.
    int width_ = 1;
    Broadcast<2> groups_;
    bool vec_[2] = {false, false};
};

// ---- create helpers ----------------------------------------------------------------------------------

using OpPtr = std::unique_ptr<CudaOp>;

// The output must have the type the op gives: the input's, or bool.
inline Status check_output_type(const OpSetup& setup, DataType expected) {
    if (setup.outputs[0].dtype != expected) {
        return setup.unsupported(std::string("output type ") + data_type_name(setup.outputs[0].dtype) +
                                 " is not the expected " + data_type_name(expected));
    }
    return Status();
}

template <class Op, uint32_t Mask, bool BoolOut = false>
Expected<OpPtr> create_unary(const OpSetup& setup, const Op& op) {
    RT_RETURN_IF_ERROR(check_input(setup, 0, Mask));
    RT_RETURN_IF_ERROR(check_output(setup));
    const DataType dtype = setup.inputs[0].dtype;
    RT_RETURN_IF_ERROR(check_output_type(setup, BoolOut ? DataType::kBool : dtype));
    const int64_t n = ir::shape_numel(setup.outputs[0].shape);
    if (n != ir::shape_numel(setup.inputs[0].shape)) {
        return Status(StatusCode::kInvalidModel, setup.node.describe() + ": output shape " +
                                                     ir::shape_str(setup.outputs[0].shape) + " does not match input " +
                                                     ir::shape_str(setup.inputs[0].shape));
    }
    return OpPtr(new UnaryCudaOp<Op, Mask, BoolOut>(op, dtype, n));
}

template <class Op, uint32_t Mask, bool BoolOut = false>
Expected<OpPtr> create_binary(const OpSetup& setup, const Op& op) {
    if (setup.inputs.size() != 2) return setup.unsupported("expects 2 inputs");
    RT_RETURN_IF_ERROR(check_input(setup, 0, Mask));
    RT_RETURN_IF_ERROR(check_input(setup, 1, Mask));
    RT_RETURN_IF_ERROR(check_same_type(setup, 0, 1));
    RT_RETURN_IF_ERROR(check_output(setup));
    const DataType dtype = setup.inputs[0].dtype;
    RT_RETURN_IF_ERROR(check_output_type(setup, BoolOut ? DataType::kBool : dtype));
    RT_ASSIGN_OR_RETURN(Broadcast<2> bc, make_broadcast<2>(setup, setup.outputs[0].shape, input_shapes(setup, 0, 2)));
    return OpPtr(new BinaryCudaOp<Op, Mask, BoolOut>(op, dtype, bc));
}

// CreateFns for functors that need nothing but the node.
template <class Op, uint32_t Mask, bool BoolOut = false>
Expected<OpPtr> unary_create(const OpSetup& setup, const CudaLibs&) {
    return create_unary<Op, Mask, BoolOut>(setup, make_op<Op>(setup.node));
}
template <class Op, uint32_t Mask, bool BoolOut = false>
Expected<OpPtr> binary_create(const OpSetup& setup, const CudaLibs&) {
    return create_binary<Op, Mask, BoolOut>(setup, make_op<Op>(setup.node));
}

}  // namespace rtinfer::cuda::ew
