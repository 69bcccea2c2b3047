// Gemm: Y = alpha * op(A) op(B) + beta * C, with transA/transB and C broadcast to [M, N]; float and double
// through OpenBLAS, int32/int64 with plain loops.
#include <string>
#include <type_traits>

#include "core/ir/shape_util.h"
#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::ref {
namespace {

struct Dims {
    int64_t m = 0, n = 0, k = 0;
};

Status dims(const ir::Node& node, const ir::Shape& a, const ir::Shape& b, Dims& d) {
    if (a.size() != 2 || b.size() != 2) {
        return nn::node_error(node, "A " + ir::shape_str(a) + " and B " + ir::shape_str(b) + " must be matrices");
    }
    const bool ta = node.attr_int("transA", 0) != 0, tb = node.attr_int("transB", 0) != 0;
    d.m = ta ? a[1] : a[0];
    d.k = ta ? a[0] : a[1];
    const int64_t kb = tb ? b[1] : b[0];
    d.n = tb ? b[0] : b[1];
    if (d.k >= 0 && kb >= 0 && d.k != kb) {
        return nn::node_error(node, "inner dimensions differ: op(A) of A " + ir::shape_str(a) + " has " +
                                        std::to_string(d.k) + " columns, op(B) of B " + ir::shape_str(b) + " has " +
                                        std::to_string(kb) + " rows (transA=" + std::to_string(ta) +
                                        ", transB=" + std::to_string(tb) + ")");
    }
    return Status();
}

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!nn::is_float(t) && t != ir::DType::kInt32 && t != ir::DType::kInt64) {
        return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    }
    if (ctx.input_dtype(1) != t) return ctx.error("A and B must have the same type");
    Dims d;
    RT_RETURN_IF_ERROR(dims(ctx.node(), ctx.input_shape(0), ctx.input_shape(1), d));
    const ir::Shape out = {d.m, d.n};
    if (ctx.has_input(2)) {
        if (ctx.input_dtype(2) != t) return ctx.error("C must have the type of A");
        auto b = ir::broadcast_shapes(ctx.input_shape(2), out);
        if (!b || ctx.input_rank(2) > 2 || *b != out) {
            return ctx.error("C " + ir::shape_str(ctx.input_shape(2)) + " does not broadcast to the output " +
                             ir::shape_str(out));
        }
    } else if (ctx.opset() < 11) {
        return ctx.error("input C is required before opset 11");
    }
    ctx.set_output(0, t, out);
    return Status();
}

template <class T>
Status run(ir::ComputeContext& ctx) {
    const ir::Node& node = ctx.node();
    Dims d;
    RT_RETURN_IF_ERROR(dims(node, ctx.input(0).shape(), ctx.input(1).shape(), d));
    const bool ta = node.attr_int("transA", 0) != 0, tb = node.attr_int("transB", 0) != 0;
    const T alpha = static_cast<T>(node.attr_float("alpha", 1.0f));
    T beta = static_cast<T>(node.attr_float("beta", 1.0f));
    T* y = ctx.output(0).data<T>();
    if (ctx.has_input(2) && beta != T(0)) {
        const ir::Tensor& c = ctx.input(2);
        const std::vector<int64_t> s = ir::broadcast_strides(c.shape(), {d.m, d.n});
        const T* cv = c.data<T>();
        for (int64_t i = 0; i < d.m; ++i) {
            for (int64_t j = 0; j < d.n; ++j) y[i * d.n + j] = beta * cv[i * s[0] + j * s[1]];
        }
        beta = T(1);
    } else {
        beta = T(0);
    }
    const T* a = ctx.input(0).data<T>();
    const T* b = ctx.input(1).data<T>();
    const int64_t lda = ctx.input(0).dim(1), ldb = ctx.input(1).dim(1);
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        nn::gemm(ta, tb, d.m, d.n, d.k, alpha, a, lda, b, ldb, beta, y, d.n);
    } else {
        nn::gemm_loops(ta, tb, d.m, d.n, d.k, alpha, a, lda, b, ldb, beta, y, d.n);
    }
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    switch (ctx.input(0).dtype()) {
        case ir::DType::kFloat32:
            return run<float>(ctx);
        case ir::DType::kFloat64:
            return run<double>(ctx);
        case ir::DType::kInt32:
            return run<int32_t>(ctx);
        case ir::DType::kInt64:
            return run<int64_t>(ctx);
        default:
            return ctx.error("unexpected input type");
    }
}

}  // namespace

const ir::OpKernel kGemmKernel = {"Gemm", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
