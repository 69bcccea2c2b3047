// Unary math: Abs Neg Exp Log Sqrt Reciprocal Floor Ceil Round Sign, trigonometric and hyperbolic functions,
// Erf, IsNaN IsInf, Not BitwiseNot. Float ops compute in the element type; Erf and Sign also take integers.
#include <cmath>

#include "core/kernels/ref/elementwise/common.h"
#include "core/kernels/ref/elementwise/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace ew;

// -x with two's-complement wrap-around, so that negating the most negative integer is not undefined.
template <class T>
T negate(T x) {
    if constexpr (std::is_integral_v<T>) {
        return static_cast<T>(std::make_unsigned_t<T>(0) - static_cast<std::make_unsigned_t<T>>(x));
    } else {
        return -x;
    }
}

struct Abs {
    template <class T>
    T operator()(T x) const {
        if constexpr (std::is_unsigned_v<T>) {
            return x;
        } else if constexpr (std::is_integral_v<T>) {
            return x < 0 ? negate(x) : x;
        } else {
            return std::fabs(x);
        }
    }
};
struct Neg {
    template <class T>
    T operator()(T x) const {
        return negate(x);
    }
};
struct Sign {
    template <class T>
    T operator()(T x) const {
        if constexpr (std::is_unsigned_v<T>) {
            return static_cast<T>(x != 0);
        } else {
            if constexpr (std::is_floating_point_v<T>) {
                if (std::isnan(x)) return x;
            }
            return static_cast<T>((T(0) < x) - (x < T(0)));
        }
    }
};
struct Erf {
    template <class T>
    T operator()(T x) const {
        if constexpr (std::is_floating_point_v<T>) {
            return std::erf(x);
        } else {
            return static_cast<T>(std::erf(static_cast<double>(x)));
        }
    }
};
struct Reciprocal {
    template <class T>
    T operator()(T x) const {
        return T(1) / x;
    }
};
// Round half to even: nearbyint under the default rounding mode, as ONNX (numpy.round) specifies.
struct Round {
    template <class T>
    T operator()(T x) const {
        return std::nearbyint(x);
    }
};

#define RT_FLOAT_UNARY(Name, expr) \
    struct Name {                  \
        template <class T>         \
        T operator()(T x) const {  \
            return expr;           \
        }                          \
    };
RT_FLOAT_UNARY(Exp, std::exp(x))
RT_FLOAT_UNARY(Log, std::log(x))
RT_FLOAT_UNARY(Sqrt, std::sqrt(x))
RT_FLOAT_UNARY(Floor, std::floor(x))
RT_FLOAT_UNARY(Ceil, std::ceil(x))
RT_FLOAT_UNARY(Sin, std::sin(x))
RT_FLOAT_UNARY(Cos, std::cos(x))
RT_FLOAT_UNARY(Tan, std::tan(x))
RT_FLOAT_UNARY(Asin, std::asin(x))
RT_FLOAT_UNARY(Acos, std::acos(x))
RT_FLOAT_UNARY(Atan, std::atan(x))
RT_FLOAT_UNARY(Sinh, std::sinh(x))
RT_FLOAT_UNARY(Cosh, std::cosh(x))
RT_FLOAT_UNARY(Asinh, std::asinh(x))
RT_FLOAT_UNARY(Acosh, std::acosh(x))
RT_FLOAT_UNARY(Atanh, std::atanh(x))
#undef RT_FLOAT_UNARY

struct IsNaN {
    template <class T>
    bool operator()(T x) const {
        return std::isnan(x);
    }
};
struct IsInf {
    bool positive;
    bool negative;
    explicit IsInf(const ir::Node& node)
        : positive(node.attr_int("detect_positive", 1) != 0), negative(node.attr_int("detect_negative", 1) != 0) {}
    template <class T>
    bool operator()(T x) const {
        return std::isinf(x) && (x > 0 ? positive : negative);
    }
};
struct Not {
    bool operator()(uint8_t x) const { return x == 0; }
};
struct BitwiseNot {
    template <class T>
    T operator()(T x) const {
        return static_cast<T>(~x);
    }
};

Status is_inf_infer(ir::InferContext& ctx) {
    RT_RETURN_IF_ERROR(flag_attr(ctx, "detect_positive", 1).status());
    RT_RETURN_IF_ERROR(flag_attr(ctx, "detect_negative", 1).status());
    return unary_infer<kFloats, true>(ctx);
}

}  // namespace

const ir::OpKernel kAbsKernel = {"Abs", "", unary_infer<kNumeric>, unary_compute<Abs, kNumeric>, ir::kOpNone};
const ir::OpKernel kNegKernel = {"Neg", "", unary_infer<kSigned>, unary_compute<Neg, kSigned>, ir::kOpNone};
const ir::OpKernel kSignKernel = {"Sign", "", unary_infer<kNumeric>, unary_compute<Sign, kNumeric>, ir::kOpNone};
const ir::OpKernel kErfKernel = {"Erf", "", unary_infer<kNumeric>, unary_compute<Erf, kNumeric>, ir::kOpNone};
const ir::OpKernel kReciprocalKernel = {"Reciprocal", "", unary_infer<kFloats>, unary_compute<Reciprocal, kFloats>,
                                        ir::kOpNone};
const ir::OpKernel kRoundKernel = {"Round", "", unary_infer<kFloats>, unary_compute<Round, kFloats>, ir::kOpNone};
const ir::OpKernel kExpKernel = {"Exp", "", unary_infer<kFloats>, unary_compute<Exp, kFloats>, ir::kOpNone};
const ir::OpKernel kLogKernel = {"Log", "", unary_infer<kFloats>, unary_compute<Log, kFloats>, ir::kOpNone};
const ir::OpKernel kSqrtKernel = {"Sqrt", "", unary_infer<kFloats>, unary_compute<Sqrt, kFloats>, ir::kOpNone};
const ir::OpKernel kFloorKernel = {"Floor", "", unary_infer<kFloats>, unary_compute<Floor, kFloats>, ir::kOpNone};
const ir::OpKernel kCeilKernel = {"Ceil", "", unary_infer<kFloats>, unary_compute<Ceil, kFloats>, ir::kOpNone};
const ir::OpKernel kSinKernel = {"Sin", "", unary_infer<kFloats>, unary_compute<Sin, kFloats>, ir::kOpNone};
const ir::OpKernel kCosKernel = {"Cos", "", unary_infer<kFloats>, unary_compute<Cos, kFloats>, ir::kOpNone};
const ir::OpKernel kTanKernel = {"Tan", "", unary_infer<kFloats>, unary_compute<Tan, kFloats>, ir::kOpNone};
const ir::OpKernel kAsinKernel = {"Asin", "", unary_infer<kFloats>, unary_compute<Asin, kFloats>, ir::kOpNone};
const ir::OpKernel kAcosKernel = {"Acos", "", unary_infer<kFloats>, unary_compute<Acos, kFloats>, ir::kOpNone};
const ir::OpKernel kAtanKernel = {"Atan", "", unary_infer<kFloats>, unary_compute<Atan, kFloats>, ir::kOpNone};
const ir::OpKernel kSinhKernel = {"Sinh", "", unary_infer<kFloats>, unary_compute<Sinh, kFloats>, ir::kOpNone};
const ir::OpKernel kCoshKernel = {"Cosh", "", unary_infer<kFloats>, unary_compute<Cosh, kFloats>, ir::kOpNone};
const ir::OpKernel kAsinhKernel = {"Asinh", "", unary_infer<kFloats>, unary_compute<Asinh, kFloats>, ir::kOpNone};
const ir::OpKernel kAcoshKernel = {"Acosh", "", unary_infer<kFloats>, unary_compute<Acosh, kFloats>, ir::kOpNone};
const ir::OpKernel kAtanhKernel = {"Atanh", "", unary_infer<kFloats>, unary_compute<Atanh, kFloats>, ir::kOpNone};
const ir::OpKernel kIsNaNKernel = {"IsNaN", "", unary_infer<kFloats, true>, unary_compute<IsNaN, kFloats>, ir::kOpNone};
const ir::OpKernel kIsInfKernel = {"IsInf", "", is_inf_infer, unary_compute<IsInf, kFloats>, ir::kOpNone};
const ir::OpKernel kNotKernel = {"Not", "", unary_infer<kBool>, unary_compute<Not, kBool>, ir::kOpNone};
const ir::OpKernel kBitwiseNotKernel = {"BitwiseNot", "", unary_infer<kInts>, unary_compute<BitwiseNot, kInts>,
                                        ir::kOpNone};

}  // namespace rtinfer::ref
