// Shared machinery of the elementwise reference kernels: type sets and dispatch, the unary/binary/variadic
// kernel templates, and a broadcast walker that hands out contiguous rows so that the common cases (equal
// shapes, a scalar, a per-channel operand) run as plain vectorizable loops.
// Internal to core/kernels/ref/elementwise; each op file defines a small functor and instantiates a kernel.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/ir/op.h"
#include "core/ir/shape_util.h"

namespace rtinfer::ref::ew {

using ir::DType;

// ---- type sets ---------------------------------------------------------------------------------------

constexpr uint32_t type_bit(DType t) {
    return 1u << static_cast<unsigned>(t);
}

constexpr uint32_t kFloats = type_bit(DType::kFloat32) | type_bit(DType::kFloat64) | type_bit(DType::kFloat16);
constexpr uint32_t kSignedInts = type_bit(DType::kInt8) | type_bit(DType::kInt32) | type_bit(DType::kInt64);
constexpr uint32_t kUnsignedInts = type_bit(DType::kUInt8);
constexpr uint32_t kInts = kSignedInts | kUnsignedInts;
constexpr uint32_t kSigned = kFloats | kSignedInts;
constexpr uint32_t kNumeric = kFloats | kInts;
constexpr uint32_t kBool = type_bit(DType::kBool);
constexpr uint32_t kAll = kNumeric | kBool;

inline bool type_in(DType t, uint32_t mask) {
    return (type_bit(t) & mask) != 0;
}

// Calls fn(T{}) with the C++ element type of `t` if `t` is in Mask; returns false otherwise. Only the types
// in Mask are instantiated, so fn may use operations that exist only for them (bit ops, std::exp).
// bool is uint8_t (0/1). float16 is not dispatched: kernels without kOpNativeHalf get it widened to float32
// by the executor, and the native ones (Where, Cast) move its bits without arithmetic.
template <uint32_t Mask, class Fn>
bool dispatch(DType t, Fn&& fn) {
    switch (t) {
        case DType::kFloat32:
            if constexpr ((Mask & type_bit(DType::kFloat32)) != 0) return fn(float{}), true;
            break;
        case DType::kFloat64:
            if constexpr ((Mask & type_bit(DType::kFloat64)) != 0) return fn(double{}), true;
            break;
        case DType::kInt8:
            if constexpr ((Mask & type_bit(DType::kInt8)) != 0) return fn(int8_t{}), true;
            break;
        case DType::kUInt8:
            if constexpr ((Mask & type_bit(DType::kUInt8)) != 0) return fn(uint8_t{}), true;
            break;
        case DType::kInt32:
            if constexpr ((Mask & type_bit(DType::kInt32)) != 0) return fn(int32_t{}), true;
            break;
        case DType::kInt64:
            if constexpr ((Mask & type_bit(DType::kInt64)) != 0) return fn(int64_t{}), true;
            break;
        case DType::kBool:
            if constexpr ((Mask & type_bit(DType::kBool)) != 0) return fn(uint8_t{}), true;
            break;
        default:
            break;
    }
    return false;
}

// Fails (naming the node) unless input i exists and its type is in `allowed`.
Status check_input_type(const ir::InferContext& ctx, size_t i, uint32_t allowed);
// Fails unless inputs i and j have the same type.
Status check_same_type(const ir::InferContext& ctx, size_t i, size_t j);
// Broadcasts the shapes of inputs [first, first + count) that are present; the error names the node.
Expected<ir::Shape> broadcast_inputs(const ir::InferContext& ctx, size_t first, size_t count);
// Sets output 0 to the broadcast shape of those inputs (rank only if one of them is known only at run time).
Status set_broadcast_output(ir::InferContext& ctx, DType dtype, size_t first, size_t count);
// Output 0 with input 0's shape.
inline void set_same_shape_output(ir::InferContext& ctx, DType dtype) {
    if (ctx.input(0).shape_known) {
        ctx.set_output(0, dtype, ctx.input_shape(0));
    } else {
        ctx.set_output_unknown(0, dtype, ctx.input_rank(0));
    }
}
// An attribute that must be 0 or 1.
Expected<bool> flag_attr(const ir::InferContext& ctx, const std::string& key, int64_t fallback);

// ---- broadcast walker --------------------------------------------------------------------------------

// Walks `out` in rows: fn(out_offset, length, in_offsets, in_strides) where element r of the row reads
// input k at in_offsets[k] + r * in_strides[k] (stride 0 = broadcast, 1 = contiguous). Dims that are
// contiguous or broadcast in every input are merged first, so equal shapes give one row of numel elements.
template <size_t N, class Fn>
void for_each_row(const ir::Shape& out, const std::array<const ir::Shape*, N>& ins, Fn&& fn) {
    const int64_t total = ir::shape_numel(out);
    if (total == 0) return;
    std::array<std::vector<int64_t>, N> full;
    for (size_t k = 0; k < N; ++k) full[k] = ir::broadcast_strides(*ins[k], out);
    // Coalesced dims, outermost first; size-1 dims are dropped since their stride never matters.
    std::vector<int64_t> dims;
    std::array<std::vector<int64_t>, N> strides;
    for (size_t d = 0; d < out.size(); ++d) {
        if (out[d] == 1) continue;
        bool merge = !dims.empty();
        for (size_t k = 0; k < N && merge; ++k) merge = strides[k].back() == full[k][d] * out[d];
        if (merge) {
            dims.back() *= out[d];
            for (size_t k = 0; k < N; ++k) strides[k].back() = full[k][d];
        } else {
            dims.push_back(out[d]);
            for (size_t k = 0; k < N; ++k) strides[k].push_back(full[k][d]);
        }
    }
    std::array<int64_t, N> off{};
    std::array<int64_t, N> inner{};
    if (dims.empty()) {
        fn(int64_t{0}, int64_t{1}, off, inner);
        return;
    }
    const size_t outer_rank = dims.size() - 1;
    const int64_t len = dims.back();
    for (size_t k = 0; k < N; ++k) inner[k] = strides[k].back();
    std::vector<int64_t> idx(outer_rank, 0);
    for (int64_t o = 0; o < total; o += len) {
        fn(o, len, off, inner);
        for (size_t d = outer_rank; d-- > 0;) {
            ++idx[d];
            for (size_t k = 0; k < N; ++k) off[k] += strides[k][d];
            if (idx[d] < dims[d]) break;
            for (size_t k = 0; k < N; ++k) off[k] -= strides[k][d] * idx[d];
            idx[d] = 0;
        }
    }
}

// out = fn(a, b) elementwise with numpy broadcasting; out already has the broadcast shape and may alias a
// or b when that input has the output's shape.
template <class TA, class TB, class TO, class Fn>
void binary_broadcast(const ir::Tensor& a, const ir::Tensor& b, ir::Tensor& out, Fn&& fn) {
    const TA* pa = a.data<TA>();
    const TB* pb = b.data<TB>();
    TO* po = out.data<TO>();
    for_each_row<2>(out.shape(), {&a.shape(), &b.shape()},
                    [&](int64_t o, int64_t n, const std::array<int64_t, 2>& off, const std::array<int64_t, 2>& st) {
                        const TA* x = pa + off[0];
                        const TB* y = pb + off[1];
                        TO* z = po + o;
                        if (st[0] == 1 && st[1] == 1) {
                            for (int64_t i = 0; i < n; ++i) z[i] = static_cast<TO>(fn(x[i], y[i]));
                        } else if (st[0] == 1 && st[1] == 0) {
                            const TB yv = *y;
                            for (int64_t i = 0; i < n; ++i) z[i] = static_cast<TO>(fn(x[i], yv));
                        } else if (st[0] == 0 && st[1] == 1) {
                            const TA xv = *x;
                            for (int64_t i = 0; i < n; ++i) z[i] = static_cast<TO>(fn(xv, y[i]));
                        } else {
                            for (int64_t i = 0; i < n; ++i) z[i] = static_cast<TO>(fn(x[i * st[0]], y[i * st[1]]));
                        }
                    });
}

// Copies `in` broadcast to out's shape (same element type).
template <class T>
void broadcast_copy(const ir::Tensor& in, ir::Tensor& out) {
    if (in.shape() == out.shape()) {
        if (in.raw() != out.raw()) std::memcpy(out.raw(), in.raw(), in.nbytes());
        return;
    }
    const T* p = in.data<T>();
    T* q = out.data<T>();
    for_each_row<1>(out.shape(), {&in.shape()},
                    [&](int64_t o, int64_t n, const std::array<int64_t, 1>& off, const std::array<int64_t, 1>& st) {
                        for (int64_t i = 0; i < n; ++i) q[o + i] = p[off[0] + i * st[0]];
                    });
}

// ---- op functors -------------------------------------------------------------------------------------

// Functors are built from the node when they take attributes, default-constructed otherwise.
template <class Op>
Op make_op(const ir::Node& node) {
    if constexpr (std::is_constructible_v<Op, const ir::Node&>) {
        return Op(node);
    } else {
        return Op();
    }
}

// The element type a functor writes for input element type T: bool results are stored as uint8_t.
template <class Op, class T>
using unary_result_t = std::conditional_t<std::is_same_v<std::invoke_result_t<const Op&, T>, bool>, uint8_t,
                                          std::invoke_result_t<const Op&, T>>;
template <class Op, class T>
using binary_result_t = std::conditional_t<std::is_same_v<std::invoke_result_t<const Op&, T, T>, bool>, uint8_t,
                                           std::invoke_result_t<const Op&, T, T>>;

// ---- unary -------------------------------------------------------------------------------------------

// Output type: the input's, or bool for predicates (IsNaN, IsInf).
template <uint32_t Mask, bool BoolOut = false>
Status unary_infer(ir::InferContext& ctx) {
    RT_RETURN_IF_ERROR(check_input_type(ctx, 0, Mask));
    set_same_shape_output(ctx, BoolOut ? DType::kBool : ctx.input_dtype(0));
    return Status();
}

template <uint32_t Mask, class Op>
Status unary_apply(ir::ComputeContext& ctx, const Op& op) {
    const ir::Tensor& x = ctx.input(0);
    ir::Tensor& y = ctx.output(0);
    const bool handled = dispatch<Mask>(x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        using R = unary_result_t<Op, T>;
        const T* px = x.data<T>();
        R* py = y.data<R>();
        const int64_t n = x.numel();
        for (int64_t i = 0; i < n; ++i) py[i] = static_cast<R>(op(px[i]));
    });
    return handled ? Status() : ctx.error(std::string("unexpected input type ") + data_type_name(x.dtype()));
}

template <class Op, uint32_t Mask>
Status unary_compute(ir::ComputeContext& ctx) {
    return unary_apply<Mask>(ctx, make_op<Op>(ctx.node()));
}

// ---- binary and variadic -----------------------------------------------------------------------------

// Two inputs of one type in Mask, broadcast; output of that type or bool (comparisons).
template <uint32_t Mask, bool BoolOut = false>
Status binary_infer(ir::InferContext& ctx) {
    if (ctx.num_inputs() != 2 || !ctx.has_input(0) || !ctx.has_input(1)) return ctx.error("expects 2 inputs");
    RT_RETURN_IF_ERROR(check_input_type(ctx, 0, Mask));
    RT_RETURN_IF_ERROR(check_same_type(ctx, 0, 1));
    return set_broadcast_output(ctx, BoolOut ? DType::kBool : ctx.input_dtype(0), 0, 2);
}

template <uint32_t Mask, class Op>
Status binary_apply(ir::ComputeContext& ctx, const Op& op) {
    const ir::Tensor& a = ctx.input(0);
    const ir::Tensor& b = ctx.input(1);
    const bool handled = dispatch<Mask>(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        binary_broadcast<T, T, binary_result_t<Op, T>>(a, b, ctx.output(0), op);
    });
    return handled ? Status() : ctx.error(std::string("unexpected input type ") + data_type_name(a.dtype()));
}

template <class Op, uint32_t Mask>
Status binary_compute(ir::ComputeContext& ctx) {
    return binary_apply<Mask>(ctx, make_op<Op>(ctx.node()));
}

// Max, Min, Sum, Mean: one or more inputs of one type, all broadcast together.
template <uint32_t Mask>
Status variadic_infer(ir::InferContext& ctx) {
    if (ctx.num_inputs() == 0) return ctx.error("expects at least one input");
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
        if (!ctx.has_input(i)) return ctx.error("input " + std::to_string(i) + " is missing");
        RT_RETURN_IF_ERROR(check_input_type(ctx, i, Mask));
        RT_RETURN_IF_ERROR(check_same_type(ctx, 0, i));
    }
    return set_broadcast_output(ctx, ctx.input_dtype(0), 0, ctx.num_inputs());
}

// Folds op over the inputs into the output, left to right.
template <uint32_t Mask, class Op>
Status variadic_apply(ir::ComputeContext& ctx, const Op& op) {
    const size_t n = ctx.num_inputs();
    // The output is written before inputs 1.. are read; if it shares one's buffer, fold into a copy.
    bool aliased = false;
    for (size_t k = 1; k < n; ++k) aliased = aliased || ctx.input(k).raw() == ctx.output(0).raw();
    ir::Tensor out = aliased ? ir::Tensor(ctx.output(0).dtype(), ctx.output(0).shape()) : ctx.output(0);
    const bool handled = dispatch<Mask>(out.dtype(), [&](auto tag) {
        using T = decltype(tag);
        size_t next = 1;
        if (n >= 2) {
            auto first = ir::broadcast_shapes(ctx.input(0).shape(), ctx.input(1).shape());
            if (first.has_value() && *first == out.shape()) {
                binary_broadcast<T, T, T>(ctx.input(0), ctx.input(1), out, op);
                next = 2;
            }
        }
        if (next == 1) broadcast_copy<T>(ctx.input(0), out);
        for (size_t k = next; k < n; ++k) binary_broadcast<T, T, T>(out, ctx.input(k), out, op);
    });
    if (aliased) std::memcpy(ctx.output(0).raw(), out.raw(), out.nbytes());
    return handled ? Status() : ctx.error(std::string("unexpected input type ") + data_type_name(out.dtype()));
}

template <class Op, uint32_t Mask>
Status variadic_compute(ir::ComputeContext& ctx) {
    return variadic_apply<Mask>(ctx, Op());
}

}  // namespace rtinfer::ref::ew
