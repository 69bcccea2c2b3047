#include "sdk/rtexec/compare_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

namespace rtexec {

void ErrorStats::add(const double* test, const double* ref, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        const double a = test[i], b = ref[i];
        if (std::isnan(a) || std::isnan(b)) {
            if (std::isnan(a) != std::isnan(b)) ++nan_mismatches_;
            continue;
        }
        const double d = a - b;
        max_abs_ = std::max(max_abs_, std::fabs(d));
        sum_abs_ += std::fabs(d);
        sum_sq_diff_ += d * d;
        sum_sq_ref_ += b * b;
        sum_sq_test_ += a * a;
        dot_ += a * b;
        ++count_;
    }
}

void ErrorStats::add_top1(const double* test, const double* ref, size_t rows, size_t row_len) {
    if (row_len == 0) return;
    for (size_t r = 0; r < rows; ++r) {
        const double* a = test + r * row_len;
        const double* b = ref + r * row_len;
        top1_agree_ += std::max_element(a, a + row_len) - a == std::max_element(b, b + row_len) - b;
        ++top1_rows_;
    }
}

double ErrorStats::mean_abs() const {
    return count_ ? sum_abs_ / static_cast<double>(count_) : 0.0;
}

double ErrorStats::rel_l2() const {
    if (sum_sq_ref_ == 0.0) return sum_sq_diff_ == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
    return std::sqrt(sum_sq_diff_) / std::sqrt(sum_sq_ref_);
}

double ErrorStats::cosine() const {
    if (sum_sq_ref_ == 0.0 || sum_sq_test_ == 0.0) return sum_sq_ref_ == sum_sq_test_ ? 1.0 : 0.0;
    return dot_ / (std::sqrt(sum_sq_test_) * std::sqrt(sum_sq_ref_));
}

double ErrorStats::top1_percent() const {
    return top1_rows_ ? 100.0 * static_cast<double>(top1_agree_) / static_cast<double>(top1_rows_) : 0.0;
}

int first_error_jump(const std::vector<double>& errors, double floor, double factor) {
    double largest = 0.0;
    for (size_t i = 0; i < errors.size(); ++i) {
        const double e = std::isnan(errors[i]) ? std::numeric_limits<double>::infinity() : errors[i];
        if (e > floor && e > factor * largest) return static_cast<int>(i);
        largest = std::max(largest, e);
    }
    return -1;
}

bool match_tensor(const std::string& name, const std::set<std::string>& ref_names, std::string* ref_name,
                  Layout* layout) {
    static const std::string kSuffix = "_nhwc";
    const size_t n = name.size(), k = kSuffix.size();
    if (ref_names.count(name)) {
        *ref_name = name;
        *layout = Layout::kSame;
    } else if (n > k && name.compare(n - k, k, kSuffix) == 0 && ref_names.count(name.substr(0, n - k))) {
        *ref_name = name.substr(0, n - k);
        *layout = Layout::kTestNhwc;
    } else if (ref_names.count(name + kSuffix)) {
        *ref_name = name + kSuffix;
        *layout = Layout::kRefNhwc;
    } else {
        return false;
    }
    return true;
}

void nhwc_to_nchw(std::vector<int64_t>& dims, std::vector<double>& values) {
    const int64_t n = dims[0], h = dims[1], w = dims[2], c = dims[3];
    std::vector<double> out(values.size());
    for (int64_t b = 0; b < n; ++b)
        for (int64_t y = 0; y < h; ++y)
            for (int64_t x = 0; x < w; ++x)
                for (int64_t k = 0; k < c; ++k)
                    out[static_cast<size_t>(((b * c + k) * h + y) * w + x)] =
                        values[static_cast<size_t>(((b * h + y) * w + x) * c + k)];
    values = std::move(out);
    dims = {n, c, h, w};
}

std::string format_error(double value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return "inf";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3e", value);
    return buf;
}

}  // namespace rtexec
