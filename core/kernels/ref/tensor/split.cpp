// Split: sizes from the 'split' attribute before opset 13, the optional 'split' input from 13, or
// num_outputs from 18 (where the last chunk may be smaller). Each output is one strided copy.
#include "core/kernels/ref/tensor/common.h"
#include "core/kernels/ref/tensor/kernels.h"
#include "core/kernels/ref/tensor/strided_copy.h"

namespace rtinfer::ref {
namespace {

using namespace tensor_ops;

Expected<std::vector<int64_t>> split_sizes(const ir::Node& node, int64_t opset, int64_t dim, size_t num_outputs,
                                           const ir::Tensor* split_input, bool has_split_input) {
    std::vector<int64_t> sizes;
    if (opset < 13 && node.has_attr("split")) {
        sizes = node.attr_ints("split");
    } else if (opset >= 13 && has_split_input) {
        RT_ASSIGN_OR_RETURN(sizes, read_ints(node, split_input, "split"));
    }
    if (!sizes.empty()) {
        int64_t total = 0;
        for (int64_t s : sizes) {
            if (s < 0) return node_error(node, "split " + ir::shape_str(sizes) + " has a negative size");
            total += s;
        }
        if (sizes.size() != num_outputs || total != dim) {
            return node_error(node, "split " + ir::shape_str(sizes) + " does not cut a dim of " + std::to_string(dim) +
                                        " into " + std::to_string(num_outputs) + " outputs");
        }
        return sizes;
    }
    int64_t n = static_cast<int64_t>(num_outputs);
    if (opset >= 18 && node.has_attr("num_outputs")) {
        n = node.attr_int("num_outputs", 0);
        if (n != static_cast<int64_t>(num_outputs)) {
            return node_error(node, "num_outputs " + std::to_string(n) + " differs from the node's " +
                                        std::to_string(num_outputs) + " outputs");
        }
    }
    if (n <= 0) return node_error(node, "has no outputs");
    if (dim % n == 0) return std::vector<int64_t>(static_cast<size_t>(n), dim / n);
    if (opset < 18) {
        return node_error(
            node, "a dim of " + std::to_string(dim) + " does not split evenly into " + std::to_string(n) + " outputs");
    }
    // Opset 18: chunks of ceil(dim / n), the last one what remains.
    const int64_t chunk = (dim + n - 1) / n;
    for (int64_t i = 0; i < n; ++i) sizes.push_back(std::max<int64_t>(std::min(chunk, dim - i * chunk), 0));
    return sizes;
}

Status infer(ir::InferContext& ctx) {
    const ir::Shape& in = ctx.input_shape(0);
    if (ctx.opset() >= 13 && value_pending(ctx, {1})) {
        for (size_t i = 0; i < ctx.num_outputs(); ++i) ctx.set_output_unknown(i, ctx.input_dtype(0), ctx.input_rank(0));
        return Status();
    }
    RT_ASSIGN_OR_RETURN(int axis, node_axis(ctx.node(), ctx.node().attr_int("axis", 0), ctx.input_rank(0)));
    RT_ASSIGN_OR_RETURN(auto sizes, split_sizes(ctx.node(), ctx.opset(), in[static_cast<size_t>(axis)],
                                                ctx.num_outputs(), infer_value(ctx, 1), ctx.has_input(1)));
    for (size_t i = 0; i < sizes.size(); ++i) {
        ir::Shape s = in;
        s[static_cast<size_t>(axis)] = sizes[i];
        ctx.set_output(i, ctx.input_dtype(0), s);
    }
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    RT_ASSIGN_OR_RETURN(int axis, node_axis(ctx.node(), ctx.node().attr_int("axis", 0), x.rank()));
    const size_t a = static_cast<size_t>(axis);
    RT_ASSIGN_OR_RETURN(auto sizes, split_sizes(ctx.node(), ctx.opset(), x.shape()[a], ctx.num_outputs(),
                                                compute_value(ctx, 1), ctx.has_input(1)));
    const auto in_strides = ir::shape_strides(x.shape());
    const int64_t es = static_cast<int64_t>(data_type_size(x.dtype()));
    int64_t offset = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
        if (ctx.has_output(i)) {
            ir::Shape shape = x.shape();
            shape[a] = sizes[i];
            const char* src = static_cast<const char*>(x.raw()) + offset * in_strides[a] * es;
            strided_copy(dims_into_contiguous(shape, in_strides), static_cast<size_t>(es), src, ctx.output(i).raw());
        }
        offset += sizes[i];
    }
    return Status();
}

}  // namespace

const ir::OpKernel kSplitKernel = {"Split", "", infer, compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
