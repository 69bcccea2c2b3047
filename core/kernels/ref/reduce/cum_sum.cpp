// CumSum: running sums along the axis given by the second input; `exclusive` leaves out the element itself,
// `reverse` runs from the end.
#include <string>

#include "core/kernels/ref/reduce/kernels.h"
#include "core/kernels/ref/reduce/reduce_util.h"

namespace rtinfer::ref {
namespace {

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!reduce::is_float_type(t) && t != ir::DType::kInt32 && t != ir::DType::kInt64)
        return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    if (!ctx.has_input(1)) return ctx.error("the axis input is missing");
    const ir::DType at = ctx.input_dtype(1);
    if (at != ir::DType::kInt32 && at != ir::DType::kInt64) {
        return ctx.error(std::string("the axis input must be int32 or int64, not ") + data_type_name(at));
    }
    ctx.set_output(0, t, ctx.input_shape(0));
    return Status();
}

template <class T>
void cum_sum(const reduce::AxisSplit& s, bool exclusive, bool reverse, const T* x, T* y) {
    for (int64_t o = 0; o < s.outer; ++o) {
        for (int64_t i = 0; i < s.inner; ++i) {
            const int64_t base = o * s.axis_dim * s.inner + i;
            reduce::Wide<T> acc = 0;
            for (int64_t step = 0; step < s.axis_dim; ++step) {
                const int64_t a = reverse ? s.axis_dim - 1 - step : step;
                const int64_t off = base + a * s.inner;
                const T v = x[off];  // read before writing: y may alias x
                if (exclusive) {
                    y[off] = static_cast<T>(acc);
                    acc += v;
                } else {
                    acc += v;
                    y[off] = static_cast<T>(acc);
                }
            }
        }
    }
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    ir::Tensor& y = ctx.output(0);
    const std::vector<int64_t> axis_values = reduce::read_int_values(ctx.input(1));
    if (axis_values.size() != 1) return ctx.error("the axis input must hold one value");
    const int rank = x.rank();
    const int64_t axis = axis_values[0];
    if (rank == 0 || axis < -rank || axis >= rank) {
        return ctx.error("axis " + std::to_string(axis) + " is out of range for an input of rank " +
                         std::to_string(rank));
    }
    const reduce::AxisSplit s = reduce::split_at_axis(x.shape(), static_cast<int>(axis < 0 ? axis + rank : axis));
    const bool exclusive = ctx.node().attr_int("exclusive", 0) != 0;
    const bool reverse = ctx.node().attr_int("reverse", 0) != 0;
    switch (x.dtype()) {
        case ir::DType::kFloat32:
            cum_sum(s, exclusive, reverse, x.data<float>(), y.data<float>());
            break;
        case ir::DType::kFloat64:
            cum_sum(s, exclusive, reverse, x.data<double>(), y.data<double>());
            break;
        case ir::DType::kInt32:
            cum_sum(s, exclusive, reverse, x.data<int32_t>(), y.data<int32_t>());
            break;
        case ir::DType::kInt64:
            cum_sum(s, exclusive, reverse, x.data<int64_t>(), y.data<int64_t>());
            break;
        default:
            return ctx.error(std::string("input type ") + data_type_name(x.dtype()) + " is not supported");
    }
    return Status();
}

}  // namespace

const ir::OpKernel kCumSumKernel = {"CumSum", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
