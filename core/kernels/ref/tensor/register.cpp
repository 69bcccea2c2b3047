#include "core/kernels/ref/tensor/kernels.h"
#include "core/kernels/ref/ref_backend.h"

namespace rtinfer::ref {

Status register_tensor_kernels(ir::OpRegistry& registry) {
    for (const ir::OpKernel* kernel : tensor_kernels()) RT_RETURN_IF_ERROR(registry.add(*kernel));
    return Status();
}

}  // namespace rtinfer::ref
