#include "core/kernels/cuda/misc/kernels.h"

namespace rtinfer::cuda {

Status register_cuda_misc_kernels(CudaRegistry& registry) {
    for (const CudaKernel* kernel : misc_cuda_kernels()) RT_RETURN_IF_ERROR(registry.add(*kernel));
    return Status();
}

}  // namespace rtinfer::cuda
