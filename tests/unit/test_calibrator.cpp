#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/quant/calibrator.h"
#include "core/quant/histogram.h"

using rtinfer::quant::AbsHistogram;
using rtinfer::quant::CalibratorKind;
using rtinfer::quant::CalibratorOptions;
using rtinfer::quant::choose_amax;

namespace {

std::vector<float> gaussian(size_t n, float sigma, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, sigma);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

// The bin each value must land in at a given range, computed independently of the histogram.
std::vector<int64_t> expected_counts(const std::vector<float>& values, double range, int bins) {
    std::vector<int64_t> counts(bins, 0);
    for (float x : values) {
        if (!std::isfinite(x)) continue;
        ++counts[static_cast<size_t>(std::floor(std::fabs(static_cast<double>(x)) / range * bins))];
    }
    return counts;
}

float amax_of(const AbsHistogram& h, CalibratorKind kind, double percentile = 99.99) {
    CalibratorOptions options;
    options.kind = kind;
    options.percentile = percentile;
    auto r = choose_amax(h, options);
    EXPECT_TRUE(r.has_value()) << r.status().to_string();
    return r.has_value() ? *r : -1.0f;
}

// Mean squared error of quantize-dequantize with threshold t on the raw data: the truth the mse calibrator
// estimates from the histogram.
double data_mse(const std::vector<float>& values, double t) {
    const double step = t / 127.0;
    double sum = 0.0;
    for (float x : values) {
        const double q = std::clamp(std::nearbyint(x / step), -127.0, 127.0) * step;
        sum += (x - q) * (x - q);
    }
    return sum / static_cast<double>(values.size());
}

}  // namespace

TEST(AbsHistogram, FirstNonZeroValueSetsThePowerOfTwoAboveIt) {
    AbsHistogram h;
    const std::vector<float> v = {0.3f, -0.2f};
    h.add(v.data(), v.size());
    EXPECT_EQ(h.range(), 0.5);
    EXPECT_EQ(h.bins(), 2048);
    EXPECT_EQ(h.amax(), 0.3f);
    EXPECT_EQ(h.total(), 2);
    EXPECT_EQ(h.counts()[1228], 1);  // 0.3 * 4096 = 1228.8
    EXPECT_EQ(h.counts()[819], 1);   // 0.2 * 4096 = 819.2
    // A value equal to the range is outside [0, range): the range doubles.
    const float half = 0.5f;
    h.add(&half, 1);
    EXPECT_EQ(h.range(), 1.0);
    EXPECT_EQ(h.counts()[1024], 1);
    EXPECT_EQ(h.counts()[614], 1);  // 0.3 * 2048 = 614.4
    EXPECT_EQ(h.counts()[409], 1);
}

TEST(AbsHistogram, RangeDoublingKeepsCountsAndAmax) {
    std::vector<float> values = gaussian(100000, 0.2f, 1);
    AbsHistogram h;
    h.add(values.data(), values.size());
    const double first_range = h.range();
    const std::vector<float> big = {-5.5f, 40.25f, 3.0f};
    h.add(big.data(), big.size());
    values.insert(values.end(), big.begin(), big.end());
    EXPECT_EQ(h.range(), 64.0);
    EXPECT_LT(first_range, 4.0);
    EXPECT_EQ(h.amax(), 40.25f);
    EXPECT_EQ(h.total(), static_cast<int64_t>(values.size()));
    EXPECT_EQ(h.counts(), expected_counts(values, 64.0, 2048));
    // The big values first: the same counts, whatever the order.
    AbsHistogram reversed;
    reversed.add(big.data(), big.size());
    reversed.add(values.data(), values.size() - big.size());
    EXPECT_EQ(reversed.counts(), h.counts());
    EXPECT_EQ(reversed.range(), h.range());
}

TEST(AbsHistogram, NonFiniteValuesAreCountedApart) {
    const float inf = std::numeric_limits<float>::infinity();
    const std::vector<float> v = {std::nanf(""), 1.5f, inf, -inf, 0.0f, -0.25f};
    AbsHistogram h(16);
    h.add(v.data(), v.size());
    EXPECT_EQ(h.nonfinite(), 3);
    EXPECT_EQ(h.total(), 3);
    EXPECT_EQ(h.zeros(), 1);
    EXPECT_EQ(h.amax(), 1.5f);
    EXPECT_EQ(h.range(), 2.0);
    EXPECT_EQ(h.counts(), expected_counts(v, 2.0, 16));
}

TEST(AbsHistogram, ZerosBeforeTheFirstNonZeroValueStayInBinZero) {
    const std::vector<float> zeros(5, 0.0f);
    AbsHistogram h;
    h.add(zeros.data(), zeros.size());
    EXPECT_EQ(h.range(), 0.0);
    EXPECT_EQ(h.counts()[0], 5);
    EXPECT_EQ(h.zeros(), 5);
    for (CalibratorKind kind :
         {CalibratorKind::kEntropy, CalibratorKind::kPercentile, CalibratorKind::kMinMax, CalibratorKind::kMse}) {
        EXPECT_EQ(amax_of(h, kind), 0.0f);  // an always-zero tensor: scale 0, not an error
    }
    const float v = 0.7f;
    h.add(&v, 1);
    EXPECT_EQ(h.range(), 1.0);
    EXPECT_EQ(h.counts()[0], 5);
    EXPECT_EQ(h.counts()[1433], 1);  // 0.7 * 2048 = 1433.6
    EXPECT_EQ(h.total(), 6);
}

TEST(AbsHistogram, MergeEqualsOneHistogramOfAllData) {
    // Parts of very different scales, one only zeros, one with NaN, as threads of one calibration might see.
    std::vector<std::vector<float>> parts = {gaussian(5000, 0.01f, 2), gaussian(7000, 1.0f, 3),
                                             std::vector<float>(300, 0.0f), gaussian(4000, 37.0f, 4)};
    parts[1][17] = std::nanf("");
    AbsHistogram all;
    for (const auto& p : parts) all.add(p.data(), p.size());
    EXPECT_EQ(all.zeros(), 300);
    for (const std::vector<size_t>& order : {std::vector<size_t>{0, 1, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}}) {
        AbsHistogram merged;
        for (size_t i : order) {
            AbsHistogram part;
            part.add(parts[i].data(), parts[i].size());
            ASSERT_TRUE(merged.merge(part).is_ok());
        }
        EXPECT_EQ(merged.counts(), all.counts());
        EXPECT_EQ(merged.range(), all.range());
        EXPECT_EQ(merged.amax(), all.amax());
        EXPECT_EQ(merged.total(), all.total());
        EXPECT_EQ(merged.nonfinite(), 1);
        EXPECT_EQ(merged.zeros(), all.zeros());
    }
}

TEST(AbsHistogram, MergeRefusesOtherBinCounts) {
    AbsHistogram a(2048), b(1024);
    const float v = 1.0f;
    b.add(&v, 1);
    const rtinfer::Status s = a.merge(b);
    EXPECT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("1024 bins"), std::string::npos) << s.message();
    EXPECT_EQ(a.total(), 0);
}

TEST(Calibrator, MinMaxIsTheExactMax) {
    std::vector<float> v = gaussian(50000, 1.0f, 5);
    v[1234] = -7.123457f;
    AbsHistogram h;
    h.add(v.data(), v.size());
    EXPECT_EQ(amax_of(h, CalibratorKind::kMinMax), 7.123457f);
}

TEST(Calibrator, PercentileOfUniformValues) {
    const size_t n = size_t{1} << 20;
    std::vector<float> v(n);
    for (size_t k = 0; k < n; ++k) v[k] = (k % 2 ? -1.0f : 1.0f) * (static_cast<float>(k) + 0.5f) / n;
    AbsHistogram h;
    h.add(v.data(), v.size());
    ASSERT_EQ(h.range(), 1.0);
    const double w = h.bin_width();
    EXPECT_NEAR(amax_of(h, CalibratorKind::kPercentile, 99.0), 0.99, w);
    EXPECT_NEAR(amax_of(h, CalibratorKind::kPercentile, 50.0), 0.5, w);
    EXPECT_NEAR(amax_of(h, CalibratorKind::kPercentile, 99.99), 0.9999, w);
    EXPECT_EQ(amax_of(h, CalibratorKind::kPercentile, 100.0), h.amax());
    auto bad = choose_amax(h, CalibratorOptions{CalibratorKind::kPercentile, 0.0});
    ASSERT_FALSE(bad.has_value());
    EXPECT_NE(bad.status().message().find("percentile 0 is out of range"), std::string::npos) << bad.status().message();
}

// A Gaussian (sigma 1) with four outliers at 20..25 sigma in 4M samples. Clipping near the Gaussian's own tail
// trades a tiny error on four values for 5x finer steps on all others, so both calibrators must land well below
// the outliers (under 10) yet keep the bulk: above 2.5 sigma, where clipping would hurt over 1% of the values.
TEST(Calibrator, EntropyAndMseIgnoreAFewLargeOutliers) {
    std::vector<float> v = gaussian(size_t{1} << 22, 1.0f, 6);
    v[10] = 20.0f;
    v[20000] = -22.0f;
    v[300000] = 24.0f;
    v[4000000] = -25.0f;
    AbsHistogram h;
    h.add(v.data(), v.size());
    ASSERT_EQ(h.amax(), 25.0f);
    const float entropy = amax_of(h, CalibratorKind::kEntropy);
    const float mse = amax_of(h, CalibratorKind::kMse);
    EXPECT_GT(entropy, 2.5f);
    EXPECT_LT(entropy, 10.0f);
    EXPECT_GT(mse, 2.5f);
    EXPECT_LT(mse, 10.0f);
    // The mse choice is a minimum of the true error on the data, not only of its histogram estimate.
    const double at_choice = data_mse(v, mse);
    EXPECT_LE(at_choice, data_mse(v, mse * 0.8) * 1.01);
    EXPECT_LE(at_choice, data_mse(v, mse * 1.25) * 1.01);
    EXPECT_LT(at_choice, data_mse(v, 25.0) / 4.0);  // far better than minmax
}

// Uniform data has no tail to give up: clipping costs more than finer steps gain, so the threshold stays near
// the max (for mse the optimum of t^2 / (12 * 127^2) + (1 - t)^3 / 3 is 0.997).
TEST(Calibrator, EntropyAndMseKeepUniformDataNearItsMax) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> v(1 << 20);
    for (float& x : v) x = dist(rng);
    AbsHistogram h;
    h.add(v.data(), v.size());
    const float entropy = amax_of(h, CalibratorKind::kEntropy);
    const float mse = amax_of(h, CalibratorKind::kMse);
    EXPECT_GT(entropy, 0.95f * h.amax());
    EXPECT_LE(entropy, h.amax());
    EXPECT_NEAR(mse, 0.997f, 0.005f);
}

// Few samples far from zero (a thousand image values in [0.07, 0.93]): below the smallest value P and Q can both
// be one spike that agrees exactly (KL 0), so entropy must not consider thresholds that clip most samples.
TEST(Calibrator, EntropyWithFewSamplesAwayFromZeroKeepsMostOfThem) {
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> dist(0.07f, 0.93f);
    std::vector<float> v(1152);
    for (float& x : v) x = dist(rng);
    AbsHistogram h;
    h.add(v.data(), v.size());
    const float entropy = amax_of(h, CalibratorKind::kEntropy);
    EXPECT_GT(entropy, 0.5f) << "a threshold that clips more than half of the samples";
    EXPECT_LE(entropy, h.amax());
}

// Half the values of a rectified Gaussian are exact zeros. int8 holds them exactly, so they must not pull the
// threshold down: the result stays where it is for the Gaussian itself (above 3.5 sigma; counting the zeros as a
// spike in bin 0 gives 1.5 sigma for entropy).
TEST(Calibrator, EntropyAndMseLookPastTheZerosOfReLU) {
    std::vector<float> v = gaussian(size_t{1} << 20, 1.0f, 8);
    int64_t zeros = 0;
    for (float& x : v) {
        x = std::max(x, 0.0f);
        zeros += x == 0.0f;
    }
    AbsHistogram h;
    h.add(v.data(), v.size());
    EXPECT_EQ(h.zeros(), zeros);
    EXPECT_GT(zeros, 500000);
    EXPECT_GT(amax_of(h, CalibratorKind::kEntropy), 3.5f);
    EXPECT_GT(amax_of(h, CalibratorKind::kMse), 3.5f);
    EXPECT_LE(amax_of(h, CalibratorKind::kEntropy), h.amax());
}

TEST(Calibrator, EmptyHistogramIsAnError) {
    AbsHistogram h;
    auto r = choose_amax(h, CalibratorOptions());
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.status().message().find("empty"), std::string::npos) << r.status().message();
    const float nan = std::nanf("");
    h.add(&nan, 1);
    r = choose_amax(h, CalibratorOptions());
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.status().message().find("1 NaN or infinite"), std::string::npos) << r.status().message();
}

TEST(Calibrator, EntropyNeedsAHundredTwentyEightBins) {
    AbsHistogram h(64);
    const float v = 1.0f;
    h.add(&v, 1);
    auto r = choose_amax(h, CalibratorOptions());
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.status().message().find("this one has 64"), std::string::npos) << r.status().message();
    EXPECT_EQ(amax_of(h, CalibratorKind::kMinMax), 1.0f);
}

TEST(Calibrator, ParsesNamesAndDescribesThem) {
    const std::pair<const char*, CalibratorKind> names[] = {{"entropy", CalibratorKind::kEntropy},
                                                            {"percentile", CalibratorKind::kPercentile},
                                                            {"minmax", CalibratorKind::kMinMax},
                                                            {"mse", CalibratorKind::kMse}};
    for (const auto& [name, kind] : names) {
        auto r = rtinfer::quant::parse_calibrator(name, 99.9);
        ASSERT_TRUE(r.has_value()) << r.status().to_string();
        EXPECT_EQ(r->kind, kind);
        EXPECT_EQ(r->percentile, 99.9);
        const std::string expected = kind == CalibratorKind::kPercentile ? "percentile 99.9" : name;
        EXPECT_EQ(rtinfer::quant::calibrator_description(*r), expected);
    }
    EXPECT_EQ(rtinfer::quant::calibrator_description(CalibratorOptions{CalibratorKind::kPercentile, 99.99}),
              "percentile 99.99");
    auto bad = rtinfer::quant::parse_calibrator("kl", 99.99);
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.status().code(), rtinfer::StatusCode::kInvalidArgument);
    EXPECT_NE(bad.status().message().find("'kl'"), std::string::npos);
    EXPECT_NE(bad.status().message().find("entropy, percentile, minmax or mse"), std::string::npos);
    EXPECT_TRUE(rtinfer::quant::parse_calibrator("percentile", 100.0).has_value());
    for (double p : {0.0, -1.0, 100.5, std::nan("")}) {
        auto r = rtinfer::quant::parse_calibrator("percentile", p);
        ASSERT_FALSE(r.has_value()) << p;
        EXPECT_NE(r.status().message().find("(0, 100]"), std::string::npos) << r.status().message();
    }
}

TEST(Calibrator, PerChannelAmax) {
    // 3 output channels of 2x2 values each, channel-major; the largest magnitude is negative in channel 1.
    const std::vector<float> w = {0.5f,          -0.25f, 0.125f,   0.75f,  //
                                  -3.0f,         2.0f,   1.0f,     -2.5f,  //
                                  std::nanf(""), 0.0f,   -0.0625f, 0.03125f};
    EXPECT_EQ(rtinfer::quant::per_channel_amax(w.data(), 1, 3, 4), (std::vector<float>{0.75f, 3.0f, 0.0625f}));
    EXPECT_EQ(rtinfer::quant::per_channel_amax(w.data(), 1, 2, 6), (std::vector<float>{3.0f, 2.5f}));
    EXPECT_EQ(rtinfer::quant::per_channel_amax(w.data(), 1, 2, 0), (std::vector<float>{0.0f, 0.0f}));
    EXPECT_TRUE(rtinfer::quant::per_channel_amax(w.data(), 1, 0, 4).empty());
    // The channel axis last: 4 rows of 3 channels (a Gemm's B [K, N]); the NaN, in channel 2, is skipped.
    EXPECT_EQ(rtinfer::quant::per_channel_amax(w.data(), 4, 3, 1), (std::vector<float>{1.0f, 3.0f, 2.0f}));
}

TEST(Calibrator, QuantizeSymmetricRoundsHalfToEvenAndClamps) {
    using rtinfer::quant::quantize_symmetric;
    EXPECT_EQ(quantize_symmetric(0.25f, 0.5f), 0);  // 0.5 -> 0
    EXPECT_EQ(quantize_symmetric(0.75f, 0.5f), 2);  // 1.5 -> 2
    EXPECT_EQ(quantize_symmetric(1.25f, 0.5f), 2);  // 2.5 -> 2
    EXPECT_EQ(quantize_symmetric(-0.75f, 0.5f), -2);
    EXPECT_EQ(quantize_symmetric(-1.25f, 0.5f), -2);
    EXPECT_EQ(quantize_symmetric(1.3f, 0.5f), 3);  // 2.6 -> 3
    EXPECT_EQ(quantize_symmetric(63.5f, 0.5f), 127);
    EXPECT_EQ(quantize_symmetric(64.0f, 0.5f), 127);  // 128 clamps
    EXPECT_EQ(quantize_symmetric(-1e30f, 0.5f), -127);
    EXPECT_EQ(quantize_symmetric(std::numeric_limits<float>::infinity(), 0.5f), 127);
    EXPECT_EQ(quantize_symmetric(std::nanf(""), 0.5f), 0);
    EXPECT_EQ(quantize_symmetric(3.0f, 0.0f), 0);
    EXPECT_EQ(quantize_symmetric(3.0f, -1.0f), 0);
}
