// Depthwise channels-last convolution. Float16 with an even channel count, 3x3 or 5x5, stride 1 or 2: the
// strip kernel (a row of outputs per thread, shared input columns in registers). Otherwise one thread per
// output pixel and channel pair (half2, when C is even and the pointers allow) or channel. Neighbouring threads take
// neighbouring channels, so every tap is one coalesced read; the taps of 3x3 and 5x5 filters are unrolled. Accumulates
// in float. An input activation applies to each loaded X value (padding taps stay zero).
#include "core/kernels/cuda/nn/depthwise_conv.h"

#include <cuda_fp16.h>

#include <algorithm>

#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/nn/nn_device.cuh"

namespace rtinfer::cuda::nn {
namespace {

struct Pair {
    float a, b;
};

__device__ __forceinline__ Pair load_pair(const __half2* p, int64_t i) {
    const float2 v = __half22float2(p[i]);
    return {v.x, v.y};
}

// K > 0: a K x K filter, unrolled; K == 0: the filter size from p.
template <int K, bool Pairs>
__global__ void depthwise_kernel(DepthwiseParams p, int lanes) {
    const int kh = K > 0 ? K : p.kernel_h, kw = K > 0 ? K : p.kernel_w;
    const int64_t count = p.batch * p.out_h * p.out_w * lanes;
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
        const int c = static_cast<int>(i % lanes);
        const int64_t pixel = i / lanes;
        const int ox = static_cast<int>(pixel % p.out_w), oy = static_cast<int>(pixel / p.out_w % p.out_h);
        const int64_t n = pixel / p.out_w / p.out_h;
        const int64_t base = n * p.in_h * p.in_w * lanes + c;
        float acc0 = 0.0f, acc1 = 0.0f;
        const bool in_act = p.in_act.kind != kActNone;
#pragma unroll
        for (int ky = 0; ky < (K > 0 ? K : 16); ++ky) {
            if (K == 0 && ky >= kh) break;
            const int iy = oy * p.stride_h - p.pad_h + ky * p.dilation_h;
            if (iy < 0 || iy >= p.in_h) continue;
#pragma unroll
            for (int kx = 0; kx < (K > 0 ? K : 16); ++kx) {
                if (K == 0 && kx >= kw) break;
                const int ix = ox * p.stride_w - p.pad_w + kx * p.dilation_w;
                if (ix < 0 || ix >= p.in_w) continue;
                const int64_t at = base + (int64_t(iy) * p.in_w + ix) * lanes;
                const int64_t tap = int64_t(ky * kw + kx) * lanes + c;
                if constexpr (Pairs) {
                    Pair v = load_pair(static_cast<const __half2*>(p.x), at);
                    const Pair f = load_pair(static_cast<const __half2*>(p.w), tap);
                    if (in_act) {
                        v.a = activate(p.in_act, v.a);
                        v.b = activate(p.in_act, v.b);
                    }
                    acc0 = fmaf(v.a, f.a, acc0);
                    acc1 = fmaf(v.b, f.b, acc1);
                } else {
                    float v = p.half ? load_f(static_cast<const __half*>(p.x), at)
                                     : load_f(static_cast<const float*>(p.x), at);
                    const float f = p.half ? load_f(static_cast<const __half*>(p.w), tap)
                                           : load_f(static_cast<const float*>(p.w), tap);
                    if (in_act) v = activate(p.in_act, v);
                    acc0 = fmaf(v, f, acc0);
                }
            }
        }
        if constexpr (Pairs) {
            if (p.bias) {
                acc0 += p.bias[2 * c];
                acc1 += p.bias[2 * c + 1];
            }
            if (p.z) {
                const Pair zv = load_pair(static_cast<const __half2*>(p.z), i);
                acc0 += zv.a;
                acc1 += zv.b;
            }
            static_cast<__half2*>(p.y)[i] = __floats2half2_rn(activate(p.act, acc0), activate(p.act, acc1));
        } else {
            if (p.bias) acc0 += p.bias[c];
            if (p.half) {
                if (p.z) acc0 += load_f(static_cast<const __half*>(p.z), i);
                store_f(static_cast<__half*>(p.y), i, activate(p.act, acc0));
            } else {
                if (p.z) acc0 += load_f(static_cast<const float*>(p.z), i);
                store_f(static_cast<float*>(p.y), i, activate(p.act, acc0));
            }
        }
    }
}

// Strips of kStrip outputs along W per thread, for a K x K filter with stride S and no dilation: the input
// columns the strip's windows share are loaded once (with the input activation applied once) and kept in
// registers, the filter too; 32-bit index math (the launcher checks the sizes fit).
constexpr int kStrip = 4;

template <int K, int S>
__global__ void depthwise_strip_kernel(DepthwiseParams p, int lanes, int strips, int count) {
    constexpr int kCols = (kStrip - 1) * S + K;
    const bool in_act = p.in_act.kind != kActNone;
    const __half2* x = static_cast<const __half2*>(p.x);
    const __half2* w = static_cast<const __half2*>(p.w);
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < count; i += gridDim.x * blockDim.x) {
        const int c = i % lanes;
        int rest = i / lanes;
        const int strip = rest % strips;
        rest /= strips;
        const int oy = rest % p.out_h;
        const int n = rest / p.out_h;
        const int ox0 = strip * kStrip;
        float2 f[K][K];
#pragma unroll
        for (int ky = 0; ky < K; ++ky) {
#pragma unroll
            for (int kx = 0; kx < K; ++kx) f[ky][kx] = __half22float2(w[(ky * K + kx) * lanes + c]);
        }
        float2 acc[kStrip];
#pragma unroll
        for (int j = 0; j < kStrip; ++j) acc[j] = make_float2(0.0f, 0.0f);
        const int ix0 = ox0 * S - p.pad_w;
        const __half2* image = x + static_cast<size_t>(n) * p.in_h * p.in_w * lanes + c;
#pragma unroll
        for (int ky = 0; ky < K; ++ky) {
            const int iy = oy * S - p.pad_h + ky;
            if (iy < 0 || iy >= p.in_h) continue;
            const __half2* row = image + static_cast<size_t>(iy) * p.in_w * lanes;
            float2 col[kCols];
#pragma unroll
            for (int k = 0; k < kCols; ++k) {
                const int ix = ix0 + k;
                col[k] = make_float2(0.0f, 0.0f);
                if (ix >= 0 && ix < p.in_w) {
                    col[k] = __half22float2(row[ix * lanes]);
                    if (in_act) {
                        col[k].x = activate(p.in_act, col[k].x);
                        col[k].y = activate(p.in_act, col[k].y);
                    }
                }
            }
#pragma unroll
            for (int j = 0; j < kStrip; ++j) {
#pragma unroll
                for (int kx = 0; kx < K; ++kx) {
                    acc[j].x = fmaf(col[j * S + kx].x, f[ky][kx].x, acc[j].x);
                    acc[j].y = fmaf(col[j * S + kx].y, f[ky][kx].y, acc[j].y);
                }
            }
        }
        const float b0 = p.bias ? p.bias[2 * c] : 0.0f, b1 = p.bias ? p.bias[2 * c + 1] : 0.0f;
#pragma unroll
        for (int j = 0; j < kStrip; ++j) {
            const int ox = ox0 + j;
            if (ox >= p.out_w) break;
            const int at = ((n * p.out_h + oy) * p.out_w + ox) * lanes + c;
            float v0 = acc[j].x + b0, v1 = acc[j].y + b1;
            if (p.z) {
                const float2 zv = __half22float2(static_cast<const __half2*>(p.z)[at]);
                v0 += zv.x;
                v1 += zv.y;
            }
            static_cast<__half2*>(p.y)[at] = __floats2half2_rn(activate(p.act, v0), activate(p.act, v1));
        }
    }
}

// The strip kernel for the common filters, on float16 channel pairs; false where it does not apply.
bool launch_strip(const DepthwiseParams& p, int lanes, cudaStream_t stream) {
    if (p.dilation_h != 1 || p.dilation_w != 1 || p.kernel_h != p.kernel_w || p.stride_h != p.stride_w) return false;
    const int strips = (p.out_w + kStrip - 1) / kStrip;
    const int64_t count = p.batch * p.out_h * strips * lanes;
    const int64_t elements = p.batch * std::max<int64_t>(int64_t(p.in_h) * p.in_w, int64_t(p.out_h) * p.out_w) * lanes;
    if (count >= (int64_t(1) << 31) || elements >= (int64_t(1) << 31)) return false;
    const unsigned grid = grid_for(count);
    const int k = p.kernel_h, s = p.stride_h, n = static_cast<int>(count);
    if (k == 3 && s == 1) {
        depthwise_strip_kernel<3, 1><<<grid, kThreads, 0, stream>>>(p, lanes, strips, n);
    } else if (k == 3 && s == 2) {
        depthwise_strip_kernel<3, 2><<<grid, kThreads, 0, stream>>>(p, lanes, strips, n);
    } else if (k == 5 && s == 1) {
        depthwise_strip_kernel<5, 1><<<grid, kThreads, 0, stream>>>(p, lanes, strips, n);
    } else if (k == 5 && s == 2) {
        depthwise_strip_kernel<5, 2><<<grid, kThreads, 0, stream>>>(p, lanes, strips, n);
    } else {
        return false;
    }
    return true;
}

template <bool Pairs>
void launch_sized(const DepthwiseParams& p, int lanes, unsigned grid, cudaStream_t stream) {
    if (p.kernel_h == 3 && p.kernel_w == 3) {
        depthwise_kernel<3, Pairs><<<grid, kThreads, 0, stream>>>(p, lanes);
    } else if (p.kernel_h == 5 && p.kernel_w == 5) {
        depthwise_kernel<5, Pairs><<<grid, kThreads, 0, stream>>>(p, lanes);
    } else {
        depthwise_kernel<0, Pairs><<<grid, kThreads, 0, stream>>>(p, lanes);
    }
}

bool aligned4(const void* q) {
    return q == nullptr || reinterpret_cast<uintptr_t>(q) % 4 == 0;
}

}  // namespace

Status launch_depthwise_nhwc(const DepthwiseParams& p, cudaStream_t stream) {
    if (p.kernel_h > 16 || p.kernel_w > 16) {
        return Status(StatusCode::kInvalidArgument, "depthwise kernel: filters above 16 x 16 are not supported");
    }
    const bool pairs =
        p.half && p.channels % 2 == 0 && aligned4(p.x) && aligned4(p.w) && aligned4(p.y) && aligned4(p.z);
    const int lanes = pairs ? p.channels / 2 : p.channels;
    const int64_t count = p.batch * p.out_h * p.out_w * lanes;
    if (count == 0) return Status();
    if (pairs && launch_strip(p, lanes, stream)) {
        // done
    } else if (pairs) {
        launch_sized<true>(p, lanes, grid_for(count), stream);
    } else {
        launch_sized<false>(p, lanes, grid_for(count), stream);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

}  // namespace rtinfer::cuda::nn
