// RandomNormal, RandomUniform, RandomNormalLike, RandomUniformLike, Bernoulli (opset 15) and Multinomial.
// The generator is our own (splitmix64 + Box-Muller) so that a seed gives the same numbers on every
// platform. Without a seed attribute the seed comes from the node's name: the reference backend stays
// deterministic, at the price of repeating the same draw on every run.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/kernels/ref/misc/kernels.h"
#include "core/kernels/ref/misc/misc_util.h"

namespace rtinfer::ref {
namespace {

class Rng {
  public:
    explicit Rng(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
    double normal() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        double u1 = uniform();
        while (u1 <= 0.0) u1 = uniform();
        const double u2 = uniform();
        const double r = std::sqrt(-2.0 * std::log(u1));
        const double a = 2.0 * 3.14159265358979323846 * u2;
        spare_ = r * std::sin(a);
        has_spare_ = true;
        return r * std::cos(a);
    }

  private:
    uint64_t state_;
    double spare_ = 0.0;
    bool has_spare_ = false;
};

Rng make_rng(const ir::Node& node) {
    uint64_t seed = 0xcbf29ce484222325ull;  // FNV-1a of the node's name when no seed is given
    if (node.has_attr("seed")) {
        const float f = node.attr_float("seed", 0.0f);
        uint32_t bits;
        std::memcpy(&bits, &f, sizeof bits);
        seed = 0x5eed000000000000ull ^ bits;
    } else {
        for (unsigned char c : node.name) seed = (seed ^ c) * 0x100000001b3ull;
    }
    return Rng(seed);
}

enum class Dist { kNormal, kUniform };

template <class Ctx>
Status output_type(const Ctx& ctx, ir::DType fallback, ir::DType& t) {
    t = ctx.node().has_attr("dtype") ? misc::dtype_from_onnx(ctx.node().attr_int("dtype", 1)) : fallback;
    if (!misc::is_float_type(t)) return ctx.error("dtype must be float16, float32 or float64");
    return Status();
}

template <Dist kDist, bool kLike>
Status random_infer(ir::InferContext& ctx) {
    ir::DType t;
    if (kLike) {
        if (!ctx.has_input(0)) return ctx.error("needs an input");
        RT_RETURN_IF_ERROR(output_type(ctx, ctx.input_dtype(0), t));
        ctx.set_output(0, t, ctx.input_shape(0));
        return Status();
    }
    RT_RETURN_IF_ERROR(output_type(ctx, ir::DType::kFloat32, t));
    if (!ctx.node().has_attr("shape")) return ctx.error("needs the shape attribute");
    const ir::Shape shape = ctx.node().attr_ints("shape");
    for (int64_t d : shape) {
        if (d < 0) return ctx.error("shape " + ir::shape_str(shape) + " has a negative dim");
    }
    ctx.set_output(0, t, shape);
    return Status();
}

template <Dist kDist, bool kLike>
Status random_compute(ir::ComputeContext& ctx) {
    Rng rng = make_rng(ctx.node());
    ir::Tensor& y = ctx.output(0);
    if (kDist == Dist::kNormal) {
        const double mean = ctx.node().attr_float("mean", 0.0f), scale = ctx.node().attr_float("scale", 1.0f);
        for (int64_t i = 0; i < y.numel(); ++i) misc::store_value(y, i, mean + scale * rng.normal());
    } else {
        const double low = ctx.node().attr_float("low", 0.0f), high = ctx.node().attr_float("high", 1.0f);
        for (int64_t i = 0; i < y.numel(); ++i) misc::store_value(y, i, low + (high - low) * rng.uniform());
    }
    return Status();
}

// --- Bernoulli ---

Status bernoulli_infer(ir::InferContext& ctx) {
    if (!ctx.has_input(0)) return ctx.error("needs an input");
    if (!misc::is_float_type(ctx.input_dtype(0))) return ctx.error("input must be floating point");
    ir::DType t = ctx.input_dtype(0);
    if (ctx.node().has_attr("dtype")) t = misc::dtype_from_onnx(ctx.node().attr_int("dtype", 1));
    if (t == ir::DType::kUndefined) return ctx.unsupported("dtype is not supported");
    ctx.set_output(0, t, ctx.input_shape(0));
    return Status();
}

Status bernoulli_compute(ir::ComputeContext& ctx) {
    Rng rng = make_rng(ctx.node());
    const std::vector<double> p = ir::to_doubles(ctx.input(0));
    ir::Tensor& y = ctx.output(0);
    for (size_t i = 0; i < p.size(); ++i) {
        if (!(p[i] >= 0.0 && p[i] <= 1.0))
            return ctx.error("probability " + std::to_string(p[i]) + " is not in [0, 1]");
        misc::store_value(y, static_cast<int64_t>(i), rng.uniform() < p[i] ? 1.0 : 0.0);
    }
    return Status();
}

// --- Multinomial ---

Status multinomial_infer(ir::InferContext& ctx) {
    if (!ctx.has_input(0)) return ctx.error("needs an input");
    if (!misc::is_float_type(ctx.input_dtype(0))) return ctx.error("input must be floating point");
    if (ctx.input_rank(0) != 2)
        return ctx.error("input must be [batch, classes], got " + ir::shape_str(ctx.input_shape(0)));
    const ir::DType t = misc::dtype_from_onnx(ctx.node().attr_int("dtype", 6));
    if (t != ir::DType::kInt32 && t != ir::DType::kInt64) return ctx.error("dtype must be int32 or int64");
    const int64_t samples = ctx.node().attr_int("sample_size", 1);
    if (samples < 0) return ctx.error("sample_size must not be negative");
    ctx.set_output(0, t, {ctx.input_shape(0)[0], samples});
    return Status();
}

Status multinomial_compute(ir::ComputeContext& ctx) {
    Rng rng = make_rng(ctx.node());
    const ir::Tensor& x = ctx.input(0);
    const std::vector<double> logits = ir::to_doubles(x);
    const int64_t batch = x.dim(0), classes = x.dim(1);
    if (classes <= 0) return ctx.error("needs at least one class");
    ir::Tensor& y = ctx.output(0);
    const int64_t samples = y.dim(1);
    std::vector<double> cdf(static_cast<size_t>(classes));
    for (int64_t b = 0; b < batch; ++b) {
        const double* row = &logits[static_cast<size_t>(b * classes)];
        double mx = row[0];
        for (int64_t c = 1; c < classes; ++c) mx = std::max(mx, row[c]);
        double total = 0.0;
        for (int64_t c = 0; c < classes; ++c) {
            total += std::exp(row[c] - mx);
            cdf[static_cast<size_t>(c)] = total;
        }
        for (int64_t s = 0; s < samples; ++s) {
            const double u = rng.uniform() * total;
            int64_t pick = 0;
            while (pick < classes - 1 && cdf[static_cast<size_t>(pick)] <= u) ++pick;
            misc::store_value(y, b * samples + s, static_cast<double>(pick));
        }
    }
    return Status();
}

}  // namespace

const ir::OpKernel kRandomNormalKernel = {"RandomNormal", "", random_infer<Dist::kNormal, false>,
                                          random_compute<Dist::kNormal, false>, ir::kOpNone};
const ir::OpKernel kRandomUniformKernel = {"RandomUniform", "", random_infer<Dist::kUniform, false>,
                                           random_compute<Dist::kUniform, false>, ir::kOpNone};
const ir::OpKernel kRandomNormalLikeKernel = {"RandomNormalLike", "", random_infer<Dist::kNormal, true>,
                                              random_compute<Dist::kNormal, true>, ir::kOpNone};
const ir::OpKernel kRandomUniformLikeKernel = {"RandomUniformLike", "", random_infer<Dist::kUniform, true>,
                                               random_compute<Dist::kUniform, true>, ir::kOpNone};
const ir::OpKernel kBernoulliKernel = {"Bernoulli", "", bernoulli_infer, bernoulli_compute, ir::kOpNone};
const ir::OpKernel kMultinomialKernel = {"Multinomial", "", multinomial_infer, multinomial_compute, ir::kOpNone};

}  // namespace rtinfer::ref
