#include "core/quant/accuracy_budget.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace rtinfer::quant {

Expected<AccuracyBudget> parse_accuracy_budget(const std::string& text) {
    AccuracyBudget b;
    std::string number = text;
    if (text.rfind("top1:", 0) == 0) {
        b.top1 = true;
        number = text.substr(5);
    }
    char* end = nullptr;
    b.value = std::strtod(number.c_str(), &end);
    const bool ok = !number.empty() && end && *end == '\0' && (b.top1 ? b.value > 0 && b.value <= 100 : b.value > 0);
    if (!ok) {
        return Status(StatusCode::kInvalidArgument, "accuracy budget '" + text +
                                                        "': give the largest relative output error (e.g. 0.02) or "
                                                        "top1:P, the top-1 agreement in % (e.g. top1:99)");
    }
    return b;
}

double output_accuracy(const std::vector<std::vector<float>>& got, const std::vector<std::vector<float>>& want,
                       const std::vector<TensorDesc>& outputs, size_t samples, bool top1) {
    if (!top1) {
        double worst = 0.0;
        for (size_t k = 0; k < got.size(); ++k) {
            double diff = 0.0, ref = 0.0;
            for (size_t i = 0; i < got[k].size(); ++i) {
                diff += (double(got[k][i]) - want[k][i]) * (double(got[k][i]) - want[k][i]);
                ref += double(want[k][i]) * want[k][i];
            }
            worst = std::max(worst, ref > 0 ? std::sqrt(diff / ref) : std::sqrt(diff));
        }
        return worst;
    }
    size_t agree = 0, total = 0;
    for (size_t k = 0; k < got.size(); ++k) {
        if (outputs[k].dims.size() != 2 || samples == 0) continue;
        const size_t classes = got[k].size() / samples;
        for (size_t s = 0; s < samples; ++s) {
            const auto* a = got[k].data() + s * classes;
            const auto* b = want[k].data() + s * classes;
            agree += std::max_element(a, a + classes) - a == std::max_element(b, b + classes) - b;
            ++total;
        }
    }
    return total ? 100.0 * static_cast<double>(agree) / static_cast<double>(total) : 100.0;
}

}  // namespace rtinfer::quant
