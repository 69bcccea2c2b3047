// MaxUnpool: scatters X into a zero tensor at the flat indices I (as MaxPool's Indices output gives them).
// The indices address the shape that inverts the pooling size formula; an output_shape input (at least that
// large) receives it at its origin, zero elsewhere, as the ONNX reference does.
// Moves bytes only, so every element type (float16 included) is handled natively.
#include <cstring>
#include <string>

#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::ref {
namespace {

// The shape MaxUnpool scatters into, inverting the pooling size formula; pads count only without output_shape.
Status inferred_shape(const ir::Node& node, const ir::Shape& x, bool ignore_pads, ir::Shape& out) {
    if (x.size() < 3) {
        return nn::node_error(node, "input X has shape " + ir::shape_str(x) + ", expected [N, C, spatial...]");
    }
    RT_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, nn::kernel_shape(node, {}));
    const size_t rank = x.size() - 2;
    if (kernel.size() != rank) return nn::node_error(node, "kernel_shape must have one value per spatial dim");
    const std::vector<int64_t> strides = node.attr_ints("strides", std::vector<int64_t>(rank, 1));
    std::vector<int64_t> pads = node.attr_ints("pads", std::vector<int64_t>(2 * rank, 0));
    if (strides.size() != rank || pads.size() != 2 * rank) {
        return nn::node_error(node, "strides and pads must have one (pads: two) value(s) per spatial dim");
    }
    if (ignore_pads) pads.assign(2 * rank, 0);
    out = {x[0], x[1]};
    for (size_t i = 0; i < rank; ++i) {
        out.push_back(x[i + 2] < 0 ? -1 : (x[i + 2] - 1) * strides[i] + kernel[i] - pads[i] - pads[rank + i]);
        if (out.back() == 0 || out.back() < -1) return nn::node_error(node, "pads leave an empty output");
    }
    return Status();
}

// The output shape: output_shape when given (it must hold the inferred shape, which sits at its origin).
Status output_shape(const ir::Node& node, const ir::Shape& x, const ir::Tensor* shape_input, ir::Shape& out) {
    ir::Shape inferred;
    RT_RETURN_IF_ERROR(inferred_shape(node, x, shape_input != nullptr, inferred));
    if (!shape_input) {
        out = inferred;
        return Status();
    }
    if (shape_input->rank() != 1 || shape_input->numel() != static_cast<int64_t>(x.size())) {
        return nn::node_error(node, "output_shape " + ir::shape_str(shape_input->shape()) +
                                        " must be a 1-D tensor of " + std::to_string(x.size()) + " values");
    }
    out = ir::to_int64s(*shape_input);
    for (size_t i = 0; i < out.size(); ++i) {
        if (inferred[i] >= 0 && out[i] < inferred[i]) {
            return nn::node_error(node, "output_shape " + ir::shape_str(out) + " is smaller than the unpooled shape " +
                                            ir::shape_str(inferred));
        }
    }
    return Status();
}

Status infer(ir::InferContext& ctx) {
    if (ctx.input_dtype(1) != ir::DType::kInt64) return ctx.error("indices I must be int64");
    if (ctx.input_shape(1) != ctx.input_shape(0)) {
        return ctx.error("indices I " + ir::shape_str(ctx.input_shape(1)) + " must have the shape of X " +
                         ir::shape_str(ctx.input_shape(0)));
    }
    const ir::Tensor* shape_input = nullptr;
    if (ctx.has_input(2)) {
        shape_input = ctx.input_value(2);
        if (!shape_input) return ctx.error("output_shape must be a constant or computable at build time");
    }
    ir::Shape out;
    RT_RETURN_IF_ERROR(output_shape(ctx.node(), ctx.input_shape(0), shape_input, out));
    ctx.set_output(0, ctx.input_dtype(0), out);
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    const int64_t* indices = ctx.input(1).data<int64_t>();
    ir::Tensor& y = ctx.output(0);
    ir::Shape inferred;
    RT_RETURN_IF_ERROR(inferred_shape(ctx.node(), x.shape(), ctx.has_input(2), inferred));
    const size_t elem = data_type_size(x.dtype());
    std::memset(y.raw(), 0, y.nbytes());
    const auto* src = static_cast<const unsigned char*>(x.raw());
    auto* dst = static_cast<unsigned char*>(y.raw());
    // Indices address the inferred shape; map them into the (possibly larger) output by coordinates.
    const std::vector<int64_t> in_strides = ir::shape_strides(inferred), out_strides = ir::shape_strides(y.shape());
    const int64_t limit = ir::shape_numel(inferred);
    for (int64_t i = 0; i < x.numel(); ++i) {
        int64_t at = indices[i];
        if (at < 0 || at >= limit) {
            return ctx.error("index " + std::to_string(at) + " is outside the unpooled shape " +
                             ir::shape_str(inferred));
        }
        int64_t to = 0;
        for (size_t d = 0; d < inferred.size(); ++d) {
            to += at / in_strides[d] * out_strides[d];
            at %= in_strides[d];
        }
        std::memcpy(dst + static_cast<size_t>(to) * elem, src + static_cast<size_t>(i) * elem, elem);
    }
    return Status();
}

}  // namespace

const ir::OpKernel kMaxUnpoolKernel = {"MaxUnpool", "", infer, compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
