// rtinfer.NhwcConv: Conv on channels-last tensors, what convert_to_nhwc makes of a 2-D Conv.
// X [N, H, W, C], W [M, kH, kW, C / group] (OHWI), optional B [M], optional Z [N, H', W', M] (a residual
// added before the fused activation, see fuse_conv_residual) -> Y [N, H', W', M]; the attributes are Conv's,
// plus rt_input_activation (applied to X as it is read, see fuse_input_activation). The reference permutes to
// NCHW, runs the Conv reference and permutes the result back.
#include <vector>

#include "core/ir/fused_activation.h"
#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::ref {
namespace {

ir::Shape nchw_of(const ir::Shape& nhwc) {
    return {nhwc[0], nhwc[3], nhwc[1], nhwc[2]};
}

// dst[n][c][h][w] = src[n][h][w][c] for dims (n, c, h, w), or the inverse.
template <class T>
void permute(const T* src, T* dst, int64_t n, int64_t c, int64_t hw, bool to_nchw) {
    for (int64_t b = 0; b < n; ++b) {
        for (int64_t ch = 0; ch < c; ++ch) {
            for (int64_t i = 0; i < hw; ++i) {
                const int64_t nchw = (b * c + ch) * hw + i, nhwc = (b * hw + i) * c + ch;
                if (to_nchw) {
                    dst[nchw] = src[nhwc];
                } else {
                    dst[nhwc] = src[nchw];
                }
            }
        }
    }
}

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!nn::is_float(t)) {
        return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    }
    if (ctx.input_dtype(1) != t) return ctx.error("weights W must have the type of X");
    const ir::Shape& x = ctx.input_shape(0);
    const ir::Shape& w = ctx.input_shape(1);
    if (x.size() != 4 || w.size() != 4) return ctx.error("X and W must be 4-D (NHWC and OHWI)");
    nn::Window win;
    RT_RETURN_IF_ERROR(nn::conv_geometry(ctx.node(), nchw_of(x), nchw_of(w), win));
    if (ctx.has_input(2)) {
        if (ctx.input_dtype(2) != t) return ctx.error("bias B must have the type of X");
        RT_RETURN_IF_ERROR(nn::check_vector(ctx, 2, w[0], "bias B"));
    }
    const std::vector<int64_t> spatial = win.out_shape();
    const ir::Shape y = {x[0], spatial[0], spatial[1], w[0]};
    if (ctx.has_input(3) && (ctx.input_dtype(3) != t || ctx.input_shape(3) != y)) {
        return ctx.error("residual Z must have the output's type and shape " + ir::shape_str(y));
    }
    ctx.set_output(0, t, y);
    return Status();
}

template <class T>
Status run(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    const ir::Tensor& w = ctx.input(1);
    const ir::Shape xs = nchw_of(x.shape()), ws = nchw_of(w.shape());
    nn::Window win;
    RT_RETURN_IF_ERROR(nn::conv_geometry(ctx.node(), xs, ws, win));
    std::vector<T> x_nchw(static_cast<size_t>(x.numel())), w_oihw(static_cast<size_t>(w.numel()));
    permute(x.data<T>(), x_nchw.data(), xs[0], xs[1], xs[2] * xs[3], true);
    // An input activation (fuse_input_activation) applies to X itself; the zero padding stays zero.
    const ir::FusedActivationParams in_act = ir::input_activation(ctx.node());
    if (in_act.act != ir::FusedActivation::kNone) {
        for (T& v : x_nchw) v = static_cast<T>(ir::apply_fused_activation(in_act, static_cast<float>(v)));
    }
    permute(w.data<T>(), w_oihw.data(), ws[0], ws[1], ws[2] * ws[3], true);
    ir::Tensor& y = ctx.output(0);
    std::vector<T> y_nchw(static_cast<size_t>(y.numel())), col;
    const T* bias = ctx.has_input(2) ? ctx.input(2).data<T>() : nullptr;
    nn::conv_forward(x_nchw.data(), w_oihw.data(), bias, y_nchw.data(), xs[0], xs[1], ws[0],
                     ctx.node().attr_int("group", 1), win, col);
    permute(y_nchw.data(), y.data<T>(), y.dim(0), y.dim(3), y.dim(1) * y.dim(2), false);
    if (ctx.has_input(3)) {
        const T* z = ctx.input(3).data<T>();
        T* out = y.data<T>();
        for (int64_t i = 0; i < y.numel(); ++i) out[i] += z[i];
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

const ir::OpKernel kNhwcConvKernel = {"NhwcConv", ir::kRtinferDomain, infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
