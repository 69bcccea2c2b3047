// MatMul: numpy matmul semantics (1-D operands, broadcast batch dims); float and double through OpenBLAS,
// int32/int64 with plain loops. rt_trans_a / rt_trans_b (int, set by passes::fold_reshape_transpose): that
// operand is stored with its last two axes swapped, as the Transpose the pass removed would have read it.
#include <string>
#include <type_traits>

#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::ref {
namespace {

bool supported(ir::DType t) {
    return nn::is_float(t) || t == ir::DType::kInt32 || t == ir::DType::kInt64;
}

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!supported(t)) return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    if (ctx.input_dtype(1) != t) {
        return ctx.error(std::string("A is ") + data_type_name(t) + " but B is " + data_type_name(ctx.input_dtype(1)));
    }
    RT_ASSIGN_OR_RETURN(nn::MatMulPlan plan,
                        nn::matmul_plan(ctx.node(), ctx.input_shape(0), ctx.input_shape(1),
                                        nn::matmul_transposed(ctx.node(), 0), nn::matmul_transposed(ctx.node(), 1)));
    ctx.set_output(0, t, plan.out_shape);
    return Status();
}

template <class T>
void product(const nn::MatMulPlan& p, int64_t m, const T* a, const T* b, T* c) {
    const int64_t lda = p.trans_a ? m : p.k, ldb = p.trans_b ? p.k : p.n;
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        nn::gemm(p.trans_a, p.trans_b, m, p.n, p.k, T(1), a, lda, b, ldb, T(0), c, p.n);
    } else {
        nn::gemm_loops(p.trans_a, p.trans_b, m, p.n, p.k, T(1), a, lda, b, ldb, T(0), c, p.n);
    }
}

template <class T>
Status run(ir::ComputeContext& ctx) {
    RT_ASSIGN_OR_RETURN(nn::MatMulPlan p,
                        nn::matmul_plan(ctx.node(), ctx.input(0).shape(), ctx.input(1).shape(),
                                        nn::matmul_transposed(ctx.node(), 0), nn::matmul_transposed(ctx.node(), 1)));
    const T* a = ctx.input(0).data<T>();
    const T* b = ctx.input(1).data<T>();
    T* c = ctx.output(0).data<T>();
    const int64_t batches = static_cast<int64_t>(p.a_offsets.size());
    if (p.fold_batches) {
        product(p, batches * p.m, a, b, c);
        return Status();
    }
    for (int64_t i = 0; i < batches; ++i) {
        product(p, p.m, a + p.a_offsets[i], b + p.b_offsets[i], c + i * p.m * p.n);
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

const ir::OpKernel kMatMulKernel = {"MatMul", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
