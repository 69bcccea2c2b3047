// The error statistics of `rtexec compare`: one tensor of the engine under test against the same tensor of the
// reference, accumulated over every sample, and the rule that names the first layer where the error jumps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace rtexec {

class ErrorStats {
  public:
    // Adds n element pairs. A NaN on one side only is counted apart (nan_mismatches) and left out of the
    // sums, so that one bad element does not hide the size of the others' error.
    void add(const double* test, const double* ref, size_t n);
    // Adds rows (samples) of row_len scores each: whether both pick the same largest element (first on ties).
    void add_top1(const double* test, const double* ref, size_t rows, size_t row_len);

    uint64_t count() const { return count_; }
    uint64_t nan_mismatches() const { return nan_mismatches_; }
    double max_abs() const { return max_abs_; }
    double mean_abs() const;
    // ||test - ref|| / ||ref||: 0 when both are zero, infinity when only the reference is.
    double rel_l2() const;
    // test . ref / (||test|| ||ref||): 1 when both are zero, 0 when one is.
    double cosine() const;
    bool has_top1() const { return top1_rows_ > 0; }
    uint64_t top1_rows() const { return top1_rows_; }
    // Percent of rows whose top-1 agrees.
    double top1_percent() const;

  private:
    uint64_t count_ = 0;
    uint64_t nan_mismatches_ = 0;
    double max_abs_ = 0.0;
    double sum_abs_ = 0.0;
    double sum_sq_diff_ = 0.0;
    double sum_sq_ref_ = 0.0;
    double sum_sq_test_ = 0.0;
    double dot_ = 0.0;
    uint64_t top1_rows_ = 0;
    uint64_t top1_agree_ = 0;
};

// The first layer where the error jumps: the index of the first error that exceeds both `floor` and `factor`
// times the largest error before it (NaN counts as infinite); -1 when none does.
int first_error_jump(const std::vector<double>& errors, double floor, double factor);

// Where a compared tensor keeps its channels: the CUDA float16 build runs convolution regions channels-last,
// naming such values '<name>_nhwc' (core/passes/convert_to_nhwc.cpp).
enum class Layout { kSame, kTestNhwc, kRefNhwc };

// The reference's counterpart of the tensor `name` of the engine under test: the same name, or the NCHW name of a
// channels-last tensor, or the channels-last name of an NCHW one; false when `ref_names` has none of them.
bool match_tensor(const std::string& name, const std::set<std::string>& ref_names, std::string* ref_name,
                  Layout* layout);

// NHWC [n,h,w,c] -> NCHW [n,c,h,w] (dims must have rank 4 and match values' size).
void nhwc_to_nchw(std::vector<int64_t>& dims, std::vector<double>& values);

// "1.234e-05", or "inf" / "nan".
std::string format_error(double value);

}  // namespace rtexec
