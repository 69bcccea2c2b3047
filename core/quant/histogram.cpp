#include "core/quant/histogram.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace rtinfer::quant {

AbsHistogram::AbsHistogram(int bins) : counts_(static_cast<size_t>(std::max(bins, 1)), 0) {}

void AbsHistogram::add(const float* data, size_t n) {
    // The fast path keeps its state in locals; a value it cannot place goes through add_slow(), which may change
    // the range, so the locals are reloaded after it.
    double range = range_;
    double inv = inv_width_;
    float amax = amax_;
    int64_t* counts = counts_.data();
    const size_t last = counts_.size() - 1;
    int64_t added = 0;
    int64_t zeros = 0;
    for (size_t i = 0; i < n; ++i) {
        const float a = std::fabs(data[i]);
        if (a < range) {  // false for NaN, infinities, and everything while the range is still 0
            // a * inv is exact (a 24-bit by a power-of-two-scaled integer), so the index is below bins; the min
            // only guards against a future change of that arithmetic.
            ++counts[std::min(static_cast<size_t>(static_cast<double>(a) * inv), last)];
            ++added;
            zeros += a == 0.0f;
            amax = std::max(amax, a);
        } else {
            total_ += added;
            added = 0;
            amax_ = amax;
            add_slow(a);
            range = range_;
            inv = inv_width_;
            amax = amax_;
        }
    }
    total_ += added;
    zeros_ += zeros;
    amax_ = amax;
}

void AbsHistogram::add_slow(float a) {
    if (!std::isfinite(a)) {
        ++nonfinite_;
        return;
    }
    ++total_;
    if (a == 0.0f) {  // only reached while the range is 0
        ++counts_[0];
        ++zeros_;
        return;
    }
    grow_to_cover(a);
    ++counts_[std::min(static_cast<size_t>(static_cast<double>(a) * inv_width_), counts_.size() - 1)];
    amax_ = std::max(amax_, a);
}

void AbsHistogram::grow_to_cover(float a) {
    if (range_ == 0.0) {
        // frexp: a = m * 2^e with m in [0.5, 1), so 2^e is the smallest power of two strictly above a.
        int e = 0;
        std::frexp(static_cast<double>(a), &e);
        range_ = std::ldexp(1.0, e);
        inv_width_ = static_cast<double>(counts_.size()) / range_;
        return;
    }
    while (static_cast<double>(a) >= range_) double_range();
}

void AbsHistogram::double_range() {
    // Bin i of width w covers [i w, (i + 1) w); at width 2w, bin j covers old bins 2j and 2j + 1.
    const size_t bins = counts_.size();
    for (size_t j = 0; j < bins; ++j) {
        const size_t lo = 2 * j;
        counts_[j] = (lo < bins ? counts_[lo] : 0) + (lo + 1 < bins ? counts_[lo + 1] : 0);
    }
    range_ *= 2.0;
    inv_width_ = static_cast<double>(bins) / range_;
}

Status AbsHistogram::merge(const AbsHistogram& other) {
    if (other.counts_.size() != counts_.size()) {
        return Status(StatusCode::kInvalidArgument, "cannot merge a histogram of " + std::to_string(other.bins()) +
                                                        " bins into one of " + std::to_string(bins()) + " bins");
    }
    if (other.range_ > range_) {
        if (range_ == 0.0) {
            range_ = other.range_;
            inv_width_ = other.inv_width_;
        } else {
            while (range_ < other.range_) double_range();
        }
    }
    if (other.range_ == range_ || other.range_ == 0.0) {
        // A zero range holds only zeros, which are in bin 0 at any range.
        for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    } else {
        AbsHistogram widened = other;
        while (widened.range_ < range_) widened.double_range();
        for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += widened.counts_[i];
    }
    amax_ = std::max(amax_, other.amax_);
    total_ += other.total_;
    zeros_ += other.zeros_;
    nonfinite_ += other.nonfinite_;
    return Status::ok();
}

}  // namespace rtinfer::quant
