// One cuBLASLt matrix product in row-major terms, shared by Gemm and MatMul:
//   D[m, n] = alpha * op(A) op(B) + beta * C  (+ bias[n] per column), batched with element strides.
// Row-major matrices are column-major transposes, so it runs as D^T = op(B)^T op(A)^T. The algorithm comes
// from cublasLtMatmulAlgoGetHeuristic at create; a second, alignment-tolerant one serves pointers that are not
// 16-byte aligned (batch offsets inside a tensor).
#pragma once

#include <cublasLt.h>

#include <memory>

#include "core/kernels/cuda/nn/nn_cuda_util.h"

namespace rtinfer::cuda::nn {

struct MatmulShape {
    DataType dtype = DataType::kFloat32;  // A, B, C, D and the bias; float accumulation
    bool trans_a = false, trans_b = false;
    int64_t m = 0, n = 0, k = 0;
    int64_t lda = 0, ldb = 0, ldc = 0;  // row lengths as stored
    int64_t batch = 1;
    int64_t stride_a = 0, stride_b = 0, stride_c = 0;  // elements between batch matrices (0 broadcasts)
    const void* bias = nullptr;                        // device [n] of dtype, fixed at create: the bias epilogue
    bool relu = false;                                 // max(0, .) after the bias, in the epilogue
    bool gelu = false;  // cuBLASLt's GELU (the tanh approximation) after the bias, in the epilogue
};

struct LtDescDeleter {
    void operator()(cublasLtMatmulDescOpaque_t* d) const { cublasLtMatmulDescDestroy(d); }
};
struct LtLayoutDeleter {
    void operator()(cublasLtMatrixLayoutOpaque_t* d) const { cublasLtMatrixLayoutDestroy(d); }
};
using LtDesc = std::unique_ptr<cublasLtMatmulDescOpaque_t, LtDescDeleter>;
using LtLayout = std::unique_ptr<cublasLtMatrixLayoutOpaque_t, LtLayoutDeleter>;

class LtMatmul {
public:
    static Expected<LtMatmul> create(cublasLtHandle_t handle, const MatmulShape& shape, bool allow_tf32);
    size_t workspace_bytes() const { return workspace_; }
    // c may be null when beta == 0; c == d (in place) is allowed.
    Status run(cublasLtHandle_t handle, cudaStream_t stream, const void* a, const void* b, const void* c, void* d,
               float alpha, float beta, void* workspace) const;

private:
    LtDesc desc_;
    LtLayout a_, b_, c_;
    cublasLtMatmulAlgo_t fast_{}, safe_{};
    size_t fast_workspace_ = 0, safe_workspace_ = 0, workspace_ = 0;
    size_t elem_ = 4;
};

// Creates the product with `act` in cuBLASLt's epilogue where it has one and an algorithm exists for it: ReLU,
// the tanh form of GELU (what cuBLASLt's GELU computes) in float32 and float16, and the exact erf form in
// float16 only (the tanh form is within float16 rounding of it, not within float32's). *in_epilogue says
// whether it did; if not, the caller applies act itself.
Expected<LtMatmul> create_lt_matmul(cublasLtHandle_t handle, MatmulShape shape, bool allow_tf32, const Activation& act,
                                    bool* in_epilogue);

// The workspace cuBLASLt may use per product.
constexpr size_t kLtWorkspaceCap = size_t(32) << 20;

}  // namespace rtinfer::cuda::nn
