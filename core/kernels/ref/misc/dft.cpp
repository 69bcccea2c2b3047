// DFT (opset 17 with axis as an attribute, opset 20 with axis as input 2) and STFT (opset 17).
// Signals carry a last dim of 1 (real) or 2 (complex: real, imaginary); outputs are always complex.
// The transforms are direct O(n^2) sums in double with a twiddle table: a reference, not a fast path.
#include <cmath>
#include <vector>

#include "core/ir/shape_util.h"
#include "core/kernels/ref/misc/kernels.h"
#include "core/kernels/ref/misc/misc_util.h"

namespace rtinfer::ref {
namespace {

constexpr double kPi = 3.14159265358979323846;

// out[k] = scale * sum_n in[n] * exp(sign * 2*pi*i*k*n/len) for k < out_len; in has in_len complex points
// (zero past its end), so a shorter input is zero-padded and a longer one truncated.
void dft_1d(const std::vector<double>& re, const std::vector<double>& im, int64_t in_len, int64_t len, int64_t out_len,
            bool inverse, std::vector<double>& out_re, std::vector<double>& out_im) {
    const int64_t n_used = std::min(in_len, len);
    std::vector<double> cos_t(static_cast<size_t>(len)), sin_t(static_cast<size_t>(len));
    for (int64_t j = 0; j < len; ++j) {
        const double a = 2.0 * kPi * static_cast<double>(j) / static_cast<double>(len);
        cos_t[static_cast<size_t>(j)] = std::cos(a);
        sin_t[static_cast<size_t>(j)] = inverse ? std::sin(a) : -std::sin(a);
    }
    const double scale = inverse ? 1.0 / static_cast<double>(len) : 1.0;
    out_re.assign(static_cast<size_t>(out_len), 0.0);
    out_im.assign(static_cast<size_t>(out_len), 0.0);
    for (int64_t k = 0; k < out_len; ++k) {
        double sr = 0.0, si = 0.0;
        for (int64_t n = 0; n < n_used; ++n) {
            const size_t t = static_cast<size_t>((k * n) % len);
            const double xr = re[static_cast<size_t>(n)], xi = im[static_cast<size_t>(n)];
            sr += xr * cos_t[t] - xi * sin_t[t];
            si += xr * sin_t[t] + xi * cos_t[t];
        }
        out_re[static_cast<size_t>(k)] = sr * scale;
        out_im[static_cast<size_t>(k)] = si * scale;
    }
}

bool complex_last_dim(const ir::Shape& s) {
    return !s.empty() && (s.back() == 1 || s.back() == 2);
}

// --- DFT ---

struct DftParams {
    int axis = 1;
    int64_t length = 0;  // transform length
    bool inverse = false, onesided = false;
};

template <class Ctx>
Status dft_params(const Ctx& ctx, const ir::Shape& in, const ir::Tensor* length_t, const ir::Tensor* axis_t,
                  DftParams& p) {
    const int rank = static_cast<int>(in.size());
    int64_t axis = 1;
    if (ctx.opset() >= 20) {
        axis = -2;
        if (axis_t) axis = ir::to_int64s(*axis_t)[0];
    } else {
        axis = ctx.node().attr_int("axis", 1);
    }
    if (axis < -rank || axis >= rank - 1) {
        return ctx.error("axis " + std::to_string(axis) + " is out of range for input rank " + std::to_string(rank));
    }
    p.axis = static_cast<int>(axis < 0 ? axis + rank : axis);
    p.length = length_t ? ir::to_int64s(*length_t)[0] : in[static_cast<size_t>(p.axis)];
    if (p.length <= 0) return ctx.error("dft_length must be positive, got " + std::to_string(p.length));
    p.inverse = ctx.node().attr_int("inverse", 0) != 0;
    p.onesided = ctx.node().attr_int("onesided", 0) != 0;
    return Status();
}

Status dft_infer(ir::InferContext& ctx) {
    if (!ctx.has_input(0)) return ctx.error("needs an input");
    if (!misc::is_float_type(ctx.input_dtype(0))) return ctx.unsupported("input must be floating point");
    const ir::Shape& in = ctx.input_shape(0);
    if (in.size() < 2 || !complex_last_dim(in)) {
        return ctx.error("input must have rank >= 2 and a last dim of 1 or 2, got " + ir::shape_str(in));
    }
    const ir::Tensor* length_t = ctx.input_value(1);
    if (ctx.has_input(1) && !length_t) return ctx.error("dft_length must be a constant or computable at build time");
    const ir::Tensor* axis_t = ctx.opset() >= 20 ? ctx.input_value(2) : nullptr;
    if (ctx.opset() >= 20 && ctx.has_input(2) && !axis_t) {
        return ctx.error("axis must be a constant or computable at build time");
    }
    DftParams p;
    RT_RETURN_IF_ERROR(dft_params(ctx, in, length_t, axis_t, p));
    ir::Shape out = in;
    out[static_cast<size_t>(p.axis)] = p.onesided ? p.length / 2 + 1 : p.length;
    out.back() = 2;
    ctx.set_output(0, ctx.input_dtype(0), out);
    return Status();
}

Status dft_compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    const ir::Tensor* length_t = ctx.has_input(1) ? &ctx.input(1) : nullptr;
    const ir::Tensor* axis_t = ctx.opset() >= 20 && ctx.has_input(2) ? &ctx.input(2) : nullptr;
    DftParams p;
    RT_RETURN_IF_ERROR(dft_params(ctx, x.shape(), length_t, axis_t, p));
    const std::vector<double> v = ir::to_doubles(x);
    const int64_t comps = x.shape().back();
    const int64_t in_len = x.dim(p.axis);
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < p.axis; ++i) outer *= x.dim(i);
    for (int i = p.axis + 1; i < x.rank() - 1; ++i) inner *= x.dim(i);
    ir::Tensor& y = ctx.output(0);
    const int64_t out_len = y.dim(p.axis);
    std::vector<double> re(static_cast<size_t>(in_len)), im(static_cast<size_t>(in_len)), ore, oim;
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t in = 0; in < inner; ++in) {
            for (int64_t n = 0; n < in_len; ++n) {
                const size_t at = static_cast<size_t>(((o * in_len + n) * inner + in) * comps);
                re[static_cast<size_t>(n)] = v[at];
                im[static_cast<size_t>(n)] = comps == 2 ? v[at + 1] : 0.0;
            }
            dft_1d(re, im, in_len, p.length, out_len, p.inverse, ore, oim);
            for (int64_t k = 0; k < out_len; ++k) {
                const int64_t at = ((o * out_len + k) * inner + in) * 2;
                misc::store_value(y, at, ore[static_cast<size_t>(k)]);
                misc::store_value(y, at + 1, oim[static_cast<size_t>(k)]);
            }
        }
    }
    return Status();
}

// --- STFT ---

struct StftParams {
    int64_t step = 0, frame = 0, frames = 0, bins = 0;
};

template <class Ctx>
Status stft_params(const Ctx& ctx, const ir::Shape& signal, const ir::Tensor& step_t, const ir::Shape* window,
                   const ir::Tensor* frame_t, StftParams& p) {
    p.step = ir::to_int64s(step_t)[0];
    if (p.step <= 0) return ctx.error("frame_step must be positive, got " + std::to_string(p.step));
    if (frame_t) {
        p.frame = ir::to_int64s(*frame_t)[0];
        if (window && (*window)[0] != p.frame) {
            return ctx.error("window length " + std::to_string((*window)[0]) + " differs from frame_length " +
                             std::to_string(p.frame));
        }
    } else if (window) {
        p.frame = (*window)[0];
    } else {
        return ctx.error("needs a window or a frame_length");
    }
    if (p.frame <= 0 || p.frame > signal[1]) {
        return ctx.error("frame length " + std::to_string(p.frame) + " does not fit the signal length " +
                         std::to_string(signal[1]));
    }
    p.frames = (signal[1] - p.frame) / p.step + 1;
    const bool onesided = ctx.node().attr_int("onesided", 1) != 0;
    p.bins = onesided ? p.frame / 2 + 1 : p.frame;
    return Status();
}

Status stft_infer(ir::InferContext& ctx) {
    if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.error("needs signal and frame_step");
    if (!misc::is_float_type(ctx.input_dtype(0))) return ctx.unsupported("signal must be floating point");
    const ir::Shape& signal = ctx.input_shape(0);
    if (signal.size() != 3 || !complex_last_dim(signal)) {
        return ctx.error("signal must be [batch, length, 1 or 2], got " + ir::shape_str(signal));
    }
    const ir::Tensor* step_t = ctx.input_value(1);
    if (!step_t) return ctx.error("frame_step must be a constant or computable at build time");
    const ir::Tensor* frame_t = ctx.input_value(3);
    if (ctx.has_input(3) && !frame_t) return ctx.error("frame_length must be a constant or computable at build time");
    if (ctx.has_input(2) && ctx.input_rank(2) != 1) return ctx.error("window must be 1-D");
    StftParams p;
    RT_RETURN_IF_ERROR(stft_params(ctx, signal, *step_t, ctx.has_input(2) ? &ctx.input_shape(2) : nullptr, frame_t, p));
    ctx.set_output(0, ctx.input_dtype(0), {signal[0], p.frames, p.bins, 2});
    return Status();
}

Status stft_compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    const bool has_window = ctx.has_input(2);
    StftParams p;
    RT_RETURN_IF_ERROR(stft_params(ctx, x.shape(), ctx.input(1), has_window ? &ctx.input(2).shape() : nullptr,
                                   ctx.has_input(3) ? &ctx.input(3) : nullptr, p));
    const std::vector<double> v = ir::to_doubles(x);
    const std::vector<double> window = has_window ? ir::to_doubles(ctx.input(2)) : std::vector<double>();
    const int64_t len = x.dim(1), comps = x.dim(2);
    ir::Tensor& y = ctx.output(0);
    std::vector<double> re(static_cast<size_t>(p.frame)), im(static_cast<size_t>(p.frame)), ore, oim;
    for (int64_t b = 0; b < x.dim(0); ++b) {
        for (int64_t f = 0; f < p.frames; ++f) {
            for (int64_t n = 0; n < p.frame; ++n) {
                const size_t at = static_cast<size_t>((b * len + f * p.step + n) * comps);
                const double w = has_window ? window[static_cast<size_t>(n)] : 1.0;
                re[static_cast<size_t>(n)] = v[at] * w;
                im[static_cast<size_t>(n)] = comps == 2 ? v[at + 1] * w : 0.0;
            }
            dft_1d(re, im, p.frame, p.frame, p.bins, false, ore, oim);
            for (int64_t k = 0; k < p.bins; ++k) {
                const int64_t at = ((b * p.frames + f) * p.bins + k) * 2;
                misc::store_value(y, at, ore[static_cast<size_t>(k)]);
                misc::store_value(y, at + 1, oim[static_cast<size_t>(k)]);
            }
        }
    }
    return Status();
}

}  // namespace

const ir::OpKernel kDftKernel = {"DFT", "", dft_infer, dft_compute, ir::kOpNone};
const ir::OpKernel kStftKernel = {"STFT", "", stft_infer, stft_compute, ir::kOpNone};

}  // namespace rtinfer::ref
