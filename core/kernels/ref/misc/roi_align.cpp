// RoiAlign (opset 10, 16): bilinear samples averaged (or max-pooled) over each output bin, following
// ONNX Runtime, including its max mode (the max of the weighted corner values of each sample).
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/kernels/ref/misc/kernels.h"
#include "core/kernels/ref/misc/misc_util.h"

namespace rtinfer::ref {
namespace {

struct RoiAlignParams {
    bool max_mode = false;
    bool half_pixel = false;
    int64_t out_h = 1, out_w = 1, sampling_ratio = 0;
    float spatial_scale = 1.0f;
};

template <class Ctx>
Status read_params(const Ctx& ctx, RoiAlignParams& p) {
    const ir::Node& node = ctx.node();
    const std::string mode = node.attr_string("mode", "avg");
    if (mode != "avg" && mode != "max") return ctx.error("mode must be avg or max, got '" + mode + "'");
    p.max_mode = mode == "max";
    // Before opset 16 the only behaviour was what opset 16 calls output_half_pixel.
    const std::string ctm = ctx.opset() >= 16 ? node.attr_string("coordinate_transformation_mode", "half_pixel")
                                              : std::string("output_half_pixel");
    if (ctm != "half_pixel" && ctm != "output_half_pixel") {
        return ctx.error("coordinate_transformation_mode must be half_pixel or output_half_pixel, got '" + ctm + "'");
    }
    p.half_pixel = ctm == "half_pixel";
    p.out_h = node.attr_int("output_height", 1);
    p.out_w = node.attr_int("output_width", 1);
    p.sampling_ratio = node.attr_int("sampling_ratio", 0);
    p.spatial_scale = node.attr_float("spatial_scale", 1.0f);
    if (p.out_h <= 0 || p.out_w <= 0) return ctx.error("output_height and output_width must be positive");
    if (p.sampling_ratio < 0) return ctx.error("sampling_ratio must not be negative");
    return Status();
}

Status infer(ir::InferContext& ctx) {
    if (ctx.num_inputs() < 3 || !ctx.has_input(0) || !ctx.has_input(1) || !ctx.has_input(2)) {
        return ctx.error("needs X, rois and batch_indices");
    }
    RoiAlignParams p;
    RT_RETURN_IF_ERROR(read_params(ctx, p));
    if (!misc::is_float_type(ctx.input_dtype(0))) return ctx.unsupported("X must be floating point");
    const ir::Shape& x = ctx.input_shape(0);
    const ir::Shape& rois = ctx.input_shape(1);
    const ir::Shape& idx = ctx.input_shape(2);
    if (x.size() != 4) return ctx.error("X must be 4-D [N, C, H, W], got " + ir::shape_str(x));
    if (rois.size() != 2 || rois[1] != 4) return ctx.error("rois must be [num_rois, 4], got " + ir::shape_str(rois));
    if (idx.size() != 1 || idx[0] != rois[0]) {
        return ctx.error("batch_indices must be [num_rois], got " + ir::shape_str(idx));
    }
    ctx.set_output(0, ctx.input_dtype(0), {rois[0], x[1], p.out_h, p.out_w});
    return Status();
}

// One bilinear sample: four pixel offsets and their weights (all zero when the point is outside).
struct Sample {
    int64_t pos[4] = {0, 0, 0, 0};
    double w[4] = {0, 0, 0, 0};
};

Sample make_sample(double y, double x, int64_t height, int64_t width) {
    Sample s;
    if (y < -1.0 || y > static_cast<double>(height) || x < -1.0 || x > static_cast<double>(width)) return s;
    y = std::max(y, 0.0);
    x = std::max(x, 0.0);
    int64_t y_low = static_cast<int64_t>(y), x_low = static_cast<int64_t>(x), y_high, x_high;
    if (y_low >= height - 1) {
        y_high = y_low = height - 1;
        y = static_cast<double>(y_low);
    } else {
        y_high = y_low + 1;
    }
    if (x_low >= width - 1) {
        x_high = x_low = width - 1;
        x = static_cast<double>(x_low);
    } else {
        x_high = x_low + 1;
    }
    const double ly = y - static_cast<double>(y_low), lx = x - static_cast<double>(x_low);
    const double hy = 1.0 - ly, hx = 1.0 - lx;
    s.pos[0] = y_low * width + x_low;
    s.pos[1] = y_low * width + x_high;
    s.pos[2] = y_high * width + x_low;
    s.pos[3] = y_high * width + x_high;
    s.w[0] = hy * hx;
    s.w[1] = hy * lx;
    s.w[2] = ly * hx;
    s.w[3] = ly * lx;
    return s;
}

template <class T>
Status run(ir::ComputeContext& ctx, const RoiAlignParams& p) {
    const ir::Tensor& xt = ctx.input(0);
    const T* x = xt.data<T>();
    const std::vector<double> rois = ir::to_doubles(ctx.input(1));
    const std::vector<int64_t> batch_idx = ir::to_int64s(ctx.input(2));
    const int64_t n = xt.dim(0), channels = xt.dim(1), height = xt.dim(2), width = xt.dim(3);
    T* y = ctx.output(0).data<T>();
    const double offset = p.half_pixel ? 0.5 : 0.0;
    std::vector<Sample> samples;
    for (size_t r = 0; r < batch_idx.size(); ++r) {
        const int64_t b = batch_idx[r];
        if (b < 0 || b >= n) return ctx.error("batch index " + std::to_string(b) + " is out of range");
        const double start_w = rois[r * 4 + 0] * p.spatial_scale - offset;
        const double start_h = rois[r * 4 + 1] * p.spatial_scale - offset;
        double roi_w = rois[r * 4 + 2] * p.spatial_scale - offset - start_w;
        double roi_h = rois[r * 4 + 3] * p.spatial_scale - offset - start_h;
        if (!p.half_pixel) {  // the legacy mode forces rois to be at least one pixel
            roi_w = std::max(roi_w, 1.0);
            roi_h = std::max(roi_h, 1.0);
        }
        const double bin_h = roi_h / static_cast<double>(p.out_h), bin_w = roi_w / static_cast<double>(p.out_w);
        const int64_t grid_h = p.sampling_ratio > 0 ? p.sampling_ratio : static_cast<int64_t>(std::ceil(bin_h));
        const int64_t grid_w = p.sampling_ratio > 0 ? p.sampling_ratio : static_cast<int64_t>(std::ceil(bin_w));
        const double count = static_cast<double>(std::max<int64_t>(grid_h * grid_w, 1));
        samples.clear();
        for (int64_t ph = 0; ph < p.out_h; ++ph) {
            for (int64_t pw = 0; pw < p.out_w; ++pw) {
                for (int64_t iy = 0; iy < grid_h; ++iy) {
                    const double yy = start_h + static_cast<double>(ph) * bin_h +
                                      (static_cast<double>(iy) + 0.5) * bin_h / static_cast<double>(grid_h);
                    for (int64_t ix = 0; ix < grid_w; ++ix) {
                        const double xx = start_w + static_cast<double>(pw) * bin_w +
                                          (static_cast<double>(ix) + 0.5) * bin_w / static_cast<double>(grid_w);
                        samples.push_back(make_sample(yy, xx, height, width));
                    }
                }
            }
        }
        const size_t per_bin = static_cast<size_t>(grid_h * grid_w);
        for (int64_t c = 0; c < channels; ++c) {
            const T* plane = x + (b * channels + c) * height * width;
            T* out = y + ((static_cast<int64_t>(r) * channels + c) * p.out_h) * p.out_w;
            for (int64_t bin = 0; bin < p.out_h * p.out_w; ++bin) {
                double acc = 0.0;
                bool first = true;
                for (size_t k = 0; k < per_bin; ++k) {
                    const Sample& s = samples[static_cast<size_t>(bin) * per_bin + k];
                    if (p.max_mode) {
                        double v = s.w[0] * static_cast<double>(plane[s.pos[0]]);
                        for (int j = 1; j < 4; ++j) v = std::max(v, s.w[j] * static_cast<double>(plane[s.pos[j]]));
                        acc = first ? v : std::max(acc, v);
                        first = false;
                    } else {
                        for (int j = 0; j < 4; ++j) acc += s.w[j] * static_cast<double>(plane[s.pos[j]]);
                    }
                }
                out[bin] = static_cast<T>(p.max_mode ? acc : acc / count);
            }
        }
    }
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    RoiAlignParams p;
    RT_RETURN_IF_ERROR(read_params(ctx, p));
    if (ctx.input(0).dtype() == ir::DType::kFloat64) return run<double>(ctx, p);
    return run<float>(ctx, p);
}

}  // namespace

const ir::OpKernel kRoiAlignKernel = {"RoiAlign", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
