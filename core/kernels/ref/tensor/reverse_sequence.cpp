// ReverseSequence: per batch entry, reverse the first sequence_lens[b] steps along the time axis.
#include <cstring>

#include "core/kernels/ref/tensor/common.h"
#include "core/kernels/ref/tensor/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace tensor_ops;

Status check_axes(const ir::Node& node, int rank, int64_t& batch_axis, int64_t& time_axis) {
    batch_axis = node.attr_int("batch_axis", 1);
    time_axis = node.attr_int("time_axis", 0);
    if (rank < 2) return node_error(node, "input must have rank >= 2");
    if (!((batch_axis == 0 && time_axis == 1) || (batch_axis == 1 && time_axis == 0))) {
        return node_error(node, "batch_axis and time_axis must be 0 and 1 in some order");
    }
    return Status();
}

Status infer(ir::InferContext& ctx) {
    int64_t batch_axis = 0;
    int64_t time_axis = 0;
    RT_RETURN_IF_ERROR(check_axes(ctx.node(), ctx.input_rank(0), batch_axis, time_axis));
    const int64_t batch = ctx.input_shape(0)[static_cast<size_t>(batch_axis)];
    if (ctx.input_shape(1) != ir::Shape{batch}) {
        return ctx.error("sequence_lens " + ir::shape_str(ctx.input_shape(1)) + " must have shape [" +
                         std::to_string(batch) + "]");
    }
    ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    ir::Tensor& y = ctx.output(0);
    int64_t batch_axis = 0;
    int64_t time_axis = 0;
    RT_RETURN_IF_ERROR(check_axes(ctx.node(), x.rank(), batch_axis, time_axis));
    const auto lens = read_indices(ctx.input(1));
    const auto strides = ir::shape_strides(x.shape());
    const int64_t batch = x.shape()[static_cast<size_t>(batch_axis)];
    const int64_t steps = x.shape()[static_cast<size_t>(time_axis)];
    const int64_t bs = strides[static_cast<size_t>(batch_axis)];
    const int64_t ts = strides[static_cast<size_t>(time_axis)];
    // Both axes are dims 0 and 1, so everything after them is one contiguous chunk.
    const size_t es = data_type_size(x.dtype());
    const size_t chunk = static_cast<size_t>(strides[1]) * es;
    copy_bytes(x, y);
    const char* src = static_cast<const char*>(x.raw());
    char* dst = static_cast<char*>(y.raw());
    for (int64_t b = 0; b < batch; ++b) {
        const int64_t len = lens[static_cast<size_t>(b)];
        if (len < 0 || len > steps) {
            return ctx.error("sequence length " + std::to_string(len) + " is outside [0, " + std::to_string(steps) +
                             "]");
        }
        for (int64_t t = 0; t < len; ++t) {
            std::memcpy(dst + static_cast<size_t>(b * bs + t * ts) * es,
                        src + static_cast<size_t>(b * bs + (len - 1 - t) * ts) * es, chunk);
        }
    }
    return Status();
}

}  // namespace

const ir::OpKernel kReverseSequenceKernel = {"ReverseSequence", "", infer, compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
