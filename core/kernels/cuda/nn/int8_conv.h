// An int8 convolution on channels-last tensors with tensor cores (implicit GEMM: rows are output pixels,
// columns output channels, the reduction runs over kernel taps x input channels), and everything after the
// int32 sum fused into its single store: per-output-channel rescale, bias, residual Z, a clamp (ReLU, Clip)
// and the requantization to int8 (or a float16 / float32 output). What rtinfer.Int8Conv runs.
// Host-callable; plain parameters. Needs compute capability 8.0 or newer (mma.sync int8 with k = 32,
// cp.async); int8_conv_supported() says whether the current device has it.
#pragma once

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "rtinfer/status.h"

namespace rtinfer::cuda::nn {

enum class Int8Store : int { kInt8 = 0, kHalf = 1, kFloat = 2 };
enum class Int8Residual : int { kNone = 0, kInt8 = 1, kHalf = 2, kFloat = 3 };
// After the residual: the clamp [lo, hi] (none, ReLU, Clip) or one of the smooth activations.
enum class Int8Activation : int { kClamp = 0, kSigmoid = 1, kSilu = 2, kHardSwish = 3, kLeakyRelu = 4 };

// X int8 [N, H, W, C], W int8 [M, KH, KW, C] (OHWI), Y [N, OH, OW, M]:
//   v = alpha[m] * sum(x * w) + bias[m] (+ z, an int8 z times z_scale), v = act(v) (a clamp or a smooth one),
//   Y = int8: saturate(round_half_even(v * (1 / out_scale))); half / float: v.
// C must be a multiple of 16 and M of 8 (int8_conv_shape_supported).
struct Int8ConvParams {
    const int8_t* x = nullptr;
    const int8_t* w = nullptr;
    const float* alpha = nullptr;  // [M]
    const float* bias = nullptr;   // [M] or null
    const void* z = nullptr;       // Y's shape, or null
    void* y = nullptr;
    Int8Residual z_kind = Int8Residual::kNone;
    float z_scale = 1.0f;
    Int8Store store = Int8Store::kInt8;
    float out_scale = 1.0f;
    float lo = -INFINITY, hi = INFINITY;  // the clamp (ReLU, Clip)
    Int8Activation act = Int8Activation::kClamp;
    float act_alpha = 0.01f;  // LeakyRelu's slope
    int batch = 0, in_h = 0, in_w = 0, in_c = 0, out_h = 0, out_w = 0, out_c = 0;
    int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
};

// The tile shapes the kernel is compiled for; the op times them and keeps the fastest.
int int8_conv_tile_count();
const char* int8_conv_tile_name(int tile);

bool int8_conv_supported();  // the current device runs the kernel
bool int8_conv_shape_supported(int in_c, int out_c);

// Once per device before the first launch (the larger tiles opt in to more shared memory).
Status int8_conv_prepare();
Status launch_int8_conv(const Int8ConvParams& p, int tile, cudaStream_t stream);

}  // namespace rtinfer::cuda::nn
