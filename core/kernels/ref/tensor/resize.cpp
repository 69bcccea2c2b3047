// Resize (opsets 10, 11, 13, 18, 19) and Upsample (7, 9). Every output coordinate of every axis maps to a
// short list of (input index, weight) taps; an output element is the weighted sum over the product of its
// axes' taps. Coordinates, rounding and filter coefficients follow the ONNX reference implementation, which
// generated the conformance data.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/kernels/ref/tensor/common.h"
#include "core/kernels/ref/tensor/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace tensor_ops;

enum class Mode { kNearest, kLinear, kCubic };
enum class Coord {
    kHalfPixel,
    kHalfPixelSymmetric,
    kPytorchHalfPixel,
    kAlignCorners,
    kAsymmetric,
    kTfHalfPixelForNn,
    kTfCropAndResize
};
// kLegacy is Upsample's and Resize-10's rule: floor when upsampling, ceil when downsampling.
enum class Nearest { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kLegacy };

struct ResizePlan {
    Mode mode = Mode::kNearest;
    Coord coord = Coord::kHalfPixel;
    Nearest nearest = Nearest::kRoundPreferFloor;
    double cubic_a = -0.75;
    bool exclude_outside = false;
    bool antialias = false;
    double extrapolation = 0.0;
    std::vector<double> scales;  // per dim
    std::vector<double> roi_start;
    std::vector<double> roi_end;
    ir::Shape out;
};

struct ResizeArgs {
    const ir::Tensor* roi;
    const ir::Tensor* scales;
    const ir::Tensor* sizes;
    bool shape_only = false;  // infer: the output size does not depend on roi
};

Status parse_attributes(const ir::Node& node, int64_t opset, bool legacy, ResizePlan& p) {
    const std::string mode = node.attr_string("mode", "nearest");
    if (mode == "nearest") {
        p.mode = Mode::kNearest;
    } else if (mode == "linear" || (legacy && mode == "bilinear")) {
        p.mode = Mode::kLinear;
    } else if (mode == "cubic" && !legacy) {
        p.mode = Mode::kCubic;
    } else {
        return node_error(node, "mode '" + mode + "' is not supported", StatusCode::kUnsupported);
    }
    if (legacy) {
        p.coord = Coord::kAsymmetric;
        p.nearest = Nearest::kLegacy;
        return Status();
    }
    const std::string coord = node.attr_string("coordinate_transformation_mode", "half_pixel");
    if (coord == "half_pixel") {
        p.coord = Coord::kHalfPixel;
    } else if (coord == "half_pixel_symmetric" && opset >= 19) {
        p.coord = Coord::kHalfPixelSymmetric;
    } else if (coord == "pytorch_half_pixel") {
        p.coord = Coord::kPytorchHalfPixel;
    } else if (coord == "align_corners") {
        p.coord = Coord::kAlignCorners;
    } else if (coord == "asymmetric") {
        p.coord = Coord::kAsymmetric;
    } else if (coord == "tf_half_pixel_for_nn" && opset < 13) {
        p.coord = Coord::kTfHalfPixelForNn;
    } else if (coord == "tf_crop_and_resize") {
        p.coord = Coord::kTfCropAndResize;
    } else {
        return node_error(node, "coordinate_transformation_mode '" + coord + "' is not supported",
                          StatusCode::kUnsupported);
    }
    const std::string nearest = node.attr_string("nearest_mode", "round_prefer_floor");
    if (nearest == "round_prefer_floor") {
        p.nearest = Nearest::kRoundPreferFloor;
    } else if (nearest == "round_prefer_ceil") {
        p.nearest = Nearest::kRoundPreferCeil;
    } else if (nearest == "floor") {
        p.nearest = Nearest::kFloor;
    } else if (nearest == "ceil") {
        p.nearest = Nearest::kCeil;
    } else {
        return node_error(node, "nearest_mode '" + nearest + "' is not supported", StatusCode::kUnsupported);
    }
    p.cubic_a = node.attr_float("cubic_coeff_a", -0.75f);
    p.exclude_outside = node.attr_int("exclude_outside", 0) != 0;
    p.extrapolation = node.attr_float("extrapolation_value", 0.0f);
    p.antialias = opset >= 18 && node.attr_int("antialias", 0) != 0 && p.mode != Mode::kNearest;
    return Status();
}

// Scales, sizes and roi name only the axes in 'axes' (opset 18); spread them over all dims.
Expected<ResizePlan> resize_plan(const ir::Node& node, int64_t opset, const ir::Shape& in, const ResizeArgs& args) {
    ResizePlan p;
    const bool upsample = node.op_type == "Upsample";
    const bool legacy = upsample || opset < 11;
    RT_RETURN_IF_ERROR(parse_attributes(node, opset, legacy, p));
    const int rank = static_cast<int>(in.size());
    std::vector<int> axes;
    if (!legacy && opset >= 18 && node.has_attr("axes")) {
        RT_ASSIGN_OR_RETURN(axes, node_axes(node, node.attr_ints("axes"), rank));
    } else {
        for (int i = 0; i < rank; ++i) axes.push_back(i);
    }
    const size_t na = axes.size();
    p.scales.assign(in.size(), 1.0);
    p.roi_start.assign(in.size(), 0.0);
    p.roi_end.assign(in.size(), 1.0);
    p.out = in;

    std::vector<double> scales;
    std::vector<int64_t> sizes;
    if (upsample && opset < 9) {
        for (float s : node.attr_floats("scales")) scales.push_back(s);
    } else if (legacy) {
        RT_ASSIGN_OR_RETURN(scales, read_doubles(node, args.scales, "scales"));
    } else {
        if (args.sizes && args.sizes->numel() > 0) {
            RT_ASSIGN_OR_RETURN(sizes, read_ints(node, args.sizes, "sizes"));
        } else if (args.scales && args.scales->numel() > 0) {
            RT_ASSIGN_OR_RETURN(scales, read_doubles(node, args.scales, "scales"));
        } else if (args.scales || args.sizes) {
            return node_error(node, "one of 'scales' and 'sizes' must be non-empty");
        } else {
            return node_error(node, "needs input 'scales' or 'sizes'");
        }
        if (p.coord == Coord::kTfCropAndResize && !args.shape_only) {
            RT_ASSIGN_OR_RETURN(auto roi, read_doubles(node, args.roi, "roi"));
            if (roi.size() != 2 * na) return node_error(node, "roi must hold 2 values per resized axis");
            for (size_t k = 0; k < na; ++k) {
                p.roi_start[static_cast<size_t>(axes[k])] = roi[k];
                p.roi_end[static_cast<size_t>(axes[k])] = roi[k + na];
            }
        }
    }

    if (!sizes.empty()) {
        if (sizes.size() != na) return node_error(node, "sizes must hold one value per resized axis");
        for (size_t k = 0; k < na; ++k) {
            const size_t a = static_cast<size_t>(axes[k]);
            if (sizes[k] < 0) return node_error(node, "sizes " + ir::shape_str(sizes) + " has a negative value");
            p.out[a] = sizes[k];
            p.scales[a] = in[a] == 0 ? 1.0 : static_cast<double>(sizes[k]) / static_cast<double>(in[a]);
        }
        const std::string policy = opset >= 18 ? node.attr_string("keep_aspect_ratio_policy", "stretch") : "stretch";
        if (policy == "not_larger" || policy == "not_smaller") {
            double scale = p.scales[static_cast<size_t>(axes[0])];
            for (int a : axes) {
                const double s = p.scales[static_cast<size_t>(a)];
                scale = policy == "not_larger" ? std::min(scale, s) : std::max(scale, s);
            }
            for (int a : axes) {
                p.scales[static_cast<size_t>(a)] = scale;
                p.out[static_cast<size_t>(a)] =
                    static_cast<int64_t>(scale * static_cast<double>(in[static_cast<size_t>(a)]) + 0.5);
            }
        } else if (policy != "stretch") {
            return node_error(node, "keep_aspect_ratio_policy '" + policy + "' is not supported",
                              StatusCode::kUnsupported);
        }
    } else {
        if (scales.size() != na) return node_error(node, "scales must hold one value per resized axis");
        for (size_t k = 0; k < na; ++k) {
            const size_t a = static_cast<size_t>(axes[k]);
            if (!(scales[k] > 0.0)) return node_error(node, "scales must be positive");
            p.scales[a] = scales[k];
            p.out[a] = static_cast<int64_t>(scales[k] * static_cast<double>(in[a]));
        }
    }
    return p;
}

double cubic_weight(double t, double a) {
    t = std::fabs(t);
    if (t <= 1.0) return ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0;
    if (t < 2.0) return ((a * t - 5.0 * a) * t + 8.0 * a) * t - 4.0 * a;
    return 0.0;
}

// Taps of one axis: output coordinate o reads idx[begin[o] .. begin[o+1]) with weights w; outside[o] means
// the coordinate fell outside the crop box (tf_crop_and_resize) and the output is the extrapolation value.
struct AxisTaps {
    std::vector<size_t> begin;
    std::vector<int64_t> idx;
    std::vector<double> w;
    std::vector<char> outside;
};

double source_coordinate(const ResizePlan& p, size_t d, int64_t o, int64_t in_len, int64_t out_len) {
    const double x = static_cast<double>(o);
    const double scale = p.scales[d];
    const double in_f = static_cast<double>(in_len);
    // The reference uses scale * input length (not the rounded output length) for these modes.
    const double out_f = scale * in_f;
    switch (p.coord) {
        case Coord::kHalfPixel: return (x + 0.5) / scale - 0.5;
        case Coord::kHalfPixelSymmetric: {
            const double adjustment = static_cast<double>(out_len) / out_f;
            const double offset = in_f / 2.0 * (1.0 - adjustment);
            return offset + (x + 0.5) / scale - 0.5;
        }
        case Coord::kPytorchHalfPixel: return out_len > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
        case Coord::kAlignCorners: return out_f == 1.0 ? 0.0 : x * (in_f - 1.0) / (out_f - 1.0);
        case Coord::kAsymmetric: return x / scale;
        case Coord::kTfHalfPixelForNn: return (x + 0.5) / scale;
        case Coord::kTfCropAndResize: {
            const double s = p.roi_start[d];
            const double e = p.roi_end[d];
            const double base = s * (in_f - 1.0);
            if (out_f == 1.0) return (e - s) * (in_f - 1.0) / 2.0 + base;
            return x * (e - s) * (in_f - 1.0) / (out_f - 1.0) + base;
        }
    }
    return x;
}

// Coefficients for the neighbours left + i (i = 0 .. n-1) of a point at ratio (0, 1] past `left`.
int filter(const ResizePlan& p, double scale, double ratio, std::vector<double>& c) {
    c.clear();
    if (p.mode == Mode::kNearest) {
        bool right = true;
        if (ratio != 1.0) {
            switch (p.nearest) {
                case Nearest::kRoundPreferFloor: right = ratio > 0.5; break;
                case Nearest::kRoundPreferCeil: right = ratio >= 0.5; break;
                case Nearest::kFloor: right = false; break;
                case Nearest::kCeil: right = true; break;
                case Nearest::kLegacy: right = scale < 1.0; break;
            }
        }
        c = {right ? 0.0 : 1.0, right ? 1.0 : 0.0};
        return 0;
    }
    if (!p.antialias) {
        if (p.mode == Mode::kLinear) {
            c = {1.0 - ratio, ratio};
            return 0;
        }
        c = {cubic_weight(ratio + 1.0, p.cubic_a), cubic_weight(ratio, p.cubic_a), cubic_weight(1.0 - ratio, p.cubic_a),
             cubic_weight(2.0 - ratio, p.cubic_a)};
        return -1;
    }
    // Antialiasing stretches the filter by 1/scale when downsampling.
    const double s = std::min(scale, 1.0);
    const int reach = p.mode == Mode::kLinear ? 1 : 2;
    const int start = static_cast<int>(std::floor(-reach / s)) + 1;
    const int end = 2 - start;
    double sum = 0.0;
    for (int i = start; i < end; ++i) {
        const double t = s * (i - ratio);
        const double v =
            p.mode == Mode::kLinear ? std::clamp(1.0 - std::fabs(t), 0.0, 1.0) : cubic_weight(t, p.cubic_a);
        c.push_back(v);
        sum += v;
    }
    for (double& v : c) v /= sum;
    return start;
}

AxisTaps axis_taps(const ResizePlan& p, size_t d, int64_t in_len, int64_t out_len) {
    AxisTaps t;
    t.begin.push_back(0);
    std::vector<double> c;
    for (int64_t o = 0; o < out_len; ++o) {
        const double x = source_coordinate(p, d, o, in_len, out_len);
        const bool outside = p.coord == Coord::kTfCropAndResize && (x < 0.0 || x > static_cast<double>(in_len - 1));
        t.outside.push_back(outside ? 1 : 0);
        if (!outside) {
            // The left neighbour is strictly below x, so ratio is in (0, 1] as in the reference.
            const double left = std::ceil(x) - 1.0;
            const double ratio = x - left;
            const int first = filter(p, p.scales[d], ratio, c);
            if (p.exclude_outside && p.mode != Mode::kNearest) {
                double sum = 0.0;
                for (size_t i = 0; i < c.size(); ++i) {
                    const double idx = left + first + static_cast<double>(i);
                    if (idx < 0 || idx >= static_cast<double>(in_len)) c[i] = 0.0;
                    sum += c[i];
                }
                if (sum != 0.0) {
                    for (double& v : c) v /= sum;
                }
            }
            for (size_t i = 0; i < c.size(); ++i) {
                if (c[i] == 0.0) continue;
                const int64_t idx = static_cast<int64_t>(left) + first + static_cast<int64_t>(i);
                t.idx.push_back(std::clamp<int64_t>(idx, 0, in_len - 1));
                t.w.push_back(c[i]);
            }
        }
        t.begin.push_back(t.idx.size());
    }
    return t;
}

// True when an axis keeps its size and every output reads exactly its own input position.
bool is_identity(const AxisTaps& t, int64_t in_len, int64_t out_len) {
    if (in_len != out_len) return false;
    for (size_t o = 0; o < static_cast<size_t>(out_len); ++o) {
        if (t.outside[o] || t.begin[o + 1] != t.begin[o] + 1) return false;
        if (t.idx[t.begin[o]] != static_cast<int64_t>(o) || t.w[t.begin[o]] != 1.0) return false;
    }
    return true;
}

// One 1-D filter pass along axis d of a dense [outer, len, inner] buffer.
void resize_axis(const AxisTaps& t, const ir::Shape& shape, size_t d, int64_t out_len, const std::vector<double>& in,
                 std::vector<double>& out) {
    int64_t outer = 1;
    int64_t inner = 1;
    for (size_t i = 0; i < d; ++i) outer *= shape[i];
    for (size_t i = d + 1; i < shape.size(); ++i) inner *= shape[i];
    const int64_t in_len = shape[d];
    out.assign(static_cast<size_t>(outer * out_len * inner), 0.0);
    for (int64_t b = 0; b < outer; ++b) {
        const double* src = in.data() + b * in_len * inner;
        for (int64_t o = 0; o < out_len; ++o) {
            double* dst = out.data() + (b * out_len + o) * inner;
            for (size_t k = t.begin[static_cast<size_t>(o)]; k < t.begin[static_cast<size_t>(o) + 1]; ++k) {
                const double w = t.w[k];
                const double* row = src + t.idx[k] * inner;
                for (int64_t j = 0; j < inner; ++j) dst[j] += w * row[j];
            }
        }
    }
}

Status infer(ir::InferContext& ctx) {
    const bool legacy = ctx.node().op_type == "Upsample" || ctx.opset() < 11;
    if (value_pending(ctx, legacy ? std::initializer_list<size_t>{1} : std::initializer_list<size_t>{2, 3})) {
        ctx.set_output_unknown(0, ctx.input_dtype(0), ctx.input_rank(0));
        return Status();
    }
    ResizeArgs args = legacy ? ResizeArgs{nullptr, infer_value(ctx, 1), nullptr}
                             : ResizeArgs{infer_value(ctx, 1), infer_value(ctx, 2), infer_value(ctx, 3)};
    args.shape_only = true;
    RT_ASSIGN_OR_RETURN(auto p, resize_plan(ctx.node(), ctx.opset(), ctx.input_shape(0), args));
    ctx.set_output(0, ctx.input_dtype(0), p.out);
    return Status();
}

// Integer outputs round to nearest and saturate, so uint8 images keep their range.
void store_result(ir::DType t, void* data, int64_t i, double v) {
    switch (t) {
        case ir::DType::kUInt8: v = std::clamp(std::nearbyint(v), 0.0, 255.0); break;
        case ir::DType::kInt8: v = std::clamp(std::nearbyint(v), -128.0, 127.0); break;
        case ir::DType::kInt32:
        case ir::DType::kInt64: v = std::nearbyint(v); break;
        default: break;
    }
    store_from_double(t, data, i, v);
}

template <size_t ES>
void gather_row(const char* in_row, const std::vector<int64_t>& src, char* out_row) {
    for (size_t o = 0; o < src.size(); ++o) std::memcpy(out_row + o * ES, in_row + src[o], ES);
}

// Nearest without a crop box moves one input element per output element: copy by element size.
void nearest_copy(const std::vector<AxisTaps>& taps, const ir::Tensor& x, ir::Tensor& y) {
    const size_t rank = x.shape().size();
    const size_t es = data_type_size(x.dtype());
    const auto strides = ir::shape_strides(x.shape());
    const int64_t inner = y.shape()[rank - 1];
    const AxisTaps& last = taps[rank - 1];
    std::vector<int64_t> last_src(static_cast<size_t>(inner));
    for (size_t o = 0; o < last_src.size(); ++o) last_src[o] = last.idx[last.begin[o]] * static_cast<int64_t>(es);
    const char* src = static_cast<const char*>(x.raw());
    char* dst = static_cast<char*>(y.raw());
    std::vector<int64_t> idx(rank - 1, 0);
    const int64_t num_rows = y.numel() / inner;
    for (int64_t r = 0; r < num_rows; ++r) {
        int64_t row = 0;
        for (size_t d = 0; d + 1 < rank; ++d)
            row += taps[d].idx[taps[d].begin[static_cast<size_t>(idx[d])]] * strides[d];
        const char* in_row = src + row * static_cast<int64_t>(es);
        char* out_row = dst + r * inner * static_cast<int64_t>(es);
        switch (es) {
            case 1: gather_row<1>(in_row, last_src, out_row); break;
            case 2: gather_row<2>(in_row, last_src, out_row); break;
            case 4: gather_row<4>(in_row, last_src, out_row); break;
            default: gather_row<8>(in_row, last_src, out_row); break;
        }
        for (size_t d = rank - 1; d-- > 0;) {
            if (++idx[d] < y.shape()[d]) break;
            idx[d] = 0;
        }
    }
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    ir::Tensor& y = ctx.output(0);
    const bool legacy = ctx.node().op_type == "Upsample" || ctx.opset() < 11;
    const ResizeArgs args = legacy ? ResizeArgs{nullptr, compute_value(ctx, 1), nullptr}
                                   : ResizeArgs{compute_value(ctx, 1), compute_value(ctx, 2), compute_value(ctx, 3)};
    RT_ASSIGN_OR_RETURN(auto p, resize_plan(ctx.node(), ctx.opset(), x.shape(), args));
    if (y.numel() == 0) return Status();
    if (x.numel() == 0) return ctx.error("cannot resize an empty input to a non-empty output");
    const size_t rank = x.shape().size();
    if (rank == 0) {
        copy_bytes(x, y);
        return Status();
    }
    std::vector<AxisTaps> taps(rank);
    for (size_t d = 0; d < rank; ++d) taps[d] = axis_taps(p, d, x.shape()[d], y.shape()[d]);
    if (p.mode == Mode::kNearest && p.coord != Coord::kTfCropAndResize) {
        nearest_copy(taps, x, y);
        return Status();
    }
    // The filters are separable: one 1-D pass per axis that changes, downsampling axes first so later
    // passes see less data. Points outside a crop box are overwritten at the end.
    std::vector<double> data = ir::to_doubles(x);
    ir::Shape shape = x.shape();
    std::vector<size_t> order;
    for (size_t d = 0; d < rank; ++d) {
        if (!is_identity(taps[d], shape[d], y.shape()[d])) order.push_back(d);
    }
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return y.shape()[a] * x.shape()[b] < y.shape()[b] * x.shape()[a];
    });
    std::vector<double> next;
    for (size_t d : order) {
        resize_axis(taps[d], shape, d, y.shape()[d], data, next);
        data.swap(next);
        shape[d] = y.shape()[d];
    }
    const int64_t n = y.numel();
    if (y.dtype() == ir::DType::kFloat32) {
        float* out = y.data<float>();
        for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(data[static_cast<size_t>(i)]);
    } else {
        for (int64_t i = 0; i < n; ++i) store_result(y.dtype(), y.raw(), i, data[static_cast<size_t>(i)]);
    }
    if (p.coord == Coord::kTfCropAndResize) {
        std::vector<int64_t> idx(rank, 0);
        for (int64_t i = 0; i < n; ++i) {
            bool outside = false;
            for (size_t d = 0; d < rank; ++d) outside = outside || taps[d].outside[static_cast<size_t>(idx[d])];
            if (outside) store_result(y.dtype(), y.raw(), i, p.extrapolation);
            for (size_t d = rank; d-- > 0;) {
                if (++idx[d] < y.shape()[d]) break;
                idx[d] = 0;
            }
        }
    }
    return Status();
}

}  // namespace

// Native half: nearest copies bytes, the filters read and write float16 through double.
const ir::OpKernel kResizeKernel = {"Resize", "", infer, compute, ir::kOpNativeHalf};
const ir::OpKernel kUpsampleKernel = {"Upsample", "", infer, compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
