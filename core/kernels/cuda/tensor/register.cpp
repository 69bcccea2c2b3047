#include "core/kernels/cuda/tensor/kernels.h"

namespace rtinfer::cuda {

Status register_cuda_tensor_kernels(CudaRegistry& registry) {
    for (const CudaKernel* kernel : tensor_cuda_kernels()) RT_RETURN_IF_ERROR(registry.add(*kernel));
    return Status();
}

}  // namespace rtinfer::cuda
