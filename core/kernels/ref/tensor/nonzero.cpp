// NonZero and Compress: outputs whose size depends on the data, so compute allocates them.
#include <algorithm>
#include <cstring>

#include "core/kernels/ref/tensor/common.h"
#include "core/kernels/ref/tensor/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace tensor_ops;

Status nonzero_infer(ir::InferContext& ctx) {
    ctx.set_output_unknown(0, ir::DType::kInt64, 2);
    return Status();
}

Status nonzero_compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    const ir::Shape& shape = x.shape();
    std::vector<int64_t> hits;
    for (int64_t i = 0; i < x.numel(); ++i) {
        if (load_as_double(x.dtype(), x.raw(), i) != 0.0) hits.push_back(i);
    }
    // A scalar reports one coordinate row, as numpy's nonzero treats it as 1-D.
    const size_t rank = std::max<size_t>(shape.size(), 1);
    const int64_t n = static_cast<int64_t>(hits.size());
    ir::Tensor& y = ctx.allocate_output(0, ir::DType::kInt64, {static_cast<int64_t>(rank), n});
    int64_t* out = y.data<int64_t>();
    const auto strides = ir::shape_strides(shape);
    for (int64_t j = 0; j < n; ++j) {
        int64_t flat = hits[static_cast<size_t>(j)];
        for (size_t d = 0; d < shape.size(); ++d) {
            out[static_cast<int64_t>(d) * n + j] = flat / strides[d];
            flat %= strides[d];
        }
        if (shape.empty()) out[j] = 0;
    }
    return Status();
}

Status compress_infer(ir::InferContext& ctx) {
    if (ctx.input_rank(1) != 1) return ctx.error("condition must be 1-D");
    int rank = 1;
    if (ctx.node().has_attr("axis")) {
        RT_RETURN_IF_ERROR(node_axis(ctx.node(), ctx.node().attr_int("axis", 0), ctx.input_rank(0)).status());
        rank = ctx.input_rank(0);
    }
    ctx.set_output_unknown(0, ctx.input_dtype(0), rank);
    return Status();
}

Status compress_compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    const ir::Tensor& cond = ctx.input(1);
    const bool has_axis = ctx.node().has_attr("axis");
    int axis = 0;
    if (has_axis) {
        RT_ASSIGN_OR_RETURN(axis, node_axis(ctx.node(), ctx.node().attr_int("axis", 0), x.rank()));
    }
    // Without an axis the input is read flattened.
    const ir::Shape shape = has_axis ? x.shape() : ir::Shape{x.numel()};
    const int64_t n = shape[static_cast<size_t>(axis)];
    const std::vector<double> c = ir::to_doubles(cond);
    std::vector<int64_t> keep;
    for (size_t i = 0; i < c.size(); ++i) {
        if (c[i] == 0.0) continue;
        if (static_cast<int64_t>(i) >= n) {
            return ctx.error("condition selects index " + std::to_string(i) + " of a dim of " + std::to_string(n));
        }
        keep.push_back(static_cast<int64_t>(i));
    }
    ir::Shape out_shape = shape;
    out_shape[static_cast<size_t>(axis)] = static_cast<int64_t>(keep.size());
    ir::Tensor& y = ctx.allocate_output(0, x.dtype(), out_shape);
    int64_t outer = 1;
    int64_t inner = 1;
    for (int d = 0; d < axis; ++d) outer *= shape[static_cast<size_t>(d)];
    for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
    const size_t row = static_cast<size_t>(inner) * data_type_size(x.dtype());
    const char* src = static_cast<const char*>(x.raw());
    char* dst = static_cast<char*>(y.raw());
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t k : keep) {
            std::memcpy(dst, src + static_cast<size_t>(o * n + k) * row, row);
            dst += row;
        }
    }
    return Status();
}

}  // namespace

const ir::OpKernel kNonZeroKernel = {"NonZero", "", nonzero_infer, nonzero_compute, ir::kOpNativeHalf};
const ir::OpKernel kCompressKernel = {"Compress", "", compress_infer, compress_compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
