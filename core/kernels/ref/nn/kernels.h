// The nn family of reference kernels: one OpKernel per op, defined in the op's own file (tightly related ops
// share one: pool.cpp, global_pool.cpp, instance_group_norm.cpp, quant_conv.cpp, quant_matmul.cpp).
#pragma once

#include <vector>

#include "core/ir/op.h"

namespace rtinfer::ref {

extern const ir::OpKernel kConvKernel;
extern const ir::OpKernel kConvTransposeKernel;
extern const ir::OpKernel kMaxPoolKernel;
extern const ir::OpKernel kAveragePoolKernel;
extern const ir::OpKernel kLpPoolKernel;
extern const ir::OpKernel kGlobalAveragePoolKernel;
extern const ir::OpKernel kGlobalMaxPoolKernel;
extern const ir::OpKernel kGlobalLpPoolKernel;
extern const ir::OpKernel kGemmKernel;
extern const ir::OpKernel kMatMulKernel;
extern const ir::OpKernel kMatMulBiasKernel;
extern const ir::OpKernel kAttentionKernel;
extern const ir::OpKernel kMatMulIntegerKernel;
extern const ir::OpKernel kQLinearMatMulKernel;
extern const ir::OpKernel kConvIntegerKernel;
extern const ir::OpKernel kQLinearConvKernel;
extern const ir::OpKernel kBatchNormalizationKernel;
extern const ir::OpKernel kInstanceNormalizationKernel;
extern const ir::OpKernel kLayerNormalizationKernel;
extern const ir::OpKernel kGroupNormalizationKernel;
extern const ir::OpKernel kLrnKernel;
extern const ir::OpKernel kMeanVarianceNormalizationKernel;
extern const ir::OpKernel kMaxUnpoolKernel;
extern const ir::OpKernel kNhwcConvKernel;
extern const ir::OpKernel kInt8ConvKernel;
extern const ir::OpKernel kNhwcGlobalAveragePoolKernel;
extern const ir::OpKernel kNhwcMaxPoolKernel;

// The table this family registers.
inline std::vector<const ir::OpKernel*> nn_kernels() {
    return {&kConvKernel,
            &kNhwcConvKernel,
            &kInt8ConvKernel,
            &kNhwcGlobalAveragePoolKernel,
            &kNhwcMaxPoolKernel,
            &kConvTransposeKernel,
            &kMaxPoolKernel,
            &kAveragePoolKernel,
            &kLpPoolKernel,
            &kGlobalAveragePoolKernel,
            &kGlobalMaxPoolKernel,
            &kGlobalLpPoolKernel,
            &kGemmKernel,
            &kMatMulKernel,
            &kMatMulBiasKernel,
            &kAttentionKernel,
            &kMatMulIntegerKernel,
            &kQLinearMatMulKernel,
            &kConvIntegerKernel,
            &kQLinearConvKernel,
            &kBatchNormalizationKernel,
            &kInstanceNormalizationKernel,
            &kLayerNormalizationKernel,
            &kGroupNormalizationKernel,
            &kLrnKernel,
            &kMeanVarianceNormalizationKernel,
            &kMaxUnpoolKernel};
}

}  // namespace rtinfer::ref
