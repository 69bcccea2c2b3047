// Pointwise channels-last convolution for few input channels: the filter sits in shared memory (laid out so
// that a warp reads it without bank conflicts); each thread computes two neighbouring output channels (one
// half2 store) for four pixels in 32-bit index math, so neighbouring threads store neighbouring channels and
// the pixels' K inputs come through L1 for every thread that shares them.
#include "core/kernels/cuda/nn/pointwise_conv.h"

#include <cuda_fp16.h>

#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/nn/nn_device.cuh"

namespace rtinfer::cuda::nn {
namespace {

// The filter in shared memory as [K / 2][M / 2] entries of {W[2j][2k], W[2j][2k+1], W[2j+1][2k], W[2j+1][2k+1]}:
// thread j reads entry (k, j), so a warp reads consecutive 8-byte entries without bank conflicts.
struct WeightQuad {
    __half2 even, odd;
};

constexpr int kPixelsPerThread = 4;

template <int K>
__global__ void pointwise_kernel(PointwiseParams p, int pairs, int groups) {
    __shared__ WeightQuad w[kPointwiseMaxWeights / 4];
    const __half2* wg = static_cast<const __half2*>(p.w);
    for (int i = threadIdx.x; i < (K / 2) * pairs; i += blockDim.x) {
        const int k = i / pairs, j = i % pairs;
        w[i] = WeightQuad{wg[(2 * j) * (K / 2) + k], wg[(2 * j + 1) * (K / 2) + k]};
    }
    __syncthreads();
    const __half2* x = static_cast<const __half2*>(p.x);
    const __half2* z = static_cast<const __half2*>(p.z);
    __half2* y = static_cast<__half2*>(p.y);
    const int pixels = static_cast<int>(p.pixels);
    const int count = groups * pairs;  // the launcher checks that every index fits in 32 bits
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < count; i += gridDim.x * blockDim.x) {
        const int group = i / pairs;
        const int j = i - group * pairs;
        const int p0 = group * kPixelsPerThread;
        const int n = min(kPixelsPerThread, pixels - p0);
        float acc[kPixelsPerThread][2];
#pragma unroll
        for (int q = 0; q < kPixelsPerThread; ++q) acc[q][0] = acc[q][1] = 0.0f;
        const __half2* r = x + p0 * (K / 2);
#pragma unroll
        for (int k = 0; k < K / 2; ++k) {
            const WeightQuad wq = w[k * pairs + j];
            const float2 f = __half22float2(wq.even), g = __half22float2(wq.odd);
#pragma unroll
            for (int q = 0; q < kPixelsPerThread; ++q) {
                // Rows past the end re-read the last pixel (never stored).
                const float2 u = __half22float2(r[min(q, n - 1) * (K / 2) + k]);
                acc[q][0] = fmaf(u.x, f.x, fmaf(u.y, f.y, acc[q][0]));
                acc[q][1] = fmaf(u.x, g.x, fmaf(u.y, g.y, acc[q][1]));
            }
        }
        const float b0 = p.bias ? p.bias[2 * j] : 0.0f, b1 = p.bias ? p.bias[2 * j + 1] : 0.0f;
#pragma unroll
        for (int q = 0; q < kPixelsPerThread; ++q) {
            if (q >= n) break;
            const int o = (p0 + q) * pairs + j;
            float v0 = acc[q][0] + b0, v1 = acc[q][1] + b1;
            if (z) {
                const float2 zv = __half22float2(z[o]);
                v0 += zv.x;
                v1 += zv.y;
            }
            y[o] = __floats2half2_rn(activate(p.act, v0), activate(p.act, v1));
        }
    }
}

bool aligned4(const void* q) {
    return q == nullptr || reinterpret_cast<uintptr_t>(q) % 4 == 0;
}

}  // namespace

bool pointwise_supported(int inputs, int outputs) {
    return inputs > 0 && outputs > 0 && inputs % 2 == 0 && outputs % 2 == 0 && inputs <= kPointwiseMaxInputs &&
           inputs * outputs <= kPointwiseMaxWeights;
}

Status launch_pointwise_nhwc(const PointwiseParams& p, cudaStream_t stream) {
    if (!pointwise_supported(p.inputs, p.outputs) || !aligned4(p.x) || !aligned4(p.w) || !aligned4(p.y) ||
        !aligned4(p.z)) {
        return Status(StatusCode::kInvalidArgument, "pointwise kernel: unsupported channel counts or alignment");
    }
    const int pairs = p.outputs / 2;
    const int64_t groups = (p.pixels + kPixelsPerThread - 1) / kPixelsPerThread;
    const int64_t count = groups * pairs;
    if (count == 0) return Status();
    if (p.pixels * p.outputs >= (int64_t(1) << 31) || p.pixels * p.inputs >= (int64_t(1) << 31)) {
        return Status(StatusCode::kInvalidArgument, "pointwise kernel: tensors beyond 32-bit indexing");
    }
    const unsigned grid = grid_for(count);
    switch (p.inputs) {
#define RT_POINTWISE_CASE(K)                                                                    \
    case K:                                                                                     \
        pointwise_kernel<K><<<grid, kThreads, 0, stream>>>(p, pairs, static_cast<int>(groups)); \
        break;
        RT_POINTWISE_CASE(2)
        RT_POINTWISE_CASE(4)
        RT_POINTWISE_CASE(6)
        RT_POINTWISE_CASE(8)
        RT_POINTWISE_CASE(10)
        RT_POINTWISE_CASE(12)
        RT_POINTWISE_CASE(14)
        RT_POINTWISE_CASE(16)
        RT_POINTWISE_CASE(18)
        RT_POINTWISE_CASE(20)
        RT_POINTWISE_CASE(22)
        RT_POINTWISE_CASE(24)
        RT_POINTWISE_CASE(26)
        RT_POINTWISE_CASE(28)
        RT_POINTWISE_CASE(30)
        RT_POINTWISE_CASE(32)
#undef RT_POINTWISE_CASE
        default:
            return Status(StatusCode::kInvalidArgument, "pointwise kernel: unsupported input channel count");
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

}  // namespace rtinfer::cuda::nn
