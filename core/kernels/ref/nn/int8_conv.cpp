// rtinfer.Int8Conv: an int8 convolution on channels-last tensors with the rescale, bias, residual, activation
// and requantization of its output in one op (what passes::fuse_int8_conv makes of a quantized NhwcConv).
//   X int8 [N, H, W, C], W int8 [M, kH, kW, C] (OHWI), alpha float32 [M], optional B float32 [M], optional Z
//   (Y's shape: int8 with attribute rt_z_scale, or float16 / float32) -> Y [N, H', W', M]
//   v = float(sum x * w) * alpha[m] + B[m] (+ Z, an int8 Z times rt_z_scale), then the activation
//   rt_int8_activation (codes of ir::FusedActivation, parameters rt_int8_alpha / rt_int8_clip_min / _max);
//   Y = int8 saturate(round_half_even(v * (1 / rt_output_scale))) when rt_output_scale is given (a multiply, as
//   the kernel's store does; it can differ from v / scale by one step at exact ties), else v as float16
//   (rt_output_type 10, ONNX's code) or float32 (1, the default).
// Conv's attributes otherwise (strides, pads, dilations, kernel_shape; group 1).
#include <cmath>
#include <vector>

#include "core/ir/fused_activation.h"
#include "core/ir/half.h"
#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::ref {
namespace {

constexpr int64_t kOnnxFloat = 1, kOnnxFloat16 = 10;

ir::Shape nchw_of(const ir::Shape& nhwc) {
    return {nhwc[0], nhwc[3], nhwc[1], nhwc[2]};
}

ir::DType output_type(const ir::Node& node) {
    if (node.attrs.count("rt_output_scale")) return ir::DType::kInt8;
    return node.attr_int("rt_output_type", kOnnxFloat) == kOnnxFloat16 ? ir::DType::kFloat16 : ir::DType::kFloat32;
}

Status infer(ir::InferContext& ctx) {
    const ir::Node& node = ctx.node();
    if (ctx.input_dtype(0) != ir::DType::kInt8 || ctx.input_dtype(1) != ir::DType::kInt8) {
        return ctx.error("X and W must be int8");
    }
    const ir::Shape& x = ctx.input_shape(0);
    const ir::Shape& w = ctx.input_shape(1);
    if (x.size() != 4 || w.size() != 4) return ctx.error("X and W must be 4-D (NHWC and OHWI)");
    if (node.attr_int("group", 1) != 1) return ctx.error("group must be 1");
    if (x[3] != w[3]) return ctx.error("X has " + std::to_string(x[3]) + " channels, W " + std::to_string(w[3]));
    nn::Window win;
    RT_RETURN_IF_ERROR(nn::conv_geometry(node, nchw_of(x), nchw_of(w), win));
    if (ctx.input_dtype(2) != ir::DType::kFloat32) return ctx.error("alpha must be float32");
    RT_RETURN_IF_ERROR(nn::check_vector(ctx, 2, w[0], "alpha"));
    if (ctx.has_input(3)) {
        if (ctx.input_dtype(3) != ir::DType::kFloat32) return ctx.error("bias B must be float32");
        RT_RETURN_IF_ERROR(nn::check_vector(ctx, 3, w[0], "bias B"));
    }
    const ir::Shape spatial = win.out_shape();
    const ir::Shape y = {x[0], spatial[0], spatial[1], w[0]};
    if (ctx.has_input(4)) {
        const ir::DType zt = ctx.input_dtype(4);
        const bool int8_z = node.attrs.count("rt_z_scale") > 0;
        if (int8_z ? zt != ir::DType::kInt8 : (zt != ir::DType::kFloat32 && zt != ir::DType::kFloat16)) {
            return ctx.error(int8_z ? "residual Z must be int8 with rt_z_scale" : "residual Z must be float16 or float32");
        }
        if (ctx.input_shape(4) != y) return ctx.error("residual Z must have the output's shape " + ir::shape_str(y));
    }
    ctx.set_output(0, output_type(node), y);
    return Status();
}

float read_float(const ir::Tensor& t, int64_t i) {
    return t.dtype() == ir::DType::kFloat16 ? ir::half_to_float(t.data<uint16_t>()[i]) : t.data<float>()[i];
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Node& node = ctx.node();
    const ir::Tensor& x = ctx.input(0);
    const ir::Tensor& w = ctx.input(1);
    nn::Window win;
    RT_RETURN_IF_ERROR(nn::conv_geometry(node, nchw_of(x.shape()), nchw_of(w.shape()), win));
    const int64_t batch = x.dim(0), in_h = x.dim(1), in_w = x.dim(2), in_c = x.dim(3);
    const int64_t out_c = w.dim(0), k_h = w.dim(1), k_w = w.dim(2);
    ir::Tensor& y = ctx.output(0);
    const int64_t out_h = y.dim(1), out_w = y.dim(2);
    const int8_t* xs = x.data<int8_t>();
    const int8_t* ws = w.data<int8_t>();
    const float* alpha = ctx.input(2).data<float>();
    const float* bias = ctx.has_input(3) ? ctx.input(3).data<float>() : nullptr;
    const ir::Tensor* z = ctx.has_input(4) ? &ctx.input(4) : nullptr;
    const float z_scale = node.attr_float("rt_z_scale", 1.0f);
    const ir::FusedActivationParams act = ir::read_activation(node, "rt_int8_activation", "rt_int8_");
    const float inv_out_scale = 1.0f / node.attr_float("rt_output_scale", 1.0f);
    const ir::DType out_type = y.dtype();
    for (int64_t n = 0; n < batch; ++n) {
        for (int64_t oh = 0; oh < out_h; ++oh) {
            for (int64_t ow = 0; ow < out_w; ++ow) {
                const int64_t pixel = (n * out_h + oh) * out_w + ow;
                for (int64_t m = 0; m < out_c; ++m) {
                    int32_t acc = 0;
                    for (int64_t kh = 0; kh < k_h; ++kh) {
                        const int64_t ih = oh * win.stride[1] - win.pad_begin[1] + kh * win.dilation[1];
                        if (ih < 0 || ih >= in_h) continue;
                        for (int64_t kw = 0; kw < k_w; ++kw) {
                            const int64_t iw = ow * win.stride[2] - win.pad_begin[2] + kw * win.dilation[2];
                            if (iw < 0 || iw >= in_w) continue;
                            const int8_t* xp = xs + ((n * in_h + ih) * in_w + iw) * in_c;
                            const int8_t* wp = ws + ((m * k_h + kh) * k_w + kw) * in_c;
                            for (int64_t c = 0; c < in_c; ++c) acc += int32_t(xp[c]) * int32_t(wp[c]);
                        }
                    }
                    const int64_t i = pixel * out_c + m;
                    float v = static_cast<float>(acc) * alpha[m];
                    if (bias) v += bias[m];
                    if (z) {
                        v += z->dtype() == ir::DType::kInt8 ? static_cast<float>(z->data<int8_t>()[i]) * z_scale
                                                           : read_float(*z, i);
                    }
                    v = ir::apply_fused_activation(act, v);
                    if (out_type == ir::DType::kInt8) {
                        const float q = std::nearbyint(v * inv_out_scale);
                        y.data<int8_t>()[i] = static_cast<int8_t>(std::fmin(std::fmax(q, -128.0f), 127.0f));
                    } else if (out_type == ir::DType::kFloat16) {
                        y.data<uint16_t>()[i] = ir::float_to_half(v);
                    } else {
                        y.data<float>()[i] = v;
                    }
                }
            }
        }
    }
    return Status();
}

}  // namespace

const ir::OpKernel kInt8ConvKernel = {"Int8Conv", ir::kRtinferDomain, infer, compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
