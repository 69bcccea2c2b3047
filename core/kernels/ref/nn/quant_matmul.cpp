// MatMulInteger and QLinearMatMul: numpy-style batched matmul of (u)int8 operands with zero points, in int32.
// Zero points and scales of A may be per row ([M] or [batch..., M, 1]), those of B per column ([N] or
// [batch..., 1, N]); QLinearMatMul requantizes to y_scale/y_zero_point (round half to even, saturate).
#include <algorithm>
#include <string>
#include <vector>

#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::ref {
namespace {

// Index of the per-row (A) or per-column (B) parameter of a matrix element, from its parameter's size.
struct ParamIndex {
    int64_t count = 1;  // elements of the parameter tensor
    int64_t lanes = 1;  // M for A (rows), N for B (columns)
    bool is_a = true;
    int64_t m = 1, k = 1, n = 1;
    // Element e of the operand (row-major over its batches) -> parameter index.
    int64_t at(int64_t e) const {
        if (count == 1) return 0;
        if (is_a) {
            const int64_t row = e / k;  // global row over all A matrices
            return count == lanes ? row % m : row;
        }
        const int64_t col = e % n, mat = e / (k * n);
        return count == lanes ? col : mat * n + col;
    }
};

// A zero point or scale: a scalar, one value per row of A / column of B (`lanes`), or one per row / column of
// every matrix of the operand.
Status check_param(const ir::InferContext& ctx, size_t i, int64_t lanes, int64_t operand_numel, int64_t k,
                   const char* what, const char* lane_name) {
    if (!ctx.has_input(i)) return Status();
    const int64_t count = ir::shape_numel(ctx.input_shape(i));
    const int64_t all_lanes = k > 0 ? operand_numel / k : 0;  // A: rows of all matrices; B: matrices * N
    if (count != 1 && count != lanes && count != all_lanes) {
        return ctx.error(std::string(what) + " has shape " + ir::shape_str(ctx.input_shape(i)) +
                         ": expected a scalar or one value per " + lane_name);
    }
    return Status();
}

// Inputs: MatMulInteger (A, B, a_zp, b_zp); QLinearMatMul (a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp).
template <bool kLinear>
Status infer(ir::InferContext& ctx) {
    const size_t ia = 0, ib = kLinear ? 3 : 1;
    if (!nn::is_quantized(ctx.input_dtype(ia)) || !nn::is_quantized(ctx.input_dtype(ib))) {
        return ctx.unsupported("A and B must be int8 or uint8");
    }
    RT_ASSIGN_OR_RETURN(nn::MatMulPlan plan, nn::matmul_plan(ctx.node(), ctx.input_shape(ia), ctx.input_shape(ib)));
    const int64_t an = ir::shape_numel(ctx.input_shape(ia)), bn = ir::shape_numel(ctx.input_shape(ib));
    if (kLinear) {
        for (size_t i : {size_t(1), size_t(4), size_t(6)}) {
            if (!ctx.has_input(i) || !nn::is_float(ctx.input_dtype(i)))
                return ctx.error("scales must be float tensors");
        }
        if (!ctx.has_input(7) || !nn::is_quantized(ctx.input_dtype(7))) {
            return ctx.error("y_zero_point is required and must be int8 or uint8");
        }
        RT_RETURN_IF_ERROR(check_param(ctx, 1, plan.m, an, plan.k, "a_scale", "row of A"));
        RT_RETURN_IF_ERROR(check_param(ctx, 2, plan.m, an, plan.k, "a_zero_point", "row of A"));
        RT_RETURN_IF_ERROR(check_param(ctx, 4, plan.n, bn, plan.k, "b_scale", "column of B"));
        RT_RETURN_IF_ERROR(check_param(ctx, 5, plan.n, bn, plan.k, "b_zero_point", "column of B"));
        if (ir::shape_numel(ctx.input_shape(6)) != 1 || ir::shape_numel(ctx.input_shape(7)) != 1) {
            return ctx.error("y_scale and y_zero_point must be scalars");
        }
        ctx.set_output(0, ctx.input_dtype(7), plan.out_shape);
    } else {
        RT_RETURN_IF_ERROR(check_param(ctx, 2, plan.m, an, plan.k, "a_zero_point", "row of A"));
        RT_RETURN_IF_ERROR(check_param(ctx, 3, plan.n, bn, plan.k, "b_zero_point", "column of B"));
        ctx.set_output(0, ir::DType::kInt32, plan.out_shape);
    }
    return Status();
}

// The operand as int32 with its zero point(s) subtracted.
std::vector<int32_t> centered(const ir::Tensor& q, const ir::Tensor* zp, ParamIndex idx) {
    std::vector<int32_t> v = nn::to_int32s(q);
    if (!zp) return v;
    const std::vector<int32_t> z = nn::to_int32s(*zp);
    idx.count = static_cast<int64_t>(z.size());
    for (size_t e = 0; e < v.size(); ++e) v[e] -= z[static_cast<size_t>(idx.at(static_cast<int64_t>(e)))];
    return v;
}

template <bool kLinear>
Status compute(ir::ComputeContext& ctx) {
    const size_t ia = 0, ib = kLinear ? 3 : 1;
    const size_t iza = 2, izb = kLinear ? 5 : 3;
    const ir::Tensor& a = ctx.input(ia);
    const ir::Tensor& b = ctx.input(ib);
    RT_ASSIGN_OR_RETURN(nn::MatMulPlan p, nn::matmul_plan(ctx.node(), a.shape(), b.shape()));
    ParamIndex ai{1, p.m, true, p.m, p.k, p.n}, bi{1, p.n, false, p.m, p.k, p.n};
    const std::vector<int32_t> av = centered(a, ctx.has_input(iza) ? &ctx.input(iza) : nullptr, ai);
    const std::vector<int32_t> bv = centered(b, ctx.has_input(izb) ? &ctx.input(izb) : nullptr, bi);
    const int64_t batches = static_cast<int64_t>(p.a_offsets.size()), mat = p.m * p.n;
    std::vector<int32_t> acc(static_cast<size_t>(batches * mat));
    for (int64_t i = 0; i < batches; ++i) {
        nn::gemm_loops<int32_t>(false, false, p.m, p.n, p.k, 1, av.data() + p.a_offsets[i], p.k,
                                bv.data() + p.b_offsets[i], p.n, 0, acc.data() + i * mat, p.n);
    }
    ir::Tensor& y = ctx.output(0);
    if (!kLinear) {
        std::copy(acc.begin(), acc.end(), y.data<int32_t>());
        return Status();
    }
    const std::vector<double> a_scale = ir::to_doubles(ctx.input(1));
    const std::vector<double> b_scale = ir::to_doubles(ctx.input(4));
    const double y_scale = ir::to_doubles(ctx.input(6))[0];
    const int32_t y_zp = nn::zero_point_at(&ctx.input(7), 0);
    ai.count = static_cast<int64_t>(a_scale.size());
    bi.count = static_cast<int64_t>(b_scale.size());
    for (int64_t bt = 0; bt < batches; ++bt) {
        for (int64_t i = 0; i < p.m; ++i) {
            const double sa = a_scale[static_cast<size_t>(ai.at(p.a_offsets[bt] + i * p.k))];
            for (int64_t j = 0; j < p.n; ++j) {
                const double sb = b_scale[static_cast<size_t>(bi.at(p.b_offsets[bt] + j))];
                const int64_t o = bt * mat + i * p.n + j;
                nn::store_quantized(y, o, acc[static_cast<size_t>(o)] * (sa * sb / y_scale), y_zp);
            }
        }
    }
    return Status();
}

}  // namespace

const ir::OpKernel kMatMulIntegerKernel = {"MatMulInteger", "", infer<false>, compute<false>, ir::kOpNone};
const ir::OpKernel kQLinearMatMulKernel = {"QLinearMatMul", "", infer<true>, compute<true>, ir::kOpNone};

}  // namespace rtinfer::ref
