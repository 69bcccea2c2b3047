#include "sdk/rtexec/compare_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

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

std::string format_error(double value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return "inf";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3e", value);
    return buf;
}

}  // namespace rtexec
