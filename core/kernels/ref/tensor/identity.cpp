// Identity, and Dropout at inference: the output is the input, the optional mask is all true.
#include "core/kernels/ref/tensor/common.h"
#include "core/kernels/ref/tensor/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace tensor_ops;

Status identity_infer(ir::InferContext& ctx) {
    ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
    return Status();
}

Status identity_compute(ir::ComputeContext& ctx) {
    copy_bytes(ctx.input(0), ctx.output(0));
    return Status();
}

// Training mode with a nonzero ratio drops random elements; inference engines do not do that.
Status check_not_training(const ir::Node& node, int64_t opset, const ir::Tensor* ratio, const ir::Tensor* training) {
    if (opset < 12 || !training || training->numel() == 0 ||
        load_as_double(training->dtype(), training->raw(), 0) == 0) {
        return Status();
    }
    const double r = ratio && ratio->numel() ? load_as_double(ratio->dtype(), ratio->raw(), 0) : 0.5;
    if (r == 0.0) return Status();
    return node_error(node, "training_mode=true with a nonzero ratio is not supported", StatusCode::kUnsupported);
}

Status dropout_infer(ir::InferContext& ctx) {
    RT_RETURN_IF_ERROR(check_not_training(ctx.node(), ctx.opset(), infer_value(ctx, 1), infer_value(ctx, 2)));
    ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
    if (ctx.has_output(1)) {
        ctx.set_output(1, ctx.opset() < 10 ? ctx.input_dtype(0) : ir::DType::kBool, ctx.input_shape(0));
    }
    return Status();
}

Status dropout_compute(ir::ComputeContext& ctx) {
    RT_RETURN_IF_ERROR(check_not_training(ctx.node(), ctx.opset(), compute_value(ctx, 1), compute_value(ctx, 2)));
    copy_bytes(ctx.input(0), ctx.output(0));
    if (ctx.has_output(1)) {
        ir::Tensor& mask = ctx.output(1);
        for (int64_t i = 0; i < mask.numel(); ++i) store_from_double(mask.dtype(), mask.raw(), i, 1.0);
    }
    return Status();
}

}  // namespace

const ir::OpKernel kIdentityKernel = {"Identity", "", identity_infer, identity_compute, ir::kOpNativeHalf};
const ir::OpKernel kDropoutKernel = {"Dropout", "", dropout_infer, dropout_compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
