// ConvTranspose: the gradient of Conv with respect to its input, as GEMM (W^T X per image and group) +
// col2im. Groups, dilations, strides, pads, auto_pad, output_padding and output_shape.
#include <algorithm>
#include <vector>

#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::ref {
namespace {

// X [N, C, in...], W [C, M / group, kernel...] -> the window (w.in is the output) and the output channels.
Status geometry(const ir::Node& node, const ir::Shape& x, const ir::Shape& weights, nn::Window& w,
                int64_t& out_channels) {
    if (x.size() < 3) {
        return nn::node_error(node, "input X has shape " + ir::shape_str(x) + ", expected [N, C, spatial...]");
    }
    if (weights.size() != x.size()) {
        return nn::node_error(node, "weights W have shape " + ir::shape_str(weights) + ", expected rank " +
                                        std::to_string(x.size()) + " like X " + ir::shape_str(x));
    }
    const int64_t group = node.attr_int("group", 1);
    if (group <= 0) return nn::node_error(node, "group " + std::to_string(group) + " must be positive");
    if (x[1] >= 0 && x[1] != weights[0]) {
        return nn::node_error(node, "input channels " + std::to_string(x[1]) + " of X " + ir::shape_str(x) +
                                        " do not match dim 0 of W " + ir::shape_str(weights));
    }
    if (weights[0] % group != 0) {
        return nn::node_error(node, "input channels " + std::to_string(weights[0]) + " are not divisible by group " +
                                        std::to_string(group));
    }
    out_channels = weights[1] * group;
    RT_ASSIGN_OR_RETURN(std::vector<int64_t> kernel,
                        nn::kernel_shape(node, std::vector<int64_t>(weights.begin() + 2, weights.end())));
    return nn::conv_transpose_window(node, ir::Shape(x.begin() + 2, x.end()), kernel, w);
}

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!nn::is_float(t)) return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    if (ctx.input_dtype(1) != t) return ctx.error("weights W must have the type of X");
    const ir::Shape& x = ctx.input_shape(0);
    nn::Window w;
    int64_t out_channels = 0;
    RT_RETURN_IF_ERROR(geometry(ctx.node(), x, ctx.input_shape(1), w, out_channels));
    if (ctx.has_input(2)) {
        if (ctx.input_dtype(2) != t) return ctx.error("bias B must have the type of X");
        RT_RETURN_IF_ERROR(nn::check_vector(ctx, 2, out_channels, "bias B"));
    }
    ir::Shape out = {x[0], out_channels};
    for (int d = nn::kMaxSpatial - w.rank; d < nn::kMaxSpatial; ++d) out.push_back(w.in[d]);
    ctx.set_output(0, t, out);
    return Status();
}

template <class T>
Status run(ir::ComputeContext& ctx) {
    const ir::Tensor& xt = ctx.input(0);
    const ir::Tensor& wt = ctx.input(1);
    nn::Window w;
    int64_t out_channels = 0;
    RT_RETURN_IF_ERROR(geometry(ctx.node(), xt.shape(), wt.shape(), w, out_channels));
    const int64_t batch = xt.dim(0), channels = xt.dim(1), group = ctx.node().attr_int("group", 1);
    const int64_t cg = channels / group, mg = out_channels / group;
    const int64_t rows = mg * w.kernel_size(), in_size = w.out_size(), out_size = w.in_size();
    const T* x = xt.data<T>();
    const T* weights = wt.data<T>();
    const T* bias = ctx.has_input(2) ? ctx.input(2).data<T>() : nullptr;
    T* y = ctx.output(0).data<T>();
    std::fill(y, y + batch * out_channels * out_size, T(0));
    std::vector<T> col(static_cast<size_t>(rows * in_size));
    for (int64_t n = 0; n < batch; ++n) {
        for (int64_t g = 0; g < group; ++g) {
            // col [mg * k, in] = W_g^T [mg * k, cg] x X_g [cg, in]
            nn::gemm(true, false, rows, in_size, cg, T(1), weights + g * cg * rows, rows,
                     x + (n * channels + g * cg) * in_size, in_size, T(0), col.data(), in_size);
            nn::col2im(col.data(), mg, w, y + (n * out_channels + g * mg) * out_size);
        }
        if (!bias) continue;
        for (int64_t m = 0; m < out_channels; ++m) {
            T* row = y + (n * out_channels + m) * out_size;
            for (int64_t i = 0; i < out_size; ++i) row[i] += bias[m];
        }
    }
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    switch (ctx.input(0).dtype()) {
        case ir::DType::kFloat32:
            return run<float>(ctx);
        case ir::DType::kFloat64:
            return run<double>(ctx);
        default:
            return ctx.error("unexpected input type");
    }
}

}  // namespace

const ir::OpKernel kConvTransposeKernel = {"ConvTranspose", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
