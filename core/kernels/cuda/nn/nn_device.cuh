// Device helpers of the nn CUDA kernels: float32/float16 loads and stores in float, the fused activations,
// and grid sizing for grid-stride loops.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "core/kernels/cuda/nn/epilogue.cuh"

namespace rtinfer::cuda::nn {

__device__ __forceinline__ float load_f(const float* p, int64_t i) {
    return p[i];
}
__device__ __forceinline__ float load_f(const __half* p, int64_t i) {
    return __half2float(p[i]);
}
__device__ __forceinline__ void store_f(float* p, int64_t i, float v) {
    p[i] = v;
}
__device__ __forceinline__ void store_f(__half* p, int64_t i, float v) {
    p[i] = __float2half_rn(v);
}

// The same formulas as the reference's separate activation ops.
__device__ __forceinline__ float activate(const Activation& act, float x) {
    switch (act.kind) {
        case kActRelu:
            return x > 0.0f ? x : 0.0f;
        case kActClip:
            return fminf(fmaxf(x, act.a), act.b);
        case kActSigmoid:
            return 1.0f / (1.0f + expf(-x));
        case kActSilu:
            return x / (1.0f + expf(-x));
        case kActHardSwish:
            return x * fminf(fmaxf(x / 6.0f + 0.5f, 0.0f), 1.0f);
        case kActLeakyRelu:
            return x >= 0.0f ? x : act.a * x;
        case kActGelu:
            return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
        case kActGeluTanh:
            return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
        default:
            return x;
    }
}

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n elements.
inline unsigned grid_for(int64_t n) {
    const int64_t blocks = (n + kThreads - 1) / kThreads;
    return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(blocks, int64_t(1) << 20)));
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

// The sum (or max) over the block, returned to every thread. blockDim.x must be a multiple of 32; the
// leading barrier lets a block call it several times in a row.
template <bool kMax>
__device__ __forceinline__ float block_reduce(float v) {
    __shared__ float partial[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = kMax ? warp_max(v) : warp_sum(v);
    __syncthreads();
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < warps ? partial[lane] : (kMax ? -INFINITY : 0.0f);
        v = kMax ? warp_max(v) : warp_sum(v);
        if (lane == 0) partial[0] = v;
    }
    __syncthreads();
    return partial[0];
}

}  // namespace rtinfer::cuda::nn
