// Cast (target type from the `to` attribute, an ONNX TensorProto.DataType code) and CastLike (target type
// from the second input). Both run natively on float16. `saturate` (opset 19) only concerns float8 types,
// which rtinfer does not have, so it is ignored.
#include <cstring>

#include "core/kernels/ref/elementwise/common.h"
#include "core/kernels/ref/elementwise/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace ew;

// TensorProto.DataType codes of the types rtinfer has; kUndefined for the rest.
DType from_onnx_type(int64_t code) {
    switch (code) {
        case 1:
            return DType::kFloat32;
        case 2:
            return DType::kUInt8;
        case 3:
            return DType::kInt8;
        case 6:
            return DType::kInt32;
        case 7:
            return DType::kInt64;
        case 9:
            return DType::kBool;
        case 10:
            return DType::kFloat16;
        case 11:
            return DType::kFloat64;
        default:
            return DType::kUndefined;
    }
}

Status cast_infer(ir::InferContext& ctx) {
    RT_RETURN_IF_ERROR(check_input_type(ctx, 0, kAll));
    if (!ctx.node().has_attr("to")) return ctx.error("attribute 'to' is required");
    const int64_t code = ctx.node().attr_int("to", 0);
    const DType to = from_onnx_type(code);
    if (to == DType::kUndefined) {
        return ctx.unsupported("cast to ONNX type " + std::to_string(code) + " is not supported");
    }
    set_same_shape_output(ctx, to);
    return Status();
}

Status cast_like_infer(ir::InferContext& ctx) {
    if (ctx.num_inputs() != 2) return ctx.error("expects inputs input and target_type");
    RT_RETURN_IF_ERROR(check_input_type(ctx, 0, kAll));
    RT_RETURN_IF_ERROR(check_input_type(ctx, 1, kAll));
    set_same_shape_output(ctx, ctx.input_dtype(1));
    return Status();
}

// The output type is the one infer chose, already set on the output tensor.
Status cast_compute(ir::ComputeContext& ctx) {
    ir::Tensor& out = ctx.output(0);
    auto converted = ir::cast_tensor(ctx.input(0), out.dtype());
    if (!converted.has_value()) return ctx.error(converted.status().message());
    if (converted->nbytes() != out.nbytes()) return ctx.error("output buffer does not match the input's size");
    if (out.nbytes()) std::memcpy(out.raw(), converted->raw(), out.nbytes());
    return Status();
}

}  // namespace

const ir::OpKernel kCastKernel = {"Cast", "", cast_infer, cast_compute, ir::kOpNativeHalf};
const ir::OpKernel kCastLikeKernel = {"CastLike", "", cast_like_infer, cast_compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
