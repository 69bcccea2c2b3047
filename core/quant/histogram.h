// A histogram of |x| for INT8 calibration: one pass over each activation batch, no prior knowledge of the range.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rtinfer/status.h"

namespace rtinfer::quant {

// Counts of |x| over [0, range()) in bins() equal bins.
//
// The range is always a power of two (or 0 before the first non-zero value): the first non-zero |x| sets it to
// the smallest power of two strictly above that value, and a later |x| >= range() doubles it (adjacent bin pairs
// merge into the lower half) until it covers the value. Because every range is a power of two, the bin of a value
// does not depend on the order values arrived in, and two histograms can always be brought to one range: filling
// one histogram per thread and merging gives exactly the counts of one histogram filled with all the data.
//
// Zeros land in bin 0 whatever the range (an all-zero tensor has range() == 0 and all its samples in bin 0);
// zeros() also counts them apart, since int8 represents them exactly at any scale (ReLU outputs are often half
// zeros, and the entropy and mse calibrators must not mistake that spike for values near 0 that round).
// NaN and infinities are counted by nonfinite() and never enter a bin or amax().
class AbsHistogram {
  public:
    static constexpr int kDefaultBins = 2048;

    // bins below 1 are taken as 1.
    explicit AbsHistogram(int bins = kDefaultBins);

    // Adds |data[i]| for i < n.
    void add(const float* data, size_t n);
    // Adds another histogram's samples. Fails (and changes nothing) when the bin counts differ.
    Status merge(const AbsHistogram& other);

    // The largest finite |x| added, exactly; 0 when none.
    float amax() const { return amax_; }
    // The upper end of the last bin; 0 until a non-zero value arrives.
    double range() const { return range_; }
    double bin_width() const { return range_ / static_cast<double>(counts_.size()); }
    int bins() const { return static_cast<int>(counts_.size()); }
    const std::vector<int64_t>& counts() const { return counts_; }
    // Finite samples added (the sum of counts()).
    int64_t total() const { return total_; }
    // Exact zeros (+0 and -0) among total(), all in bin 0.
    int64_t zeros() const { return zeros_; }
    // NaN and infinite samples added.
    int64_t nonfinite() const { return nonfinite_; }

  private:
    // Doubles the range until it exceeds a (a finite, non-zero |x|).
    void grow_to_cover(float a);
    void double_range();
    // Handles one value that the fast path of add() cannot: non-finite, zero before the range is set, or >= range.
    void add_slow(float a);

    std::vector<int64_t> counts_;
    double range_ = 0.0;
    double inv_width_ = 0.0;  // bins / range: exact, so |x| * inv_width_ is the exact bin position
    float amax_ = 0.0f;
    int64_t total_ = 0;
    int64_t zeros_ = 0;
    int64_t nonfinite_ = 0;
};

}  // namespace rtinfer::quant
