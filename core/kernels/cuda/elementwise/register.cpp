#include "core/kernels/cuda/elementwise/kernels.h"

namespace rtinfer::cuda {

Status register_cuda_elementwise_kernels(CudaRegistry& registry) {
    for (const CudaKernel* kernel : elementwise_cuda_kernels()) RT_RETURN_IF_ERROR(registry.add(*kernel));
    return Status();
}

}  // namespace rtinfer::cuda
