// ConvInteger and QLinearConv: Conv on (u)int8 data with zero points, accumulated in int32 (im2col + integer
// GEMM). The weights' zero point and scale may be per output channel. QLinearConv adds the int32 bias and
// requantizes to y_scale/y_zero_point (round half to even, saturate).
#include <algorithm>
#include <string>
#include <vector>

#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::ref {
namespace {

// Input slots: ConvInteger (x, w, x_zp, w_zp); QLinearConv (x, x_scale, x_zp, w, w_scale, w_zp, y_scale,
// y_zp, B).
struct Slots {
    size_t x, w, x_zp, w_zp;
};
constexpr Slots kIntegerSlots = {0, 1, 2, 3};
constexpr Slots kLinearSlots = {0, 3, 2, 5};

Status check_per_channel(const ir::InferContext& ctx, size_t i, int64_t channels, const char* what) {
    if (!ctx.has_input(i)) return Status();
    const int64_t n = ir::shape_numel(ctx.input_shape(i));
    if (ctx.input_rank(i) > 1 || (n != 1 && n != channels)) {
        return ctx.error(std::string(what) + " has shape " + ir::shape_str(ctx.input_shape(i)) +
                         ": expected a scalar or [" + std::to_string(channels) + "]");
    }
    return Status();
}

template <bool kLinear>
Status infer(ir::InferContext& ctx) {
    const Slots s = kLinear ? kLinearSlots : kIntegerSlots;
    if (!nn::is_quantized(ctx.input_dtype(s.x)) || !nn::is_quantized(ctx.input_dtype(s.w))) {
        return ctx.unsupported("x and w must be int8 or uint8");
    }
    const ir::Shape& x = ctx.input_shape(s.x);
    const ir::Shape& w = ctx.input_shape(s.w);
    nn::Window win;
    RT_RETURN_IF_ERROR(nn::conv_geometry(ctx.node(), x, w, win));
    if (ctx.has_input(s.x_zp) && ir::shape_numel(ctx.input_shape(s.x_zp)) != 1) {
        return ctx.error("x_zero_point must be a scalar");
    }
    RT_RETURN_IF_ERROR(check_per_channel(ctx, s.w_zp, w[0], "w_zero_point"));
    ir::Shape out = {x[0], w[0]};
    for (int64_t d : win.out_shape()) out.push_back(d);
    if (!kLinear) {
        ctx.set_output(0, ir::DType::kInt32, out);
        return Status();
    }
    for (size_t i : {size_t(1), size_t(4), size_t(6)}) {
        if (!ctx.has_input(i) || !nn::is_float(ctx.input_dtype(i))) return ctx.error("scales must be float tensors");
    }
    if (ir::shape_numel(ctx.input_shape(1)) != 1 || ir::shape_numel(ctx.input_shape(6)) != 1) {
        return ctx.error("x_scale and y_scale must be scalars");
    }
    RT_RETURN_IF_ERROR(check_per_channel(ctx, 4, w[0], "w_scale"));
    if (!ctx.has_input(7) || !nn::is_quantized(ctx.input_dtype(7)) || ir::shape_numel(ctx.input_shape(7)) != 1) {
        return ctx.error("y_zero_point is required: an int8 or uint8 scalar");
    }
    if (ctx.has_input(8)) {
        if (ctx.input_dtype(8) != ir::DType::kInt32) return ctx.error("bias B must be int32");
        RT_RETURN_IF_ERROR(nn::check_vector(ctx, 8, w[0], "bias B"));
    }
    ctx.set_output(0, ctx.input_dtype(7), out);
    return Status();
}

template <bool kLinear>
Status compute(ir::ComputeContext& ctx) {
    const Slots s = kLinear ? kLinearSlots : kIntegerSlots;
    const ir::Tensor& xt = ctx.input(s.x);
    const ir::Tensor& wt = ctx.input(s.w);
    nn::Window win;
    RT_RETURN_IF_ERROR(nn::conv_geometry(ctx.node(), xt.shape(), wt.shape(), win));
    const int64_t out_channels = wt.dim(0), per_filter = out_channels == 0 ? 0 : wt.numel() / out_channels;
    std::vector<int32_t> x = nn::to_int32s(xt);
    const int32_t x_zp = nn::zero_point_at(ctx.has_input(s.x_zp) ? &ctx.input(s.x_zp) : nullptr, 0);
    for (int32_t& v : x) v -= x_zp;  // padding then reads as the zero point, as the spec wants
    std::vector<int32_t> w = nn::to_int32s(wt);
    const ir::Tensor* w_zp = ctx.has_input(s.w_zp) ? &ctx.input(s.w_zp) : nullptr;
    for (int64_t m = 0; m < out_channels; ++m) {
        const int32_t z = nn::zero_point_at(w_zp, m);
        for (int64_t i = m * per_filter; i < (m + 1) * per_filter; ++i) w[static_cast<size_t>(i)] -= z;
    }
    std::vector<int32_t> bias;
    if (kLinear && ctx.has_input(8)) bias = nn::to_int32s(ctx.input(8));
    const int64_t batch = xt.dim(0), out_size = win.out_size();
    std::vector<int32_t> acc(static_cast<size_t>(batch * out_channels * out_size)), col;
    nn::conv_forward<int32_t>(x.data(), w.data(), bias.empty() ? nullptr : bias.data(), acc.data(), batch, xt.dim(1),
                              out_channels, ctx.node().attr_int("group", 1), win, col);
    ir::Tensor& y = ctx.output(0);
    if (!kLinear) {
        std::copy(acc.begin(), acc.end(), y.data<int32_t>());
        return Status();
    }
    const double x_scale = ir::to_doubles(ctx.input(1))[0], y_scale = ir::to_doubles(ctx.input(6))[0];
    const std::vector<double> w_scale = ir::to_doubles(ctx.input(4));
    const int32_t y_zp = nn::zero_point_at(&ctx.input(7), 0);
    for (int64_t n = 0; n < batch; ++n) {
        for (int64_t m = 0; m < out_channels; ++m) {
            const double k = x_scale * w_scale[w_scale.size() == 1 ? 0 : static_cast<size_t>(m)] / y_scale;
            const int64_t base = (n * out_channels + m) * out_size;
            for (int64_t i = base; i < base + out_size; ++i) {
                nn::store_quantized(y, i, acc[static_cast<size_t>(i)] * k, y_zp);
            }
        }
    }
    return Status();
}

}  // namespace

const ir::OpKernel kConvIntegerKernel = {"ConvInteger", "", infer<false>, compute<false>, ir::kOpNone};
const ir::OpKernel kQLinearConvKernel = {"QLinearConv", "", infer<true>, compute<true>, ir::kOpNone};

}  // namespace rtinfer::ref
