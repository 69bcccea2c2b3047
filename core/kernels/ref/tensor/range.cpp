// Range (start, limit, delta scalars; the length depends on their values) and OneHot.
#include <cmath>
#include <cstring>

#include "core/kernels/ref/tensor/common.h"
#include "core/kernels/ref/tensor/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace tensor_ops;

Expected<int64_t> range_length(const ir::Node& node, const ir::Tensor* start, const ir::Tensor* limit,
                               const ir::Tensor* delta) {
    const char* names[] = {"start", "limit", "delta"};
    const ir::Tensor* args[] = {start, limit, delta};
    for (int i = 0; i < 3; ++i) {
        if (!args[i]) return node_error(node, std::string("input '") + names[i] + "' is missing");
        if (args[i]->numel() != 1) return node_error(node, std::string("input '") + names[i] + "' must be a scalar");
    }
    if (is_integer_type(start->dtype())) {
        const int64_t s = ir::to_int64s(*start)[0];
        const int64_t l = ir::to_int64s(*limit)[0];
        const int64_t d = ir::to_int64s(*delta)[0];
        if (d == 0) return node_error(node, "delta is 0");
        if (d > 0) return l > s ? (l - s - 1) / d + 1 : int64_t{0};
        return s > l ? (s - l - 1) / -d + 1 : int64_t{0};
    }
    const double s = load_as_double(start->dtype(), start->raw(), 0);
    const double l = load_as_double(limit->dtype(), limit->raw(), 0);
    const double d = load_as_double(delta->dtype(), delta->raw(), 0);
    if (d == 0) return node_error(node, "delta is 0");
    return static_cast<int64_t>(std::max(std::ceil((l - s) / d), 0.0));
}

Status range_infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (t != ir::DType::kFloat32 && t != ir::DType::kFloat64 && t != ir::DType::kInt32 && t != ir::DType::kInt64) {
        return ctx.unsupported(std::string("type ") + data_type_name(t) + " is not supported");
    }
    if (value_pending(ctx, {0, 1, 2})) {
        ctx.set_output_unknown(0, t, 1);
        return Status();
    }
    RT_ASSIGN_OR_RETURN(int64_t n,
                        range_length(ctx.node(), infer_value(ctx, 0), infer_value(ctx, 1), infer_value(ctx, 2)));
    ctx.set_output(0, t, {n});
    return Status();
}

template <class T>
void fill_range(T start, T delta, T* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(start + static_cast<T>(i) * delta);
}

Status range_compute(ir::ComputeContext& ctx) {
    const ir::Tensor& start = ctx.input(0);
    const ir::Tensor& delta = ctx.input(2);
    ir::Tensor& y = ctx.output(0);
    switch (y.dtype()) {
        case ir::DType::kFloat32:
            fill_range(*start.data<float>(), *delta.data<float>(), y.data<float>(), y.numel());
            break;
        case ir::DType::kFloat64:
            fill_range(*start.data<double>(), *delta.data<double>(), y.data<double>(), y.numel());
            break;
        case ir::DType::kInt32:
            fill_range(*start.data<int32_t>(), *delta.data<int32_t>(), y.data<int32_t>(), y.numel());
            break;
        case ir::DType::kInt64:
            fill_range(*start.data<int64_t>(), *delta.data<int64_t>(), y.data<int64_t>(), y.numel());
            break;
        default: return ctx.error("unexpected type");
    }
    return Status();
}

Expected<int64_t> one_hot_depth(const ir::Node& node, const ir::Tensor* depth) {
    if (!depth) return node_error(node, "input 'depth' is missing");
    if (depth->numel() != 1) return node_error(node, "depth must hold one value");
    const int64_t d = static_cast<int64_t>(load_as_double(depth->dtype(), depth->raw(), 0));
    if (d <= 0) return node_error(node, "depth must be positive, not " + std::to_string(d));
    return d;
}

Status one_hot_infer(ir::InferContext& ctx) {
    if (value_pending(ctx, {1})) {
        ctx.set_output_unknown(0, ctx.input_dtype(2), ctx.input_rank(0) + 1);
        return Status();
    }
    RT_ASSIGN_OR_RETURN(int64_t depth, one_hot_depth(ctx.node(), infer_value(ctx, 1)));
    if (ir::shape_numel(ctx.input_shape(2)) != 2) return ctx.error("values must hold [off, on]");
    const ir::Shape& in = ctx.input_shape(0);
    RT_ASSIGN_OR_RETURN(int axis, node_axis(ctx.node(), ctx.node().attr_int("axis", -1), ctx.input_rank(0) + 1));
    ir::Shape out = in;
    out.insert(out.begin() + axis, depth);
    ctx.set_output(0, ctx.input_dtype(2), out);
    return Status();
}

Status one_hot_compute(ir::ComputeContext& ctx) {
    const ir::Tensor& indices = ctx.input(0);
    const ir::Tensor& values = ctx.input(2);
    ir::Tensor& y = ctx.output(0);
    RT_ASSIGN_OR_RETURN(int64_t depth, one_hot_depth(ctx.node(), &ctx.input(1)));
    RT_ASSIGN_OR_RETURN(int axis, node_axis(ctx.node(), ctx.node().attr_int("axis", -1), indices.rank() + 1));
    const size_t es = data_type_size(values.dtype());
    const char* off_on = static_cast<const char*>(values.raw());
    fill_elements(y.raw(), y.numel(), off_on, es);
    int64_t inner = 1;
    for (size_t d = static_cast<size_t>(axis); d < indices.shape().size(); ++d) inner *= indices.shape()[d];
    const std::vector<double> idx = ir::to_doubles(indices);
    char* dst = static_cast<char*>(y.raw());
    for (size_t i = 0; i < idx.size(); ++i) {
        int64_t k = static_cast<int64_t>(idx[i]);
        if (!wrap_index(k, depth)) continue;  // out-of-range indices leave the row all "off"
        const int64_t outer = static_cast<int64_t>(i) / inner;
        const int64_t in_pos = static_cast<int64_t>(i) % inner;
        std::memcpy(dst + static_cast<size_t>((outer * depth + k) * inner + in_pos) * es, off_on + es, es);
    }
    return Status();
}

}  // namespace

const ir::OpKernel kRangeKernel = {"Range", "", range_infer, range_compute, ir::kOpNone};
const ir::OpKernel kOneHotKernel = {"OneHot", "", one_hot_infer, one_hot_compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
