// Trilu (upper or lower triangle of the last two dims, shifted by k) and EyeLike (ones on a shifted
// diagonal). Both only place existing or constant elements, so they work by element size.
#include <algorithm>
#include <cstring>

#include "core/kernels/ref/tensor/common.h"
#include "core/kernels/ref/tensor/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace tensor_ops;

Expected<int64_t> trilu_k(const ir::Node& node, const ir::Tensor* k) {
    if (!k) return int64_t{0};
    if (k->numel() != 1) return node_error(node, "k must hold one value");
    RT_ASSIGN_OR_RETURN(auto v, read_ints(node, k, "k"));
    return v[0];
}

Status trilu_infer(ir::InferContext& ctx) {
    if (ctx.input_rank(0) < 2) return ctx.error("input must have rank >= 2");
    ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
    return Status();
}

Status trilu_compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    ir::Tensor& y = ctx.output(0);
    RT_ASSIGN_OR_RETURN(int64_t k, trilu_k(ctx.node(), compute_value(ctx, 1)));
    const bool upper = ctx.node().attr_int("upper", 1) != 0;
    const int64_t rows = x.shape()[x.shape().size() - 2];
    const int64_t cols = x.shape().back();
    const int64_t mats = rows * cols == 0 ? 0 : x.numel() / (rows * cols);
    const size_t es = data_type_size(x.dtype());
    const char* src = static_cast<const char*>(x.raw());
    char* dst = static_cast<char*>(y.raw());
    for (int64_t m = 0; m < mats; ++m) {
        for (int64_t i = 0; i < rows; ++i) {
            // Row i keeps columns j with j - i >= k (upper) or j - i <= k (lower).
            const int64_t first = upper ? std::clamp<int64_t>(i + k, 0, cols) : 0;
            const int64_t last = upper ? cols : std::clamp<int64_t>(i + k + 1, 0, cols);
            const size_t row = static_cast<size_t>((m * rows + i) * cols) * es;
            std::memset(dst + row, 0, static_cast<size_t>(cols) * es);
            if (last > first) {
                std::memcpy(dst + row + static_cast<size_t>(first) * es, src + row + static_cast<size_t>(first) * es,
                            static_cast<size_t>(last - first) * es);
            }
        }
    }
    return Status();
}

// ONNX TensorProto data type numbers of the types rtinfer has.
Expected<ir::DType> onnx_dtype(const ir::Node& node, int64_t code) {
    switch (code) {
        case 1: return ir::DType::kFloat32;
        case 2: return ir::DType::kUInt8;
        case 3: return ir::DType::kInt8;
        case 6: return ir::DType::kInt32;
        case 7: return ir::DType::kInt64;
        case 9: return ir::DType::kBool;
        case 10: return ir::DType::kFloat16;
        case 11: return ir::DType::kFloat64;
        default: break;
    }
    return node_error(node, "dtype " + std::to_string(code) + " is not supported", StatusCode::kUnsupported);
}

Status eye_like_infer(ir::InferContext& ctx) {
    if (ctx.input_rank(0) != 2) return ctx.error("input " + ir::shape_str(ctx.input_shape(0)) + " must be 2-D");
    ir::DType t = ctx.input_dtype(0);
    if (ctx.node().has_attr("dtype")) {
        RT_ASSIGN_OR_RETURN(t, onnx_dtype(ctx.node(), ctx.node().attr_int("dtype", 1)));
    }
    ctx.set_output(0, t, ctx.input_shape(0));
    return Status();
}

Status eye_like_compute(ir::ComputeContext& ctx) {
    ir::Tensor& y = ctx.output(0);
    const int64_t k = ctx.node().attr_int("k", 0);
    const int64_t rows = y.shape()[0];
    const int64_t cols = y.shape()[1];
    std::memset(y.raw(), 0, y.nbytes());
    for (int64_t i = 0; i < rows; ++i) {
        const int64_t j = i + k;
        if (j >= 0 && j < cols) store_from_double(y.dtype(), y.raw(), i * cols + j, 1.0);
    }
    return Status();
}

}  // namespace

const ir::OpKernel kTriluKernel = {"Trilu", "", trilu_infer, trilu_compute, ir::kOpNativeHalf};
const ir::OpKernel kEyeLikeKernel = {"EyeLike", "", eye_like_infer, eye_like_compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
