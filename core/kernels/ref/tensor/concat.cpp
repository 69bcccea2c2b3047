// Concat: each input is one strided copy into its band of the output (rows become memcpy).
#include "core/kernels/ref/tensor/common.h"
#include "core/kernels/ref/tensor/kernels.h"
#include "core/kernels/ref/tensor/strided_copy.h"

namespace rtinfer::ref {
namespace {

using namespace tensor_ops;

Status infer(ir::InferContext& ctx) {
    if (ctx.num_inputs() == 0 || !ctx.has_input(0)) return ctx.error("needs at least one input");
    if (!ctx.node().has_attr("axis")) return ctx.error("attribute 'axis' is required");
    const ir::Shape& first = ctx.input_shape(0);
    const int rank = static_cast<int>(first.size());
    RT_ASSIGN_OR_RETURN(int axis, node_axis(ctx.node(), ctx.node().attr_int("axis", 0), rank));
    ir::Shape out = first;
    out[static_cast<size_t>(axis)] = 0;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
        if (!ctx.has_input(i)) return ctx.error("input " + std::to_string(i) + " is missing");
        const ir::Shape& s = ctx.input_shape(i);
        if (ctx.input_dtype(i) != ctx.input_dtype(0)) return ctx.error("inputs differ in type");
        bool ok = s.size() == first.size();
        for (size_t d = 0; ok && d < s.size(); ++d) ok = static_cast<int>(d) == axis || s[d] == first[d];
        if (!ok) {
            return ctx.error("input shapes " + ir::shape_str(first) + " and " + ir::shape_str(s) +
                             " differ outside axis " + std::to_string(axis));
        }
        out[static_cast<size_t>(axis)] += s[static_cast<size_t>(axis)];
    }
    ctx.set_output(0, ctx.input_dtype(0), out);
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    ir::Tensor& y = ctx.output(0);
    RT_ASSIGN_OR_RETURN(int axis, node_axis(ctx.node(), ctx.node().attr_int("axis", 0), y.rank()));
    const auto out_strides = ir::shape_strides(y.shape());
    const size_t es = data_type_size(y.dtype());
    char* dst = static_cast<char*>(y.raw());
    int64_t offset = 0;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
        const ir::Tensor& x = ctx.input(i);
        const auto in_strides = ir::shape_strides(x.shape());
        std::vector<CopyDim> dims(x.shape().size());
        for (size_t d = 0; d < dims.size(); ++d) dims[d] = CopyDim{x.shape()[d], in_strides[d], out_strides[d]};
        strided_copy(dims, es, x.raw(),
                     dst + offset * out_strides[static_cast<size_t>(axis)] * static_cast<int64_t>(es));
        offset += x.shape()[static_cast<size_t>(axis)];
    }
    return Status();
}

}  // namespace

const ir::OpKernel kConcatKernel = {"Concat", "", infer, compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
