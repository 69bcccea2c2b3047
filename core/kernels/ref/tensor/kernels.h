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
extern const ir::OpKernel kGatherKernel;
extern const ir::OpKernel kGatherElementsKernel;
extern const ir::OpKernel kGatherNDKernel;
extern const ir::OpKernel kScatterKernel;
extern const ir::OpKernel kScatterElementsKernel;
extern const ir::OpKernel kScatterNDKernel;
extern const ir::OpKernel kDepthToSpaceKernel;
extern const ir::OpKernel kSpaceToDepthKernel;
extern const ir::OpKernel kTriluKernel;
extern const ir::OpKernel kEyeLikeKernel;
extern const ir::OpKernel kRangeKernel;
extern const ir::OpKernel kOneHotKernel;
extern const ir::OpKernel kNonZeroKernel;
extern const ir::OpKernel kCompressKernel;
extern const ir::OpKernel kReverseSequenceKernel;
extern const ir::OpKernel kUniqueKernel;
extern const ir::OpKernel kResizeKernel;
extern const ir::OpKernel kUpsampleKernel;
extern const ir::OpKernel kNchwToNhwcKernel;

// The table this family registers.
inline std::vector<const ir::OpKernel*> tensor_kernels() {
    return {&kConstantKernel,     &kConstantOfShapeKernel, &kShapeKernel,          &kSizeKernel,
            &kReshapeKernel,      &kFlattenKernel,         &kSqueezeKernel,        &kUnsqueezeKernel,
            &kIdentityKernel,     &kDropoutKernel,         &kTransposeKernel,      &kSliceKernel,
            &kConcatKernel,       &kSplitKernel,           &kExpandKernel,         &kTileKernel,
            &kPadKernel,          &kGatherKernel,          &kGatherElementsKernel, &kGatherNDKernel,
            &kScatterKernel,      &kScatterElementsKernel, &kScatterNDKernel,      &kDepthToSpaceKernel,
            &kSpaceToDepthKernel, &kTriluKernel,           &kEyeLikeKernel,        &kRangeKernel,
            &kOneHotKernel,       &kNonZeroKernel,         &kCompressKernel,       &kReverseSequenceKernel,
            &kUniqueKernel,       &kResizeKernel,          &kUpsampleKernel,       &kNchwToNhwcKernel};
}

}  // namespace rtinfer::ref
