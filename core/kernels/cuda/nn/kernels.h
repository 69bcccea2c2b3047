// The nn family of CUDA kernels: one CudaKernel per op (or tightly related group), in its own file.
#pragma once

#include <vector>

#include "core/kernels/cuda/cuda_op.h"

namespace rtinfer::cuda {

extern const CudaKernel kConvCuda;
extern const CudaKernel kConvTransposeCuda;
extern const CudaKernel kMaxPoolCuda;
extern const CudaKernel kAveragePoolCuda;
extern const CudaKernel kGlobalAveragePoolCuda;
extern const CudaKernel kGlobalMaxPoolCuda;
extern const CudaKernel kGemmCuda;
extern const CudaKernel kMatMulCuda;
extern const CudaKernel kMatMulBiasCuda;
extern const CudaKernel kAttentionCuda;
extern const CudaKernel kBatchNormalizationCuda;
extern const CudaKernel kLayerNormalizationCuda;
extern const CudaKernel kInstanceNormalizationCuda;
extern const CudaKernel kGroupNormalizationCuda;
extern const CudaKernel kNhwcConvCuda;
extern const CudaKernel kInt8ConvCuda;
extern const CudaKernel kNhwcGlobalAveragePoolCuda;
extern const CudaKernel kNhwcMaxPoolCuda;

// The table this family registers; add a line here for each new op file.
inline std::vector<const CudaKernel*> nn_cuda_kernels() {
    return {&kConvCuda,
            &kConvTransposeCuda,
            &kMaxPoolCuda,
            &kAveragePoolCuda,
            &kGlobalAveragePoolCuda,
            &kGlobalMaxPoolCuda,
            &kGemmCuda,
            &kMatMulCuda,
            &kMatMulBiasCuda,
            &kAttentionCuda,
            &kBatchNormalizationCuda,
            &kLayerNormalizationCuda,
            &kInstanceNormalizationCuda,
            &kGroupNormalizationCuda,
            &kNhwcConvCuda,
            &kInt8ConvCuda,
            &kNhwcGlobalAveragePoolCuda,
            &kNhwcMaxPoolCuda};
}

}  // namespace rtinfer::cuda
