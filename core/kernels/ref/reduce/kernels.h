// The reduce family of reference kernels: one OpKernel per op, defined in the op's own file.
#pragma once

#include <vector>

#include "core/ir/op.h"

namespace rtinfer::ref {

// reduce_ops.cpp
extern const ir::OpKernel kReduceSumKernel;
extern const ir::OpKernel kReduceMeanKernel;
extern const ir::OpKernel kReduceMaxKernel;
extern const ir::OpKernel kReduceMinKernel;
extern const ir::OpKernel kReduceProdKernel;
extern const ir::OpKernel kReduceL1Kernel;
extern const ir::OpKernel kReduceL2Kernel;
extern const ir::OpKernel kReduceLogSumKernel;
extern const ir::OpKernel kReduceLogSumExpKernel;
extern const ir::OpKernel kReduceSumSquareKernel;
// arg_max_min.cpp
extern const ir::OpKernel kArgMaxKernel;
extern const ir::OpKernel kArgMinKernel;
// softmax.cpp
extern const ir::OpKernel kSoftmaxKernel;
extern const ir::OpKernel kLogSoftmaxKernel;
extern const ir::OpKernel kHardmaxKernel;
// top_k.cpp, cum_sum.cpp, einsum.cpp, det.cpp
extern const ir::OpKernel kTopKKernel;
extern const ir::OpKernel kCumSumKernel;
extern const ir::OpKernel kEinsumKernel;
extern const ir::OpKernel kDetKernel;
// loss.cpp
extern const ir::OpKernel kNegativeLogLikelihoodLossKernel;
extern const ir::OpKernel kSoftmaxCrossEntropyLossKernel;

// The table this family registers.
inline std::vector<const ir::OpKernel*> reduce_kernels() {
    return {&kReduceSumKernel,
            &kReduceMeanKernel,
            &kReduceMaxKernel,
            &kReduceMinKernel,
            &kReduceProdKernel,
            &kReduceL1Kernel,
            &kReduceL2Kernel,
            &kReduceLogSumKernel,
            &kReduceLogSumExpKernel,
            &kReduceSumSquareKernel,
            &kArgMaxKernel,
            &kArgMinKernel,
            &kSoftmaxKernel,
            &kLogSoftmaxKernel,
            &kHardmaxKernel,
            &kTopKKernel,
            &kCumSumKernel,
            &kEinsumKernel,
            &kDetKernel,
            &kNegativeLogLikelihoodLossKernel,
            &kSoftmaxCrossEntropyLossKernel};
}

}  // namespace rtinfer::ref
