// Expand (bidirectional broadcast to a shape) and Tile (repeat along each axis): both are one strided copy
// whose source strides repeat data, 0 for a broadcast dim.
#include <algorithm>

#include "core/ir/shape_util.h"
#include "core/kernels/ref/tensor/common.h"
#include "core/kernels/ref/tensor/kernels.h"
#include "core/kernels/ref/tensor/strided_copy.h"

namespace rtinfer::ref {
namespace {

using namespace tensor_ops;

Expected<ir::Shape> expand_shape(const ir::Node& node, const ir::Shape& in, const ir::Tensor* shape) {
    RT_ASSIGN_OR_RETURN(auto target, read_ints(node, shape, "shape"));
    auto out = ir::broadcast_shapes(in, target);
    if (!out) return out.status().with_context(node.describe());
    return out;
}

Status expand_infer(ir::InferContext& ctx) {
    if (value_pending(ctx, {1})) {
        const ir::Shape& s = ctx.input_shape(1);
        const int target_rank = s.empty() ? 0 : static_cast<int>(s[0]);
        ctx.set_output_unknown(0, ctx.input_dtype(0), std::max(ctx.input_rank(0), target_rank));
        return Status();
    }
    RT_ASSIGN_OR_RETURN(auto out, expand_shape(ctx.node(), ctx.input_shape(0), infer_value(ctx, 1)));
    ctx.set_output(0, ctx.input_dtype(0), out);
    return Status();
}

Status expand_compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    ir::Tensor& y = ctx.output(0);
    strided_copy(dims_into_contiguous(y.shape(), ir::broadcast_strides(x.shape(), y.shape())),
                 data_type_size(x.dtype()), x.raw(), y.raw());
    return Status();
}

Expected<std::vector<int64_t>> tile_repeats(const ir::Node& node, const ir::Shape& in, const ir::Tensor* repeats) {
    RT_ASSIGN_OR_RETURN(auto reps, read_ints(node, repeats, "repeats"));
    if (reps.size() != in.size()) {
        return node_error(node,
                          "repeats " + ir::shape_str(reps) + " do not match the rank of input " + ir::shape_str(in));
    }
    for (int64_t r : reps) {
        if (r < 0) return node_error(node, "repeats " + ir::shape_str(reps) + " has a negative value");
    }
    return reps;
}

Status tile_infer(ir::InferContext& ctx) {
    const ir::Shape& in = ctx.input_shape(0);
    if (value_pending(ctx, {1})) {
        ctx.set_output_unknown(0, ctx.input_dtype(0), ctx.input_rank(0));
        return Status();
    }
    RT_ASSIGN_OR_RETURN(auto reps, tile_repeats(ctx.node(), in, infer_value(ctx, 1)));
    ir::Shape out(in.size());
    for (size_t i = 0; i < in.size(); ++i) out[i] = in[i] * reps[i];
    ctx.set_output(0, ctx.input_dtype(0), out);
    return Status();
}

Status tile_compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    ir::Tensor& y = ctx.output(0);
    RT_ASSIGN_OR_RETURN(auto reps, tile_repeats(ctx.node(), x.shape(), compute_value(ctx, 1)));
    const auto in_strides = ir::shape_strides(x.shape());
    const auto out_strides = ir::shape_strides(y.shape());
    // Output dim i seen as [repeat i][input dim i]: the repeat walks whole copies, the inner dim the data.
    std::vector<CopyDim> dims;
    for (size_t i = 0; i < reps.size(); ++i) {
        dims.push_back(CopyDim{reps[i], 0, x.shape()[i] * out_strides[i]});
        dims.push_back(CopyDim{x.shape()[i], in_strides[i], out_strides[i]});
    }
    strided_copy(dims, data_type_size(x.dtype()), x.raw(), y.raw());
    return Status();
}

}  // namespace

const ir::OpKernel kExpandKernel = {"Expand", "", expand_infer, expand_compute, ir::kOpNativeHalf};
const ir::OpKernel kTileKernel = {"Tile", "", tile_infer, tile_compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
