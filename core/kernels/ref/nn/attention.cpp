// rtinfer.Attention(Q, K, V): Y = softmax(Q K^T * scale) V over the last axis, Q [..., Sq, D], K [..., Sk, D],
// V [..., Sk, Dv] with equal leading dims, Y [..., Sq, Dv]. Made by passes::fuse_attention from the MatMul ->
// Softmax -> MatMul of a transformer's attention. The scores are computed a block of query rows at a time, so
// long sequences do not need an Sq x Sk buffer.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/ir/shape_util.h"
#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::ref {
namespace {

// Dims a and b agree when both are known and equal, or one is unknown.
bool dims_agree(int64_t a, int64_t b) {
    return a < 0 || b < 0 || a == b;
}

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (t != ir::DType::kFloat32 && t != ir::DType::kFloat64 && t != ir::DType::kFloat16) {
        return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    }
    if (ctx.num_inputs() != 3 || ctx.input_dtype(1) != t || ctx.input_dtype(2) != t) {
        return ctx.error("expected Q, K and V of one type");
    }
    if (!ctx.node().has_attr("scale")) return ctx.error("attribute 'scale' is required");
    const ir::Shape& q = ctx.input_shape(0);
    const ir::Shape& k = ctx.input_shape(1);
    const ir::Shape& v = ctx.input_shape(2);
    const std::string shapes = "Q " + ir::shape_str(q) + ", K " + ir::shape_str(k) + ", V " + ir::shape_str(v);
    if (q.size() < 2 || k.size() != q.size() || v.size() != q.size()) {
        return ctx.error("expected Q [..., Sq, D], K [..., Sk, D] and V [..., Sk, Dv] of one rank >= 2, got " + shapes);
    }
    const size_t r = q.size();
    bool ok = dims_agree(q[r - 1], k[r - 1]) && dims_agree(k[r - 2], v[r - 2]);
    for (size_t d = 0; d + 2 < r; ++d) ok = ok && dims_agree(q[d], k[d]) && dims_agree(q[d], v[d]);
    if (!ok) return ctx.error("Q, K and V do not chain or their leading dims differ: " + shapes);
    ir::Shape out = q;
    out.back() = v.back();
    ctx.set_output(0, t, out);
    return Status();
}

// Softmax of each of `rows` rows of n scores in place; sums run in double.
template <class T>
void softmax_rows(T* s, int64_t rows, int64_t n) {
    for (int64_t i = 0; i < rows; ++i) {
        T* row = s + i * n;
        const T m = *std::max_element(row, row + n);
        double sum = 0;
        for (int64_t j = 0; j < n; ++j) {
            row[j] = std::exp(row[j] - m);
            sum += row[j];
        }
        const T inv = static_cast<T>(1.0 / sum);
        for (int64_t j = 0; j < n; ++j) row[j] *= inv;
    }
}

template <class T>
Status run(ir::ComputeContext& ctx) {
    const ir::Shape& qs = ctx.input(0).shape();
    const size_t r = qs.size();
    const int64_t sq = qs[r - 2], d = qs[r - 1];
    const int64_t sk = ctx.input(1).shape()[r - 2];
    const int64_t dv = ctx.input(2).shape()[r - 1];
    const int64_t batch = ir::shape_numel(ir::Shape(qs.begin(), qs.end() - 2));
    const T scale = static_cast<T>(ctx.node().attr_float("scale", 1.0f));
    const T* q = ctx.input(0).data<T>();
    const T* k = ctx.input(1).data<T>();
    const T* v = ctx.input(2).data<T>();
    T* y = ctx.output(0).data<T>();
    if (sk == 0) {
        // Softmax over no keys weighs nothing.
        std::fill(y, y + ctx.output(0).numel(), T(0));
        return Status();
    }
    // Query rows per block: about a million scores at a time.
    const int64_t block = std::max<int64_t>(1, std::min<int64_t>(sq, (int64_t(1) << 20) / sk));
    std::vector<T> scores(static_cast<size_t>(block * sk));
    for (int64_t b = 0; b < batch; ++b) {
        const T* kb = k + b * sk * d;
        const T* vb = v + b * sk * dv;
        for (int64_t i0 = 0; i0 < sq; i0 += block) {
            const int64_t rows = std::min(block, sq - i0);
            nn::gemm(false, true, rows, sk, d, scale, q + (b * sq + i0) * d, d, kb, d, T(0), scores.data(), sk);
            softmax_rows(scores.data(), rows, sk);
            nn::gemm(false, false, rows, dv, sk, T(1), scores.data(), sk, vb, dv, T(0), y + (b * sq + i0) * dv, dv);
        }
    }
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

const ir::OpKernel kAttentionKernel = {"Attention", ir::kRtinferDomain, infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
