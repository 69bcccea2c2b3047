// Small pointwise launchers the nn kernels share: bias + fused activation after a cuDNN or cuBLASLt call, a
// shifted copy that pads or crops images, and the broadcast of a matrix (Gemm's C). Host-callable; plain
// parameter structs, no framework types.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "rtinfer/status.h"

namespace rtinfer::cuda::nn {

// The values of the "rt_fused_activation" node attribute.
enum ActivationKind : int {
    kActNone = 0,
    kActRelu = 1,
    kActClip = 2,  // a = min, b = max
    kActSigmoid = 3,
    kActSilu = 4,
    kActHardSwish = 5,
    kActLeakyRelu = 6,  // a = alpha
    kActGelu = 7,       // 0.5 x (1 + erf(x / sqrt 2)), the exact form
    kActGeluTanh = 8,   // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), Gelu with approximate="tanh"
};
struct Activation {
    int kind = kActNone;
    float a = 0.0f;
    float b = 0.0f;
};

// In place over y (float32 or float16): y[i] = act(y[i] + bias[(i / inner) % channels]); bias may be null.
struct BiasActParams {
    void* y = nullptr;
    bool half = false;
    int64_t count = 0;
    int64_t inner = 1;
    int64_t channels = 1;
    const void* bias = nullptr;
    bool bias_half = false;
    Activation act;
};
Status launch_bias_activation(const BiasActParams& p, cudaStream_t stream);

// Channels-last, in place over y [pixels, channels] (float32 or float16):
//   y[i] = act(y[i] + bias[i % channels] + z[i]); bias (float32) and z (y's type) may be null.
struct ChannelsLastEpilogueParams {
    void* y = nullptr;
    bool half = false;
    int64_t count = 0;
    int64_t channels = 1;
    const float* bias = nullptr;
    const void* z = nullptr;
    Activation act;
};
Status launch_channels_last_epilogue(const ChannelsLastEpilogueParams& p, cudaStream_t stream);

// dst [planes, dst_dims] = src [planes, src_dims] moved by `offset`: dst[p, i] = src[p, i - offset] where that
// lies inside src, else 0. A positive offset pads the front, a negative one crops it.
struct ShiftCopyParams {
    void* dst = nullptr;
    const void* src = nullptr;
    bool half = false;
    int64_t planes = 0;
    int64_t dst_dims[3] = {1, 1, 1};
    int64_t src_dims[3] = {1, 1, 1};
    int64_t offset[3] = {0, 0, 0};
};
Status launch_shift_copy(const ShiftCopyParams& p, cudaStream_t stream);

// dst [rows, cols] = src[r * row_stride + c * col_stride] (strides 0 along broadcast dims).
struct BroadcastParams {
    void* dst = nullptr;
    const void* src = nullptr;
    bool half = false;
    int64_t rows = 0;
    int64_t cols = 0;
    int64_t row_stride = 0;
    int64_t col_stride = 0;
};
Status launch_broadcast_matrix(const BroadcastParams& p, cudaStream_t stream);

}  // namespace rtinfer::cuda::nn
