// BatchNormalization. Inference: y = (x - mean) / sqrt(var + epsilon) * scale + B per channel. Training
// (training_mode=1 from opset 14; extra outputs requested before it): the batch's own statistics normalize
// x, and the running mean and variance are updated with momentum. Opsets 7 and 8 with spatial=0 take
// parameters per (channel, spatial position).
#include <cmath>
#include <string>
#include <vector>

#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::ref {
namespace {

// X seen as [N, channels, inner]; channels are C, or C * spatial for the per-element form of spatial=0.
struct Layout {
    int64_t batch = 0, channels = 0, inner = 0;
};

Layout layout(const ir::Node& node, int64_t opset, const ir::Shape& x) {
    Layout l;
    l.batch = x[0];
    l.channels = x.size() > 1 ? x[1] : 1;
    l.inner = 1;
    for (size_t i = 2; i < x.size(); ++i) l.inner *= x[i];
    if (opset < 9 && node.attr_int("spatial", 1) == 0) {
        l.channels *= l.inner;
        l.inner = 1;
    }
    return l;
}

bool training(const ir::Node& node, int64_t opset) {
    if (opset >= 14) return node.attr_int("training_mode", 0) != 0;
    for (size_t i = 1; i < node.outputs.size(); ++i) {
        if (!node.outputs[i].empty()) return true;
    }
    return false;
}

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!nn::is_float(t)) return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    const ir::Shape& x = ctx.input_shape(0);
    if (x.size() < 2) return ctx.error("input X has shape " + ir::shape_str(x) + ", expected [N, C, ...]");
    if (ctx.num_inputs() < 5) return ctx.error("expects 5 inputs: X, scale, B, input_mean, input_var");
    const Layout l = layout(ctx.node(), ctx.opset(), x);
    const char* names[] = {"", "scale", "B", "input_mean", "input_var"};
    for (size_t i = 1; i < 5; ++i) {
        if (!nn::is_float(ctx.input_dtype(i))) return ctx.error(std::string(names[i]) + " must be a float tensor");
        if (l.channels >= 0 && ir::shape_numel(ctx.input_shape(i)) != l.channels) {
            return ctx.error(std::string(names[i]) + " has shape " + ir::shape_str(ctx.input_shape(i)) + " but X " +
                             ir::shape_str(x) + " has " + std::to_string(l.channels) + " channels");
        }
    }
    ctx.set_output(0, t, x);
    if (training(ctx.node(), ctx.opset())) {
        const double momentum = ctx.node().attr_float("momentum", 0.9f);
        if (!(momentum >= 0.0 && momentum <= 1.0)) return ctx.error("momentum must be in [0, 1]");
        for (size_t i = 1; i < ctx.num_outputs(); ++i) {
            if (ctx.has_output(i)) ctx.set_output(i, ctx.input_dtype(3), ctx.input_shape(3));
        }
    } else if (ctx.num_outputs() > 1 && ctx.opset() >= 14) {
        for (size_t i = 1; i < ctx.num_outputs(); ++i) {
            if (ctx.has_output(i)) return ctx.error("running_mean/running_var outputs need training_mode=1");
        }
    }
    return Status();
}

void store(ir::Tensor& t, int64_t i, double v) {
    if (t.dtype() == ir::DType::kFloat64) {
        t.data<double>()[i] = v;
    } else {
        t.data<float>()[i] = static_cast<float>(v);
    }
}

template <class T>
Status run(ir::ComputeContext& ctx) {
    const ir::Node& node = ctx.node();
    const ir::Tensor& xt = ctx.input(0);
    const Layout l = layout(node, ctx.opset(), xt.shape());
    const std::vector<double> scale = ir::to_doubles(ctx.input(1));
    const std::vector<double> bias = ir::to_doubles(ctx.input(2));
    std::vector<double> mean = ir::to_doubles(ctx.input(3));
    std::vector<double> var = ir::to_doubles(ctx.input(4));
    const double epsilon = node.attr_float("epsilon", 1e-5f);
    const T* x = xt.data<T>();
    T* y = ctx.output(0).data<T>();

    if (training(node, ctx.opset())) {
        const double momentum = node.attr_float("momentum", 0.9f);
        const double count = static_cast<double>(l.batch * l.inner);
        std::vector<double> batch_mean(static_cast<size_t>(l.channels), 0.0), batch_var(batch_mean);
        for (int64_t c = 0; c < l.channels; ++c) {
            double sum = 0.0, sq = 0.0;
            for (int64_t n = 0; n < l.batch; ++n) {
                const T* p = x + (n * l.channels + c) * l.inner;
                for (int64_t i = 0; i < l.inner; ++i) sum += static_cast<double>(p[i]);
            }
            const double mu = count > 0 ? sum / count : 0.0;
            for (int64_t n = 0; n < l.batch; ++n) {
                const T* p = x + (n * l.channels + c) * l.inner;
                for (int64_t i = 0; i < l.inner; ++i) sq += (p[i] - mu) * (p[i] - mu);
            }
            batch_mean[c] = mu;
            batch_var[c] = count > 0 ? sq / count : 0.0;
        }
        // Outputs: running mean, running var, then (before opset 14) the batch's mean and variance.
        for (int64_t c = 0; c < l.channels; ++c) {
            const double values[] = {mean[c] * momentum + batch_mean[c] * (1.0 - momentum),
                                     var[c] * momentum + batch_var[c] * (1.0 - momentum), batch_mean[c], batch_var[c]};
            for (size_t o = 1; o < ctx.num_outputs() && o <= 4; ++o) {
                if (ctx.has_output(o)) store(ctx.output(o), c, values[o - 1]);
            }
        }
        mean.swap(batch_mean);
        var.swap(batch_var);
    }

    for (int64_t c = 0; c < l.channels; ++c) {
        const double k = scale[c] / std::sqrt(var[c] + epsilon);
        const double shift = bias[c] - mean[c] * k;
        for (int64_t n = 0; n < l.batch; ++n) {
            const T* p = x + (n * l.channels + c) * l.inner;
            T* q = y + (n * l.channels + c) * l.inner;
            for (int64_t i = 0; i < l.inner; ++i) q[i] = static_cast<T>(p[i] * k + shift);
        }
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

const ir::OpKernel kBatchNormalizationKernel = {"BatchNormalization", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
