// Add Sub Mul Div Mod with numpy broadcasting. Integer arithmetic wraps like the hardware; integer Div
// truncates toward zero; integer Div and Mod by zero are errors rather than a crash.
#include <cmath>
#include <limits>

#include "core/kernels/ref/elementwise/common.h"
#include "core/kernels/ref/elementwise/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace ew;

constexpr uint32_t kArith = kNumeric;

// Integer arithmetic goes through the unsigned type of at least int's width: signed overflow is undefined
// in C++, wrap-around is what the hardware (and every ONNX runtime) gives.
template <class T>
using Wrap = std::make_unsigned_t<std::conditional_t<(sizeof(T) < sizeof(int)), int, T>>;

struct Add {
    template <class T>
    T operator()(T a, T b) const {
        if constexpr (std::is_integral_v<T>) {
            return static_cast<T>(static_cast<Wrap<T>>(a) + static_cast<Wrap<T>>(b));
        } else {
            return a + b;
        }
    }
};
struct Sub {
    template <class T>
    T operator()(T a, T b) const {
        if constexpr (std::is_integral_v<T>) {
            return static_cast<T>(static_cast<Wrap<T>>(a) - static_cast<Wrap<T>>(b));
        } else {
            return a - b;
        }
    }
};
struct Mul {
    template <class T>
    T operator()(T a, T b) const {
        if constexpr (std::is_integral_v<T>) {
            return static_cast<T>(static_cast<Wrap<T>>(a) * static_cast<Wrap<T>>(b));
        } else {
            return a * b;
        }
    }
};
struct Div {
    template <class T>
    T operator()(T a, T b) const {
        if constexpr (std::is_signed_v<T> && std::is_integral_v<T>) {
            if (b == -1) return static_cast<T>(Wrap<T>(0) - static_cast<Wrap<T>>(a));
        }
        return static_cast<T>(a / b);
    }
};
// fmod = 0: integer modulo with the sign of the divisor (Python %); fmod = 1: C fmod / %, sign of the dividend.
struct Mod {
    bool c_style;
    explicit Mod(const ir::Node& n) : c_style(n.attr_int("fmod", 0) != 0) {}
    template <class T>
    T operator()(T a, T b) const {
        if constexpr (std::is_floating_point_v<T>) {
            return std::fmod(a, b);
        } else {
            if constexpr (std::is_signed_v<T>) {
                if (b == -1) return T(0);
            }
            T r = static_cast<T>(a % b);
            if constexpr (std::is_signed_v<T>) {
                if (!c_style && r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
            }
            return r;
        }
    }
};

// Integer division by zero has no defined result; report it instead of trapping.
Status check_divisor(ir::ComputeContext& ctx) {
    const ir::Tensor& b = ctx.input(1);
    bool zero = false;
    dispatch<kInts>(b.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T* p = b.data<T>();
        for (int64_t i = 0; i < b.numel() && !zero; ++i) zero = p[i] == T(0);
    });
    return zero ? ctx.error("integer division by zero") : Status();
}

Status div_compute(ir::ComputeContext& ctx) {
    RT_RETURN_IF_ERROR(check_divisor(ctx));
    return binary_apply<kArith>(ctx, Div());
}

Status mod_infer(ir::InferContext& ctx) {
    RT_ASSIGN_OR_RETURN(const bool c_style, flag_attr(ctx, "fmod", 0));
    if (!c_style && ctx.has_input(0) && type_in(ctx.input_dtype(0), kFloats)) {
        return ctx.error("fmod must be 1 for floating-point inputs");
    }
    return binary_infer<kArith>(ctx);
}

Status mod_compute(ir::ComputeContext& ctx) {
    RT_RETURN_IF_ERROR(check_divisor(ctx));
    return binary_apply<kArith>(ctx, Mod(ctx.node()));
}

}  // namespace

const ir::OpKernel kAddKernel = {"Add", "", binary_infer<kArith>, binary_compute<Add, kArith>, ir::kOpNone};
const ir::OpKernel kSubKernel = {"Sub", "", binary_infer<kArith>, binary_compute<Sub, kArith>, ir::kOpNone};
const ir::OpKernel kMulKernel = {"Mul", "", binary_infer<kArith>, binary_compute<Mul, kArith>, ir::kOpNone};
const ir::OpKernel kDivKernel = {"Div", "", binary_infer<kArith>, div_compute, ir::kOpNone};
const ir::OpKernel kModKernel = {"Mod", "", mod_infer, mod_compute, ir::kOpNone};

}  // namespace rtinfer::ref
