// Slice: starts/ends/axes attributes before opset 10, inputs (with steps) from 10. Out-of-range bounds are
// clamped as the spec says; negative steps walk backwards. The copy itself is one strided copy.
#include <algorithm>

#include "core/kernels/ref/tensor/common.h"
#include "core/kernels/ref/tensor/kernels.h"
#include "core/kernels/ref/tensor/strided_copy.h"

namespace rtinfer::ref {
namespace {

using namespace tensor_ops;

struct SliceDims {
    std::vector<int64_t> start;  // first element taken, per dim
    std::vector<int64_t> step;
    ir::Shape out;
};

struct SliceArgs {
    const ir::Tensor* starts;
    const ir::Tensor* ends;
    const ir::Tensor* axes;
    const ir::Tensor* steps;
};

Expected<SliceDims> slice_dims(const ir::Node& node, int64_t opset, const ir::Shape& in, const SliceArgs& args) {
    std::vector<int64_t> starts;
    std::vector<int64_t> ends;
    std::vector<int64_t> axes;
    std::vector<int64_t> steps;
    if (opset < 10) {
        starts = node.attr_ints("starts");
        ends = node.attr_ints("ends");
        axes = node.attr_ints("axes");
    } else {
        RT_ASSIGN_OR_RETURN(starts, read_ints(node, args.starts, "starts"));
        RT_ASSIGN_OR_RETURN(ends, read_ints(node, args.ends, "ends"));
        if (args.axes) {
            RT_ASSIGN_OR_RETURN(axes, read_ints(node, args.axes, "axes"));
        }
        if (args.steps) {
            RT_ASSIGN_OR_RETURN(steps, read_ints(node, args.steps, "steps"));
        }
    }
    if (starts.size() != ends.size()) return node_error(node, "starts and ends differ in length");
    if (axes.empty()) {
        for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    }
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (axes.size() != starts.size() || steps.size() != starts.size()) {
        return node_error(node, "starts, ends, axes and steps must have the same length");
    }
    const int rank = static_cast<int>(in.size());
    RT_ASSIGN_OR_RETURN(auto norm_axes, node_axes(node, axes, rank));

    SliceDims r;
    r.start.assign(in.size(), 0);
    r.step.assign(in.size(), 1);
    r.out = in;
    for (size_t k = 0; k < norm_axes.size(); ++k) {
        const size_t a = static_cast<size_t>(norm_axes[k]);
        const int64_t dim = in[a];
        const int64_t step = steps[k];
        if (step == 0) return node_error(node, "a step is 0");
        int64_t start = starts[k];
        int64_t end = ends[k];
        if (start < 0) start += dim;
        if (end < 0) end += dim;
        int64_t count = 0;
        if (step > 0) {
            start = std::clamp<int64_t>(start, 0, dim);
            end = std::clamp<int64_t>(end, 0, dim);
            if (end > start) count = (end - start - 1) / step + 1;
        } else {
            start = std::clamp<int64_t>(start, 0, dim - 1);
            end = std::clamp<int64_t>(end, -1, dim - 1);
            if (start > end) count = (start - end - 1) / -step + 1;
        }
        r.start[a] = count > 0 ? start : 0;
        r.step[a] = step;
        r.out[a] = count;
    }
    return r;
}

Status infer(ir::InferContext& ctx) {
    if (ctx.opset() >= 10 && value_pending(ctx, {1, 2, 3, 4})) {
        ctx.set_output_unknown(0, ctx.input_dtype(0), ctx.input_rank(0));
        return Status();
    }
    const SliceArgs args{infer_value(ctx, 1), infer_value(ctx, 2), infer_value(ctx, 3), infer_value(ctx, 4)};
    RT_ASSIGN_OR_RETURN(auto dims, slice_dims(ctx.node(), ctx.opset(), ctx.input_shape(0), args));
    ctx.set_output(0, ctx.input_dtype(0), dims.out);
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    const SliceArgs args{compute_value(ctx, 1), compute_value(ctx, 2), compute_value(ctx, 3), compute_value(ctx, 4)};
    RT_ASSIGN_OR_RETURN(auto dims, slice_dims(ctx.node(), ctx.opset(), x.shape(), args));
    if (ir::shape_numel(dims.out) == 0) return Status();
    const auto strides = ir::shape_strides(x.shape());
    const size_t es = data_type_size(x.dtype());
    int64_t offset = 0;
    std::vector<int64_t> src_strides(strides.size());
    for (size_t i = 0; i < strides.size(); ++i) {
        offset += dims.start[i] * strides[i];
        src_strides[i] = strides[i] * dims.step[i];
    }
    strided_copy(dims_into_contiguous(dims.out, src_strides), es,
                 static_cast<const char*>(x.raw()) + offset * static_cast<int64_t>(es), ctx.output(0).raw());
    return Status();
}

}  // namespace

const ir::OpKernel kSliceKernel = {"Slice", "", infer, compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
