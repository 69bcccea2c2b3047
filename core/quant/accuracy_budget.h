// The INT8 accuracy budget: what it says, and how far a quantized engine's outputs are from float32's.
#pragma once

#include <string>
#include <vector>

#include "rtinfer/status.h"
#include "rtinfer/types.h"

namespace rtinfer::quant {

// "0.02": the largest relative L2 error of any output; "top1:99": top-1 agreement in % of [batch, classes]
// outputs.
struct AccuracyBudget {
    bool top1 = false;
    double value = 0.0;
};

// An error naming the text and both forms when it is neither (or out of range: > 0; a percentage in (0, 100]).
Expected<AccuracyBudget> parse_accuracy_budget(const std::string& text);

// got and want hold each output's float32 values, the samples one after the other. top1: the agreement in % of
// the outputs of rank 2 (one row of classes per sample; 100 when there are none); otherwise the largest
// relative L2 error over the outputs (the absolute one where want is all zeros).
double output_accuracy(const std::vector<std::vector<float>>& got, const std::vector<std::vector<float>>& want,
                       const std::vector<TensorDesc>& outputs, size_t samples, bool top1);

// Whether a figure of output_accuracy meets the budget.
inline bool meets(const AccuracyBudget& budget, double reached) {
    return budget.top1 ? reached >= budget.value : reached <= budget.value;
}

}  // namespace rtinfer::quant
