// MelWeightMatrix (opset 17): triangular filters mapping [dft_length / 2 + 1] spectrogram bins to
// num_mel_bins mel bins, computed exactly as the ONNX reference does (including its choice of dividing the
// mel range into num_mel_bins + 2 steps and flooring the bin edges).
#include <cmath>
#include <vector>

#include "core/kernels/ref/misc/kernels.h"
#include "core/kernels/ref/misc/misc_util.h"

namespace rtinfer::ref {
namespace {

Status infer(ir::InferContext& ctx) {
    for (size_t i = 0; i < 5; ++i) {
        if (!ctx.has_input(i)) return ctx.error("needs five scalar inputs");
    }
    const ir::Tensor* mel = ctx.input_value(0);
    const ir::Tensor* dft = ctx.input_value(1);
    if (!mel || !dft) return ctx.error("num_mel_bins and dft_length must be constants or computable at build time");
    const int64_t num_mel = ir::to_int64s(*mel)[0], dft_len = ir::to_int64s(*dft)[0];
    if (num_mel <= 0 || dft_len <= 0) return ctx.error("num_mel_bins and dft_length must be positive");
    const ir::DType out = misc::dtype_from_onnx(ctx.node().attr_int("output_datatype", 1));
    if (out == ir::DType::kUndefined || out == ir::DType::kBool)
        return ctx.unsupported("output_datatype is not supported");
    ctx.set_output(0, out, {dft_len / 2 + 1, num_mel});
    return Status();
}

double hz_to_mel(double hz) {
    return 2595.0 * std::log10(1.0 + hz / 700.0);
}
double mel_to_hz(double mel) {
    return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
}

Status compute(ir::ComputeContext& ctx) {
    const int64_t num_mel = ir::to_int64s(ctx.input(0))[0];
    const int64_t dft_len = ir::to_int64s(ctx.input(1))[0];
    const double sample_rate = misc::first_value(ctx.input(2));
    const double lower = misc::first_value(ctx.input(3)), upper = misc::first_value(ctx.input(4));
    if (sample_rate <= 0.0) return ctx.error("sample_rate must be positive");
    if (lower < 0.0 || upper <= lower || upper > sample_rate / 2.0 + 1e-6) {
        return ctx.error("the edges must satisfy 0 <= lower_edge_hertz < upper_edge_hertz <= sample_rate / 2");
    }
    const int64_t spec_bins = dft_len / 2 + 1;
    const double low_mel = hz_to_mel(lower), high_mel = hz_to_mel(upper);
    const double step = (high_mel - low_mel) / static_cast<double>(num_mel + 2);
    std::vector<int64_t> edge(static_cast<size_t>(num_mel + 2));
    for (int64_t i = 0; i < num_mel + 2; ++i) {
        const double hz = mel_to_hz(static_cast<double>(i) * step + low_mel);
        edge[static_cast<size_t>(i)] =
            static_cast<int64_t>(std::floor(static_cast<double>(dft_len + 1) * hz / sample_rate));
    }
    ir::Tensor& y = ctx.output(0);
    for (int64_t i = 0; i < y.numel(); ++i) misc::store_value(y, i, 0.0);
    auto set = [&](int64_t bin, int64_t mel, double v) {
        if (bin >= 0 && bin < spec_bins) misc::store_value(y, bin * num_mel + mel, v);
    };
    for (int64_t m = 0; m < num_mel; ++m) {
        const int64_t left = edge[static_cast<size_t>(m)], center = edge[static_cast<size_t>(m + 1)];
        const int64_t right = edge[static_cast<size_t>(m + 2)];
        if (center == left) {
            set(center, m, 1.0);
        } else {
            for (int64_t j = left; j <= center; ++j) {
                set(j, m, static_cast<double>(j - left) / static_cast<double>(center - left));
            }
        }
        for (int64_t j = center; j < right; ++j) {
            set(j, m, static_cast<double>(right - j) / static_cast<double>(right - center));
        }
    }
    return Status();
}

}  // namespace

const ir::OpKernel kMelWeightMatrixKernel = {"MelWeightMatrix", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
