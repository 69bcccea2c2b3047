#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/ref_backend.h"

namespace rtinfer::ref {

Status register_nn_kernels(ir::OpRegistry& registry) {
    for (const ir::OpKernel* kernel : nn_kernels()) RT_RETURN_IF_ERROR(registry.add(*kernel));
    return Status();
}

}  // namespace rtinfer::ref
