// Reshape, Flatten, Squeeze, Unsqueeze: only the shape changes, so compute is one memcpy (none when the
// runtime runs them in place).
#include <algorithm>

#include "core/kernels/ref/tensor/common.h"
#include "core/kernels/ref/tensor/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace tensor_ops;

Status copy_compute(ir::ComputeContext& ctx) {
    copy_bytes(ctx.input(0), ctx.output(0));
    return Status();
}

Expected<ir::Shape> reshape_shape(const ir::Node& node, int64_t opset, const ir::Shape& in,
                                  const std::vector<int64_t>& target) {
    const bool allowzero = opset >= 14 && node.attr_int("allowzero", 0) != 0;
    ir::Shape out(target.size());
    int infer_at = -1;
    bool has_zero = false;
    for (size_t i = 0; i < target.size(); ++i) {
        const int64_t v = target[i];
        if (v == -1) {
            if (infer_at >= 0) return node_error(node, "shape " + ir::shape_str(target) + " has more than one -1");
            infer_at = static_cast<int>(i);
            out[i] = 1;
        } else if (v == 0 && !allowzero) {
            if (i >= in.size()) {
                return node_error(node, "shape " + ir::shape_str(target) + " copies dim " + std::to_string(i) +
                                            " that input " + ir::shape_str(in) + " does not have");
            }
            out[i] = in[i];
        } else if (v < 0) {
            return node_error(node, "shape " + ir::shape_str(target) + " has the invalid dim " + std::to_string(v));
        } else {
            has_zero = has_zero || v == 0;
            out[i] = v;
        }
    }
    if (allowzero && has_zero && infer_at >= 0) {
        return node_error(node, "with allowzero=1 the shape cannot hold both 0 and -1");
    }
    const int64_t numel = ir::shape_numel(in);
    if (infer_at >= 0) {
        const int64_t rest = ir::shape_numel(out);
        if (rest == 0 || numel % rest != 0) {
            return node_error(node, "cannot reshape " + ir::shape_str(in) + " (" + std::to_string(numel) +
                                        " elements) to " + ir::shape_str(target));
        }
        out[static_cast<size_t>(infer_at)] = numel / rest;
    }
    if (ir::shape_numel(out) != numel) {
        return node_error(node, "cannot reshape " + ir::shape_str(in) + " (" + std::to_string(numel) +
                                    " elements) to " + ir::shape_str(target) + " (" +
                                    std::to_string(ir::shape_numel(out)) + " elements)");
    }
    return out;
}

Status reshape_infer(ir::InferContext& ctx) {
    if (value_pending(ctx, {1})) {
        const ir::Shape& s = ctx.input_shape(1);
        ctx.set_output_unknown(0, ctx.input_dtype(0), s.empty() ? 0 : static_cast<int>(s[0]));
        return Status();
    }
    RT_ASSIGN_OR_RETURN(auto target, read_ints(ctx.node(), infer_value(ctx, 1), "shape"));
    RT_ASSIGN_OR_RETURN(auto out, reshape_shape(ctx.node(), ctx.opset(), ctx.input_shape(0), target));
    ctx.set_output(0, ctx.input_dtype(0), out);
    return Status();
}

Status flatten_infer(ir::InferContext& ctx) {
    const int rank = ctx.input_rank(0);
    int64_t axis = ctx.node().attr_int("axis", 1);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis > rank) {
        return ctx.error("axis " + std::to_string(ctx.node().attr_int("axis", 1)) + " is out of range for rank " +
                         std::to_string(rank));
    }
    const ir::Shape& in = ctx.input_shape(0);
    int64_t outer = 1;
    int64_t inner = 1;
    for (int i = 0; i < rank; ++i) (i < axis ? outer : inner) *= in[static_cast<size_t>(i)];
    ctx.set_output(0, ctx.input_dtype(0), {outer, inner});
    return Status();
}

// Squeeze/Unsqueeze axes: an attribute before opset 13, the optional second input from 13.
Expected<std::vector<int64_t>> squeeze_axes(const ir::InferContext& ctx, bool& given) {
    given = false;
    if (ctx.opset() < 13) {
        given = ctx.node().has_attr("axes");
        return ctx.node().attr_ints("axes");
    }
    if (!ctx.has_input(1)) return std::vector<int64_t>{};
    RT_ASSIGN_OR_RETURN(auto axes, read_ints(ctx.node(), infer_value(ctx, 1), "axes"));
    // An empty axes input means the same as none (Squeeze: every size-1 dim; Unsqueeze: an error).
    given = !axes.empty();
    return axes;
}

// Squeeze/Unsqueeze with axes known only at run time: the rank still follows from the number of axes.
bool squeeze_pending(ir::InferContext& ctx, int sign) {
    if (ctx.opset() < 13 || !value_pending(ctx, {1})) return false;
    const ir::Shape& s = ctx.input_shape(1);
    const int n = s.empty() ? 1 : static_cast<int>(s[0]);
    ctx.set_output_unknown(0, ctx.input_dtype(0), ctx.input_rank(0) + sign * n);
    return true;
}

Status squeeze_infer(ir::InferContext& ctx) {
    if (squeeze_pending(ctx, -1)) return Status();
    bool given = false;
    RT_ASSIGN_OR_RETURN(auto axes_raw, squeeze_axes(ctx, given));
    const ir::Shape& in = ctx.input_shape(0);
    const int rank = ctx.input_rank(0);
    std::vector<bool> drop(in.size(), false);
    if (given) {
        RT_ASSIGN_OR_RETURN(auto axes, node_axes(ctx.node(), axes_raw, rank));
        for (int a : axes) {
            if (in[static_cast<size_t>(a)] != 1) {
                return ctx.error("cannot squeeze axis " + std::to_string(a) + " of shape " + ir::shape_str(in) +
                                 ": its size is not 1");
            }
            drop[static_cast<size_t>(a)] = true;
        }
    } else {
        for (size_t i = 0; i < in.size(); ++i) drop[i] = in[i] == 1;
    }
    ir::Shape out;
    for (size_t i = 0; i < in.size(); ++i) {
        if (!drop[i]) out.push_back(in[i]);
    }
    ctx.set_output(0, ctx.input_dtype(0), out);
    return Status();
}

Status unsqueeze_infer(ir::InferContext& ctx) {
    if (squeeze_pending(ctx, 1)) return Status();
    bool given = false;
    RT_ASSIGN_OR_RETURN(auto axes_raw, squeeze_axes(ctx, given));
    if (!given || axes_raw.empty()) return ctx.error("axes must be given");
    const ir::Shape& in = ctx.input_shape(0);
    const int out_rank = ctx.input_rank(0) + static_cast<int>(axes_raw.size());
    RT_ASSIGN_OR_RETURN(auto axes, node_axes(ctx.node(), axes_raw, out_rank));
    std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
    for (int a : axes) inserted[static_cast<size_t>(a)] = true;
    ir::Shape out;
    size_t next = 0;
    for (int i = 0; i < out_rank; ++i) out.push_back(inserted[static_cast<size_t>(i)] ? 1 : in[next++]);
    ctx.set_output(0, ctx.input_dtype(0), out);
    return Status();
}

}  // namespace

const ir::OpKernel kReshapeKernel = {"Reshape", "", reshape_infer, copy_compute, ir::kOpNativeHalf};
const ir::OpKernel kFlattenKernel = {"Flatten", "", flatten_infer, copy_compute, ir::kOpNativeHalf};
const ir::OpKernel kSqueezeKernel = {"Squeeze", "", squeeze_infer, copy_compute, ir::kOpNativeHalf};
const ir::OpKernel kUnsqueezeKernel = {"Unsqueeze", "", unsqueeze_infer, copy_compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
