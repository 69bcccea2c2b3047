// Choosing cuDNN convolution algorithms at create time by measuring them on scratch buffers (create is the
// prepare step), within the workspace cap; falls back to cuDNN's heuristics when the scratch memory cannot
// be had. Float32 without TF32 only accepts FMA-math GEMM-style algorithms, so results match a float dot
// product's rounding (no TF32, FFT or Winograd).
#pragma once

#include <cudnn.h>

#include <string>

#include "core/kernels/cuda/nn/nn_cuda_util.h"
#include "core/kernels/cuda/timing_cache.h"

namespace rtinfer::cuda::nn {

struct ConvAlgo {
    int algo = 0;  // a cudnnConvolutionFwdAlgo_t or cudnnConvolutionBwdDataAlgo_t
    int math = 0;  // the cudnnMathType_t it runs with
    size_t workspace = 0;
    // The tactic id stored in engines and timing caches.
    int64_t tactic() const { return int64_t(algo) * 16 + math; }
};

// What the search runs on: descriptors plus the filter's device memory (null: use scratch).
struct ConvSearch {
    cudnnHandle_t handle = nullptr;
    DataType dtype = DataType::kFloat32;
    bool allow_tf32 = false;
    cudnnTensorDescriptor_t x = nullptr;  // forward: input; backward data: dx (the ConvTranspose output)
    cudnnFilterDescriptor_t w = nullptr;
    cudnnConvolutionDescriptor_t conv = nullptr;
    cudnnTensorDescriptor_t y = nullptr;  // forward: output; backward data: dy (the ConvTranspose input)
    size_t x_bytes = 0, w_bytes = 0, y_bytes = 0;
    const void* w_data = nullptr;
    TimingCache* cache = nullptr;           // at build time: measured tactics by signature
    size_t workspace_cap = kWorkspaceCap;   // the most workspace an algorithm may take (the memory budget)
    std::string signature;                  // the layer signature the cache is keyed by
};

// Sets the chosen math type on s.conv as well.
Expected<ConvAlgo> find_forward_algo(const ConvSearch& s);
Expected<ConvAlgo> find_backward_data_algo(const ConvSearch& s);

}  // namespace rtinfer::cuda::nn
