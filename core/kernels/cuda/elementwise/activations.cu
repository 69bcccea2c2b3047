// Activations: Relu LeakyRelu Elu Selu Celu Sigmoid HardSigmoid HardSwish Tanh Softplus Softsign Gelu Mish,
// written as the reference kernels in core/kernels/ref/elementwise/activations.cpp write them (same formulas,
// same order of operations, same NaN behaviour of std::max/std::min). Float ops take float32 and float16;
// Relu also takes int32 and int64.
#include "core/kernels/cuda/elementwise/common.cuh"
#include "core/kernels/cuda/elementwise/kernels.h"

namespace rtinfer::cuda {
namespace {

using namespace ew;

__device__ __forceinline__ float softplus(float x) {
    // log(1 + e^x) without overflowing e^x for large x.
    return x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x));
}

struct Relu {
    template <class T>
    __device__ T operator()(T x) const {
        return x < T(0) ? T(0) : x;
    }
};
struct LeakyRelu {
    float alpha;
    explicit LeakyRelu(const ir::Node& n) : alpha(n.attr_float("alpha", 0.01f)) {}
    __device__ float operator()(float x) const { return x < 0.0f ? alpha * x : x; }
};
struct Elu {
    float alpha;
    explicit Elu(const ir::Node& n) : alpha(n.attr_float("alpha", 1.0f)) {}
    __device__ float operator()(float x) const { return x < 0.0f ? alpha * expm1f(x) : x; }
};
struct Selu {
    float alpha;
    float gamma;
    explicit Selu(const ir::Node& n)
        : alpha(n.attr_float("alpha", 1.67326319217681884765625f)),
          gamma(n.attr_float("gamma", 1.05070102214813232421875f)) {}
    __device__ float operator()(float x) const { return x > 0.0f ? gamma * x : gamma * alpha * expm1f(x); }
};
struct Celu {
    float alpha;
    explicit Celu(const ir::Node& n) : alpha(n.attr_float("alpha", 1.0f)) {}
    __device__ float operator()(float x) const { return std_max(0.0f, x) + std_min(0.0f, alpha * expm1f(x / alpha)); }
};
struct Sigmoid {
    __device__ float operator()(float x) const {
        // Two forms so that e^x never overflows.
        if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
        const float e = expf(x);
        return e / (1.0f + e);
    }
};
struct HardSigmoid {
    float alpha;
    float beta;
    explicit HardSigmoid(const ir::Node& n) : alpha(n.attr_float("alpha", 0.2f)), beta(n.attr_float("beta", 0.5f)) {}
    __device__ float operator()(float x) const { return std_max(0.0f, std_min(1.0f, alpha * x + beta)); }
};
struct HardSwish {
    __device__ float operator()(float x) const { return x * std_max(0.0f, std_min(1.0f, x / 6.0f + 0.5f)); }
};
struct Tanh {
    __device__ float operator()(float x) const { return tanhf(x); }
};
struct Softplus {
    __device__ float operator()(float x) const { return softplus(x); }
};
struct Softsign {
    __device__ float operator()(float x) const { return x / (1.0f + fabsf(x)); }
};
struct Gelu {
    bool tanh_approx;
    explicit Gelu(const ir::Node& n) : tanh_approx(n.attr_string("approximate", "none") == "tanh") {}
    __device__ float operator()(float x) const {
        if (tanh_approx) {
            const float k = 0.7978845608028654f;  // sqrt(2 / pi)
            return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
        }
        return 0.5f * x * (1.0f + erff(x * 0.7071067811865476f));
    }
};
struct Mish {
    __device__ float operator()(float x) const { return x * tanhf(softplus(x)); }
};

Expected<OpPtr> gelu_create(const OpSetup& setup, const CudaLibs& libs) {
    const std::string approx = setup.node.attr_string("approximate", "none");
    if (approx != "none" && approx != "tanh") return setup.unsupported("approximate \"" + approx + "\"");
    return unary_create<Gelu, kFloatTypes>(setup, libs);
}

Expected<OpPtr> celu_create(const OpSetup& setup, const CudaLibs& libs) {
    if (setup.node.attr_float("alpha", 1.0f) == 0.0f) return setup.unsupported("alpha is 0");
    return unary_create<Celu, kFloatTypes>(setup, libs);
}

}  // namespace

const CudaKernel kReluCuda = {"Relu", "", unary_create<Relu, kNumberTypes>};
const CudaKernel kLeakyReluCuda = {"LeakyRelu", "", unary_create<LeakyRelu, kFloatTypes>};
const CudaKernel kEluCuda = {"Elu", "", unary_create<Elu, kFloatTypes>};
const CudaKernel kSeluCuda = {"Selu", "", unary_create<Selu, kFloatTypes>};
const CudaKernel kCeluCuda = {"Celu", "", celu_create};
const CudaKernel kSigmoidCuda = {"Sigmoid", "", unary_create<Sigmoid, kFloatTypes>};
const CudaKernel kHardSigmoidCuda = {"HardSigmoid", "", unary_create<HardSigmoid, kFloatTypes>};
const CudaKernel kHardSwishCuda = {"HardSwish", "", unary_create<HardSwish, kFloatTypes>};
const CudaKernel kTanhCuda = {"Tanh", "", unary_create<Tanh, kFloatTypes>};
const CudaKernel kSoftplusCuda = {"Softplus", "", unary_create<Softplus, kFloatTypes>};
const CudaKernel kSoftsignCuda = {"Softsign", "", unary_create<Softsign, kFloatTypes>};
const CudaKernel kGeluCuda = {"Gelu", "", gelu_create};
const CudaKernel kMishCuda = {"Mish", "", unary_create<Mish, kFloatTypes>};

}  // namespace rtinfer::cuda
