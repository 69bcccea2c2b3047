// One cuBLASLt matrix product in row-major terms, shared by Gemm and MatMul:
//   D[m, n] = alpha * op(A) op(B) + beta * C  (+ bias[n] per column), batched with element strides.
// Row-major matrices are column-major transposes, so it runs as D^T = op(B)^T op(A)^T. The algorithm is the
// fastest of cuBLASLt's heuristic top-k, measured when the product is made (its index goes to the timing
// cache under the product's signature); a second, alignment-tolerant one serves pointers that are not
// 16-byte aligned (batch offsets inside a tensor).
#pragma once

#include <cublasLt.h>

#include <memory>
#include <string>
#include <vector>

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

// How many of cuBLASLt's heuristic algorithms are timed.
constexpr int kLtCandidates = 4;

class LtMatmul {
  public:
    // With the heuristic's first algorithm; tune() measures the others.
    static Expected<LtMatmul> create(cublasLtHandle_t handle, const MatmulShape& shape, bool allow_tf32);
    // Takes the algorithm the timing cache names for this product, or times the candidates on scratch
    // buffers on libs.stream and records the fastest.
    Status tune(const CudaLibs& libs, cublasLtHandle_t handle);
    // The index of the chosen candidate (-1: the heuristic's first, untimed).
    int64_t tactic() const { return tactic_; }
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
    std::vector<cublasLtMatmulHeuristicResult_t> candidates_;  // for 16-byte aligned buffers, best first
    std::string signature_;
    MatmulShape shape_;
    int64_t tactic_ = -1;
};

// Creates the product with `act` in cuBLASLt's epilogue where it has one and an algorithm exists for it: ReLU,
// the tanh form of GELU (what cuBLASLt's GELU computes) in float32 and float16, and the exact erf form in
// float16 only (the tanh form is within float16 rounding of it, not within float32's). *in_epilogue says
// whether it did; if not, the caller applies act itself. The product is tuned (LtMatmul::tune) on libs' stream
// and timing cache.
Expected<LtMatmul> create_lt_matmul(const CudaLibs& libs, MatmulShape shape, const Activation& act, bool* in_epilogue);

// The workspace cuBLASLt may use per product.
constexpr size_t kLtWorkspaceCap = size_t(32) << 20;

}  // namespace rtinfer::cuda::nn
