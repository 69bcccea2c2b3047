// rtinfer.MatMulBias(X, W, bias): Y = X W + bias, X [..., K] of rank >= 1, W [K, N], bias [N]; the leading
// dims of X fold into the rows of one product. Made by passes::fuse_matmul_bias_activation, which may add a
// fused activation (applied after the kernel like on every node).
#include <string>

#include "core/ir/shape_util.h"
#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::ref {
namespace {

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (t != ir::DType::kFloat32 && t != ir::DType::kFloat64 && t != ir::DType::kFloat16) {
        return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    }
    if (ctx.input_dtype(1) != t || ctx.input_dtype(2) != t) return ctx.error("X, W and bias must have one type");
    const ir::Shape& x = ctx.input_shape(0);
    const ir::Shape& w = ctx.input_shape(1);
    const ir::Shape& b = ctx.input_shape(2);
    if (x.empty() || w.size() != 2 || b.size() != 1) {
        return ctx.error("expected X [..., K], W [K, N] and bias [N], got X " + ir::shape_str(x) +
                         ", W " + ir::shape_str(w) + ", bias " + ir::shape_str(b));
    }
    if ((x.back() >= 0 && w[0] >= 0 && x.back() != w[0]) || (w[1] >= 0 && b[0] >= 0 && w[1] != b[0])) {
        return ctx.error("X " + ir::shape_str(x) + ", W " + ir::shape_str(w) + " and bias " + ir::shape_str(b) +
                         " do not chain");
    }
    ir::Shape out = x;
    out.back() = w[1];
    ctx.set_output(0, t, out);
    return Status();
}

template <class T>
Status run(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    const int64_t k = x.shape().back();
    const int64_t n = ctx.input(1).shape()[1];
    const int64_t rows = k > 0 ? x.numel() / k : ir::shape_numel(ir::Shape(x.shape().begin(), x.shape().end() - 1));
    const T* bias = ctx.input(2).data<T>();
    T* y = ctx.output(0).data<T>();
    for (int64_t r = 0; r < rows; ++r) {
        for (int64_t j = 0; j < n; ++j) y[r * n + j] = bias[j];
    }
    nn::gemm(false, false, rows, n, k, T(1), x.data<T>(), k, ctx.input(1).data<T>(), n, T(1), y, n);
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    switch (ctx.input(0).dtype()) {
        case ir::DType::kFloat32:
            return run<float>(ctx);
        case ir::DType::kFloat64:
            return run<double>(ctx);
        default:
            return ctx.error("unexpected input type");
    }
}

}  // namespace

const ir::OpKernel kMatMulBiasKernel = {"MatMulBias", ir::kRtinferDomain, infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
