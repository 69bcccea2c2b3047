// The misc family of reference kernels: one OpKernel per op, defined in the op's own file.
#pragma once

#include <vector>

#include "core/ir/op.h"

namespace rtinfer::ref {

// The table this family registers.
inline std::vector<const ir::OpKernel*> misc_kernels() {
    return {};
}

}  // namespace rtinfer::ref
