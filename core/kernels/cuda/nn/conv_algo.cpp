#include "core/kernels/cuda/nn/conv_algo.h"

#include <algorithm>
#include <vector>

#include "core/kernels/cuda/tactic_timing.h"

namespace rtinfer::cuda::nn {
namespace {

// Exact float32 (no TF32 allowed): FMA math, and no FFT or Winograd transforms, whose rounding exceeds a plain
// float dot product's.
bool exact_float(const ConvSearch& s) {
    return s.dtype == DataType::kFloat32 && !s.allow_tf32;
}
bool allowed(const ConvSearch& s, cudnnConvolutionFwdAlgo_t algo, cudnnMathType_t math) {
    if (!exact_float(s)) return true;
    return math == CUDNN_FMA_MATH &&
           (algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM ||
            algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM || algo == CUDNN_CONVOLUTION_FWD_ALGO_GEMM ||
            algo == CUDNN_CONVOLUTION_FWD_ALGO_DIRECT);
}
bool allowed(const ConvSearch& s, cudnnConvolutionBwdDataAlgo_t algo, cudnnMathType_t math) {
    if (!exact_float(s)) return true;
    return math == CUDNN_FMA_MATH &&
           (algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_0 || algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_1);
}

struct Scratch {
    DeviceBuffer x, w, y, workspace;
};

// Scratch buffers for a measured search, or false when memory is short (then heuristics decide).
bool allocate_scratch(const ConvSearch& s, size_t workspace, Scratch& out) {
    auto x = DeviceBuffer::allocate(s.x_bytes);
    auto y = DeviceBuffer::allocate(s.y_bytes);
    auto w = DeviceBuffer::allocate(s.w_data ? 0 : s.w_bytes);
    auto ws = DeviceBuffer::allocate(workspace);
    if (!x || !y || !w || !ws) {
        cudaGetLastError();
        return false;
    }
    out.x = std::move(*x);
    out.y = std::move(*y);
    out.w = std::move(*w);
    out.workspace = std::move(*ws);
    // Zeros rather than leftover bytes, which may hold NaNs or denormals that skew the timings.
    if (cudaMemset(out.x.get(), 0, s.x_bytes) != cudaSuccess || cudaMemset(out.y.get(), 0, s.y_bytes) != cudaSuccess ||
        (out.w.get() && cudaMemset(out.w.get(), 0, s.w_bytes) != cudaSuccess)) {
        cudaGetLastError();
        return false;
    }
    return true;
}

template <class Perf>
bool pick(const ConvSearch& s, const Perf* perf, int count, size_t workspace_limit, ConvAlgo& out,
          cudnnMathType_t& math) {
    for (int i = 0; i < count; ++i) {  // sorted fastest first
        if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > workspace_limit) continue;
        if (!allowed(s, perf[i].algo, perf[i].mathType)) continue;
        out.algo = static_cast<int>(perf[i].algo);
        out.workspace = perf[i].memory;
        math = perf[i].mathType;
        return true;
    }
    return false;
}

// cuDNN's search runs each algorithm once, so close ones swap places between builds. The leading candidates
// (up to kRetimed, fastest first) are timed again, as the median of rounds, and a later one replaces the first
// only when clearly faster. Returns false when fewer than two candidates qualify (then `pick` stands).
constexpr int kRetimed = 3;

Expected<bool> retime_forward(const ConvSearch& s, const cudnnConvolutionFwdAlgoPerf_t* perf, int count,
                              const Scratch& scratch, size_t max_ws, ConvAlgo& out, cudnnMathType_t& math, float& ms) {
    std::vector<const cudnnConvolutionFwdAlgoPerf_t*> candidates;
    for (int i = 0; i < count && static_cast<int>(candidates.size()) < kRetimed; ++i) {
        if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > max_ws) continue;
        if (allowed(s, perf[i].algo, perf[i].mathType)) candidates.push_back(&perf[i]);
    }
    if (candidates.size() < 2) return false;
    cudaStream_t stream = nullptr;
    RT_CUDNN_CHECK(cudnnGetStream(s.handle, &stream));
    const float one = 1.0f, zero = 0.0f;
    const void* w = s.w_data ? s.w_data : scratch.w.get();
    const cudnnConvolutionFwdAlgoPerf_t* best = nullptr;
    for (const auto* c : candidates) {
        RT_CUDNN_CHECK(cudnnSetConvolutionMathType(s.conv, c->mathType));
        RT_ASSIGN_OR_RETURN(
            float t, time_ms(stream, [&]() -> Status {
                RT_CUDNN_CHECK(cudnnConvolutionForward(s.handle, &one, s.x, scratch.x.get(), s.w, w, s.conv, c->algo,
                                                       scratch.workspace.get(), max_ws, &zero, s.y, scratch.y.get()));
                return Status();
            }));
        if (!best || clearly_faster(t, ms)) {
            best = c;
            ms = t;
        }
    }
    out.algo = static_cast<int>(best->algo);
    out.workspace = best->memory;
    math = best->mathType;
    return true;
}

}  // namespace

namespace {

// A known tactic (from the engine or the timing cache): set its math type and size its workspace.
Expected<ConvAlgo> forward_tactic(const ConvSearch& s, int64_t tactic) {
    ConvAlgo a;
    a.algo = static_cast<int>(tactic / 16);
    a.math = static_cast<int>(tactic % 16);
    RT_CUDNN_CHECK(cudnnSetConvolutionMathType(s.conv, static_cast<cudnnMathType_t>(a.math)));
    RT_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(
        s.handle, s.x, s.w, s.conv, s.y, static_cast<cudnnConvolutionFwdAlgo_t>(a.algo), &a.workspace));
    return a;
}

}  // namespace

Expected<ConvAlgo> find_forward_algo(const ConvSearch& s) {
    if (s.cache) {
        if (auto known = s.cache->lookup(s.signature)) return forward_tactic(s, *known);
    }
    size_t max_ws = 0;
    for (int a = 0; a < CUDNN_CONVOLUTION_FWD_ALGO_COUNT; ++a) {
        size_t bytes = 0;
        if (cudnnGetConvolutionForwardWorkspaceSize(s.handle, s.x, s.w, s.conv, s.y,
                                                    static_cast<cudnnConvolutionFwdAlgo_t>(a),
                                                    &bytes) == CUDNN_STATUS_SUCCESS &&
            bytes <= s.workspace_cap) {
            max_ws = std::max(max_ws, bytes);
        }
    }
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int count = 0;
    ConvAlgo chosen;
    cudnnMathType_t math = conv_math_type(s.dtype, s.allow_tf32);
    bool found = false;
    Scratch scratch;
    float retimed_ms = -1.0f;
    if (allocate_scratch(s, max_ws, scratch)) {
        RT_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(
            s.handle, s.x, scratch.x.get(), s.w, s.w_data ? s.w_data : scratch.w.get(), s.conv, s.y, scratch.y.get(),
            CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count, perf, scratch.workspace.get(), max_ws));
        RT_ASSIGN_OR_RETURN(found, retime_forward(s, perf, count, scratch, max_ws, chosen, math, retimed_ms));
        if (!found) found = pick(s, perf, count, max_ws, chosen, math);
    }
    if (!found) {
        RT_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(s.handle, s.x, s.w, s.conv, s.y,
                                                              CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count, perf));
        found = pick(s, perf, count, s.workspace_cap, chosen, math);
    }
    if (!found) {  // implicit GEMM runs every configuration without scratch memory
        chosen.algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
        math = conv_math_type(s.dtype, s.allow_tf32);
        RT_CUDNN_CHECK(cudnnSetConvolutionMathType(s.conv, math));
        RT_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(
            s.handle, s.x, s.w, s.conv, s.y, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, &chosen.workspace));
    }
    RT_CUDNN_CHECK(cudnnSetConvolutionMathType(s.conv, math));
    chosen.math = static_cast<int>(math);
    if (s.cache) {
        float ms = retimed_ms;
        for (int i = 0; i < count && ms < 0.0f; ++i) {
            if (static_cast<int>(perf[i].algo) == chosen.algo && perf[i].status == CUDNN_STATUS_SUCCESS)
                ms = perf[i].time;
        }
        s.cache->record(s.signature, chosen.tactic(), ms);
    }
    return chosen;
}

Expected<ConvAlgo> find_backward_data_algo(const ConvSearch& s) {
    size_t max_ws = 0;
    for (int a = 0; a < CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT; ++a) {
        size_t bytes = 0;
        if (cudnnGetConvolutionBackwardDataWorkspaceSize(s.handle, s.w, s.y, s.conv, s.x,
                                                         static_cast<cudnnConvolutionBwdDataAlgo_t>(a),
                                                         &bytes) == CUDNN_STATUS_SUCCESS &&
            bytes <= s.workspace_cap) {
            max_ws = std::max(max_ws, bytes);
        }
    }
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    int count = 0;
    ConvAlgo chosen;
    cudnnMathType_t math = conv_math_type(s.dtype, s.allow_tf32);
    bool found = false;
    Scratch scratch;
    if (allocate_scratch(s, max_ws, scratch)) {
        RT_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(
            s.handle, s.w, s.w_data ? s.w_data : scratch.w.get(), s.y, scratch.y.get(), s.conv, s.x, scratch.x.get(),
            CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &count, perf, scratch.workspace.get(), max_ws));
        found = pick(s, perf, count, max_ws, chosen, math);
    }
    if (!found) {
        RT_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(
            s.handle, s.w, s.y, s.conv, s.x, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &count, perf));
        found = pick(s, perf, count, s.workspace_cap, chosen, math);
    }
    if (!found) {
        chosen.algo = CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
        math = conv_math_type(s.dtype, s.allow_tf32);
        RT_CUDNN_CHECK(cudnnSetConvolutionMathType(s.conv, math));
        RT_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(
            s.handle, s.w, s.y, s.conv, s.x, CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, &chosen.workspace));
    }
    RT_CUDNN_CHECK(cudnnSetConvolutionMathType(s.conv, math));
    return chosen;
}

}  // namespace rtinfer::cuda::nn
