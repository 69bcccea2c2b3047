// Softmax, LogSoftmax, Hardmax. Before opset 13 the input is coerced to 2-D at `axis` (default 1) and each
// row of the flattened tail is normalized; from opset 13 only the single `axis` (default -1) is.
#include <cmath>
#include <string>

#include "core/ir/shape_util.h"
#include "core/kernels/ref/reduce/kernels.h"
#include "core/kernels/ref/reduce/reduce_util.h"

namespace rtinfer::ref {
namespace {

enum class Mode { kSoftmax, kLogSoftmax, kHardmax };

Expected<reduce::AxisSplit> normalized_extent(const ir::Node& node, int64_t opset, const ir::Shape& shape) {
    const int rank = static_cast<int>(shape.size());
    const int64_t axis = node.attr_int("axis", opset < 13 ? 1 : -1);
    if (rank == 0 || axis < -rank || axis >= rank) {
        return Status(StatusCode::kInvalidModel, node.describe() + ": axis " + std::to_string(axis) +
                                                     " is out of range for an input of rank " + std::to_string(rank));
    }
    const int a = static_cast<int>(axis < 0 ? axis + rank : axis);
    reduce::AxisSplit s = reduce::split_at_axis(shape, a);
    if (opset < 13) {
        s.axis_dim *= s.inner;
        s.inner = 1;
    }
    return s;
}

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!reduce::is_float_type(t)) {
        return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    }
    RT_RETURN_IF_ERROR(normalized_extent(ctx.node(), ctx.opset(), ctx.input_shape(0)).status());
    ctx.set_output(0, t, ctx.input_shape(0));
    return Status();
}

// One normalized row of n elements, `stride` apart. Sums run in double; exp runs in T.
template <class T, Mode kMode>
void normalize_row(const T* x, T* y, int64_t n, int64_t stride) {
    if (n == 0) return;
    T m = x[0];
    int64_t arg = 0;
    for (int64_t k = 1; k < n; ++k) {
        if (x[k * stride] > m) {
            m = x[k * stride];
            arg = k;
        }
    }
    if (kMode == Mode::kHardmax) {
        for (int64_t k = 0; k < n; ++k) y[k * stride] = T(k == arg ? 1 : 0);
        return;
    }
    double sum = 0;
    if (kMode == Mode::kSoftmax) {
        for (int64_t k = 0; k < n; ++k) {
            const T e = std::exp(x[k * stride] - m);
            y[k * stride] = e;
            sum += e;
        }
        const T scale = static_cast<T>(1.0 / sum);
        for (int64_t k = 0; k < n; ++k) y[k * stride] *= scale;
    } else {
        for (int64_t k = 0; k < n; ++k) sum += std::exp(x[k * stride] - m);
        // (x - m) is exact; subtracting x - (m + log(sum)) instead would lose the low bits of large inputs.
        const T log_sum = static_cast<T>(std::log(sum));
        for (int64_t k = 0; k < n; ++k) y[k * stride] = (x[k * stride] - m) - log_sum;
    }
}

template <class T, Mode kMode>
void run(const reduce::AxisSplit& s, const T* x, T* y) {
    for (int64_t o = 0; o < s.outer; ++o) {
        const int64_t base = o * s.axis_dim * s.inner;
        if (s.inner == 1) {
            normalize_row<T, kMode>(x + base, y + base, s.axis_dim, 1);
        } else {
            for (int64_t i = 0; i < s.inner; ++i)
                normalize_row<T, kMode>(x + base + i, y + base + i, s.axis_dim, s.inner);
        }
    }
}

template <Mode kMode>
Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    ir::Tensor& y = ctx.output(0);
    RT_ASSIGN_OR_RETURN(const reduce::AxisSplit s, normalized_extent(ctx.node(), ctx.opset(), x.shape()));
    switch (x.dtype()) {
        case ir::DType::kFloat32:
            run<float, kMode>(s, x.data<float>(), y.data<float>());
            break;
        case ir::DType::kFloat64:
            run<double, kMode>(s, x.data<double>(), y.data<double>());
            break;
        default:
            return ctx.error(std::string("input type ") + data_type_name(x.dtype()) + " is not supported");
    }
    return Status();
}

}  // namespace

const ir::OpKernel kSoftmaxKernel = {"Softmax", "", infer, compute<Mode::kSoftmax>, ir::kOpNone};
const ir::OpKernel kLogSoftmaxKernel = {"LogSoftmax", "", infer, compute<Mode::kLogSoftmax>, ir::kOpNone};
const ir::OpKernel kHardmaxKernel = {"Hardmax", "", infer, compute<Mode::kHardmax>, ir::kOpNone};

}  // namespace rtinfer::ref
