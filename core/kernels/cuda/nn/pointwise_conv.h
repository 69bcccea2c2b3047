// A direct pointwise (1x1) convolution for few input channels on channels-last float16 tensors, with bias,
// residual Z and activation applied before the single store. Such layers (the expand convolutions at the
// start of MobileNet and EfficientNet) are bound by writing their large outputs; a GEMM library leaves the
// activations it cannot fuse (ReLU6, SiLU) to a second pass over that output. The candidate NhwcConv times
// against cuDNN and cuBLASLt. Host-callable; plain parameters.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/kernels/cuda/nn/epilogue.cuh"
#include "rtinfer/status.h"

namespace rtinfer::cuda::nn {

constexpr int kPointwiseMaxInputs = 32;   // input channels K, even
constexpr int kPointwiseMaxWeights = 8192;  // M * K, in shared memory

// X [P, K], W [M, K] (OHWI of a 1x1 filter), Y [P, M], Z [P, M] or null, bias float32 [M] or null; float16,
// K and M even, K <= kPointwiseMaxInputs, M * K <= kPointwiseMaxWeights.
struct PointwiseParams {
    const void* x = nullptr;
    const void* w = nullptr;
    void* y = nullptr;
    const float* bias = nullptr;
    const void* z = nullptr;
    int64_t pixels = 0;
    int inputs = 0, outputs = 0;
    Activation act;
};
bool pointwise_supported(int inputs, int outputs);
Status launch_pointwise_nhwc(const PointwiseParams& p, cudaStream_t stream);

}  // namespace rtinfer::cuda::nn
