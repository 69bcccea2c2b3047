// Shared machinery of the reduce family: which axes a node reduces, and a plan that walks, for every output
// element, the input elements reduced into it. The ten ReduceX ops, ArgMax/ArgMin and the axis-wise ops are
// written on top of it so that each op is only its accumulator.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/ir/op.h"

namespace rtinfer::ref::reduce {

// The axes a ReduceX node reduces. Opsets before 18 (ReduceSum: before 13) give them as the `axes` attribute,
// later ones as the optional second input; an empty list means all axes, or no reduction at all when
// noop_with_empty_axes is set.
struct ReduceAxes {
    std::vector<bool> reduced;  // per input axis
    bool noop = false;          // empty axes with noop_with_empty_axes: the output is the input
};

// axes_value is the axes input's value (nullptr when the input is omitted or not known).
// Fails (naming the node) on out-of-range or repeated axes.
Expected<ReduceAxes> resolve_reduce_axes(const ir::Node& node, int rank, bool has_axes_input,
                                         const ir::Tensor* axes_value);

// For every output element, the input offset of its first reduced element (out_offsets) and the offsets of
// all reduced elements relative to it (red_offsets, the same for every output). Works for any set of axes.
struct ReducePlan {
    ir::Shape out_shape;  // keepdims applied
    int64_t out_count = 0;
    int64_t red_count = 0;
    std::vector<int64_t> out_offsets;
    std::vector<int64_t> red_offsets;
    bool red_contiguous = false;  // red_offsets[r] == r: the reduced elements are one run in memory
};

ir::Shape reduced_shape(const ir::Shape& in, const std::vector<bool>& reduced, bool keepdims);
ReducePlan make_reduce_plan(const ir::Shape& in, const std::vector<bool>& reduced, bool keepdims);

// The element type used to accumulate T: double for floating point, int64 for integers.
template <class T>
using Wide = typename std::conditional<std::is_floating_point<T>::value, double, int64_t>::type;

// -inf / +inf for floating point, the extreme values for integers: the identities of max and min.
template <class T>
T lowest_value() {
    return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                : std::numeric_limits<T>::lowest();
}
template <class T>
T highest_value() {
    return std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max();
}

template <class T>
bool is_nan(T v) {
    return v != v;  // NOLINT: false for every integer
}

// Runs Acc (default-constructed per output element; add(T) per reduced element; result(n) at the end) over
// the plan. Acc::result gets the number of reduced elements, which is 0 for a reduction over an empty axis.
template <class T, class Acc>
void run_reduce(const ReducePlan& plan, const T* x, T* y) {
    const int64_t n = plan.red_count;
    const int64_t* red = plan.red_offsets.data();
    for (int64_t o = 0; o < plan.out_count; ++o) {
        const T* base = x + plan.out_offsets[static_cast<size_t>(o)];
        Acc acc;
        if (plan.red_contiguous) {
            for (int64_t r = 0; r < n; ++r) acc.add(base[r]);
        } else {
            for (int64_t r = 0; r < n; ++r) acc.add(base[red[r]]);
        }
        y[o] = acc.result(n);
    }
}

// The (outer, axis, inner) view of a shape around one axis: element (o, a, i) is at (o * axis_dim + a) * inner + i.
struct AxisSplit {
    int64_t outer = 1;
    int64_t axis_dim = 1;
    int64_t inner = 1;
};
AxisSplit split_at_axis(const ir::Shape& shape, int axis);

// Types the infer functions accept. float16 is among them: the executor hands such inputs to compute as
// float32, so compute never sees it.
inline bool is_float_type(ir::DType t) {
    return t == ir::DType::kFloat32 || t == ir::DType::kFloat64 || t == ir::DType::kFloat16;
}
inline bool is_numeric_type(ir::DType t) {
    return is_float_type(t) || t == ir::DType::kInt32 || t == ir::DType::kInt64 || t == ir::DType::kInt8 ||
           t == ir::DType::kUInt8;
}

// The integer value(s) of a small shape-like input (int32 or int64).
std::vector<int64_t> read_int_values(const ir::Tensor& t);

}  // namespace rtinfer::ref::reduce
