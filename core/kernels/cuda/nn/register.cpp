#include "core/kernels/cuda/nn/kernels.h"

namespace rtinfer::cuda {

Status register_cuda_nn_kernels(CudaRegistry& registry) {
    for (const CudaKernel* kernel : nn_cuda_kernels()) RT_RETURN_IF_ERROR(registry.add(*kernel));
    return Status();
}

}  // namespace rtinfer::cuda
