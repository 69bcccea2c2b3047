#include "core/kernels/cuda/nn/lt_matmul.h"

#include <algorithm>
#include <cstdint>

namespace rtinfer::cuda::nn {
namespace {

struct LtPrefDeleter {
    void operator()(cublasLtMatmulPreferenceOpaque_t* p) const { cublasLtMatmulPreferenceDestroy(p); }
};
using LtPref = std::unique_ptr<cublasLtMatmulPreferenceOpaque_t, LtPrefDeleter>;

Status make_layout(cudaDataType_t type, int64_t rows, int64_t cols, int64_t ld, int64_t batch, int64_t stride,
                   LtLayout& out) {
    cublasLtMatrixLayout_t raw = nullptr;
    RT_CUBLAS_CHECK(
        cublasLtMatrixLayoutCreate(&raw, type, static_cast<uint64_t>(rows), static_cast<uint64_t>(cols), ld));
    out.reset(raw);
    if (batch > 1) {
        const int32_t count = static_cast<int32_t>(batch);
        RT_CUBLAS_CHECK(
            cublasLtMatrixLayoutSetAttribute(raw, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof count));
        RT_CUBLAS_CHECK(
            cublasLtMatrixLayoutSetAttribute(raw, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof stride));
    }
    return Status();
}

// The best algorithm for buffers aligned to `alignment` bytes; false when cuBLASLt offers none.
Expected<bool> heuristic(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, cublasLtMatrixLayout_t a,
                         cublasLtMatrixLayout_t b, cublasLtMatrixLayout_t c, uint32_t alignment,
                         cublasLtMatmulAlgo_t& algo, size_t& workspace) {
    cublasLtMatmulPreference_t raw = nullptr;
    RT_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&raw));
    LtPref pref(raw);
    const uint64_t cap = kLtWorkspaceCap;
    RT_CUBLAS_CHECK(
        cublasLtMatmulPreferenceSetAttribute(raw, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &cap, sizeof cap));
    for (auto attr : {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES}) {
        RT_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(raw, attr, &alignment, sizeof alignment));
    }
    cublasLtMatmulHeuristicResult_t result{};
    int count = 0;
    const cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(handle, desc, a, b, c, c, raw, 1, &result, &count);
    if (st == CUBLAS_STATUS_NOT_SUPPORTED ||
        (st == CUBLAS_STATUS_SUCCESS && (count == 0 || result.state != CUBLAS_STATUS_SUCCESS))) {
        return false;
    }
    RT_CUBLAS_CHECK(st);
    algo = result.algo;
    workspace = result.workspaceSize;
    return true;
}

bool aligned(const void* p, size_t bytes) {
    return reinterpret_cast<uintptr_t>(p) % bytes == 0;
}

}  // namespace

Expected<LtMatmul> LtMatmul::create(cublasLtHandle_t handle, const MatmulShape& s, bool allow_tf32) {
    LtMatmul mm;
    const bool half = s.dtype == DataType::kFloat16;
    const cudaDataType_t type = half ? CUDA_R_16F : CUDA_R_32F;
    const cublasComputeType_t compute = !half && allow_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    mm.elem_ = data_type_size(s.dtype);
    cublasLtMatmulDesc_t raw = nullptr;
    RT_CUBLAS_CHECK(cublasLtMatmulDescCreate(&raw, compute, CUDA_R_32F));
    mm.desc_.reset(raw);
    // Column-major D^T [n, m] = op(B)^T [n, k] op(A)^T [k, m]: B is the first operand.
    const cublasOperation_t op_first = s.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t op_second = s.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    RT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(raw, CUBLASLT_MATMUL_DESC_TRANSA, &op_first, sizeof op_first));
    RT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(raw, CUBLASLT_MATMUL_DESC_TRANSB, &op_second, sizeof op_second));
    if (s.bias || s.relu || s.gelu) {
        cublasLtEpilogue_t epilogue = s.relu ? CUBLASLT_EPILOGUE_RELU : CUBLASLT_EPILOGUE_GELU;
        if (s.bias) {
            epilogue = s.relu ? CUBLASLT_EPILOGUE_RELU_BIAS
                              : (s.gelu ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_BIAS);
        }
        RT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(raw, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof epilogue));
        if (s.bias) {
            RT_CUBLAS_CHECK(
                cublasLtMatmulDescSetAttribute(raw, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &s.bias, sizeof s.bias));
        }
    }
    // Stored row-major B is [k, n] (or [n, k] transposed): column-major [n, k] (or [k, n]) with ld ldb.
    RT_RETURN_IF_ERROR(
        make_layout(type, s.trans_b ? s.k : s.n, s.trans_b ? s.n : s.k, s.ldb, s.batch, s.stride_b, mm.a_));
    RT_RETURN_IF_ERROR(
        make_layout(type, s.trans_a ? s.m : s.k, s.trans_a ? s.k : s.m, s.lda, s.batch, s.stride_a, mm.b_));
    RT_RETURN_IF_ERROR(make_layout(type, s.n, s.m, s.ldc, s.batch, s.stride_c, mm.c_));

    RT_ASSIGN_OR_RETURN(
        bool fast, heuristic(handle, raw, mm.a_.get(), mm.b_.get(), mm.c_.get(), 16, mm.fast_, mm.fast_workspace_));
    RT_ASSIGN_OR_RETURN(bool safe, heuristic(handle, raw, mm.a_.get(), mm.b_.get(), mm.c_.get(),
                                             static_cast<uint32_t>(mm.elem_), mm.safe_, mm.safe_workspace_));
    if (!safe) return Status(StatusCode::kUnsupported, "cuBLASLt has no algorithm for this product");
    if (!fast) {
        mm.fast_ = mm.safe_;
        mm.fast_workspace_ = mm.safe_workspace_;
    }
    mm.workspace_ = std::max(mm.fast_workspace_, mm.safe_workspace_);
    return mm;
}

Status LtMatmul::run(cublasLtHandle_t handle, cudaStream_t stream, const void* a, const void* b, const void* c, void* d,
                     float alpha, float beta, void* workspace) const {
    const bool use_fast = aligned(a, 16) && aligned(b, 16) && aligned(c ? c : d, 16) && aligned(d, 16);
    const cublasLtMatmulAlgo_t* algo = use_fast ? &fast_ : &safe_;
    const size_t ws = use_fast ? fast_workspace_ : safe_workspace_;
    RT_CUBLAS_CHECK(cublasLtMatmul(handle, desc_.get(), &alpha, b, a_.get(), a, b_.get(), &beta, c ? c : d, c_.get(), d,
                                   c_.get(), algo, ws ? workspace : nullptr, ws, stream));
    return Status();
}

Expected<LtMatmul> create_lt_matmul(cublasLtHandle_t handle, MatmulShape shape, bool allow_tf32, const Activation& act,
                                    bool* in_epilogue) {
    *in_epilogue = false;
    const bool relu = act.kind == kActRelu;
    const bool gelu = act.kind == kActGeluTanh || (act.kind == kActGelu && shape.dtype == DataType::kFloat16);
    if (relu || gelu) {
        MatmulShape with = shape;
        with.relu = relu;
        with.gelu = gelu;
        // Any failure here (no algorithm for the epilogue) leaves the activation to the caller.
        auto mm = LtMatmul::create(handle, with, allow_tf32);
        if (mm) {
            *in_epilogue = true;
            return mm;
        }
    }
    return LtMatmul::create(handle, shape, allow_tf32);
}

}  // namespace rtinfer::cuda::nn
