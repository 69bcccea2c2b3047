// Shape (with start/end from opset 15) and Size: facts about the input's shape as int64 tensors.
#include <algorithm>

#include "core/kernels/ref/tensor/common.h"
#include "core/kernels/ref/tensor/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace tensor_ops;

// [start, end) of the dims Shape reports, clamped as opset 15 specifies.
void shape_range(const ir::Node& node, int64_t opset, int64_t rank, int64_t& start, int64_t& end) {
    start = opset >= 15 ? node.attr_int("start", 0) : 0;
    end = opset >= 15 ? node.attr_int("end", rank) : rank;
    if (start < 0) start += rank;
    if (end < 0) end += rank;
    start = std::clamp<int64_t>(start, 0, rank);
    end = std::clamp<int64_t>(end, 0, rank);
}

Status shape_infer(ir::InferContext& ctx) {
    int64_t start = 0;
    int64_t end = 0;
    shape_range(ctx.node(), ctx.opset(), ctx.input_rank(0), start, end);
    ctx.set_output(0, ir::DType::kInt64, {std::max<int64_t>(end - start, 0)});
    return Status();
}

Status shape_compute(ir::ComputeContext& ctx) {
    const ir::Shape& in = ctx.input(0).shape();
    int64_t start = 0;
    int64_t end = 0;
    shape_range(ctx.node(), ctx.opset(), static_cast<int64_t>(in.size()), start, end);
    int64_t* out = ctx.output(0).data<int64_t>();
    for (int64_t i = start; i < end; ++i) out[i - start] = in[static_cast<size_t>(i)];
    return Status();
}

Status size_infer(ir::InferContext& ctx) {
    ctx.set_output(0, ir::DType::kInt64, {});
    return Status();
}

Status size_compute(ir::ComputeContext& ctx) {
    *ctx.output(0).data<int64_t>() = ctx.input(0).numel();
    return Status();
}

}  // namespace

const ir::OpKernel kShapeKernel = {"Shape", "", shape_infer, shape_compute, ir::kOpNativeHalf};
const ir::OpKernel kSizeKernel = {"Size", "", size_infer, size_compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
