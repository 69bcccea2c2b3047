#include "core/kernels/ref/reduce/reduce_util.h"

#include <string>

#include "core/ir/shape_util.h"

namespace rtinfer::ref::reduce {

std::vector<int64_t> read_int_values(const ir::Tensor& t) {
    std::vector<int64_t> out(static_cast<size_t>(t.numel()));
    if (t.dtype() == ir::DType::kInt64) {
        for (size_t i = 0; i < out.size(); ++i) out[i] = t.data<int64_t>()[i];
    } else if (t.dtype() == ir::DType::kInt32) {
        for (size_t i = 0; i < out.size(); ++i) out[i] = t.data<int32_t>()[i];
    } else {
        out = ir::to_int64s(t);
    }
    return out;
}

Expected<ReduceAxes> resolve_reduce_axes(const ir::Node& node, int rank, bool has_axes_input,
                                         const ir::Tensor* axes_value) {
    // The input wins when both are present; accepting the attribute at any opset keeps slightly
    // non-conforming exporters working without changing the meaning of conforming models.
    std::vector<int64_t> axes;
    if (has_axes_input) {
        if (!axes_value) {
            return Status(StatusCode::kInvalidModel,
                          node.describe() + ": the axes input must be a constant or computable at build time");
        }
        axes = read_int_values(*axes_value);
    } else {
        axes = node.attr_ints("axes");
    }
    ReduceAxes out;
    out.reduced.assign(static_cast<size_t>(rank), axes.empty());
    if (axes.empty()) {
        if (node.attr_int("noop_with_empty_axes", 0) != 0) {
            out.noop = true;
            out.reduced.assign(static_cast<size_t>(rank), false);
        }
        return out;
    }
    for (int64_t a : axes) {
        if (a < -rank || a >= rank) {
            return Status(StatusCode::kInvalidModel, node.describe() + ": axis " + std::to_string(a) +
                                                         " is out of range for an input of rank " +
                                                         std::to_string(rank));
        }
        const size_t k = static_cast<size_t>(a < 0 ? a + rank : a);
        if (out.reduced[k]) {
            return Status(StatusCode::kInvalidModel, node.describe() + ": axis " + std::to_string(a) + " is repeated");
        }
        out.reduced[k] = true;
    }
    return out;
}

ir::Shape reduced_shape(const ir::Shape& in, const std::vector<bool>& reduced, bool keepdims) {
    ir::Shape out;
    for (size_t d = 0; d < in.size(); ++d) {
        if (!reduced[d]) {
            out.push_back(in[d]);
        } else if (keepdims) {
            out.push_back(1);
        }
    }
    return out;
}

namespace {

// Offsets of every index of `dims` (row-major odometer) given the input strides of those dims.
std::vector<int64_t> offsets_of(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides) {
    int64_t count = 1;
    for (int64_t d : dims) count *= d;
    std::vector<int64_t> out(static_cast<size_t>(count));
    std::vector<int64_t> idx(dims.size(), 0);
    int64_t off = 0;
    for (int64_t i = 0; i < count; ++i) {
        out[static_cast<size_t>(i)] = off;
        for (size_t k = dims.size(); k-- > 0;) {
            ++idx[k];
            off += strides[k];
            if (idx[k] < dims[k]) break;
            off -= strides[k] * idx[k];
            idx[k] = 0;
        }
    }
    return out;
}

}  // namespace

ReducePlan make_reduce_plan(const ir::Shape& in, const std::vector<bool>& reduced, bool keepdims) {
    ReducePlan plan;
    plan.out_shape = reduced_shape(in, reduced, keepdims);
    const std::vector<int64_t> strides = ir::shape_strides(in);
    std::vector<int64_t> kept_dims, kept_strides, red_dims, red_strides;
    for (size_t d = 0; d < in.size(); ++d) {
        auto& dims = reduced[d] ? red_dims : kept_dims;
        auto& str = reduced[d] ? red_strides : kept_strides;
        dims.push_back(in[d]);
        str.push_back(strides[d]);
    }
    plan.out_offsets = offsets_of(kept_dims, kept_strides);
    plan.red_offsets = offsets_of(red_dims, red_strides);
    plan.out_count = static_cast<int64_t>(plan.out_offsets.size());
    plan.red_count = static_cast<int64_t>(plan.red_offsets.size());
    plan.red_contiguous = true;
    for (int64_t r = 0; r < plan.red_count; ++r) {
        if (plan.red_offsets[static_cast<size_t>(r)] != r) {
            plan.red_contiguous = false;
            break;
        }
    }
    return plan;
}

AxisSplit split_at_axis(const ir::Shape& shape, int axis) {
    AxisSplit s;
    for (int d = 0; d < static_cast<int>(shape.size()); ++d) {
        if (d < axis) {
            s.outer *= shape[static_cast<size_t>(d)];
        } else if (d == axis) {
            s.axis_dim = shape[static_cast<size_t>(d)];
        } else {
            s.inner *= shape[static_cast<size_t>(d)];
        }
    }
    return s;
}

}  // namespace rtinfer::ref::reduce
