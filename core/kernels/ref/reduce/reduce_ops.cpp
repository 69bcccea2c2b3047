// ReduceSum ReduceMean ReduceMax ReduceMin ReduceProd ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp
// ReduceSumSquare: one infer, one compute, and an accumulator per op. A reduction over an empty axis gives the
// accumulator's identity (0 for sums, 1 for the product, -inf for max and log-sums, +inf for min, NaN for mean).
#include <cmath>
#include <cstring>
#include <limits>

#include "core/kernels/ref/reduce/kernels.h"
#include "core/kernels/ref/reduce/reduce_util.h"

namespace rtinfer::ref {
namespace {

using reduce::Wide;

template <class T>
struct SumAcc {
    Wide<T> v = 0;
    void add(T x) { v += x; }
    T result(int64_t) const { return static_cast<T>(v); }
};

template <class T>
struct MeanAcc {
    Wide<T> v = 0;
    void add(T x) { v += x; }
    T result(int64_t n) const {
        if (n == 0) return std::numeric_limits<T>::has_quiet_NaN ? std::numeric_limits<T>::quiet_NaN() : T(0);
        return static_cast<T>(v / static_cast<Wide<T>>(n));
    }
};

template <class T>
struct MaxAcc {
    T v = reduce::lowest_value<T>();
    void add(T x) {
        if (x > v || reduce::is_nan(x)) v = x;
    }
    T result(int64_t) const { return v; }
};

template <class T>
struct MinAcc {
    T v = reduce::highest_value<T>();
    void add(T x) {
        if (x < v || reduce::is_nan(x)) v = x;
    }
    T result(int64_t) const { return v; }
};

template <class T>
struct ProdAcc {
    Wide<T> v = 1;
    void add(T x) { v *= x; }
    T result(int64_t) const { return static_cast<T>(v); }
};

template <class T>
struct L1Acc {
    Wide<T> v = 0;
    void add(T x) {
        const Wide<T> w = x;
        v += w < 0 ? -w : w;
    }
    T result(int64_t) const { return static_cast<T>(v); }
};

template <class T>
struct L2Acc {
    double v = 0;
    void add(T x) { v += static_cast<double>(x) * static_cast<double>(x); }
    T result(int64_t) const { return static_cast<T>(std::sqrt(v)); }
};

template <class T>
struct SumSquareAcc {
    Wide<T> v = 0;
    void add(T x) { v += static_cast<Wide<T>>(x) * static_cast<Wide<T>>(x); }
    T result(int64_t) const { return static_cast<T>(v); }
};

template <class T>
struct LogSumAcc {
    double v = 0;
    void add(T x) { v += static_cast<double>(x); }
    T result(int64_t) const { return static_cast<T>(std::log(v)); }
};

// Online log-sum-exp: the running maximum m keeps every exp() argument <= 0, so large inputs do not overflow.
template <class T>
struct LogSumExpAcc {
    double m = -std::numeric_limits<double>::infinity();
    double s = 0;
    void add(T xt) {
        const double x = static_cast<double>(xt);
        if (x > m) {
            s = (std::isinf(m) ? 0.0 : s * std::exp(m - x)) + 1.0;
            m = x;
        } else {
            s += std::exp(x - m);
        }
    }
    T result(int64_t) const { return static_cast<T>(std::isinf(m) ? m : m + std::log(s)); }
};

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!reduce::is_numeric_type(t))
        return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    RT_ASSIGN_OR_RETURN(
        const reduce::ReduceAxes axes,
        reduce::resolve_reduce_axes(ctx.node(), ctx.input_rank(0), ctx.has_input(1), ctx.input_value(1)));
    const bool keepdims = ctx.node().attr_int("keepdims", 1) != 0;
    ctx.set_output(0, t,
                   axes.noop ? ctx.input_shape(0) : reduce::reduced_shape(ctx.input_shape(0), axes.reduced, keepdims));
    return Status();
}

template <template <class> class Acc>
Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    ir::Tensor& y = ctx.output(0);
    RT_ASSIGN_OR_RETURN(const reduce::ReduceAxes axes,
                        reduce::resolve_reduce_axes(ctx.node(), x.rank(), ctx.has_input(1),
                                                    ctx.has_input(1) ? &ctx.input(1) : nullptr));
    if (axes.noop) {
        std::memcpy(y.raw(), x.raw(), x.nbytes());
        return Status();
    }
    const reduce::ReducePlan plan =
        reduce::make_reduce_plan(x.shape(), axes.reduced, ctx.node().attr_int("keepdims", 1) != 0);
    if (plan.out_count != y.numel())
        return ctx.error("output has " + std::to_string(y.numel()) + " elements, expected " +
                         std::to_string(plan.out_count));
    switch (x.dtype()) {
        case ir::DType::kFloat32:
            reduce::run_reduce<float, Acc<float>>(plan, x.data<float>(), y.data<float>());
            break;
        case ir::DType::kFloat64:
            reduce::run_reduce<double, Acc<double>>(plan, x.data<double>(), y.data<double>());
            break;
        case ir::DType::kInt32:
            reduce::run_reduce<int32_t, Acc<int32_t>>(plan, x.data<int32_t>(), y.data<int32_t>());
            break;
        case ir::DType::kInt64:
            reduce::run_reduce<int64_t, Acc<int64_t>>(plan, x.data<int64_t>(), y.data<int64_t>());
            break;
        case ir::DType::kInt8:
            reduce::run_reduce<int8_t, Acc<int8_t>>(plan, x.data<int8_t>(), y.data<int8_t>());
            break;
        case ir::DType::kUInt8:
            reduce::run_reduce<uint8_t, Acc<uint8_t>>(plan, x.data<uint8_t>(), y.data<uint8_t>());
            break;
        default:
            return ctx.error(std::string("input type ") + data_type_name(x.dtype()) + " is not supported");
    }
    return Status();
}

}  // namespace

const ir::OpKernel kReduceSumKernel = {"ReduceSum", "", infer, compute<SumAcc>, ir::kOpNone};
const ir::OpKernel kReduceMeanKernel = {"ReduceMean", "", infer, compute<MeanAcc>, ir::kOpNone};
const ir::OpKernel kReduceMaxKernel = {"ReduceMax", "", infer, compute<MaxAcc>, ir::kOpNone};
const ir::OpKernel kReduceMinKernel = {"ReduceMin", "", infer, compute<MinAcc>, ir::kOpNone};
const ir::OpKernel kReduceProdKernel = {"ReduceProd", "", infer, compute<ProdAcc>, ir::kOpNone};
const ir::OpKernel kReduceL1Kernel = {"ReduceL1", "", infer, compute<L1Acc>, ir::kOpNone};
const ir::OpKernel kReduceL2Kernel = {"ReduceL2", "", infer, compute<L2Acc>, ir::kOpNone};
const ir::OpKernel kReduceLogSumKernel = {"ReduceLogSum", "", infer, compute<LogSumAcc>, ir::kOpNone};
const ir::OpKernel kReduceLogSumExpKernel = {"ReduceLogSumExp", "", infer, compute<LogSumExpAcc>, ir::kOpNone};
const ir::OpKernel kReduceSumSquareKernel = {"ReduceSumSquare", "", infer, compute<SumSquareAcc>, ir::kOpNone};

}  // namespace rtinfer::ref
