// Pad: pads/value attributes before opset 11, pads/constant_value inputs from 11, axes input from 18, wrap
// mode from 19. Negative pads crop. Constant mode fills then copies the kept block with one strided copy;
// the other modes map every output coordinate to a source coordinate per axis.
#include <algorithm>
#include <cstring>

#include "core/kernels/ref/tensor/common.h"
#include "core/kernels/ref/tensor/kernels.h"
#include "core/kernels/ref/tensor/strided_copy.h"

namespace rtinfer::ref {
namespace {

using namespace tensor_ops;

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

struct PadPlan {
    PadMode mode = PadMode::kConstant;
    std::vector<int64_t> begin;  // per dim, negative crops
    std::vector<int64_t> end;
    ir::Shape out;
};

struct PadArgs {
    const ir::Tensor* pads;
    const ir::Tensor* axes;
};

Expected<PadPlan> pad_plan(const ir::Node& node, int64_t opset, const ir::Shape& in, const PadArgs& args) {
    PadPlan plan;
    const std::string mode = node.attr_string("mode", "constant");
    if (mode == "constant") {
        plan.mode = PadMode::kConstant;
    } else if (mode == "reflect") {
        plan.mode = PadMode::kReflect;
    } else if (mode == "edge") {
        plan.mode = PadMode::kEdge;
    } else if (mode == "wrap" && opset >= 19) {
        plan.mode = PadMode::kWrap;
    } else {
        return node_error(node, "mode '" + mode + "' is not supported", StatusCode::kUnsupported);
    }
    const int rank = static_cast<int>(in.size());
    std::vector<int64_t> pads;
    if (opset < 11) {
        pads = node.attr_ints("pads");
    } else {
        RT_ASSIGN_OR_RETURN(pads, read_ints(node, args.pads, "pads"));
    }
    std::vector<int> axes;
    if (opset >= 18 && args.axes) {
        RT_ASSIGN_OR_RETURN(auto raw, read_ints(node, args.axes, "axes"));
        RT_ASSIGN_OR_RETURN(axes, node_axes(node, raw, rank));
    } else {
        for (int i = 0; i < rank; ++i) axes.push_back(i);
    }
    if (pads.size() != 2 * axes.size()) {
        return node_error(node, "pads " + ir::shape_str(pads) + " must have 2 values per padded axis (" +
                                    std::to_string(axes.size()) + " axes)");
    }
    plan.begin.assign(in.size(), 0);
    plan.end.assign(in.size(), 0);
    for (size_t k = 0; k < axes.size(); ++k) {
        plan.begin[static_cast<size_t>(axes[k])] = pads[k];
        plan.end[static_cast<size_t>(axes[k])] = pads[k + axes.size()];
    }
    plan.out = in;
    for (size_t d = 0; d < in.size(); ++d) {
        plan.out[d] = in[d] + plan.begin[d] + plan.end[d];
        if (plan.out[d] < 0) {
            return node_error(node,
                              "pads " + ir::shape_str(pads) + " crop more than input " + ir::shape_str(in) + " has");
        }
        const int64_t kept = in[d] - std::max<int64_t>(0, -plan.begin[d]) - std::max<int64_t>(0, -plan.end[d]);
        if (plan.mode != PadMode::kConstant && kept <= 0 && plan.out[d] > 0) {
            return node_error(node, "mode '" + mode + "' cannot pad an axis with no elements");
        }
    }
    return plan;
}

Status infer(ir::InferContext& ctx) {
    if (ctx.opset() >= 11 && value_pending(ctx, {1, 3})) {
        ctx.set_output_unknown(0, ctx.input_dtype(0), ctx.input_rank(0));
        return Status();
    }
    RT_ASSIGN_OR_RETURN(
        auto plan, pad_plan(ctx.node(), ctx.opset(), ctx.input_shape(0), {infer_value(ctx, 1), infer_value(ctx, 3)}));
    ctx.set_output(0, ctx.input_dtype(0), plan.out);
    return Status();
}

// The fill value's bytes in the data type.
std::vector<unsigned char> constant_bytes(const ir::ComputeContext& ctx, ir::DType dtype) {
    const size_t es = data_type_size(dtype);
    std::vector<unsigned char> bytes(es, 0);
    if (ctx.opset() < 11) {
        store_from_double(dtype, bytes.data(), 0, ctx.node().attr_float("value", 0.0f));
    } else if (ctx.has_input(2) && ctx.input(2).numel() > 0) {
        const ir::Tensor& v = ctx.input(2);
        if (v.dtype() == dtype) {
            std::memcpy(bytes.data(), v.raw(), es);
        } else {
            store_from_double(dtype, bytes.data(), 0, load_as_double(v.dtype(), v.raw(), 0));
        }
    }
    return bytes;
}

int64_t map_coordinate(PadMode mode, int64_t p, int64_t n) {
    switch (mode) {
        case PadMode::kEdge: return std::clamp<int64_t>(p, 0, n - 1);
        case PadMode::kWrap: return ((p % n) + n) % n;
        case PadMode::kReflect: {
            if (n == 1) return 0;
            const int64_t period = 2 * (n - 1);
            int64_t q = ((p % period) + period) % period;
            return q < n ? q : period - q;
        }
        case PadMode::kConstant: break;
    }
    return p;
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    ir::Tensor& y = ctx.output(0);
    RT_ASSIGN_OR_RETURN(auto plan,
                        pad_plan(ctx.node(), ctx.opset(), x.shape(), {compute_value(ctx, 1), compute_value(ctx, 3)}));
    const size_t es = data_type_size(x.dtype());
    const size_t rank = x.shape().size();
    if (y.numel() == 0) return Status();
    const auto in_strides = ir::shape_strides(x.shape());
    const auto out_strides = ir::shape_strides(y.shape());
    // The kept block of the input: [lo, lo + kept) per dim, placed at max(begin, 0) in the output.
    std::vector<int64_t> lo(rank);
    std::vector<int64_t> kept(rank);
    std::vector<int64_t> at(rank);
    for (size_t d = 0; d < rank; ++d) {
        lo[d] = std::max<int64_t>(0, -plan.begin[d]);
        kept[d] = std::max<int64_t>(0, x.shape()[d] - lo[d] - std::max<int64_t>(0, -plan.end[d]));
        at[d] = std::max<int64_t>(0, plan.begin[d]);
    }

    if (plan.mode == PadMode::kConstant) {
        const auto value = constant_bytes(ctx, x.dtype());
        fill_elements(y.raw(), y.numel(), value.data(), es);
        int64_t src_off = 0;
        int64_t dst_off = 0;
        std::vector<CopyDim> dims(rank);
        for (size_t d = 0; d < rank; ++d) {
            src_off += lo[d] * in_strides[d];
            dst_off += at[d] * out_strides[d];
            dims[d] = CopyDim{kept[d], in_strides[d], out_strides[d]};
        }
        strided_copy(dims, es, static_cast<const char*>(x.raw()) + src_off * static_cast<int64_t>(es),
                     static_cast<char*>(y.raw()) + dst_off * static_cast<int64_t>(es));
        return Status();
    }

    if (rank == 0) {
        copy_bytes(x, y);
        return Status();
    }
    // Source offset (in elements) of every output coordinate, per dim.
    std::vector<std::vector<int64_t>> src_of(rank);
    for (size_t d = 0; d < rank; ++d) {
        src_of[d].resize(static_cast<size_t>(y.shape()[d]));
        for (int64_t o = 0; o < y.shape()[d]; ++o) {
            const int64_t i = lo[d] + map_coordinate(plan.mode, o - at[d], kept[d]);
            src_of[d][static_cast<size_t>(o)] = i * in_strides[d];
        }
    }
    const char* src = static_cast<const char*>(x.raw());
    char* dst = static_cast<char*>(y.raw());
    const int64_t inner = y.shape()[rank - 1];
    const auto& inner_map = src_of[rank - 1];
    std::vector<int64_t> idx(rank, 0);
    const int64_t rows = y.numel() / inner;
    for (int64_t r = 0; r < rows; ++r) {
        int64_t row_off = 0;
        for (size_t d = 0; d + 1 < rank; ++d) row_off += src_of[d][static_cast<size_t>(idx[d])];
        char* out_row = dst + r * inner * static_cast<int64_t>(es);
        for (int64_t o = 0; o < inner; ++o) {
            std::memcpy(out_row + o * static_cast<int64_t>(es),
                        src + (row_off + inner_map[static_cast<size_t>(o)]) * static_cast<int64_t>(es), es);
        }
        for (size_t d = rank - 1; d-- > 0;) {
            if (++idx[d] < y.shape()[d]) break;
            idx[d] = 0;
        }
    }
    return Status();
}

}  // namespace

const ir::OpKernel kPadKernel = {"Pad", "", infer, compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
