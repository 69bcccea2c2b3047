// The elementwise family of reference kernels: one OpKernel per op, defined in the op's own file.
#pragma once

#include <vector>

#include "core/ir/op.h"

namespace rtinfer::ref {

extern const ir::OpKernel kReluKernel;

// The table this family registers.
inline std::vector<const ir::OpKernel*> elementwise_kernels() {
    return {&kReluKernel};
}

}  // namespace rtinfer::ref
