// The elementwise family of CUDA kernels: one CudaKernel per op, defined in the op's (or op group's) .cu file.
#pragma once

#include <vector>

#include "core/kernels/cuda/cuda_op.h"

namespace rtinfer::cuda {

// activations.cu
extern const CudaKernel kReluCuda, kLeakyReluCuda, kEluCuda, kSeluCuda, kCeluCuda, kSigmoidCuda, kHardSigmoidCuda,
    kHardSwishCuda, kTanhCuda, kSoftplusCuda, kSoftsignCuda, kGeluCuda, kMishCuda;
// prelu.cu
extern const CudaKernel kPReluCuda;
// unary_math.cu
extern const CudaKernel kErfCuda, kExpCuda, kLogCuda, kSqrtCuda, kReciprocalCuda, kNegCuda, kAbsCuda, kFloorCuda,
    kCeilCuda, kRoundCuda, kSignCuda, kSinCuda, kCosCuda;
// clip.cu
extern const CudaKernel kClipCuda;
// binary_arith.cu
extern const CudaKernel kAddCuda, kSubCuda, kMulCuda, kDivCuda, kModCuda, kPowCuda;
// variadic.cu
extern const CudaKernel kMaxCuda, kMinCuda, kSumCuda, kMeanCuda;
// compare.cu
extern const CudaKernel kEqualCuda, kLessCuda, kLessOrEqualCuda, kGreaterCuda, kGreaterOrEqualCuda;
// logical.cu
extern const CudaKernel kAndCuda, kOrCuda, kXorCuda, kNotCuda;
// where.cu, cast.cu
extern const CudaKernel kWhereCuda, kCastCuda, kCastLikeCuda;
// pointwise_chain.cu: rtinfer.PointwiseChain (passes::fuse_pointwise_chain)
extern const CudaKernel kPointwiseChainCuda;

// The table this family registers.
// clang-format off
inline std::vector<const CudaKernel*> elementwise_cuda_kernels() {
    return {&kReluCuda, &kLeakyReluCuda, &kEluCuda, &kSeluCuda, &kCeluCuda, &kSigmoidCuda, &kHardSigmoidCuda,
            &kHardSwishCuda, &kTanhCuda, &kSoftplusCuda, &kSoftsignCuda, &kGeluCuda, &kMishCuda,
            &kPReluCuda,
            &kErfCuda, &kExpCuda, &kLogCuda, &kSqrtCuda, &kReciprocalCuda, &kNegCuda, &kAbsCuda, &kFloorCuda,
            &kCeilCuda, &kRoundCuda, &kSignCuda, &kSinCuda, &kCosCuda,
            &kClipCuda,
            &kAddCuda, &kSubCuda, &kMulCuda, &kDivCuda, &kModCuda, &kPowCuda,
            &kMaxCuda, &kMinCuda, &kSumCuda, &kMeanCuda,
            &kEqualCuda, &kLessCuda, &kLessOrEqualCuda, &kGreaterCuda, &kGreaterOrEqualCuda,
            &kAndCuda, &kOrCuda, &kXorCuda, &kNotCuda,
            &kWhereCuda, &kCastCuda, &kCastLikeCuda,
            &kPointwiseChainCuda};
}
// clang-format on

}  // namespace rtinfer::cuda
