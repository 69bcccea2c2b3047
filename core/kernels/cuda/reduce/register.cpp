#include "core/kernels/cuda/reduce/kernels.h"

namespace rtinfer::cuda {

Status register_cuda_reduce_kernels(CudaRegistry& registry) {
    for (const CudaKernel* kernel : reduce_cuda_kernels()) RT_RETURN_IF_ERROR(registry.add(*kernel));
    return Status();
}

}  // namespace rtinfer::cuda
