// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opset 12/13) on (N, C, d1..dk) inputs with
// (N, d1..dk) targets: per-element loss -w[t] * logp[n, t, d]; ignore_index elements count with weight 0;
// reduction none keeps the per-element losses, sum adds them, mean divides by the sum of weights.
// SoftmaxCrossEntropyLoss takes log-softmax over C first and can return it as a second output.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/kernels/ref/reduce/kernels.h"
#include "core/kernels/ref/reduce/reduce_util.h"

namespace rtinfer::ref {
namespace {

enum class Reduction { kNone, kSum, kMean };

Expected<Reduction> reduction_of(const ir::Node& node) {
    const std::string r = node.attr_string("reduction", "mean");
    if (r == "none") return Reduction::kNone;
    if (r == "sum") return Reduction::kSum;
    if (r == "mean") return Reduction::kMean;
    return Status(StatusCode::kInvalidModel, node.describe() + ": reduction '" + r + "' is not none, sum or mean");
}

template <bool kSoftmax>
Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!reduce::is_float_type(t)) {
        return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    }
    if (!ctx.has_input(1)) return ctx.error("the target input is missing");
    const ir::DType tt = ctx.input_dtype(1);
    if (tt != ir::DType::kInt32 && tt != ir::DType::kInt64) {
        return ctx.error(std::string("the target must be int32 or int64, not ") + data_type_name(tt));
    }
    const ir::Shape& in = ctx.input_shape(0);
    const ir::Shape& target = ctx.input_shape(1);
    bool shapes_match = in.size() >= 2 && target.size() + 1 == in.size() && target[0] == in[0];
    for (size_t d = 1; shapes_match && d < target.size(); ++d) shapes_match = target[d] == in[d + 1];
    if (!shapes_match) {
        return ctx.error("input shape " + ir::shape_str(in) + " and target shape " + ir::shape_str(target) +
                         " are not (N, C, d1..dk) and (N, d1..dk)");
    }
    if (ctx.has_input(2)) {
        if (ctx.input_shape(2) != ir::Shape{in[1]}) {
            return ctx.error("weight shape " + ir::shape_str(ctx.input_shape(2)) + " is not [C] = [" +
                             std::to_string(in[1]) + "]");
        }
        if (ctx.input_dtype(2) != t) return ctx.error("weight type differs from the input type");
    }
    RT_ASSIGN_OR_RETURN(const Reduction r, reduction_of(ctx.node()));
    ctx.set_output(0, t, r == Reduction::kNone ? target : ir::Shape{});
    if (kSoftmax && ctx.num_outputs() > 1) ctx.set_output(1, t, in);
    return Status();
}

// logp is (N, C, D); target (N, D); out is (N, D) for kNone, else a scalar.
template <class T>
Status nll(const ir::ComputeContext& ctx, const T* logp, int64_t n, int64_t c, int64_t d,
           const std::vector<int64_t>& target, const T* weight, Reduction reduction, T* out) {
    const bool has_ii = ctx.node().has_attr("ignore_index");
    const int64_t ii = ctx.node().attr_int("ignore_index", 0);
    double sum = 0, weight_sum = 0;
    for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < d; ++j) {
            const int64_t t = target[static_cast<size_t>(i * d + j)];
            double loss = 0, w = 0;
            if (!has_ii || t != ii) {
                if (t < 0 || t >= c) {
                    return ctx.error("target " + std::to_string(t) + " is outside [0, " + std::to_string(c) + ")");
                }
                w = weight ? static_cast<double>(weight[t]) : 1.0;
                loss = -static_cast<double>(logp[(i * c + t) * d + j]) * w;
            }
            if (reduction == Reduction::kNone) out[i * d + j] = static_cast<T>(loss);
            sum += loss;
            weight_sum += w;
        }
    }
    if (reduction == Reduction::kSum) out[0] = static_cast<T>(sum);
    if (reduction == Reduction::kMean) out[0] = static_cast<T>(sum / weight_sum);
    return Status();
}

// Log-softmax over axis 1 of (N, C, D).
template <class T>
void log_softmax_c(const T* x, T* y, int64_t n, int64_t c, int64_t d) {
    for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < d; ++j) {
            const T* xr = x + i * c * d + j;
            T* yr = y + i * c * d + j;
            double m = -std::numeric_limits<double>::infinity();
            for (int64_t k = 0; k < c; ++k) m = std::max(m, static_cast<double>(xr[k * d]));
            double s = 0;
            for (int64_t k = 0; k < c; ++k) s += std::exp(static_cast<double>(xr[k * d]) - m);
            const double shift = m + std::log(s);
            for (int64_t k = 0; k < c; ++k) yr[k * d] = static_cast<T>(static_cast<double>(xr[k * d]) - shift);
        }
    }
}

template <class T, bool kSoftmax>
Status run_typed(ir::ComputeContext& ctx, Reduction reduction) {
    const ir::Tensor& x = ctx.input(0);
    const int64_t n = x.dim(0), c = x.dim(1);
    const int64_t d = c == 0 || n == 0 ? 0 : x.numel() / (n * c);
    const T* logp = x.data<T>();
    ir::Tensor scratch;
    if (kSoftmax) {
        scratch = ctx.has_output(1) ? ctx.output(1) : ir::Tensor(x.dtype(), x.shape());
        log_softmax_c(x.data<T>(), scratch.data<T>(), n, c, d);
        logp = scratch.data<T>();
    }
    const T* weight = ctx.has_input(2) ? ctx.input(2).data<T>() : nullptr;
    return nll<T>(ctx, logp, n, c, d, reduce::read_int_values(ctx.input(1)), weight, reduction,
                  ctx.output(0).data<T>());
}

template <bool kSoftmax>
Status compute(ir::ComputeContext& ctx) {
    RT_ASSIGN_OR_RETURN(const Reduction r, reduction_of(ctx.node()));
    switch (ctx.input(0).dtype()) {
        case ir::DType::kFloat32:
            return run_typed<float, kSoftmax>(ctx, r);
        case ir::DType::kFloat64:
            return run_typed<double, kSoftmax>(ctx, r);
        default:
            return ctx.error(std::string("input type ") + data_type_name(ctx.input(0).dtype()) + " is not supported");
    }
}

}  // namespace

const ir::OpKernel kNegativeLogLikelihoodLossKernel = {"NegativeLogLikelihoodLoss", "", infer<false>, compute<false>,
                                                       ir::kOpNone};
const ir::OpKernel kSoftmaxCrossEntropyLossKernel = {"SoftmaxCrossEntropyLoss", "", infer<true>, compute<true>,
                                                     ir::kOpNone};

}  // namespace rtinfer::ref
