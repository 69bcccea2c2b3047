// MaxRoiPool (opset 1): Fast R-CNN RoI max pooling. RoI corners are rounded to whole pixels after
// spatial_scale, each bin covers [floor(i * bin), ceil((i + 1) * bin)) of the RoI, and empty bins give 0.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/kernels/ref/misc/kernels.h"
#include "core/kernels/ref/misc/misc_util.h"

namespace rtinfer::ref {
namespace {

template <class Ctx>
Status pooled_shape(const Ctx& ctx, int64_t& ph, int64_t& pw) {
    const std::vector<int64_t> s = ctx.node().attr_ints("pooled_shape");
    if (s.size() != 2 || s[0] <= 0 || s[1] <= 0) return ctx.error("pooled_shape must be two positive ints");
    ph = s[0];
    pw = s[1];
    return Status();
}

Status infer(ir::InferContext& ctx) {
    if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.error("needs X and rois");
    if (!misc::is_float_type(ctx.input_dtype(0))) return ctx.unsupported("X must be floating point");
    int64_t ph = 1, pw = 1;
    RT_RETURN_IF_ERROR(pooled_shape(ctx, ph, pw));
    const ir::Shape& x = ctx.input_shape(0);
    const ir::Shape& rois = ctx.input_shape(1);
    if (x.size() != 4) return ctx.error("X must be 4-D [N, C, H, W], got " + ir::shape_str(x));
    if (rois.size() != 2 || rois[1] != 5) return ctx.error("rois must be [num_rois, 5], got " + ir::shape_str(rois));
    ctx.set_output(0, ctx.input_dtype(0), {rois[0], x[1], ph, pw});
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& xt = ctx.input(0);
    int64_t ph = 1, pw = 1;
    RT_RETURN_IF_ERROR(pooled_shape(ctx, ph, pw));
    const double scale = ctx.node().attr_float("spatial_scale", 1.0f);
    const std::vector<double> x = ir::to_doubles(xt);
    const std::vector<double> rois = ir::to_doubles(ctx.input(1));
    const int64_t n = xt.dim(0), channels = xt.dim(1), height = xt.dim(2), width = xt.dim(3);
    ir::Tensor& y = ctx.output(0);
    const int64_t num_rois = static_cast<int64_t>(rois.size() / 5);
    for (int64_t r = 0; r < num_rois; ++r) {
        const double* roi = &rois[static_cast<size_t>(r * 5)];
        const int64_t b = static_cast<int64_t>(roi[0]);
        if (b < 0 || b >= n) return ctx.error("roi batch index " + std::to_string(b) + " is out of range");
        const int64_t x1 = static_cast<int64_t>(std::round(roi[1] * scale));
        const int64_t y1 = static_cast<int64_t>(std::round(roi[2] * scale));
        const int64_t x2 = static_cast<int64_t>(std::round(roi[3] * scale));
        const int64_t y2 = static_cast<int64_t>(std::round(roi[4] * scale));
        const double bin_h = static_cast<double>(std::max<int64_t>(y2 - y1 + 1, 1)) / static_cast<double>(ph);
        const double bin_w = static_cast<double>(std::max<int64_t>(x2 - x1 + 1, 1)) / static_cast<double>(pw);
        for (int64_t c = 0; c < channels; ++c) {
            const double* plane = &x[static_cast<size_t>((b * channels + c) * height * width)];
            for (int64_t i = 0; i < ph; ++i) {
                const int64_t hs = std::clamp<int64_t>(
                    static_cast<int64_t>(std::floor(static_cast<double>(i) * bin_h)) + y1, 0, height);
                const int64_t he = std::clamp<int64_t>(
                    static_cast<int64_t>(std::ceil(static_cast<double>(i + 1) * bin_h)) + y1, 0, height);
                for (int64_t j = 0; j < pw; ++j) {
                    const int64_t ws = std::clamp<int64_t>(
                        static_cast<int64_t>(std::floor(static_cast<double>(j) * bin_w)) + x1, 0, width);
                    const int64_t we = std::clamp<int64_t>(
                        static_cast<int64_t>(std::ceil(static_cast<double>(j + 1) * bin_w)) + x1, 0, width);
                    double m = -std::numeric_limits<double>::infinity();
                    for (int64_t yy = hs; yy < he; ++yy) {
                        for (int64_t xx = ws; xx < we; ++xx) m = std::max(m, plane[yy * width + xx]);
                    }
                    const bool empty = he <= hs || we <= ws;
                    misc::store_value(y, ((r * channels + c) * ph + i) * pw + j, empty ? 0.0 : m);
                }
            }
        }
    }
    return Status();
}

}  // namespace

const ir::OpKernel kMaxRoiPoolKernel = {"MaxRoiPool", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
