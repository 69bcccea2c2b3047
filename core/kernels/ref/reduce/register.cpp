#include "core/kernels/ref/reduce/kernels.h"
#include "core/kernels/ref/ref_backend.h"

namespace rtinfer::ref {

Status register_reduce_kernels(ir::OpRegistry& registry) {
    for (const ir::OpKernel* kernel : reduce_kernels()) RT_RETURN_IF_ERROR(registry.add(*kernel));
    return Status();
}

}  // namespace rtinfer::ref
