// The misc family of reference kernels: one OpKernel per op, defined in the op's own file.
#pragma once

#include <vector>

#include "core/ir/op.h"

namespace rtinfer::ref {

extern const ir::OpKernel kNonMaxSuppressionKernel;
extern const ir::OpKernel kQuantizeLinearKernel;
extern const ir::OpKernel kDequantizeLinearKernel;
extern const ir::OpKernel kDynamicQuantizeLinearKernel;
extern const ir::OpKernel kRoiAlignKernel;
extern const ir::OpKernel kGridSampleKernel;
extern const ir::OpKernel kRnnKernel;
extern const ir::OpKernel kGruKernel;
extern const ir::OpKernel kLstmKernel;
extern const ir::OpKernel kHannWindowKernel;
extern const ir::OpKernel kHammingWindowKernel;
extern const ir::OpKernel kBlackmanWindowKernel;
extern const ir::OpKernel kDftKernel;
extern const ir::OpKernel kStftKernel;
extern const ir::OpKernel kMelWeightMatrixKernel;
extern const ir::OpKernel kRandomNormalKernel;
extern const ir::OpKernel kRandomUniformKernel;
extern const ir::OpKernel kRandomNormalLikeKernel;
extern const ir::OpKernel kRandomUniformLikeKernel;
extern const ir::OpKernel kBernoulliKernel;
extern const ir::OpKernel kMultinomialKernel;
extern const ir::OpKernel kTfIdfVectorizerKernel;
extern const ir::OpKernel kAdagradKernel;
extern const ir::OpKernel kMomentumKernel;
extern const ir::OpKernel kAdamKernel;
extern const ir::OpKernel kLpNormalizationKernel;
extern const ir::OpKernel kMaxRoiPoolKernel;
extern const ir::OpKernel kCenterCropPadKernel;
extern const ir::OpKernel kCol2ImKernel;
extern const ir::OpKernel kAffineGridKernel;
extern const ir::OpKernel kDeformConvKernel;

// The table this family registers.
inline std::vector<const ir::OpKernel*> misc_kernels() {
    return {
        &kNonMaxSuppressionKernel,
        &kQuantizeLinearKernel,
        &kDequantizeLinearKernel,
        &kDynamicQuantizeLinearKernel,
        &kRoiAlignKernel,
        &kGridSampleKernel,
        &kRnnKernel,
        &kGruKernel,
        &kLstmKernel,
        &kHannWindowKernel,
        &kHammingWindowKernel,
        &kBlackmanWindowKernel,
        &kDftKernel,
        &kStftKernel,
        &kMelWeightMatrixKernel,
        &kRandomNormalKernel,
        &kRandomUniformKernel,
        &kRandomNormalLikeKernel,
        &kRandomUniformLikeKernel,
        &kBernoulliKernel,
        &kMultinomialKernel,
        &kTfIdfVectorizerKernel,
        &kAdagradKernel,
        &kMomentumKernel,
        &kAdamKernel,
        &kLpNormalizationKernel,
        &kMaxRoiPoolKernel,
        &kCenterCropPadKernel,
        &kCol2ImKernel,
        &kAffineGridKernel,
        &kDeformConvKernel,
    };
}

}  // namespace rtinfer::ref
