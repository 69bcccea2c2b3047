// The optimizers of the ai.onnx.preview.training domain: Adagrad, Momentum and Adam. Each takes the
// learning rate R and step count T, then n tensors to optimize with their gradients and states, and
// returns the updated tensors followed by the updated states.
#include <cmath>
#include <vector>

#include "core/kernels/ref/misc/kernels.h"
#include "core/kernels/ref/misc/misc_util.h"

namespace rtinfer::ref {
namespace {

enum class Optimizer { kAdagrad, kMomentum, kAdam };

// Tensor groups after R and T: X, G and one (Adagrad: H; Momentum: V) or two (Adam: V, H) states.
int groups(Optimizer o) {
    return o == Optimizer::kAdam ? 4 : 3;
}

template <Optimizer kOpt>
Status infer(ir::InferContext& ctx) {
    const size_t g = static_cast<size_t>(groups(kOpt));
    if (ctx.num_inputs() < 2 + g || (ctx.num_inputs() - 2) % g != 0) {
        return ctx.error("needs R, T and " + std::to_string(g) + " inputs per optimized tensor");
    }
    const size_t n = (ctx.num_inputs() - 2) / g;
    if (ctx.num_outputs() > n * (g - 1)) return ctx.error("has too many outputs");
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
        if (!ctx.has_input(i)) return ctx.error("input " + std::to_string(i) + " is missing");
    }
    if (!misc::is_float_type(ctx.input_dtype(0))) return ctx.error("R must be floating point");
    if (ctx.input_dtype(1) != ir::DType::kInt64) return ctx.error("T must be int64");
    for (size_t k = 0; k < n; ++k) {
        const ir::Shape& x = ctx.input_shape(2 + k);
        for (size_t j = 1; j < g; ++j) {
            if (ctx.input_shape(2 + j * n + k) != x) {
                return ctx.error("tensor " + std::to_string(k) + " and its gradient/state differ in shape");
            }
        }
        if (!misc::is_float_type(ctx.input_dtype(2 + k))) return ctx.error("optimized tensors must be floating point");
    }
    for (size_t o = 0; o < ctx.num_outputs(); ++o) {
        const size_t k = o % n;  // outputs: X_new..., then the states in input order
        if (ctx.has_output(o)) ctx.set_output(o, ctx.input_dtype(2 + k), ctx.input_shape(2 + k));
    }
    return Status();
}

template <Optimizer kOpt>
Status compute(ir::ComputeContext& ctx) {
    const ir::Node& node = ctx.node();
    const size_t g = static_cast<size_t>(groups(kOpt));
    const size_t n = (ctx.num_inputs() - 2) / g;
    const double rate = misc::first_value(ctx.input(0));
    const int64_t step = ir::to_int64s(ctx.input(1))[0];
    const double norm = node.attr_float("norm_coefficient", 0.0f);
    for (size_t k = 0; k < n; ++k) {
        const std::vector<double> x = ir::to_doubles(ctx.input(2 + k));
        const std::vector<double> grad = ir::to_doubles(ctx.input(2 + n + k));
        std::vector<double> s1 = ir::to_doubles(ctx.input(2 + 2 * n + k));
        std::vector<double> s2 = kOpt == Optimizer::kAdam ? ir::to_doubles(ctx.input(2 + 3 * n + k)) : s1;
        std::vector<double> x_new(x.size());
        for (size_t i = 0; i < x.size(); ++i) {
            const double gr = norm * x[i] + grad[i];
            if (kOpt == Optimizer::kAdagrad) {
                const double decay = node.attr_float("decay_factor", 0.0f);
                const double eps = node.attr_float("epsilon", 1e-6f);
                const double r = rate / (1.0 + static_cast<double>(step) * decay);
                s1[i] += gr * gr;
                x_new[i] = x[i] - r * gr / (std::sqrt(s1[i]) + eps);
            } else if (kOpt == Optimizer::kMomentum) {
                const double alpha = node.attr_float("alpha", 0.0f), beta = node.attr_float("beta", 0.0f);
                const bool nesterov = node.attr_string("mode", "standard") == "nesterov";
                s1[i] = alpha * s1[i] + (step > 0 ? beta : 1.0) * gr;
                x_new[i] = x[i] - rate * (nesterov ? gr + alpha * s1[i] : s1[i]);
            } else {
                const double alpha = node.attr_float("alpha", 0.9f), beta = node.attr_float("beta", 0.999f);
                const double eps = node.attr_float("epsilon", 1e-6f);
                const double post = node.attr_float("norm_coefficient_post", 0.0f);
                s1[i] = alpha * s1[i] + (1.0 - alpha) * gr;
                s2[i] = beta * s2[i] + (1.0 - beta) * gr * gr;
                const double t = static_cast<double>(step);
                const double r =
                    step > 0 ? rate * std::sqrt(1.0 - std::pow(beta, t)) / (1.0 - std::pow(alpha, t)) : rate;
                x_new[i] = (1.0 - post) * (x[i] - r * s1[i] / (std::sqrt(s2[i]) + eps));
            }
        }
        const std::vector<double>* results[] = {&x_new, &s1, &s2};
        for (size_t j = 0; j + 1 < g; ++j) {
            const size_t o = j * n + k;
            if (!ctx.has_output(o)) continue;
            ir::Tensor& out = ctx.output(o);
            for (size_t i = 0; i < x.size(); ++i) misc::store_value(out, static_cast<int64_t>(i), (*results[j])[i]);
        }
    }
    return Status();
}

}  // namespace

const ir::OpKernel kAdagradKernel = {"Adagrad", "ai.onnx.preview.training", infer<Optimizer::kAdagrad>,
                                     compute<Optimizer::kAdagrad>, ir::kOpNone};
const ir::OpKernel kMomentumKernel = {"Momentum", "ai.onnx.preview.training", infer<Optimizer::kMomentum>,
                                      compute<Optimizer::kMomentum>, ir::kOpNone};
const ir::OpKernel kAdamKernel = {"Adam", "ai.onnx.preview.training", infer<Optimizer::kAdam>,
                                  compute<Optimizer::kAdam>, ir::kOpNone};

}  // namespace rtinfer::ref
