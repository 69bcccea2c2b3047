#include "core/kernels/ref/elementwise/common.h"

#include <algorithm>

namespace rtinfer::ref::ew {

Status check_input_type(const ir::InferContext& ctx, size_t i, uint32_t allowed) {
    if (!ctx.has_input(i)) return ctx.error("input " + std::to_string(i) + " is missing");
    const DType t = ctx.input_dtype(i);
    if (!type_in(t, allowed)) {
        return ctx.unsupported("input " + std::to_string(i) + " of type " + data_type_name(t) + " is not supported");
    }
    return Status();
}

Status check_same_type(const ir::InferContext& ctx, size_t i, size_t j) {
    if (ctx.input_dtype(i) != ctx.input_dtype(j)) {
        return ctx.error("inputs " + std::to_string(i) + " and " + std::to_string(j) + " have different types (" +
                         data_type_name(ctx.input_dtype(i)) + ", " + data_type_name(ctx.input_dtype(j)) + ")");
    }
    return Status();
}

Expected<ir::Shape> broadcast_inputs(const ir::InferContext& ctx, size_t first, size_t count) {
    ir::Shape shape = ctx.input_shape(first);
    for (size_t i = first + 1; i < first + count; ++i) {
        if (!ctx.has_input(i)) continue;
        const ir::Shape& other = ctx.input_shape(i);
        const size_t rank = std::max(shape.size(), other.size());
        ir::Shape merged(rank);
        for (size_t d = 0; d < rank; ++d) {
            const int64_t x = d < rank - shape.size() ? 1 : shape[d - (rank - shape.size())];
            const int64_t y = d < rank - other.size() ? 1 : other[d - (rank - other.size())];
            // A dim not known before run time (-1) takes the other's size unless that is 1.
            if (x == y || y == 1) {
                merged[d] = x;
            } else if (x == 1 || x < 0) {
                merged[d] = y;
            } else if (y < 0) {
                merged[d] = x;
            } else {
                return ctx.error("input shapes " + ir::shape_str(ctx.input_shape(first)) + " ... " +
                                 ir::shape_str(other) + " (input " + std::to_string(i) +
                                 ") cannot be broadcast together");
            }
        }
        shape = std::move(merged);
    }
    return shape;
}

Status set_broadcast_output(ir::InferContext& ctx, DType dtype, size_t first, size_t count) {
    RT_ASSIGN_OR_RETURN(ir::Shape shape, broadcast_inputs(ctx, first, count));
    for (size_t i = first; i < first + count; ++i) {
        if (ctx.has_input(i) && !ctx.input(i).shape_known) {
            ctx.set_output_unknown(0, dtype, static_cast<int>(shape.size()));
            return Status();
        }
    }
    ctx.set_output(0, dtype, std::move(shape));
    return Status();
}

Expected<bool> flag_attr(const ir::InferContext& ctx, const std::string& key, int64_t fallback) {
    const int64_t v = ctx.node().attr_int(key, fallback);
    if (v != 0 && v != 1) return ctx.error("attribute " + key + " must be 0 or 1, got " + std::to_string(v));
    return v == 1;
}

}  // namespace rtinfer::ref::ew
