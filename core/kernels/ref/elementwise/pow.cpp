// Pow: base ^ exponent with broadcasting. The exponent may have another type than the base (opset 12+);
// the output has the base's type. Integer ^ integer is exact (wrapping); anything involving a float is
// computed in double and converted once.
#include <cmath>

#include "core/kernels/ref/elementwise/common.h"
#include "core/kernels/ref/elementwise/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace ew;

template <class B, class E>
B int_pow(B base, E exponent) {
    if constexpr (std::is_signed_v<E>) {
        if (exponent < 0) {  // 1 / base^n truncated toward zero
            if (base == 1) return 1;
            if constexpr (std::is_signed_v<B>) {
                if (base == -1) return (exponent % 2 == 0) ? B(1) : B(-1);
            }
            return 0;
        }
    }
    uint64_t result = 1;
    uint64_t b = static_cast<uint64_t>(static_cast<int64_t>(base));
    auto e = static_cast<uint64_t>(exponent);
    while (e) {
        if (e & 1u) result *= b;
        b *= b;
        e >>= 1;
    }
    return static_cast<B>(result);
}

struct Pow {
    template <class B, class E>
    B operator()(B base, E exponent) const {
        if constexpr (std::is_integral_v<B> && std::is_integral_v<E>) {
            return int_pow(base, exponent);
        } else {
            return static_cast<B>(std::pow(static_cast<double>(base), static_cast<double>(exponent)));
        }
    }
};

Status infer(ir::InferContext& ctx) {
    if (ctx.num_inputs() != 2 || !ctx.has_input(1)) return ctx.error("expects inputs X and Y");
    RT_RETURN_IF_ERROR(check_input_type(ctx, 0, kNumeric));
    RT_RETURN_IF_ERROR(check_input_type(ctx, 1, kNumeric));
    return set_broadcast_output(ctx, ctx.input_dtype(0), 0, 2);
}

// x * x for the scalar exponent 2 that normalization layers use, exact in float and much faster than pow.
bool try_square(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    const ir::Tensor& e = ctx.input(1);
    if (x.dtype() != DType::kFloat32 || e.numel() != 1 || ctx.output(0).shape() != x.shape()) return false;
    const std::vector<double> ev = ir::to_doubles(e);
    if (ev[0] != 2.0) return false;
    const float* px = x.data<float>();
    float* py = ctx.output(0).data<float>();
    for (int64_t i = 0; i < x.numel(); ++i) py[i] = px[i] * px[i];
    return true;
}

Status compute(ir::ComputeContext& ctx) {
    if (try_square(ctx)) return Status();
    const ir::Tensor& x = ctx.input(0);
    const ir::Tensor& e = ctx.input(1);
    bool handled = false;
    dispatch<kNumeric>(x.dtype(), [&](auto base_tag) {
        using B = decltype(base_tag);
        handled = dispatch<kNumeric>(e.dtype(), [&](auto exp_tag) {
            using E = decltype(exp_tag);
            binary_broadcast<B, E, B>(x, e, ctx.output(0), Pow());
        });
    });
    return handled ? Status() : ctx.error("unexpected input types");
}

}  // namespace

const ir::OpKernel kPowKernel = {"Pow", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
