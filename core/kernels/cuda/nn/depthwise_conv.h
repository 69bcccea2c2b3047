// A direct depthwise convolution on channels-last tensors (one filter per channel, group == C == M) with the
// bias, residual Z and activation applied before the single store: the candidate NhwcConv times against
// cuDNN for depthwise layers. Host-callable; plain parameters.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/kernels/cuda/nn/epilogue.cuh"
#include "rtinfer/status.h"

namespace rtinfer::cuda::nn {

// X [N, H, W, C], W [KH * KW, C] (tap-major, so one load gives neighbouring channels), Y [N, OH, OW, C],
// all float32 or all float16; bias float32 [C] and Z (Y's shape and type) may be null.
struct DepthwiseParams {
    const void* x = nullptr;
    const void* w = nullptr;
    void* y = nullptr;
    const float* bias = nullptr;
    const void* z = nullptr;
    bool half = false;
    int64_t batch = 0;
    int channels = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
    int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
    Activation act;
    Activation in_act;  // applied to each X value as it is read (fuse_input_activation)
};
Status launch_depthwise_nhwc(const DepthwiseParams& p, cudaStream_t stream);

}  // namespace rtinfer::cuda::nn
