// The tensor family of reference kernels: one OpKernel per op, defined in the op's own file.
#pragma once

#include <vector>

#include "core/ir/op.h"

namespace rtinfer::ref {

extern const ir::OpKernel kConstantKernel;
extern const ir::OpKernel kConstantOfShapeKernel;
extern const ir::OpKernel kShapeKernel;
extern const ir::OpKernel kSizeKernel;
extern const ir::OpKernel kReshapeKernel;
extern const ir::OpKernel kFlattenKernel;
extern const ir::OpKernel kSqueezeKernel;
extern const ir::OpKernel kUnsqueezeKernel;
extern const ir::OpKernel kIdentityKernel;
extern const ir::OpKernel kDropoutKernel;
extern const ir::OpKernel kTransposeKernel;
extern const ir::OpKernel kSliceKernel;
extern const ir::OpKernel kConcatKernel;
extern const ir::OpKernel kSplitKernel;
extern const ir::OpKernel kExpandKernel;
extern const ir::OpKernel kTileKernel;
extern const ir::OpKernel kPadKernel;

// The table this family registers.
inline std::vector<const ir::OpKernel*> tensor_kernels() {
    return {&kConstantKernel, &kConstantOfShapeKernel, &kShapeKernel,     &kSizeKernel,    &kReshapeKernel,
            &kFlattenKernel,  &kSqueezeKernel,         &kUnsqueezeKernel, &kIdentityKernel, &kDropoutKernel,
            &kTransposeKernel, &kSliceKernel,          &kConcatKernel,    &kSplitKernel,   &kExpandKernel,
            &kTileKernel,     &kPadKernel};
}

}  // namespace rtinfer::ref
