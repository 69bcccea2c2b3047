#include "core/kernels/cuda/nn/lt_matmul.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/kernels/cuda/tactic_timing.h"
#include "core/kernels/cuda/timing_cache.h"

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

// Up to `top` algorithms for buffers aligned to `alignment` bytes, best first by cuBLASLt's heuristic; empty
// when it offers none.
Expected<std::vector<cublasLtMatmulHeuristicResult_t>> heuristics(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc,
                                                                  cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                                                                  cublasLtMatrixLayout_t c, uint32_t alignment,
                                                                  int top) {
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
    std::vector<cublasLtMatmulHeuristicResult_t> results(static_cast<size_t>(top));
    int count = 0;
    const cublasStatus_t st =
        cublasLtMatmulAlgoGetHeuristic(handle, desc, a, b, c, c, raw, top, results.data(), &count);
    if (st == CUBLAS_STATUS_NOT_SUPPORTED) return std::vector<cublasLtMatmulHeuristicResult_t>();
    RT_CUBLAS_CHECK(st);
    results.resize(static_cast<size_t>(std::max(count, 0)));
    results.erase(
        std::remove_if(results.begin(), results.end(),
                       [](const cublasLtMatmulHeuristicResult_t& r) { return r.state != CUBLAS_STATUS_SUCCESS; }),
        results.end());
    return results;
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
            epilogue =
                s.relu ? CUBLASLT_EPILOGUE_RELU_BIAS : (s.gelu ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_BIAS);
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

    RT_ASSIGN_OR_RETURN(mm.candidates_,
                        heuristics(handle, raw, mm.a_.get(), mm.b_.get(), mm.c_.get(), 16, kLtCandidates));
    RT_ASSIGN_OR_RETURN(
        auto safe, heuristics(handle, raw, mm.a_.get(), mm.b_.get(), mm.c_.get(), static_cast<uint32_t>(mm.elem_), 1));
    if (safe.empty()) return Status(StatusCode::kUnsupported, "cuBLASLt has no algorithm for this product");
    mm.safe_ = safe[0].algo;
    mm.safe_workspace_ = safe[0].workspaceSize;
    if (mm.candidates_.empty()) mm.candidates_ = safe;
    mm.fast_ = mm.candidates_[0].algo;
    mm.fast_workspace_ = mm.candidates_[0].workspaceSize;
    // Everything the algorithm choice depends on (the bias pointer only by its presence).
    mm.signature_ = std::string("LtMatmul:") + data_type_name(s.dtype) +
                    (compute == CUBLAS_COMPUTE_32F ? "" : ":tf32") + ":t" + std::to_string(s.trans_a) +
                    std::to_string(s.trans_b) + ":mnk" + std::to_string(s.m) + "," + std::to_string(s.n) + "," +
                    std::to_string(s.k) + ":ld" + std::to_string(s.lda) + "," + std::to_string(s.ldb) + "," +
                    std::to_string(s.ldc) + ":b" + std::to_string(s.batch) + ":s" + std::to_string(s.stride_a) + "," +
                    std::to_string(s.stride_b) + "," + std::to_string(s.stride_c) + ":e" +
                    std::to_string(s.bias != nullptr) + std::to_string(s.relu) + std::to_string(s.gelu);
    mm.shape_ = s;
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

Status LtMatmul::tune(const CudaLibs& libs, cublasLtHandle_t handle) {
    if (candidates_.size() < 2) return Status();
    auto take = [&](size_t i) {
        fast_ = candidates_[i].algo;
        fast_workspace_ = candidates_[i].workspaceSize;
        workspace_ = std::max(fast_workspace_, safe_workspace_);
        tactic_ = static_cast<int64_t>(i);
    };
    if (libs.timing_cache) {
        if (auto known = libs.timing_cache->lookup(signature_)) {
            if (*known >= 0 && static_cast<size_t>(*known) < candidates_.size()) {
                take(static_cast<size_t>(*known));
                return Status();
            }
        }
    }
    // Scratch operands of the product's extent (zeros: leftover bytes may hold NaNs that skew the timings).
    const MatmulShape& s = shape_;
    auto extent = [&](int64_t rows, int64_t ld, int64_t stride) {
        return static_cast<size_t>(rows * ld + (s.batch - 1) * stride) * elem_;
    };
    size_t ws = 0;
    for (const auto& c : candidates_) ws = std::max(ws, c.workspaceSize);
    auto a = DeviceBuffer::allocate(extent(s.trans_a ? s.k : s.m, s.lda, s.stride_a));
    auto b = DeviceBuffer::allocate(extent(s.trans_b ? s.n : s.k, s.ldb, s.stride_b));
    auto d = DeviceBuffer::allocate(extent(s.m, s.ldc, s.stride_c));
    auto w = DeviceBuffer::allocate(ws);
    if (!a || !b || !d || !w || cudaMemsetAsync(a->get(), 0, a->bytes(), libs.stream) != cudaSuccess ||
        cudaMemsetAsync(b->get(), 0, b->bytes(), libs.stream) != cudaSuccess) {
        cudaGetLastError();
        return Status();  // no scratch memory: the heuristic's first choice stands
    }
    float best_ms = -1.0f;
    size_t best = 0;
    for (size_t i = 0; i < candidates_.size(); ++i) {
        if (candidates_[i].workspaceSize > libs.workspace_limit) continue;  // over the build's memory budget
        take(i);
        auto ms = time_ms(libs.stream, [&] {
            return run(handle, libs.stream, a->get(), b->get(), nullptr, d->get(), 1.0f, 0.0f, w->get());
        });
        if (!ms.has_value()) {
            cudaGetLastError();  // an algorithm that does not run here is not a candidate
            continue;
        }
        if (best_ms < 0.0f || clearly_faster(*ms, best_ms)) {
            best_ms = *ms;
            best = i;
        }
    }
    take(best);
    if (libs.timing_cache && best_ms >= 0.0f) libs.timing_cache->record(signature_, tactic_, best_ms);
    return Status();
}

Expected<LtMatmul> create_lt_matmul(const CudaLibs& libs, MatmulShape shape, const Activation& act, bool* in_epilogue) {
    const cublasLtHandle_t handle = libs.cublaslt;
    const bool allow_tf32 = libs.allow_tf32;
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
            RT_RETURN_IF_ERROR(mm->tune(libs, handle));
            return mm;
        }
    }
    RT_ASSIGN_OR_RETURN(LtMatmul mm, LtMatmul::create(handle, shape, allow_tf32));
    RT_RETURN_IF_ERROR(mm.tune(libs, handle));
    return mm;
}

}  // namespace rtinfer::cuda::nn
