// DeformConv (opset 19, 2-D): convolution whose taps are moved by learned offsets (and optionally scaled
// by a mask), sampled bilinearly with zeros outside the image, as torchvision's deform_conv2d does.
// Columns are gathered per image, then each group is one dgemm with the weights.
#include <cmath>
#include <vector>

#include <cblas.h>

#include "core/kernels/ref/misc/kernels.h"
#include "core/kernels/ref/misc/misc_util.h"

namespace rtinfer::ref {
namespace {

struct DeformParams {
    int64_t kh = 0, kw = 0, sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pl = 0, pb = 0, pr = 0;
    int64_t group = 1, offset_group = 1, out_h = 0, out_w = 0;
};

template <class Ctx>
Status read_params(const Ctx& ctx, const ir::Shape& x, const ir::Shape& w, DeformParams& p) {
    const ir::Node& node = ctx.node();
    if (x.size() != 4 || w.size() != 4)
        return ctx.error("only 2-D DeformConv (4-D X and W) is supported", StatusCode::kUnsupported);
    const std::vector<int64_t> k = node.attr_ints("kernel_shape", {w[2], w[3]});
    const std::vector<int64_t> s = node.attr_ints("strides", {1, 1});
    const std::vector<int64_t> d = node.attr_ints("dilations", {1, 1});
    const std::vector<int64_t> pads = node.attr_ints("pads", {0, 0, 0, 0});
    if (k.size() != 2 || s.size() != 2 || d.size() != 2 || pads.size() != 4) {
        return ctx.error("kernel_shape, strides, dilations and pads must fit 2 spatial dims");
    }
    if (k[0] != w[2] || k[1] != w[3]) return ctx.error("kernel_shape does not match W");
    p.kh = k[0];
    p.kw = k[1];
    p.sh = s[0];
    p.sw = s[1];
    p.dh = d[0];
    p.dw = d[1];
    p.pt = pads[0];
    p.pl = pads[1];
    p.pb = pads[2];
    p.pr = pads[3];
    p.group = node.attr_int("group", 1);
    p.offset_group = node.attr_int("offset_group", 1);
    if (p.sh <= 0 || p.sw <= 0 || p.dh <= 0 || p.dw <= 0) return ctx.error("strides and dilations must be positive");
    if (p.group <= 0 || p.offset_group <= 0 || x[1] % p.group != 0 || w[0] % p.group != 0 ||
        x[1] % p.offset_group != 0 || w[1] * p.group != x[1]) {
        return ctx.error("group/offset_group do not divide the channels of X " + ir::shape_str(x) + " and W " +
                         ir::shape_str(w));
    }
    p.out_h = (x[2] + p.pt + p.pb - p.dh * (p.kh - 1) - 1) / p.sh + 1;
    p.out_w = (x[3] + p.pl + p.pr - p.dw * (p.kw - 1) - 1) / p.sw + 1;
    if (p.out_h <= 0 || p.out_w <= 0) return ctx.error("the kernel does not fit the padded input");
    return Status();
}

Status infer(ir::InferContext& ctx) {
    if (!ctx.has_input(0) || !ctx.has_input(1) || !ctx.has_input(2)) return ctx.error("needs X, W and offset");
    if (!misc::is_float_type(ctx.input_dtype(0))) return ctx.unsupported("X must be floating point");
    DeformParams p;
    const ir::Shape& x = ctx.input_shape(0);
    const ir::Shape& w = ctx.input_shape(1);
    RT_RETURN_IF_ERROR(read_params(ctx, x, w, p));
    const ir::Shape want_offset = {x[0], p.offset_group * 2 * p.kh * p.kw, p.out_h, p.out_w};
    if (ctx.input_shape(2) != want_offset) {
        return ctx.error("offset must be " + ir::shape_str(want_offset) + ", got " + ir::shape_str(ctx.input_shape(2)));
    }
    if (ctx.has_input(3) && ctx.input_shape(3) != ir::Shape{w[0]}) return ctx.error("B must be [M]");
    const ir::Shape want_mask = {x[0], p.offset_group * p.kh * p.kw, p.out_h, p.out_w};
    if (ctx.has_input(4) && ctx.input_shape(4) != want_mask) {
        return ctx.error("mask must be " + ir::shape_str(want_mask) + ", got " + ir::shape_str(ctx.input_shape(4)));
    }
    ctx.set_output(0, ctx.input_dtype(0), {x[0], w[0], p.out_h, p.out_w});
    return Status();
}

double bilinear(const double* plane, int64_t height, int64_t width, double y, double x) {
    if (y <= -1.0 || y >= static_cast<double>(height) || x <= -1.0 || x >= static_cast<double>(width)) return 0.0;
    const int64_t y0 = static_cast<int64_t>(std::floor(y)), x0 = static_cast<int64_t>(std::floor(x));
    const double ly = y - static_cast<double>(y0), lx = x - static_cast<double>(x0);
    auto at = [&](int64_t yy, int64_t xx) {
        return yy >= 0 && yy < height && xx >= 0 && xx < width ? plane[yy * width + xx] : 0.0;
    };
    return (1 - ly) * (1 - lx) * at(y0, x0) + (1 - ly) * lx * at(y0, x0 + 1) + ly * (1 - lx) * at(y0 + 1, x0) +
           ly * lx * at(y0 + 1, x0 + 1);
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& xt = ctx.input(0);
    const ir::Tensor& wt = ctx.input(1);
    DeformParams p;
    RT_RETURN_IF_ERROR(read_params(ctx, xt.shape(), wt.shape(), p));
    const std::vector<double> x = ir::to_doubles(xt), w = ir::to_doubles(wt), off = ir::to_doubles(ctx.input(2));
    const std::vector<double> bias = ctx.has_input(3) ? ir::to_doubles(ctx.input(3)) : std::vector<double>();
    const std::vector<double> mask = ctx.has_input(4) ? ir::to_doubles(ctx.input(4)) : std::vector<double>();
    const int64_t n = xt.dim(0), channels = xt.dim(1), height = xt.dim(2), width = xt.dim(3);
    const int64_t out_c = wt.dim(0), taps = p.kh * p.kw, pixels = p.out_h * p.out_w;
    const int64_t ch_per_offset = channels / p.offset_group;
    std::vector<double> cols(static_cast<size_t>(channels * taps * pixels));
    std::vector<double> out(static_cast<size_t>(out_c * pixels));
    ir::Tensor& y = ctx.output(0);
    for (int64_t b = 0; b < n; ++b) {
        for (int64_t c = 0; c < channels; ++c) {
            const int64_t og = c / ch_per_offset;
            const double* plane = &x[static_cast<size_t>((b * channels + c) * height * width)];
            for (int64_t t = 0; t < taps; ++t) {
                const int64_t i = t / p.kw, j = t % p.kw;
                const double* dy = &off[static_cast<size_t>(((b * p.offset_group + og) * 2 * taps + 2 * t) * pixels)];
                const double* dx = dy + pixels;
                const double* m = mask.empty()
                                      ? nullptr
                                      : &mask[static_cast<size_t>(((b * p.offset_group + og) * taps + t) * pixels)];
                double* col = &cols[static_cast<size_t>((c * taps + t) * pixels)];
                for (int64_t oh = 0; oh < p.out_h; ++oh) {
                    for (int64_t ow = 0; ow < p.out_w; ++ow) {
                        const int64_t q = oh * p.out_w + ow;
                        const double sy = static_cast<double>(oh * p.sh - p.pt + i * p.dh) + dy[q];
                        const double sx = static_cast<double>(ow * p.sw - p.pl + j * p.dw) + dx[q];
                        col[q] = bilinear(plane, height, width, sy, sx) * (m ? m[q] : 1.0);
                    }
                }
            }
        }
        const int64_t gc = channels / p.group, gm = out_c / p.group;
        for (int64_t g = 0; g < p.group; ++g) {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(gm), static_cast<int>(pixels),
                        static_cast<int>(gc * taps), 1.0, &w[static_cast<size_t>(g * gm * gc * taps)],
                        static_cast<int>(gc * taps), &cols[static_cast<size_t>(g * gc * taps * pixels)],
                        static_cast<int>(pixels), 0.0, &out[static_cast<size_t>(g * gm * pixels)],
                        static_cast<int>(pixels));
        }
        for (int64_t oc = 0; oc < out_c; ++oc) {
            const double add = bias.empty() ? 0.0 : bias[static_cast<size_t>(oc)];
            for (int64_t q = 0; q < pixels; ++q) {
                misc::store_value(y, (b * out_c + oc) * pixels + q, out[static_cast<size_t>(oc * pixels + q)] + add);
            }
        }
    }
    return Status();
}

}  // namespace

const ir::OpKernel kDeformConvKernel = {"DeformConv", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
