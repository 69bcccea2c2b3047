// Activations: LeakyRelu Elu Selu Celu Sigmoid HardSigmoid HardSwish Tanh Softplus Softsign ThresholdedRelu
// Shrink Gelu Mish (PRelu, which takes a second input, is in prelu.cpp). Attribute defaults are ONNX's.
#include <algorithm>
#include <cmath>

#include "core/kernels/ref/elementwise/common.h"
#include "core/kernels/ref/elementwise/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace ew;

template <class T>
T softplus(T x) {
    // log(1 + e^x) without overflowing e^x for large x.
    return x > T(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

struct LeakyRelu {
    float alpha;
    explicit LeakyRelu(const ir::Node& n) : alpha(n.attr_float("alpha", 0.01f)) {}
    template <class T>
    T operator()(T x) const {
        return x < T(0) ? T(alpha) * x : x;
    }
};
struct Elu {
    float alpha;
    explicit Elu(const ir::Node& n) : alpha(n.attr_float("alpha", 1.0f)) {}
    template <class T>
    T operator()(T x) const {
        return x < T(0) ? T(alpha) * std::expm1(x) : x;
    }
};
struct Selu {
    float alpha;
    float gamma;
    explicit Selu(const ir::Node& n)
        : alpha(n.attr_float("alpha", 1.67326319217681884765625f)),
          gamma(n.attr_float("gamma", 1.05070102214813232421875f)) {}
    template <class T>
    T operator()(T x) const {
        return x > T(0) ? T(gamma) * x : T(gamma) * T(alpha) * std::expm1(x);
    }
};
struct Celu {
    float alpha;
    explicit Celu(const ir::Node& n) : alpha(n.attr_float("alpha", 1.0f)) {}
    template <class T>
    T operator()(T x) const {
        return std::max(T(0), x) + std::min(T(0), T(alpha) * std::expm1(x / T(alpha)));
    }
};
struct Sigmoid {
    template <class T>
    T operator()(T x) const {
        // Two forms so that e^x never overflows.
        if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
        const T e = std::exp(x);
        return e / (T(1) + e);
    }
};
struct HardSigmoid {
    float alpha;
    float beta;
    explicit HardSigmoid(const ir::Node& n) : alpha(n.attr_float("alpha", 0.2f)), beta(n.attr_float("beta", 0.5f)) {}
    template <class T>
    T operator()(T x) const {
        return std::max(T(0), std::min(T(1), T(alpha) * x + T(beta)));
    }
};
struct HardSwish {
    template <class T>
    T operator()(T x) const {
        return x * std::max(T(0), std::min(T(1), x / T(6) + T(0.5)));
    }
};
struct Tanh {
    template <class T>
    T operator()(T x) const {
        return std::tanh(x);
    }
};
struct Softplus {
    template <class T>
    T operator()(T x) const {
        return softplus(x);
    }
};
struct Softsign {
    template <class T>
    T operator()(T x) const {
        return x / (T(1) + std::fabs(x));
    }
};
struct ThresholdedRelu {
    float alpha;
    explicit ThresholdedRelu(const ir::Node& n) : alpha(n.attr_float("alpha", 1.0f)) {}
    template <class T>
    T operator()(T x) const {
        return x > T(alpha) ? x : T(0);
    }
};
// Shrink takes integers too; bias and lambd are floats, so compare and shift in double.
struct Shrink {
    double bias;
    double lambd;
    explicit Shrink(const ir::Node& n) : bias(n.attr_float("bias", 0.0f)), lambd(n.attr_float("lambd", 0.5f)) {}
    template <class T>
    T operator()(T x) const {
        const double v = static_cast<double>(x);
        if (v < -lambd) return static_cast<T>(v + bias);
        if (v > lambd) return static_cast<T>(v - bias);
        return T(0);
    }
};
struct Gelu {
    bool tanh_approx;
    explicit Gelu(const ir::Node& n) : tanh_approx(n.attr_string("approximate", "none") == "tanh") {}
    template <class T>
    T operator()(T x) const {
        if (tanh_approx) {
            const T k = T(0.7978845608028654);  // sqrt(2 / pi)
            return T(0.5) * x * (T(1) + std::tanh(k * (x + T(0.044715) * x * x * x)));
        }
        return T(0.5) * x * (T(1) + std::erf(x * T(0.7071067811865476)));
    }
};
struct Mish {
    template <class T>
    T operator()(T x) const {
        return x * std::tanh(softplus(x));
    }
};

Status gelu_infer(ir::InferContext& ctx) {
    const std::string approx = ctx.node().attr_string("approximate", "none");
    if (approx != "none" && approx != "tanh")
        return ctx.error("approximate must be \"none\" or \"tanh\", got \"" + approx + "\"");
    return unary_infer<kFloats>(ctx);
}

Status celu_infer(ir::InferContext& ctx) {
    if (ctx.node().attr_float("alpha", 1.0f) == 0.0f) return ctx.error("alpha must not be 0");
    return unary_infer<kFloats>(ctx);
}

}  // namespace

const ir::OpKernel kLeakyReluKernel = {"LeakyRelu", "", unary_infer<kFloats>, unary_compute<LeakyRelu, kFloats>,
                                       ir::kOpNone};
const ir::OpKernel kEluKernel = {"Elu", "", unary_infer<kFloats>, unary_compute<Elu, kFloats>, ir::kOpNone};
const ir::OpKernel kSeluKernel = {"Selu", "", unary_infer<kFloats>, unary_compute<Selu, kFloats>, ir::kOpNone};
const ir::OpKernel kCeluKernel = {"Celu", "", celu_infer, unary_compute<Celu, kFloats>, ir::kOpNone};
const ir::OpKernel kSigmoidKernel = {"Sigmoid", "", unary_infer<kFloats>, unary_compute<Sigmoid, kFloats>, ir::kOpNone};
const ir::OpKernel kHardSigmoidKernel = {"HardSigmoid", "", unary_infer<kFloats>, unary_compute<HardSigmoid, kFloats>,
                                         ir::kOpNone};
const ir::OpKernel kHardSwishKernel = {"HardSwish", "", unary_infer<kFloats>, unary_compute<HardSwish, kFloats>,
                                       ir::kOpNone};
const ir::OpKernel kTanhKernel = {"Tanh", "", unary_infer<kFloats>, unary_compute<Tanh, kFloats>, ir::kOpNone};
const ir::OpKernel kSoftplusKernel = {"Softplus", "", unary_infer<kFloats>, unary_compute<Softplus, kFloats>,
                                      ir::kOpNone};
const ir::OpKernel kSoftsignKernel = {"Softsign", "", unary_infer<kFloats>, unary_compute<Softsign, kFloats>,
                                      ir::kOpNone};
const ir::OpKernel kThresholdedReluKernel = {"ThresholdedRelu", "", unary_infer<kFloats>,
                                             unary_compute<ThresholdedRelu, kFloats>, ir::kOpNone};
const ir::OpKernel kShrinkKernel = {"Shrink", "", unary_infer<kNumeric>, unary_compute<Shrink, kNumeric>, ir::kOpNone};
const ir::OpKernel kGeluKernel = {"Gelu", "", gelu_infer, unary_compute<Gelu, kFloats>, ir::kOpNone};
const ir::OpKernel kMishKernel = {"Mish", "", unary_infer<kFloats>, unary_compute<Mish, kFloats>, ir::kOpNone};

}  // namespace rtinfer::ref
