// MatMul: numpy matmul semantics (1-D operands, broadcast batch dims); float and double through OpenBLAS,
// int32/int64 with plain loops.
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
    RT_ASSIGN_OR_RETURN(nn::MatMulPlan plan, nn::matmul_plan(ctx.node(), ctx.input_shape(0), ctx.input_shape(1)));
    ctx.set_output(0, t, plan.out_shape);
    return Status();
}

template <class T>
void product(int64_t m, int64_t n, int64_t k, const T* a, const T* b, T* c) {
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        nn::gemm(false, false, m, n, k, T(1), a, k, b, n, T(0), c, n);
    } else {
        nn::gemm_loops(false, false, m, n, k, T(1), a, k, b, n, T(0), c, n);
    }
}

template <class T>
Status run(ir::ComputeContext& ctx) {
    RT_ASSIGN_OR_RETURN(nn::MatMulPlan p, nn::matmul_plan(ctx.node(), ctx.input(0).shape(), ctx.input(1).shape()));
    const T* a = ctx.input(0).data<T>();
    const T* b = ctx.input(1).data<T>();
    T* c = ctx.output(0).data<T>();
    const int64_t batches = static_cast<int64_t>(p.a_offsets.size());
    if (p.fold_batches) {
        product(batches * p.m, p.n, p.k, a, b, c);
        return Status();
    }
    for (int64_t i = 0; i < batches; ++i) {
        product(p.m, p.n, p.k, a + p.a_offsets[i], b + p.b_offsets[i], c + i * p.m * p.n);
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
