// Device helpers the reduce family shares: float/half loads and stores (math runs in float), warp and
// block reductions, and the host-side [outer, reduced, inner] view of a tensor.
#pragma once

#include <cuda_fp16.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/kernels/cuda/cuda_op.h"

namespace rtinfer::cuda {

__device__ __forceinline__ float to_float(float v) {
    return v;
}
__device__ __forceinline__ float to_float(__half v) {
    return __half2float(v);
}
template <class T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ float from_float<float>(float v) {
    return v;
}
template <>
__device__ __forceinline__ __half from_float<__half>(float v) {
    return __float2half_rn(v);
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum / max over the whole block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
// `scratch` holds 32 floats; the call synchronizes the block, so it must be reached by every thread.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    const int warps = static_cast<int>(blockDim.x >> 5);
    v = lane < warps ? scratch[lane] : 0.0f;
    return warp_sum(v);
}
__device__ __forceinline__ float block_max(float v, float* scratch) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    const int warps = static_cast<int>(blockDim.x >> 5);
    v = lane < warps ? scratch[lane] : -INFINITY;
    return warp_max(v);
}

// The (outer, axis, inner) view of a shape around one axis.
struct AxisView {
    int64_t outer = 1;
    int64_t axis = 1;
    int64_t inner = 1;
};

inline AxisView view_at_axis(const ir::Shape& shape, int axis) {
    AxisView v;
    for (int d = 0; d < static_cast<int>(shape.size()); ++d) {
        const int64_t n = shape[static_cast<size_t>(d)];
        if (d < axis) {
            v.outer *= n;
        } else if (d == axis) {
            v.axis = n;
        } else {
            v.inner *= n;
        }
    }
    return v;
}

inline bool is_float_math_type(DataType t) {
    return t == DataType::kFloat32 || t == DataType::kFloat16;
}

inline Status reduce_setup_error(const OpSetup& setup, const std::string& why) {
    return Status(StatusCode::kInvalidModel, setup.node.describe() + ": " + why);
}

}  // namespace rtinfer::cuda
