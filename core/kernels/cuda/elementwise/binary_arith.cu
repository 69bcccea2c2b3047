// Add Sub Mul Div Mod Pow with numpy broadcasting, as core/kernels/ref/elementwise/binary_arith.cpp and
// pow.cpp compute them. float32 and float16 (computed in float); Add Sub Mul Div Mod also int32 and int64,
// wrapping like the hardware, Div truncating toward zero. The reference reports integer division by zero
// as an error, which a kernel cannot do, so integer Div and Mod run here only when the divisor is a
// constant without zeros; otherwise (kUnsupported) on the CPU reference.
#include <cmath>

#include "core/kernels/cuda/elementwise/common.cuh"
#include "core/kernels/cuda/elementwise/kernels.h"

namespace rtinfer::cuda {
namespace {

using namespace ew;

// Integer arithmetic goes through the unsigned type: signed overflow is undefined in C++.
template <class T>
using Wrap = std::make_unsigned_t<T>;

struct Add {
    template <class T>
    __device__ T operator()(T a, T b) const {
        if constexpr (std::is_integral_v<T>) {
            return static_cast<T>(static_cast<Wrap<T>>(a) + static_cast<Wrap<T>>(b));
        } else {
            return a + b;
        }
    }
};
struct Sub {
    template <class T>
    __device__ T operator()(T a, T b) const {
        if constexpr (std::is_integral_v<T>) {
            return static_cast<T>(static_cast<Wrap<T>>(a) - static_cast<Wrap<T>>(b));
        } else {
            return a - b;
        }
    }
};
struct Mul {
    template <class T>
    __device__ T operator()(T a, T b) const {
        if constexpr (std::is_integral_v<T>) {
            return static_cast<T>(static_cast<Wrap<T>>(a) * static_cast<Wrap<T>>(b));
        } else {
            return a * b;
        }
    }
};
struct Div {
    template <class T>
    __device__ T operator()(T a, T b) const {
        if constexpr (std::is_integral_v<T>) {
            if (b == -1) return static_cast<T>(Wrap<T>(0) - static_cast<Wrap<T>>(a));
        }
        return a / b;
    }
};
// fmod = 0: integer modulo with the divisor's sign (Python %); fmod = 1: C fmod / %, the dividend's sign.
struct Mod {
    bool c_style;
    explicit Mod(const ir::Node& n) : c_style(n.attr_int("fmod", 0) != 0) {}
    template <class T>
    __device__ T operator()(T a, T b) const {
        if constexpr (std::is_floating_point_v<T>) {
            return fmodf(a, b);
        } else {
            if (b == -1) return T(0);
            T r = static_cast<T>(a % b);
            if (!c_style && r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
            return r;
        }
    }
};
struct Pow {
    __device__ float operator()(float base, float exponent) const { return powf(base, exponent); }
};
// A constant one-element exponent. x * x for 2, which normalization layers use, is exact and far cheaper.
struct PowScalar {
    float exponent;
    __device__ float operator()(float x) const { return exponent == 2.0f ? x * x : powf(x, exponent); }
};

Status check_integer_divisor(const OpSetup& setup) {
    if (setup.inputs.size() != 2 || !type_in(setup.inputs[0].dtype, kIndexTypes)) return Status();
    if (!setup.inputs[1].value) return setup.unsupported("integer divisor known only at run time");
    if (constant_has_zero(setup, 1)) return setup.unsupported("integer division by zero");
    return Status();
}

Expected<OpPtr> div_create(const OpSetup& setup, const CudaLibs& libs) {
    RT_RETURN_IF_ERROR(check_integer_divisor(setup));
    return binary_create<Div, kNumberTypes>(setup, libs);
}

Expected<OpPtr> mod_create(const OpSetup& setup, const CudaLibs& libs) {
    const int64_t fmod = setup.node.attr_int("fmod", 0);
    if (fmod != 0 && fmod != 1) return setup.unsupported("fmod is neither 0 nor 1");
    if (fmod == 0 && !setup.inputs.empty() && type_in(setup.inputs[0].dtype, kFloatTypes)) {
        return setup.unsupported("fmod = 0 on floating-point inputs");
    }
    RT_RETURN_IF_ERROR(check_integer_divisor(setup));
    return binary_create<Mod, kNumberTypes>(setup, libs);
}

Expected<OpPtr> pow_create(const OpSetup& setup, const CudaLibs& libs) {
    double exponent = 0.0;
    const bool same_size = setup.inputs.size() == 2 && !setup.outputs.empty() &&
                           ir::shape_numel(setup.outputs[0].shape) == ir::shape_numel(setup.inputs[0].shape);
    if (same_size && constant_scalar(setup, 1, &exponent) && setup.inputs[1].dtype != DataType::kBool) {
        return create_unary<PowScalar, kFloatTypes>(setup, PowScalar{static_cast<float>(exponent)});
    }
    return binary_create<Pow, kFloatTypes>(setup, libs);
}

}  // namespace

const CudaKernel kAddCuda = {"Add", "", binary_create<Add, kNumberTypes>};
const CudaKernel kSubCuda = {"Sub", "", binary_create<Sub, kNumberTypes>};
const CudaKernel kMulCuda = {"Mul", "", binary_create<Mul, kNumberTypes>};
const CudaKernel kDivCuda = {"Div", "", div_create};
const CudaKernel kModCuda = {"Mod", "", mod_create};
const CudaKernel kPowCuda = {"Pow", "", pow_create};

}  // namespace rtinfer::cuda
