// LayerNormalization: normalizes X over dims [axis, rank), then Scale and B (broadcast to those dims).
// Optional outputs Mean and InvStdDev have X's shape with the normalized dims set to 1.
#include <cmath>
#include <string>
#include <vector>

#include "core/ir/shape_util.h"
#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::ref {
namespace {

// Float statistics for float16/float32 X (stash_type 1), double for double X.
ir::DType stats_type(ir::DType x) {
    return x == ir::DType::kFloat64 ? ir::DType::kFloat64 : ir::DType::kFloat32;
}

Status check_param(const ir::InferContext& ctx, size_t i, const ir::Shape& normalized, const char* what) {
    const ir::Shape& s = ctx.input_shape(i);
    auto b = ir::broadcast_shapes(s, normalized);
    if (s.size() > normalized.size() || !b || *b != normalized) {
        return ctx.error(std::string(what) + " " + ir::shape_str(s) + " does not broadcast to the normalized shape " +
                         ir::shape_str(normalized));
    }
    return Status();
}

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!nn::is_float(t)) return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    const ir::Shape& x = ctx.input_shape(0);
    auto axis = ir::normalize_axis(ctx.node().attr_int("axis", -1), ctx.input_rank(0));
    if (!axis || x.empty()) return ctx.error("axis out of range for X " + ir::shape_str(x));
    const ir::Shape normalized(x.begin() + *axis, x.end());
    RT_RETURN_IF_ERROR(check_param(ctx, 1, normalized, "Scale"));
    if (ctx.has_input(2)) RT_RETURN_IF_ERROR(check_param(ctx, 2, normalized, "B"));
    ctx.set_output(0, t, x);
    ir::Shape stats = x;
    for (size_t i = static_cast<size_t>(*axis); i < stats.size(); ++i) stats[i] = 1;
    for (size_t i = 1; i < 3; ++i) {
        if (ctx.has_output(i)) ctx.set_output(i, stats_type(t), stats);
    }
    return Status();
}

// A parameter broadcast to the normalized shape, as doubles.
std::vector<double> expand(const ir::Tensor& p, const ir::Shape& normalized) {
    const std::vector<double> v = ir::to_doubles(p);
    std::vector<double> out(static_cast<size_t>(ir::shape_numel(normalized)));
    ir::for_each_broadcast(normalized, {p.shape()}, [&](int64_t i, int64_t off, int64_t, int64_t) {
        out[static_cast<size_t>(i)] = v[static_cast<size_t>(off)];
    });
    return out;
}

void store(ir::Tensor* t, int64_t i, double v) {
    if (!t) return;
    if (t->dtype() == ir::DType::kFloat64) {
        t->data<double>()[i] = v;
    } else {
        t->data<float>()[i] = static_cast<float>(v);
    }
}

template <class T>
Status run(ir::ComputeContext& ctx) {
    const ir::Tensor& xt = ctx.input(0);
    RT_ASSIGN_OR_RETURN(int axis, ir::normalize_axis(ctx.node().attr_int("axis", -1), xt.rank()));
    const ir::Shape normalized(xt.shape().begin() + axis, xt.shape().end());
    const int64_t inner = ir::shape_numel(normalized);
    const int64_t outer = inner == 0 ? 0 : xt.numel() / inner;
    const std::vector<double> scale = expand(ctx.input(1), normalized);
    const std::vector<double> bias = ctx.has_input(2) ? expand(ctx.input(2), normalized) : std::vector<double>();
    const double epsilon = ctx.node().attr_float("epsilon", 1e-5f);
    ir::Tensor* mean_out = ctx.has_output(1) ? &ctx.output(1) : nullptr;
    ir::Tensor* inv_out = ctx.has_output(2) ? &ctx.output(2) : nullptr;
    const T* x = xt.data<T>();
    T* y = ctx.output(0).data<T>();
    for (int64_t o = 0; o < outer; ++o) {
        const T* p = x + o * inner;
        T* q = y + o * inner;
        double sum = 0.0, sq = 0.0;
        for (int64_t i = 0; i < inner; ++i) sum += static_cast<double>(p[i]);
        const double mean = sum / static_cast<double>(inner);
        for (int64_t i = 0; i < inner; ++i) sq += (p[i] - mean) * (p[i] - mean);
        const double inv = 1.0 / std::sqrt(sq / static_cast<double>(inner) + epsilon);
        for (int64_t i = 0; i < inner; ++i) {
            const double v = (p[i] - mean) * inv * scale[i];
            q[i] = static_cast<T>(bias.empty() ? v : v + bias[i]);
        }
        store(mean_out, o, mean);
        store(inv_out, o, inv);
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

const ir::OpKernel kLayerNormalizationKernel = {"LayerNormalization", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
