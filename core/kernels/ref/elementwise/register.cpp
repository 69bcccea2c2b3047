#include "core/kernels/ref/elementwise/kernels.h"
#include "core/kernels/ref/ref_backend.h"

namespace rtinfer::ref {

Status register_elementwise_kernels(ir::OpRegistry& registry) {
    for (const ir::OpKernel* kernel : elementwise_kernels()) RT_RETURN_IF_ERROR(registry.add(*kernel));
    return Status();
}

}  // namespace rtinfer::ref
