#include "core/quant/calibrator.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace rtinfer::quant {
namespace {

constexpr int kLevels = 128;      // entropy: the non-negative half of int8, 0..127
constexpr double kSteps = 127.0;  // quantization steps between 0 and amax

// Shortest text that reads back as the same double ("99.99", not "99.989999999999995").
std::string shortest(double v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

Status check_percentile(double percentile) {
    if (percentile > 0.0 && percentile <= 100.0) return Status::ok();  // false for NaN
    return Status(StatusCode::kInvalidArgument,
                  "calibration percentile " + shortest(percentile) + " is out of range: it must be in (0, 100]");
}

float percentile_amax(const AbsHistogram& h, double percentile) {
    if (percentile >= 100.0) return h.amax();
    const double target = percentile / 100.0 * static_cast<double>(h.total());
    const auto& counts = h.counts();
    double below = 0.0;  // samples in the bins before i
    for (size_t i = 0; i < counts.size(); ++i) {
        const double c = static_cast<double>(counts[i]);
        if (c > 0.0 && below + c >= target) {
            const double v = (static_cast<double>(i) + (target - below) / c) * h.bin_width();
            return std::min(static_cast<float>(v), h.amax());
        }
        below += c;
    }
    return h.amax();
}

// KL(P || Q) of every candidate in O(kLevels) from prefix sums. With T the total, S the in-range samples
// counts[0, i) and, per level g, P_g its share of P, m_g its in-range samples and n_g its non-zero P bins
// (Q = m_g / (n_g S) on each of them):
//   KL = (1/T) sum_k p_k log p_k - log T - (1/T) sum_g P_g log(m_g / (n_g S))
// where only bin i - 1 differs from counts (it also holds the clipped samples).
Expected<float> entropy_amax(const std::vector<int64_t>& counts, double bin_width, float amax) {
    const int bins = static_cast<int>(counts.size());
    if (bins < kLevels) {
        return Status(StatusCode::kInvalidArgument, "entropy calibration needs a histogram of at least " +
                                                        std::to_string(kLevels) + " bins, this one has " +
                                                        std::to_string(bins));
    }
    std::vector<double> mass(bins + 1, 0.0), plogp(bins + 1, 0.0), nonzero(bins + 1, 0.0);
    for (int k = 0; k < bins; ++k) {
        const double c = static_cast<double>(counts[k]);
        mass[k + 1] = mass[k] + c;
        plogp[k + 1] = plogp[k] + (c > 0.0 ? c * std::log(c) : 0.0);
        nonzero[k + 1] = nonzero[k] + (c > 0.0 ? 1.0 : 0.0);
    }
    const double total = mass[bins];
    const double log_total = std::log(total);
    double best_kl = std::numeric_limits<double>::infinity();
    int best_i = bins;
    for (int i = kLevels; i <= bins; ++i) {
        const double in_range = mass[i];
        // A threshold that clips most samples is no candidate: with few samples and no small values, P and Q
        // can both collapse into the one bin that holds the clipped mass and agree exactly (KL 0).
        if (in_range <= 0.0 || in_range < 0.5 * total) continue;
        const double clipped = total - in_range;
        const double last_c = static_cast<double>(counts[i - 1]);
        const double last_p = last_c + clipped;
        // sum_k p_k log p_k with bin i - 1 replaced
        double kl_sum = plogp[i - 1] + (last_p > 0.0 ? last_p * std::log(last_p) : 0.0);
        const bool last_gains_bin = last_c == 0.0 && last_p > 0.0;
        const double log_in_range = std::log(in_range);
        bool infinite = false;
        for (int g = 0; g < kLevels; ++g) {
            const int start = static_cast<int>(static_cast<int64_t>(g) * i / kLevels);
            const int stop = static_cast<int>(static_cast<int64_t>(g + 1) * i / kLevels);
            const double m = mass[stop] - mass[start];
            const bool holds_last = stop == i;
            const double p_g = m + (holds_last ? clipped : 0.0);
            if (p_g <= 0.0) continue;
            if (m <= 0.0) {  // P has mass where Q has none
                infinite = true;
                break;
            }
            const double n = nonzero[stop] - nonzero[start] + (holds_last && last_gains_bin ? 1.0 : 0.0);
            kl_sum -= p_g * (std::log(m) - std::log(n) - log_in_range);
        }
        if (infinite) continue;
        const double kl = kl_sum / total - log_total;
        if (kl < best_kl) {
            best_kl = kl;
            best_i = i;
        }
    }
    return std::min(static_cast<float>(best_i * bin_width), amax);
}

// The mse calibrator's error model: each bin's samples spread uniformly over the bin. Every candidate threshold
// t costs O(bins below t): the rounding error is integrated edge by edge, and the clipping error of the bins
// above t comes in O(1) from suffix sums of their moments, sum c (E[x^2] - 2 t E[x] + t^2).
class MseModel {
  public:
    MseModel(const std::vector<int64_t>& counts, double w) : counts_(counts), w_(w) {
        used_ = static_cast<int>(counts.size());
        while (used_ > 0 && counts[used_ - 1] == 0) --used_;
        s0_.assign(used_ + 1, 0.0);
        s1_.assign(used_ + 1, 0.0);
        s2_.assign(used_ + 1, 0.0);
        for (int j = used_ - 1; j >= 0; --j) {
            const double c = static_cast<double>(counts[j]);
            const double a = j * w;
            const double b = a + w;
            s0_[j] = s0_[j + 1] + c;
            s1_[j] = s1_[j + 1] + c * (a + b) / 2.0;
            s2_[j] = s2_[j + 1] + c * (a * a + a * b + b * b) / 3.0;
        }
    }

    // Sum over samples of the squared quantize-dequantize error with threshold t (127 steps of t / 127).
    double error(double t) const {
        const double step = t / kSteps;
        const double inv_step = 1.0 / step;
        const double per_period = step * step * step / 12.0;
        // The integral over [0, x] of the squared rounding error to the nearest multiple of step.
        auto integral = [&](double x) {
            const double periods = static_cast<double>(static_cast<int64_t>(x * inv_step));  // floor: x >= 0
            const double r = x - periods * step;
            const double half = step / 2.0;
            const double d = r - step;
            const double partial =
                r < half ? r * r * r / 3.0 : per_period / 2.0 + (d * d * d + half * half * half) / 3.0;
            return periods * per_period + partial;
        };
        const int inside = std::min(used_, static_cast<int>(t / w_));  // bins wholly below t
        double rounding = 0.0;
        double lower = 0.0;
        for (int j = 0; j < inside; ++j) {
            const double upper = integral((j + 1) * w_);
            rounding += static_cast<double>(counts_[j]) * (upper - lower);
            lower = upper;
        }
        double clipping = 0.0;
        if (inside < used_) {
            // Bin `inside` straddles t (or starts at it): its part below t rounds, the rest clips.
            const double c = static_cast<double>(counts_[inside]);
            const double a = inside * w_;
            const double b = a + w_;
            rounding += c * (integral(t) - lower);
            const double hi = b - t;
            const double lo = std::max(a - t, 0.0);
            clipping += c * (hi * hi * hi - lo * lo * lo) / 3.0 / w_;
            const int k = inside + 1;
            clipping += s2_[k] - 2.0 * t * s1_[k] + t * t * s0_[k];
        }
        return rounding / w_ + clipping;
    }

  private:
    const std::vector<int64_t>& counts_;
    double w_;
    int used_ = 0;
    std::vector<double> s0_, s1_, s2_;  // suffix sums of c, c E[x], c E[x^2] over bins j..used_-1
};

// Candidates: every bin edge below amax, and amax itself.
float mse_amax(const std::vector<int64_t>& counts, double w, float amax_f) {
    const double amax = amax_f;
    const MseModel model(counts, w);
    double best_t = amax;
    double best_err = model.error(amax);
    for (int k = 1; k * w < amax; ++k) {
        const double err = model.error(k * w);
        if (err < best_err) {
            best_err = err;
            best_t = k * w;
        }
    }
    return static_cast<float>(best_t);
}

}  // namespace

Expected<CalibratorOptions> parse_calibrator(const std::string& name, double percentile) {
    CalibratorOptions options;
    if (name == "entropy") {
        options.kind = CalibratorKind::kEntropy;
    } else if (name == "percentile") {
        options.kind = CalibratorKind::kPercentile;
    } else if (name == "minmax") {
        options.kind = CalibratorKind::kMinMax;
    } else if (name == "mse") {
        options.kind = CalibratorKind::kMse;
    } else {
        return Status(StatusCode::kInvalidArgument,
                      "unknown calibrator '" + name + "': choose entropy, percentile, minmax or mse");
    }
    RT_RETURN_IF_ERROR(check_percentile(percentile));
    options.percentile = percentile;
    return options;
}

std::string calibrator_description(const CalibratorOptions& options) {
    switch (options.kind) {
        case CalibratorKind::kEntropy:
            return "entropy";
        case CalibratorKind::kPercentile:
            return "percentile " + shortest(options.percentile);
        case CalibratorKind::kMinMax:
            return "minmax";
        case CalibratorKind::kMse:
            return "mse";
    }
    return "unknown";
}

Expected<float> choose_amax(const AbsHistogram& histogram, const CalibratorOptions& options) {
    if (histogram.total() == 0) {
        return Status(StatusCode::kInvalidArgument,
                      histogram.nonfinite() > 0 ? "no finite value to calibrate from (" +
                                                      std::to_string(histogram.nonfinite()) + " NaN or infinite values)"
                                                : std::string("no value to calibrate from (the histogram is empty)"));
    }
    if (histogram.amax() == 0.0f) return 0.0f;
    switch (options.kind) {
        case CalibratorKind::kMinMax:
            return histogram.amax();
        case CalibratorKind::kPercentile:
            RT_RETURN_IF_ERROR(check_percentile(options.percentile));
            return percentile_amax(histogram, options.percentile);
        case CalibratorKind::kEntropy:
        case CalibratorKind::kMse:
            break;
    }
    // Exact zeros are exact in int8 at any scale: leave them out of both error measures.
    std::vector<int64_t> counts = histogram.counts();
    counts[0] -= histogram.zeros();
    if (options.kind == CalibratorKind::kEntropy) return entropy_amax(counts, histogram.bin_width(), histogram.amax());
    if (options.kind == CalibratorKind::kMse) return mse_amax(counts, histogram.bin_width(), histogram.amax());
    return Status(StatusCode::kInternal, "unknown calibrator kind");
}

std::vector<float> per_channel_amax(const float* w, int64_t outer, int64_t channels, int64_t inner) {
    if (channels <= 0 || outer < 0 || inner < 0) return {};
    std::vector<float> out(static_cast<size_t>(channels), 0.0f);
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t c = 0; c < channels; ++c) {
            const float* run = w + (o * channels + c) * inner;
            float& m = out[static_cast<size_t>(c)];
            for (int64_t k = 0; k < inner; ++k) {
                const float a = std::fabs(run[k]);
                if (a > m) m = a;  // false for NaN
            }
        }
    }
    return out;
}

int8_t quantize_symmetric(float x, float scale) {
    if (!(scale > 0.0f && std::isfinite(scale))) return 0;
    const float q = std::nearbyint(x / scale);  // the default rounding mode: to nearest, ties to even
    if (std::isnan(q)) return 0;
    return static_cast<int8_t>(std::clamp(q, -127.0f, 127.0f));
}

}  // namespace rtinfer::quant
