// MeanVarianceNormalization: y = (x - mean) / (sqrt(variance) + 1e-9), the statistics taken over `axes`
// (default [0, 2, 3]), as the ONNX function body defines it.
#include <cmath>
#include <string>
#include <vector>

#include "core/ir/shape_util.h"
#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::ref {
namespace {

// The reduced-dims mask of `axes` for a rank, or an error naming the bad axis.
Status reduced_mask(const ir::Node& node, int rank, std::vector<bool>& mask) {
    mask.assign(static_cast<size_t>(rank), false);
    for (int64_t a : node.attr_ints("axes", {0, 2, 3})) {
        auto axis = ir::normalize_axis(a, rank);
        if (!axis) return nn::node_error(node, axis.status().message());
        mask[static_cast<size_t>(*axis)] = true;
    }
    return Status();
}

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!nn::is_float(t)) return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    std::vector<bool> mask;
    RT_RETURN_IF_ERROR(reduced_mask(ctx.node(), ctx.input_rank(0), mask));
    ctx.set_output(0, t, ctx.input_shape(0));
    return Status();
}

template <class T>
Status run(ir::ComputeContext& ctx) {
    const ir::Tensor& xt = ctx.input(0);
    std::vector<bool> mask;
    RT_RETURN_IF_ERROR(reduced_mask(ctx.node(), xt.rank(), mask));
    // Every element maps to the slot of its kept dims; statistics accumulate per slot.
    ir::Shape kept = xt.shape();
    for (size_t d = 0; d < kept.size(); ++d) {
        if (mask[d]) kept[d] = 1;
    }
    const int64_t slots = ir::shape_numel(kept);
    const int64_t count = slots == 0 ? 0 : xt.numel() / slots;
    std::vector<int64_t> slot_of(static_cast<size_t>(xt.numel()));
    ir::for_each_broadcast(xt.shape(), {kept},
                           [&](int64_t i, int64_t s, int64_t, int64_t) { slot_of[static_cast<size_t>(i)] = s; });
    const T* x = xt.data<T>();
    T* y = ctx.output(0).data<T>();
    std::vector<double> mean(static_cast<size_t>(slots), 0.0), sq(mean);
    for (int64_t i = 0; i < xt.numel(); ++i) mean[slot_of[i]] += static_cast<double>(x[i]);
    for (double& m : mean) m /= static_cast<double>(count);
    for (int64_t i = 0; i < xt.numel(); ++i) {
        const double d = x[i] - mean[slot_of[i]];
        sq[slot_of[i]] += d * d;
    }
    for (int64_t i = 0; i < xt.numel(); ++i) {
        const size_t s = static_cast<size_t>(slot_of[i]);
        y[i] = static_cast<T>((x[i] - mean[s]) / (std::sqrt(sq[s] / static_cast<double>(count)) + 1e-9));
    }
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    switch (ctx.input(0).dtype()) {
        case ir::DType::kFloat32:
            return run<float>(ctx);
        case ir::DType::kFloat64:
            return run<double>(ctx);
        default:
            return ctx.error("unexpected input type");
    }
}

}  // namespace

const ir::OpKernel kMeanVarianceNormalizationKernel = {"MeanVarianceNormalization", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
