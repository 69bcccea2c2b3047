// Unary math: Erf Exp Log Sqrt Reciprocal Neg Abs Floor Ceil Round Sign Sin Cos, as the reference kernels
// in core/kernels/ref/elementwise/unary_math.cpp compute them. float32 and float16 (computed in float);
// Neg, Abs and Sign also take int32 and int64 (index arithmetic), with two's-complement wrap-around.
#include "core/kernels/cuda/elementwise/common.cuh"
#include "core/kernels/cuda/elementwise/kernels.h"

namespace rtinfer::cuda {
namespace {

using namespace ew;

// -x that wraps for the most negative integer instead of being undefined.
template <class T>
__device__ __forceinline__ T negate(T x) {
    if constexpr (std::is_integral_v<T>) {
        return static_cast<T>(std::make_unsigned_t<T>(0) - static_cast<std::make_unsigned_t<T>>(x));
    } else {
        return -x;
    }
}

struct Neg {
    template <class T>
    __device__ T operator()(T x) const {
        return negate(x);
    }
};
struct Abs {
    template <class T>
    __device__ T operator()(T x) const {
        if constexpr (std::is_integral_v<T>) {
            return x < 0 ? negate(x) : x;
        } else {
            return fabsf(x);
        }
    }
};
struct Sign {
    template <class T>
    __device__ T operator()(T x) const {
        if constexpr (std::is_floating_point_v<T>) {
            if (isnan(x)) return x;
        }
        return static_cast<T>((T(0) < x) - (x < T(0)));
    }
};
struct Reciprocal {
    __device__ float operator()(float x) const { return 1.0f / x; }
};
// Half to even, as ONNX (numpy.round) specifies: rintf under the default rounding mode.
struct Round {
    __device__ float operator()(float x) const { return rintf(x); }
};

#define RT_FLOAT_UNARY(Name, expr)                                  \
    struct Name {                                                   \
        __device__ float operator()(float x) const { return expr; } \
    };
RT_FLOAT_UNARY(Erf, erff(x))
RT_FLOAT_UNARY(Exp, expf(x))
RT_FLOAT_UNARY(Log, logf(x))
RT_FLOAT_UNARY(Sqrt, sqrtf(x))
RT_FLOAT_UNARY(Floor, floorf(x))
RT_FLOAT_UNARY(Ceil, ceilf(x))
RT_FLOAT_UNARY(Sin, sinf(x))
RT_FLOAT_UNARY(Cos, cosf(x))
#undef RT_FLOAT_UNARY

}  // namespace

const CudaKernel kErfCuda = {"Erf", "", unary_create<Erf, kFloatTypes>};
const CudaKernel kExpCuda = {"Exp", "", unary_create<Exp, kFloatTypes>};
const CudaKernel kLogCuda = {"Log", "", unary_create<Log, kFloatTypes>};
const CudaKernel kSqrtCuda = {"Sqrt", "", unary_create<Sqrt, kFloatTypes>};
const CudaKernel kReciprocalCuda = {"Reciprocal", "", unary_create<Reciprocal, kFloatTypes>};
const CudaKernel kNegCuda = {"Neg", "", unary_create<Neg, kNumberTypes>};
const CudaKernel kAbsCuda = {"Abs", "", unary_create<Abs, kNumberTypes>};
const CudaKernel kFloorCuda = {"Floor", "", unary_create<Floor, kFloatTypes>};
const CudaKernel kCeilCuda = {"Ceil", "", unary_create<Ceil, kFloatTypes>};
const CudaKernel kRoundCuda = {"Round", "", unary_create<Round, kFloatTypes>};
const CudaKernel kSignCuda = {"Sign", "", unary_create<Sign, kNumberTypes>};
const CudaKernel kSinCuda = {"Sin", "", unary_create<Sin, kFloatTypes>};
const CudaKernel kCosCuda = {"Cos", "", unary_create<Cos, kFloatTypes>};

}  // namespace rtinfer::cuda
