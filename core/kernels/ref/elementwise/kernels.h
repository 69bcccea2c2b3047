// The elementwise family of reference kernels: one OpKernel per op, defined in the op's (or op group's) file.
#pragma once

#include <vector>

#include "core/ir/op.h"

namespace rtinfer::ref {

// relu.cpp
extern const ir::OpKernel kReluKernel;
// unary_math.cpp
extern const ir::OpKernel kAbsKernel, kNegKernel, kSignKernel, kErfKernel, kReciprocalKernel, kRoundKernel, kExpKernel,
    kLogKernel, kSqrtKernel, kFloorKernel, kCeilKernel, kSinKernel, kCosKernel, kTanKernel, kAsinKernel, kAcosKernel,
    kAtanKernel, kSinhKernel, kCoshKernel, kAsinhKernel, kAcoshKernel, kAtanhKernel, kIsNaNKernel, kIsInfKernel,
    kNotKernel, kBitwiseNotKernel;
// activations.cpp
extern const ir::OpKernel kLeakyReluKernel, kEluKernel, kSeluKernel, kCeluKernel, kSigmoidKernel, kHardSigmoidKernel,
    kHardSwishKernel, kTanhKernel, kSoftplusKernel, kSoftsignKernel, kThresholdedReluKernel, kShrinkKernel, kGeluKernel,
    kMishKernel;
// prelu.cpp
extern const ir::OpKernel kPReluKernel;
// binary_arith.cpp
extern const ir::OpKernel kAddKernel, kSubKernel, kMulKernel, kDivKernel, kModKernel;
// pow.cpp
extern const ir::OpKernel kPowKernel;
// variadic.cpp
extern const ir::OpKernel kMaxKernel, kMinKernel, kSumKernel, kMeanKernel;
// compare.cpp
extern const ir::OpKernel kEqualKernel, kLessKernel, kLessOrEqualKernel, kGreaterKernel, kGreaterOrEqualKernel;
// logical.cpp
extern const ir::OpKernel kAndKernel, kOrKernel, kXorKernel, kBitwiseAndKernel, kBitwiseOrKernel, kBitwiseXorKernel,
    kBitShiftKernel;
// where.cpp, clip.cpp, cast.cpp
extern const ir::OpKernel kWhereKernel, kClipKernel, kCastKernel, kCastLikeKernel;
// pointwise_chain.cpp: rtinfer.PointwiseChain (passes::fuse_pointwise_chain)
extern const ir::OpKernel kPointwiseChainKernel;

// The table this family registers.
// clang-format off
inline std::vector<const ir::OpKernel*> elementwise_kernels() {
    return {&kReluKernel,
            &kAbsKernel, &kNegKernel, &kSignKernel, &kErfKernel, &kReciprocalKernel, &kRoundKernel, &kExpKernel,
            &kLogKernel, &kSqrtKernel, &kFloorKernel, &kCeilKernel, &kSinKernel, &kCosKernel, &kTanKernel,
            &kAsinKernel, &kAcosKernel, &kAtanKernel, &kSinhKernel, &kCoshKernel, &kAsinhKernel, &kAcoshKernel,
            &kAtanhKernel, &kIsNaNKernel, &kIsInfKernel, &kNotKernel, &kBitwiseNotKernel,
            &kLeakyReluKernel, &kEluKernel, &kSeluKernel, &kCeluKernel, &kSigmoidKernel, &kHardSigmoidKernel,
            &kHardSwishKernel, &kTanhKernel, &kSoftplusKernel, &kSoftsignKernel, &kThresholdedReluKernel,
            &kShrinkKernel, &kGeluKernel, &kMishKernel, &kPReluKernel,
            &kAddKernel, &kSubKernel, &kMulKernel, &kDivKernel, &kModKernel, &kPowKernel,
            &kMaxKernel, &kMinKernel, &kSumKernel, &kMeanKernel,
            &kEqualKernel, &kLessKernel, &kLessOrEqualKernel, &kGreaterKernel, &kGreaterOrEqualKernel,
            &kAndKernel, &kOrKernel, &kXorKernel, &kBitwiseAndKernel, &kBitwiseOrKernel, &kBitwiseXorKernel,
            &kBitShiftKernel,
            &kWhereKernel, &kClipKernel, &kCastKernel, &kCastLikeKernel,
            &kPointwiseChainKernel};
}
// clang-format on

}  // namespace rtinfer::ref
