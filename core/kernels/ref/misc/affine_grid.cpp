// AffineGrid (opset 20): the sampling grid of 2-D ([N, 2, 3] theta, size [N, C, H, W]) or 3-D
// ([N, 3, 4] theta, size [N, C, D, H, W]) affine transforms, in the normalized coordinates GridSample reads.
#include <vector>

#include "core/kernels/ref/misc/kernels.h"
#include "core/kernels/ref/misc/misc_util.h"

namespace rtinfer::ref {
namespace {

Status infer(ir::InferContext& ctx) {
    if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.error("needs theta and size");
    if (!misc::is_float_type(ctx.input_dtype(0))) return ctx.unsupported("theta must be floating point");
    const ir::Tensor* size_t_ = ctx.input_value(1);
    if (!size_t_) return ctx.error("size must be a constant or computable at build time");
    const std::vector<int64_t> size = ir::to_int64s(*size_t_);
    const ir::Shape& theta = ctx.input_shape(0);
    if (size.size() != 4 && size.size() != 5) return ctx.error("size must have 4 or 5 values");
    const int64_t s = static_cast<int64_t>(size.size()) - 2;
    if (theta.size() != 3 || theta[0] != size[0] || theta[1] != s || theta[2] != s + 1) {
        return ctx.error("theta " + ir::shape_str(theta) + " does not match size (" + std::to_string(s) +
                         " spatial dims)");
    }
    ir::Shape out = {size[0]};
    out.insert(out.end(), size.begin() + 2, size.end());
    out.push_back(s);
    ctx.set_output(0, ctx.input_dtype(0), out);
    return Status();
}

// The normalized coordinate of index i of a dim of length len.
double base(int64_t i, int64_t len, bool align_corners) {
    const double l = static_cast<double>(len), v = static_cast<double>(i);
    if (align_corners) return len <= 1 ? -1.0 : -1.0 + 2.0 * v / (l - 1.0);
    return (2.0 * v + 1.0) / l - 1.0;
}

Status compute(ir::ComputeContext& ctx) {
    const std::vector<double> theta = ir::to_doubles(ctx.input(0));
    const std::vector<int64_t> size = ir::to_int64s(ctx.input(1));
    const bool align = ctx.node().attr_int("align_corners", 0) != 0;
    const size_t s = size.size() - 2;
    const int64_t depth = s == 3 ? size[2] : 1, height = size[s == 3 ? 3 : 2], width = size.back();
    ir::Tensor& y = ctx.output(0);
    int64_t at = 0;
    for (int64_t n = 0; n < size[0]; ++n) {
        const double* t = &theta[static_cast<size_t>(n) * s * (s + 1)];
        for (int64_t dz = 0; dz < depth; ++dz) {
            for (int64_t h = 0; h < height; ++h) {
                for (int64_t w = 0; w < width; ++w) {
                    // (x, y[, z], 1): x runs along the innermost dim
                    const double p[4] = {base(w, width, align), base(h, height, align),
                                         s == 3 ? base(dz, depth, align) : 1.0, 1.0};
                    for (size_t r = 0; r < s; ++r) {
                        double v = 0.0;
                        for (size_t k = 0; k < s; ++k) v += t[r * (s + 1) + k] * p[k];
                        v += t[r * (s + 1) + s];
                        misc::store_value(y, at++, v);
                    }
                }
            }
        }
    }
    return Status();
}

}  // namespace

const ir::OpKernel kAffineGridKernel = {"AffineGrid", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
