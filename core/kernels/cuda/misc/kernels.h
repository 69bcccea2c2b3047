// The misc family of CUDA kernels (ops of core/kernels/ref/misc that the GPU runs): one CudaKernel per op,
// in its own .cu file.
#pragma once

#include <vector>

#include "core/kernels/cuda/cuda_op.h"

namespace rtinfer::cuda {

extern const CudaKernel kNonMaxSuppressionCuda;
extern const CudaKernel kQuantizeLinearCuda;
extern const CudaKernel kDequantizeLinearCuda;

// The table this family registers; add a line here for each new op file.
inline std::vector<const CudaKernel*> misc_cuda_kernels() {
    return {&kNonMaxSuppressionCuda, &kQuantizeLinearCuda, &kDequantizeLinearCuda};
}

}  // namespace rtinfer::cuda
