#include "core/kernels/ref/misc/kernels.h"
#include "core/kernels/ref/ref_backend.h"

namespace rtinfer::ref {

Status register_misc_kernels(ir::OpRegistry& registry) {
    for (const ir::OpKernel* kernel : misc_kernels()) RT_RETURN_IF_ERROR(registry.add(*kernel));
    return Status();
}

}  // namespace rtinfer::ref
