// Calibrators: the clipping threshold (amax) of a symmetric INT8 tensor from the histogram of its |x|, and the
// small helpers that turn thresholds into scales and values into int8.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/quant/histogram.h"
#include "rtinfer/status.h"

namespace rtinfer::quant {

enum class CalibratorKind { kEntropy, kPercentile, kMinMax, kMse };

struct CalibratorOptions {
    CalibratorKind kind = CalibratorKind::kEntropy;
    double percentile = 99.99;  // used by kPercentile only
};

// "entropy", "percentile", "minmax" or "mse"; percentile must lie in (0, 100] whatever the name (a wrong value is
// reported even where it would be unused).
Expected<CalibratorOptions> parse_calibrator(const std::string& name, double percentile);

// "entropy", "percentile 99.99", "minmax", "mse": the form written to calibration caches and logs.
std::string calibrator_description(const CalibratorOptions& options);

// The clipping threshold for symmetric int8 (scale = amax / 127), never above the histogram's amax():
//   minmax      the exact amax.
//   percentile  the |x| below which `percentile` % of the finite samples lie, interpolated linearly inside its bin.
//   entropy     TensorRT-style: for every candidate threshold bin i in [128, bins], P = counts[0, i) with the
//               samples above added to bin i - 1, Q = counts[0, i) (without them) merged into 128 levels and
//               spread back uniformly over the bins where P is non-zero; the i minimizing KL(P || Q) gives
//               amax = i * bin width (the upper edge of the kept bins). Q leaves the clipped samples out so
//               that clipping costs something: with them in, Q would equal P at i = 128.
//   mse         the threshold minimizing the expected squared error of quantize-dequantize with 127 levels per
//               side (rounding inside, clipping outside), with each bin's samples taken as spread uniformly over
//               the bin; candidates are every bin edge below amax and amax itself.
// Entropy and mse leave exact zeros (AbsHistogram::zeros()) out: int8 holds them exactly at any scale, and the
// spike of a ReLU output's zeros would otherwise read as values near 0 that round badly, dragging entropy's
// threshold far down (to 1.5 sigma on a rectified Gaussian).
// Returns 0 for a histogram whose finite samples are all zero (callers treat a zero scale as "always 0"); an
// error when it holds no finite sample at all, or when entropy is asked of fewer than 128 bins. NaN and
// infinities (AbsHistogram::nonfinite()) take no part.
Expected<float> choose_amax(const AbsHistogram& histogram, const CalibratorOptions& options);

// max |w| of each output channel of a weight laid out outer x channels x inner (OIHW: 1 x O x I*H*W; a Gemm's
// B [K, N]: K x N x 1). NaN is skipped; an infinity gives infinity. Empty when channels <= 0 or outer or inner
// < 0; zeros when there are no values.
std::vector<float> per_channel_amax(const float* w, int64_t outer, int64_t channels, int64_t inner);

// round(x / scale) clamped to [-127, 127], rounding half to even (as TensorRT and CUDA's __float2int_rn do).
// A scale that is not positive and finite, or a NaN x, gives 0.
int8_t quantize_symmetric(float x, float scale);

}  // namespace rtinfer::quant
