// Max Min Sum Mean: any number of inputs (one included), all broadcast together. Max and Min propagate
// NaN, as numpy.maximum / numpy.minimum do.
#include <cmath>

#include "core/kernels/ref/elementwise/common.h"
#include "core/kernels/ref/elementwise/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace ew;

struct Max {
    template <class T>
    T operator()(T a, T b) const {
        if constexpr (std::is_floating_point_v<T>) {
            if (std::isnan(a) || std::isnan(b)) return a + b;
        }
        return a < b ? b : a;
    }
};
struct Min {
    template <class T>
    T operator()(T a, T b) const {
        if constexpr (std::is_floating_point_v<T>) {
            if (std::isnan(a) || std::isnan(b)) return a + b;
        }
        return b < a ? b : a;
    }
};
struct Sum {
    template <class T>
    T operator()(T a, T b) const {
        return a + b;
    }
};

Status mean_compute(ir::ComputeContext& ctx) {
    RT_RETURN_IF_ERROR(variadic_apply<kFloats>(ctx, Sum()));
    ir::Tensor& out = ctx.output(0);
    const auto count = static_cast<double>(ctx.num_inputs());
    dispatch<kFloats>(out.dtype(), [&](auto tag) {
        using T = decltype(tag);
        T* p = out.data<T>();
        for (int64_t i = 0; i < out.numel(); ++i) p[i] = static_cast<T>(p[i] / static_cast<T>(count));
    });
    return Status();
}

}  // namespace

const ir::OpKernel kMaxKernel = {"Max", "", variadic_infer<kNumeric>, variadic_compute<Max, kNumeric>, ir::kOpNone};
const ir::OpKernel kMinKernel = {"Min", "", variadic_infer<kNumeric>, variadic_compute<Min, kNumeric>, ir::kOpNone};
const ir::OpKernel kSumKernel = {"Sum", "", variadic_infer<kFloats>, variadic_compute<Sum, kFloats>, ir::kOpNone};
const ir::OpKernel kMeanKernel = {"Mean", "", variadic_infer<kFloats>, mean_compute, ir::kOpNone};

}  // namespace rtinfer::ref
