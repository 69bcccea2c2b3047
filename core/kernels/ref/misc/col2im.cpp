// Col2Im (opset 18): the inverse of im2col for N spatial dims. Each column of a [N, C * prod(block), L]
// input is a block placed at its sliding position; overlapping contributions are summed.
#include <vector>

#include "core/kernels/ref/misc/kernels.h"
#include "core/kernels/ref/misc/misc_util.h"

namespace rtinfer::ref {
namespace {

struct Col2ImGeometry {
    std::vector<int64_t> image, block, dilations, pads, strides, blocks;  // blocks: sliding positions per dim
    int64_t block_size = 1, positions = 1;
};

template <class Ctx>
Status geometry(const Ctx& ctx, const ir::Tensor& image_t, const ir::Tensor& block_t, Col2ImGeometry& g) {
    g.image = ir::to_int64s(image_t);
    g.block = ir::to_int64s(block_t);
    const size_t s = g.image.size();
    if (s == 0 || g.block.size() != s) return ctx.error("image_shape and block_shape must have the same length");
    g.dilations = ctx.node().attr_ints("dilations", std::vector<int64_t>(s, 1));
    g.pads = ctx.node().attr_ints("pads", std::vector<int64_t>(2 * s, 0));
    g.strides = ctx.node().attr_ints("strides", std::vector<int64_t>(s, 1));
    if (g.dilations.size() != s || g.pads.size() != 2 * s || g.strides.size() != s) {
        return ctx.error("dilations, pads and strides do not match the number of spatial dims");
    }
    g.blocks.assign(s, 0);
    for (size_t d = 0; d < s; ++d) {
        if (g.block[d] <= 0 || g.dilations[d] <= 0 || g.strides[d] <= 0 || g.image[d] <= 0) {
            return ctx.error("image, block, dilations and strides must be positive");
        }
        const int64_t span = g.dilations[d] * (g.block[d] - 1) + 1;
        const int64_t padded = g.image[d] + g.pads[d] + g.pads[d + s];
        if (padded < span) return ctx.error("the block does not fit the padded image");
        g.blocks[d] = (padded - span) / g.strides[d] + 1;
        g.block_size *= g.block[d];
        g.positions *= g.blocks[d];
    }
    return Status();
}

Status infer(ir::InferContext& ctx) {
    if (!ctx.has_input(0) || !ctx.has_input(1) || !ctx.has_input(2)) {
        return ctx.error("needs input, image_shape and block_shape");
    }
    if (!misc::is_float_type(ctx.input_dtype(0))) return ctx.unsupported("input must be floating point");
    const ir::Tensor* image_t = ctx.input_value(1);
    const ir::Tensor* block_t = ctx.input_value(2);
    if (!image_t || !block_t) {
        return ctx.error("image_shape and block_shape must be constants or computable at build time");
    }
    Col2ImGeometry g;
    RT_RETURN_IF_ERROR(geometry(ctx, *image_t, *block_t, g));
    const ir::Shape& in = ctx.input_shape(0);
    if (in.size() != 3 || in[1] % g.block_size != 0 || in[2] != g.positions) {
        return ctx.error("input " + ir::shape_str(in) + " must be [N, C * " + std::to_string(g.block_size) + ", " +
                         std::to_string(g.positions) + "]");
    }
    ir::Shape out = {in[0], in[1] / g.block_size};
    out.insert(out.end(), g.image.begin(), g.image.end());
    ctx.set_output(0, ctx.input_dtype(0), out);
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& xt = ctx.input(0);
    Col2ImGeometry g;
    RT_RETURN_IF_ERROR(geometry(ctx, ctx.input(1), ctx.input(2), g));
    const std::vector<double> x = ir::to_doubles(xt);
    const int64_t n = xt.dim(0), channels = xt.dim(1) / g.block_size;
    const size_t s = g.image.size();
    int64_t image_size = 1;
    for (int64_t v : g.image) image_size *= v;
    std::vector<double> y(static_cast<size_t>(n * channels * image_size), 0.0);
    std::vector<int64_t> kidx(s), pidx(s);
    for (int64_t b = 0; b < n; ++b) {
        for (int64_t c = 0; c < channels; ++c) {
            double* plane = &y[static_cast<size_t>((b * channels + c) * image_size)];
            for (int64_t k = 0; k < g.block_size; ++k) {
                for (int64_t rem = k, d = static_cast<int64_t>(s) - 1; d >= 0; --d) {
                    kidx[static_cast<size_t>(d)] = rem % g.block[static_cast<size_t>(d)];
                    rem /= g.block[static_cast<size_t>(d)];
                }
                const double* col = &x[static_cast<size_t>(((b * channels + c) * g.block_size + k) * g.positions)];
                for (int64_t l = 0; l < g.positions; ++l) {
                    int64_t rem = l, off = 0;
                    bool inside = true;
                    for (int64_t d = static_cast<int64_t>(s) - 1; d >= 0; --d) {
                        const size_t u = static_cast<size_t>(d);
                        pidx[u] = rem % g.blocks[u];
                        rem /= g.blocks[u];
                    }
                    for (size_t d = 0; d < s && inside; ++d) {
                        const int64_t pos = pidx[d] * g.strides[d] - g.pads[d] + kidx[d] * g.dilations[d];
                        inside = pos >= 0 && pos < g.image[d];
                        off = off * g.image[d] + pos;
                    }
                    if (inside) plane[off] += col[l];
                }
            }
        }
    }
    ir::Tensor& out = ctx.output(0);
    for (size_t i = 0; i < y.size(); ++i) misc::store_value(out, static_cast<int64_t>(i), y[i]);
    return Status();
}

}  // namespace

const ir::OpKernel kCol2ImKernel = {"Col2Im", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
