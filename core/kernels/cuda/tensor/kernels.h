// The tensor family of CUDA kernels: one CudaKernel per op (or tightly related group), in its own .cu file.
#pragma once

#include <vector>

#include "core/kernels/cuda/cuda_op.h"

namespace rtinfer::cuda {

// The table this family registers; add a line here for each new op file.
inline std::vector<const CudaKernel*> tensor_cuda_kernels() {
    return {};
}

}  // namespace rtinfer::cuda
