// GridSample (opset 16 4-D; opset 20 N-D with the mode names linear/cubic): samples X at the normalized
// grid coordinates, following ONNX Runtime's handling of padding (out-of-range points are clamped or
// reflected first, then each tap is padded again) and its cubic coefficients (A = -0.75).
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/kernels/ref/misc/kernels.h"
#include "core/kernels/ref/misc/misc_util.h"

namespace rtinfer::ref {
namespace {

enum class Mode { kNearest, kLinear, kCubic };
enum class Padding { kZeros, kBorder, kReflection };

struct GridParams {
    Mode mode = Mode::kLinear;
    Padding padding = Padding::kZeros;
    bool align_corners = false;
};

template <class Ctx>
Status read_params(const Ctx& ctx, GridParams& p) {
    const std::string mode = ctx.node().attr_string("mode", ctx.opset() >= 20 ? "linear" : "bilinear");
    if (mode == "bilinear" || mode == "linear") {
        p.mode = Mode::kLinear;
    } else if (mode == "nearest") {
        p.mode = Mode::kNearest;
    } else if (mode == "bicubic" || mode == "cubic") {
        p.mode = Mode::kCubic;
    } else {
        return ctx.error("unknown mode '" + mode + "'");
    }
    const std::string pad = ctx.node().attr_string("padding_mode", "zeros");
    if (pad == "zeros") {
        p.padding = Padding::kZeros;
    } else if (pad == "border") {
        p.padding = Padding::kBorder;
    } else if (pad == "reflection") {
        p.padding = Padding::kReflection;
    } else {
        return ctx.error("unknown padding_mode '" + pad + "'");
    }
    p.align_corners = ctx.node().attr_int("align_corners", 0) != 0;
    return Status();
}

Status infer(ir::InferContext& ctx) {
    if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.error("needs X and grid");
    GridParams p;
    RT_RETURN_IF_ERROR(read_params(ctx, p));
    if (!misc::is_float_type(ctx.input_dtype(0)) || !misc::is_float_type(ctx.input_dtype(1))) {
        return ctx.unsupported("X and grid must be floating point");
    }
    const ir::Shape& x = ctx.input_shape(0);
    const ir::Shape& grid = ctx.input_shape(1);
    const size_t spatial = x.size() < 2 ? 0 : x.size() - 2;
    if (spatial < 1 || (ctx.opset() < 20 && spatial != 2)) {
        return ctx.error("X must be 4-D [N, C, H, W]" + std::string(ctx.opset() >= 20 ? " or higher" : "") + ", got " +
                         ir::shape_str(x));
    }
    if (grid.size() != x.size() || grid[0] != x[0] || grid.back() != static_cast<int64_t>(spatial)) {
        return ctx.error("grid " + ir::shape_str(grid) + " does not fit X " + ir::shape_str(x));
    }
    if (p.mode == Mode::kCubic && spatial != 2) return ctx.unsupported("cubic mode needs 2 spatial dims");
    ir::Shape out = {x[0], x[1]};
    out.insert(out.end(), grid.begin() + 1, grid.end() - 1);
    ctx.set_output(0, ctx.input_dtype(0), out);
    return Status();
}

double reflect(double v, double lo, double hi) {
    const double range = hi - lo;
    if (range <= 0.0) return lo;
    if (v < lo) {
        const double d = lo - v;
        const int64_t n = static_cast<int64_t>(d / range);
        const double r = d - static_cast<double>(n) * range;
        return n % 2 == 0 ? lo + r : hi - r;
    }
    if (v > hi) {
        const double d = v - hi;
        const int64_t n = static_cast<int64_t>(d / range);
        const double r = d - static_cast<double>(n) * range;
        return n % 2 == 0 ? hi - r : lo + r;
    }
    return v;
}

void cubic_coeffs(double t, double c[4]) {
    constexpr double a = -0.75;
    const double x = std::abs(t);
    c[0] = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a;
    c[1] = ((a + 2) * x - (a + 3)) * x * x + 1;
    c[2] = ((a + 2) * (1 - x) - (a + 3)) * (1 - x) * (1 - x) + 1;
    c[3] = ((a * (2 - x) - 5 * a) * (2 - x) + 8 * a) * (2 - x) - 4 * a;
}

template <class T>
struct Sampler {
    const GridParams& p;
    std::vector<int64_t> dims;  // spatial sizes of X
    std::vector<int64_t> strides;
    std::vector<double> lo, hi;  // the valid coordinate range per dim (for reflection)

    // The value at integer coordinates, padded per padding_mode.
    double at(const T* plane, const std::vector<int64_t>& idx) const {
        int64_t off = 0;
        for (size_t d = 0; d < dims.size(); ++d) {
            int64_t i = idx[d];
            if (i < 0 || i >= dims[d]) {
                if (p.padding == Padding::kZeros) return 0.0;
                if (p.padding == Padding::kReflection)
                    i = static_cast<int64_t>(reflect(static_cast<double>(i), lo[d], hi[d]));
                i = std::clamp<int64_t>(i, 0, dims[d] - 1);
            }
            off += i * strides[d];
        }
        return static_cast<double>(plane[off]);
    }

    double sample(const T* plane, std::vector<double> c, std::vector<int64_t>& idx) const {
        const size_t s = dims.size();
        // Nearest rounds before padding, as the ONNX reference does (reflection keeps integers integral).
        if (p.mode == Mode::kNearest) {
            for (size_t d = 0; d < s; ++d) c[d] = std::nearbyint(c[d]);
        }
        bool outside = false;
        for (size_t d = 0; d < s; ++d) outside = outside || c[d] < lo[d] || c[d] > hi[d];
        if (outside && p.padding == Padding::kBorder) {
            for (size_t d = 0; d < s; ++d) c[d] = std::clamp(c[d], 0.0, static_cast<double>(dims[d] - 1));
        } else if (outside && p.padding == Padding::kReflection) {
            for (size_t d = 0; d < s; ++d) c[d] = reflect(c[d], lo[d], hi[d]);
        }
        if (p.mode == Mode::kNearest) {
            for (size_t d = 0; d < s; ++d) idx[d] = static_cast<int64_t>(std::nearbyint(c[d]));
            return at(plane, idx);
        }
        if (p.mode == Mode::kLinear) {
            double acc = 0.0;
            for (uint32_t corner = 0; corner < (1u << s); ++corner) {
                double w = 1.0;
                for (size_t d = 0; d < s; ++d) {
                    const double f = std::floor(c[d]);
                    const bool up = (corner >> d) & 1u;
                    idx[d] = static_cast<int64_t>(f) + (up ? 1 : 0);
                    w *= up ? c[d] - f : 1.0 - (c[d] - f);
                }
                if (w != 0.0) acc += w * at(plane, idx);
            }
            return acc;
        }
        const double fy = std::floor(c[0]), fx = std::floor(c[1]);
        double cy[4], cx[4];
        cubic_coeffs(c[0] - fy, cy);
        cubic_coeffs(c[1] - fx, cx);
        double acc = 0.0;
        for (int i = 0; i < 4; ++i) {
            double row = 0.0;
            idx[0] = static_cast<int64_t>(fy) - 1 + i;
            for (int j = 0; j < 4; ++j) {
                idx[1] = static_cast<int64_t>(fx) - 1 + j;
                row += cx[j] * at(plane, idx);
            }
            acc += cy[i] * row;
        }
        return acc;
    }
};

template <class T>
Status run(ir::ComputeContext& ctx, const GridParams& p) {
    const ir::Tensor& xt = ctx.input(0);
    RT_ASSIGN_OR_RETURN(ir::Tensor gt, ir::cast_tensor(ctx.input(1), ir::DType::kFloat64));
    const size_t s = static_cast<size_t>(xt.rank() - 2);
    Sampler<T> sampler{p, {}, {}, {}, {}};
    for (size_t d = 0; d < s; ++d) {
        const int64_t len = xt.dim(static_cast<int>(d + 2));
        sampler.dims.push_back(len);
        sampler.lo.push_back(p.align_corners ? 0.0 : -0.5);
        sampler.hi.push_back(p.align_corners ? static_cast<double>(len - 1) : static_cast<double>(len) - 0.5);
    }
    sampler.strides = ir::shape_strides(sampler.dims);
    const int64_t n = xt.dim(0), channels = xt.dim(1);
    const int64_t in_plane = ir::shape_numel(sampler.dims);
    const int64_t out_plane = gt.numel() / (n * static_cast<int64_t>(s));
    const double* grid = gt.data<double>();
    const T* x = xt.data<T>();
    T* y = ctx.output(0).data<T>();
    std::vector<double> c(s);
    std::vector<int64_t> idx(s);
    for (int64_t b = 0; b < n; ++b) {
        for (int64_t o = 0; o < out_plane; ++o) {
            const double* g = grid + (b * out_plane + o) * static_cast<int64_t>(s);
            for (size_t d = 0; d < s; ++d) {  // the grid's last dim lists x (the innermost dim) first
                const double v = g[s - 1 - d];
                const double len = static_cast<double>(sampler.dims[d]);
                c[d] = p.align_corners ? (v + 1.0) / 2.0 * (len - 1.0) : ((v + 1.0) * len - 1.0) / 2.0;
            }
            for (int64_t ch = 0; ch < channels; ++ch) {
                const T* plane = x + (b * channels + ch) * in_plane;
                y[(b * channels + ch) * out_plane + o] = static_cast<T>(sampler.sample(plane, c, idx));
            }
        }
    }
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    GridParams p;
    RT_RETURN_IF_ERROR(read_params(ctx, p));
    if (ctx.input(0).dtype() == ir::DType::kFloat64) return run<double>(ctx, p);
    return run<float>(ctx, p);
}

}  // namespace

const ir::OpKernel kGridSampleKernel = {"GridSample", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
