// int8_conv_bench: what cuDNN 9 and cuBLASLt offer for INT8 convolutions on this GPU, against FP16, on
// ResNet-50's convolution shapes (NHWC). Prints markdown tables; it is a measurement, not a test.
//
// Paths per shape:
//   fp16 cudnn  cudnnConvolutionForward, x/w/y half, float compute, tensor-op math; the three fastest algorithms of
//               cudnnFindConvolutionForwardAlgorithmEx, timed again here
//   int8 float  cudnnConvolutionForward, x/w int8, y float, int32 compute (INT8_EXT_CONFIG); every algorithm and
//               math type that cuDNN runs
//   int8 fused  cudnnConvolutionBiasActivationForward, x/w/y int8, float bias, ReLU:
//               y = sat(round(relu(alpha1 * conv + alpha2 * z + bias))); z = an int8 residual (alpha2 = 0.5) in the
//               details table for the 1x1 expansions, otherwise alpha2 = 0
//   int8 lt     1x1 stride 1 only: cuBLASLt IMMA product Y[M = N*H*W, Cout] = X[M, Cin] W^T (column-major TN),
//               int32 compute, int8 out with float scale, per-output-channel alpha and RELU_BIAS where cuBLASLt takes
//               them; a wide-out variant (float, else int32) in the details table
//   fp16 lt     the same product in half with float compute
// Timing: kCallsPerSample calls of a path are captured in one CUDA graph (direct launches where capture fails,
// marked "d"); a sample is one graph launch between CUDA events divided by kCallsPerSample; the median of
// --iterations samples after warm-up is reported in microseconds.
#include <cublasLt.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

namespace {

// Errors are strings (empty: success), so that a configuration a library refuses becomes one table cell.
using Err = std::string;

// Each returns the failing call's status name from the enclosing function.
#define BENCH_CUDA(call) \
    do { const cudaError_t e_ = (call); if (e_ != cudaSuccess) return Err(cudaGetErrorName(e_)); } while (0)
#define BENCH_DNN(call) \
    do { const cudnnStatus_t s_ = (call); if (s_ != CUDNN_STATUS_SUCCESS) return cudnnGetErrorString(s_); } while (0)
#define BENCH_LT(call) \
    do { const cublasStatus_t s_ = (call); if (s_ != 0) return cublasLtGetStatusName(s_); } while (0)
#define BENCH_TRY(expr) do { Err e_ = (expr); if (!e_.empty()) return e_; } while (0)

constexpr size_t kWorkspace = size_t(256) << 20;   // shared by every call
constexpr size_t kLtWorkspace = size_t(32) << 20;  // what cuBLASLt's heuristic may ask for
constexpr int kCallsPerSample = 4;

struct DevBuf {
    void* p = nullptr;
    DevBuf() = default;
    DevBuf(const DevBuf&) = delete;
    DevBuf& operator=(const DevBuf&) = delete;
    ~DevBuf() {
        if (p) cudaFree(p);
    }
    Err alloc(size_t bytes) {
        void* raw = nullptr;
        BENCH_CUDA(cudaMalloc(&raw, std::max<size_t>(bytes, 256)));
        p = raw;
        return Err();
    }
};

template <class Handle>
using Owned = std::shared_ptr<std::remove_pointer_t<Handle>>;
using TensorPtr = Owned<cudnnTensorDescriptor_t>;
using FilterPtr = Owned<cudnnFilterDescriptor_t>;
using ConvPtr = Owned<cudnnConvolutionDescriptor_t>;
using ActPtr = Owned<cudnnActivationDescriptor_t>;
using LtDescPtr = Owned<cublasLtMatmulDesc_t>;
using LtLayoutPtr = Owned<cublasLtMatrixLayout_t>;
using LtPrefPtr = Owned<cublasLtMatmulPreference_t>;

struct Shape {
    int n, c, h, w, k, r, stride, count;
    bool expansion;  // a bottleneck's last 1x1 (the residual is added there)
    int pad() const { return r / 2; }
    int p() const { return (h + 2 * pad() - r) / stride + 1; }
    int q() const { return (w + 2 * pad() - r) / stride + 1; }
    bool pointwise() const { return r == 1 && stride == 1; }
    size_t x_elems() const { return size_t(n) * h * w * c; }
    size_t w_elems() const { return size_t(k) * r * r * c; }
    size_t y_elems() const { return size_t(n) * p() * q() * k; }
    std::string name() const {
        return std::to_string(r) + "x" + std::to_string(r) + " " + std::to_string(c) + "->" + std::to_string(k) +
               " @" + std::to_string(h) + (stride > 1 ? " s" + std::to_string(stride) : "");
    }
};

// ResNet-50 v1.5 (stride on the 3x3) at 224x224, blocks 3, 4, 6, 3. Counts are per network and approximate: the
// 64->256 projection shortcut counts as a 64->256 expansion; each stage's first 3x3 (stride 2) counts as the
// stage's 3x3; stage 1's first 1x1 64->64, the 512->256 and 1024->512 first 1x1s and the stride-2 projections
// are left out.
std::vector<Shape> resnet50_shapes(int n) {
    return {{n, 64, 56, 56, 256, 1, 1, 4, true},      {n, 64, 56, 56, 64, 3, 1, 3, false},
            {n, 256, 56, 56, 64, 1, 1, 2, false},     {n, 256, 56, 56, 128, 1, 1, 1, false},
            {n, 128, 28, 28, 128, 3, 1, 4, false},    {n, 512, 28, 28, 128, 1, 1, 3, false},
            {n, 128, 28, 28, 512, 1, 1, 4, true},     {n, 256, 14, 14, 256, 3, 1, 6, false},
            {n, 1024, 14, 14, 256, 1, 1, 5, false},   {n, 256, 14, 14, 1024, 1, 1, 6, true},
            {n, 512, 7, 7, 512, 3, 1, 3, false},      {n, 2048, 7, 7, 512, 1, 1, 2, false},
            {n, 512, 7, 7, 2048, 1, 1, 3, true}};
}

struct Ctx {
    cudnnHandle_t dnn = nullptr;
    cublasLtHandle_t lt = nullptr;
    cudaStream_t stream = nullptr;
    DevBuf workspace;
    int iterations = 50;
};

// One shape's operands: int8 (with host copies for the reference), half, and the outputs of each kind.
struct Data {
    Shape s{};
    std::vector<int8_t> x, w, z;
    std::vector<float> bias, alpha;  // alpha: per output channel (cuBLASLt's vector mode)
    float alpha1 = 0.0f;             // the scalar requantization scale (cuDNN, cuBLASLt's scalar mode)
    DevBuf dx, dw, dz, dy8, dy32, dbias, dalpha, hx, hw, hy;
};

Err make_data(const Shape& s, uint32_t seed, Data& d) {
    d.s = s;
    std::mt19937 gen(seed);
    std::uniform_int_distribution<int> i8(-64, 63);
    std::uniform_real_distribution<float> unit(0.0f, 1.0f);
    auto fill = [&](std::vector<int8_t>& v, size_t n) {
        v.resize(n);
        for (auto& e : v) e = static_cast<int8_t>(i8(gen));
    };
    fill(d.x, s.x_elems());
    fill(d.w, s.w_elems());
    fill(d.z, s.y_elems());
    // Scales that spread the accumulators (std ~ sqrt(K) * 37^2) over roughly +-40 int8 steps, some saturating.
    d.alpha1 = 40.0f / (std::sqrt(float(s.c * s.r * s.r)) * 37.0f * 37.0f);
    d.bias.resize(s.k);
    d.alpha.resize(s.k);
    for (int i = 0; i < s.k; ++i) {
        d.bias[i] = -20.0f + 40.0f * unit(gen);
        d.alpha[i] = d.alpha1 * (0.75f + 0.5f * unit(gen));
    }
    std::vector<__half> hx(s.x_elems()), hw(s.w_elems());
    for (size_t i = 0; i < hx.size(); ++i) hx[i] = __float2half(d.x[i] / 64.0f);
    for (size_t i = 0; i < hw.size(); ++i) hw[i] = __float2half(d.w[i] / 64.0f);
    BENCH_TRY(d.dx.alloc(s.x_elems()));
    BENCH_TRY(d.dw.alloc(s.w_elems()));
    BENCH_TRY(d.dz.alloc(s.y_elems()));
    BENCH_TRY(d.dy8.alloc(s.y_elems()));
    BENCH_TRY(d.dy32.alloc(s.y_elems() * 4));
    BENCH_TRY(d.dbias.alloc(s.k * sizeof(float)));
    BENCH_TRY(d.dalpha.alloc(s.k * sizeof(float)));
    BENCH_TRY(d.hx.alloc(s.x_elems() * 2));
    BENCH_TRY(d.hw.alloc(s.w_elems() * 2));
    BENCH_TRY(d.hy.alloc(s.y_elems() * 2));
    BENCH_CUDA(cudaMemcpy(d.dx.p, d.x.data(), s.x_elems(), cudaMemcpyHostToDevice));
    BENCH_CUDA(cudaMemcpy(d.dw.p, d.w.data(), s.w_elems(), cudaMemcpyHostToDevice));
    BENCH_CUDA(cudaMemcpy(d.dz.p, d.z.data(), s.y_elems(), cudaMemcpyHostToDevice));
    BENCH_CUDA(cudaMemcpy(d.dbias.p, d.bias.data(), s.k * sizeof(float), cudaMemcpyHostToDevice));
    BENCH_CUDA(cudaMemcpy(d.dalpha.p, d.alpha.data(), s.k * sizeof(float), cudaMemcpyHostToDevice));
    BENCH_CUDA(cudaMemcpy(d.hx.p, hx.data(), hx.size() * 2, cudaMemcpyHostToDevice));
    BENCH_CUDA(cudaMemcpy(d.hw.p, hw.data(), hw.size() * 2, cudaMemcpyHostToDevice));
    BENCH_CUDA(cudaMemset(d.dy8.p, 0, s.y_elems()));
    BENCH_CUDA(cudaMemset(d.dy32.p, 0, s.y_elems() * 4));
    BENCH_CUDA(cudaMemset(d.hy.p, 0, s.y_elems() * 2));
    return Err();
}

// int32 accumulators of the convolution, NHWC [n, p, q, k]; filters [k, r, r, c].
std::vector<int32_t> reference_acc(const Data& d) {
    const Shape& s = d.s;
    std::vector<int32_t> acc(s.y_elems(), 0);
    for (int n = 0; n < s.n; ++n)
        for (int p = 0; p < s.p(); ++p)
            for (int q = 0; q < s.q(); ++q)
                for (int k = 0; k < s.k; ++k) {
                    int32_t sum = 0;
                    for (int r = 0; r < s.r; ++r)
                        for (int t = 0; t < s.r; ++t) {
                            const int h = p * s.stride - s.pad() + r, w = q * s.stride - s.pad() + t;
                            if (h < 0 || h >= s.h || w < 0 || w >= s.w) continue;
                            const int8_t* x = &d.x[((size_t(n) * s.h + h) * s.w + w) * s.c];
                            const int8_t* f = &d.w[((size_t(k) * s.r + r) * s.r + t) * s.c];
                            for (int c = 0; c < s.c; ++c) sum += int32_t(x[c]) * int32_t(f[c]);
                        }
                    acc[((size_t(n) * s.p() + p) * s.q() + q) * s.k + k] = sum;
                }
    return acc;
}

int requantize(double v, bool relu) {
    if (relu) v = std::max(v, 0.0);
    return static_cast<int>(std::min(127.0, std::max(-128.0, std::nearbyint(v))));
}

// One way to run a path (an algorithm, a configuration); `key` names it in the correctness results.
struct Candidate {
    std::string name, key;
    std::function<Err()> run;
};

struct Setup {
    std::vector<Candidate> candidates;  // those that ran once without an error
    Err error;                          // why a path offers none (the first refusal seen)
    std::string config;                 // cuBLASLt: the configuration taken
    std::string refused;                // cuBLASLt: preferred configurations refused, and why
    bool vector_alpha = false;
};

// Runs each candidate once (synchronized) and keeps those that work; the first refusal is kept as the reason.
void keep_runnable(Ctx& ctx, Setup& setup) {
    std::vector<Candidate> ok;
    for (auto& c : setup.candidates) {
        Err e = c.run();
        if (e.empty()) {
            const cudaError_t sync = cudaStreamSynchronize(ctx.stream);
            if (sync != cudaSuccess) e = cudaGetErrorName(sync);
        }
        cudaGetLastError();
        if (e.empty()) {
            ok.push_back(std::move(c));
        } else if (setup.error.empty()) {
            setup.error = e;
        }
    }
    setup.candidates = std::move(ok);
}

const char* algo_name(int a) {
    static const char* names[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT", "FFT",
                                  "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
    return a >= 0 && a < 8 ? names[a] : "?";
}
const char* math_name(cudnnMathType_t m) {
    return m == CUDNN_DEFAULT_MATH ? "default" : m == CUDNN_TENSOR_OP_MATH ? "tensor-op"
                                             : m == CUDNN_FMA_MATH        ? "fma"
                                                                          : "tensor-op-conv";
}

struct ConvDescs {
    TensorPtr x, y, bias;
    FilterPtr w;
    ConvPtr conv;
    ActPtr act;
};

Err tensor_desc(cudnnTensorFormat_t format, cudnnDataType_t type, int n, int c, int h, int w, TensorPtr& out) {
    cudnnTensorDescriptor_t raw = nullptr;
    BENCH_DNN(cudnnCreateTensorDescriptor(&raw));
    out.reset(raw, cudnnDestroyTensorDescriptor);
    BENCH_DNN(cudnnSetTensor4dDescriptor(raw, format, type, n, c, h, w));
    return Err();
}

Err conv_descs(const Shape& s, cudnnDataType_t io, cudnnDataType_t out, cudnnDataType_t compute, ConvDescs& d) {
    BENCH_TRY(tensor_desc(CUDNN_TENSOR_NHWC, io, s.n, s.c, s.h, s.w, d.x));
    BENCH_TRY(tensor_desc(CUDNN_TENSOR_NHWC, out, s.n, s.k, s.p(), s.q(), d.y));
    BENCH_TRY(tensor_desc(CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, s.k, 1, 1, d.bias));
    cudnnFilterDescriptor_t w = nullptr;
    BENCH_DNN(cudnnCreateFilterDescriptor(&w));
    d.w.reset(w, cudnnDestroyFilterDescriptor);
    BENCH_DNN(cudnnSetFilter4dDescriptor(w, io, CUDNN_TENSOR_NHWC, s.k, s.c, s.r, s.r));
    cudnnConvolutionDescriptor_t conv = nullptr;
    BENCH_DNN(cudnnCreateConvolutionDescriptor(&conv));
    d.conv.reset(conv, cudnnDestroyConvolutionDescriptor);
    BENCH_DNN(cudnnSetConvolution2dDescriptor(conv, s.pad(), s.pad(), s.stride, s.stride, 1, 1,
                                              CUDNN_CROSS_CORRELATION, compute));
    int dims[4] = {0, 0, 0, 0};
    BENCH_DNN(cudnnGetConvolution2dForwardOutputDim(conv, d.x.get(), w, &dims[0], &dims[1], &dims[2], &dims[3]));
    if (dims[0] != s.n || dims[1] != s.k || dims[2] != s.p() || dims[3] != s.q()) return "unexpected output shape";
    cudnnActivationDescriptor_t act = nullptr;
    BENCH_DNN(cudnnCreateActivationDescriptor(&act));
    d.act.reset(act, cudnnDestroyActivationDescriptor);
    BENCH_DNN(cudnnSetActivationDescriptor(act, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0));
    return Err();
}

// (a) FP16: cuDNN's own search, its three fastest kept.
Setup fp16_cudnn(Ctx& ctx, Data& d) {
    Setup setup;
    auto descs = std::make_shared<ConvDescs>();
    setup.error = [&]() -> Err {
        BENCH_TRY(conv_descs(d.s, CUDNN_DATA_HALF, CUDNN_DATA_HALF, CUDNN_DATA_FLOAT, *descs));
        BENCH_DNN(cudnnSetConvolutionMathType(descs->conv.get(), CUDNN_TENSOR_OP_MATH));
        cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
        int count = 0;
        BENCH_DNN(cudnnFindConvolutionForwardAlgorithmEx(
            ctx.dnn, descs->x.get(), d.hx.p, descs->w.get(), d.hw.p, descs->conv.get(), descs->y.get(), d.hy.p,
            CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count, perf, ctx.workspace.p, kWorkspace));
        for (int i = 0; i < count && setup.candidates.size() < 3; ++i) {
            if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > kWorkspace) continue;
            const cudnnConvolutionFwdAlgo_t algo = perf[i].algo;
            const cudnnMathType_t math = perf[i].mathType;
            const size_t ws = perf[i].memory;
            const std::string name = std::string(algo_name(algo)) + "/" + math_name(math);
            setup.candidates.push_back({name, "fp16:" + name, [&ctx, &d, descs, algo, math, ws]() -> Err {
                                            const float one = 1.0f, zero = 0.0f;
                                            BENCH_DNN(cudnnSetConvolutionMathType(descs->conv.get(), math));
                                            BENCH_DNN(cudnnConvolutionForward(
                                                ctx.dnn, &one, descs->x.get(), d.hx.p, descs->w.get(), d.hw.p,
                                                descs->conv.get(), algo, ctx.workspace.p, ws, &zero, descs->y.get(),
                                                d.hy.p));
                                            return Err();
                                        }});
        }
        return setup.candidates.empty() ? Err("no algorithm succeeded in cuDNN's search") : Err();
    }();
    keep_runnable(ctx, setup);
    return setup;
}

// IMPLICIT_PRECOMP_GEMM first: its refusal is the one reported when none runs.
constexpr int kAlgoOrder[] = {1, 0, 2, 3, 4, 5, 6, 7};

// (b) INT8 in, float out (fused = false), or (c) INT8 in and out with bias, ReLU and optionally z (fused = true).
Setup int8_cudnn(Ctx& ctx, Data& d, bool fused, bool residual) {
    Setup setup;
    auto descs = std::make_shared<ConvDescs>();
    const char* tag = !fused ? "i8f32" : residual ? "i8fused+z" : "i8fused";
    setup.error = conv_descs(d.s, CUDNN_DATA_INT8, fused ? CUDNN_DATA_INT8 : CUDNN_DATA_FLOAT, CUDNN_DATA_INT32,
                             *descs);
    if (!setup.error.empty()) return setup;
    for (int a : kAlgoOrder) {
        for (cudnnMathType_t math : {CUDNN_TENSOR_OP_MATH, CUDNN_DEFAULT_MATH}) {
            const auto algo = static_cast<cudnnConvolutionFwdAlgo_t>(a);
            size_t ws = 0;
            cudnnStatus_t st = cudnnSetConvolutionMathType(descs->conv.get(), math);
            if (st == CUDNN_STATUS_SUCCESS) {
                st = cudnnGetConvolutionForwardWorkspaceSize(ctx.dnn, descs->x.get(), descs->w.get(),
                                                             descs->conv.get(), descs->y.get(), algo, &ws);
            }
            if (st != CUDNN_STATUS_SUCCESS || ws > kWorkspace) {
                if (setup.error.empty()) {
                    setup.error = st != CUDNN_STATUS_SUCCESS ? cudnnGetErrorString(st) : "workspace over 256 MiB";
                }
                continue;
            }
            const std::string name = std::string(algo_name(a)) + "/" + math_name(math);
            const float alpha1 = fused ? d.alpha1 : 1.0f, alpha2 = residual ? 0.5f : 0.0f;
            setup.candidates.push_back(
                {name, std::string(tag) + ":" + name, [&ctx, &d, descs, algo, math, ws, fused, residual, alpha1,
                                                       alpha2]() -> Err {
                     BENCH_DNN(cudnnSetConvolutionMathType(descs->conv.get(), math));
                     if (!fused) {
                         const float zero = 0.0f;
                         BENCH_DNN(cudnnConvolutionForward(ctx.dnn, &alpha1, descs->x.get(), d.dx.p, descs->w.get(),
                                                           d.dw.p, descs->conv.get(), algo, ctx.workspace.p, ws, &zero,
                                                           descs->y.get(), d.dy32.p));
                         return Err();
                     }
                     BENCH_DNN(cudnnConvolutionBiasActivationForward(
                         ctx.dnn, &alpha1, descs->x.get(), d.dx.p, descs->w.get(), d.dw.p, descs->conv.get(), algo,
                         ctx.workspace.p, ws, &alpha2, descs->y.get(), residual ? d.dz.p : d.dy8.p, descs->bias.get(),
                         d.dbias.p, descs->act.get(), descs->y.get(), d.dy8.p));
                     return Err();
                 }});
        }
    }
    // The reason shown when none runs: a refused call if one was tried, else a refused workspace query.
    const Err refused_query = setup.error;
    setup.error.clear();
    keep_runnable(ctx, setup);
    if (setup.error.empty()) setup.error = refused_query;
    return setup;
}

struct LtConfig {
    const char* name;
    cublasComputeType_t compute;
    cudaDataType_t scale, ab, cd;
    bool vector_alpha, relu_bias;
};

const LtConfig kLtInt8Out[] = {
    {"i8 out, per-channel alpha, RELU_BIAS", CUBLAS_COMPUTE_32I, CUDA_R_32F, CUDA_R_8I, CUDA_R_8I, true, true},
    {"i8 out, per-channel alpha", CUBLAS_COMPUTE_32I, CUDA_R_32F, CUDA_R_8I, CUDA_R_8I, true, false},
    {"i8 out, scalar alpha, RELU_BIAS", CUBLAS_COMPUTE_32I, CUDA_R_32F, CUDA_R_8I, CUDA_R_8I, false, true},
    {"i8 out, scalar alpha", CUBLAS_COMPUTE_32I, CUDA_R_32F, CUDA_R_8I, CUDA_R_8I, false, false}};
const LtConfig kLtWideOut[] = {
    {"f32 out, compute 32I", CUBLAS_COMPUTE_32I, CUDA_R_32F, CUDA_R_8I, CUDA_R_32F, false, false},
    {"f32 out, compute 32F", CUBLAS_COMPUTE_32F, CUDA_R_32F, CUDA_R_8I, CUDA_R_32F, false, false},
    {"i32 out", CUBLAS_COMPUTE_32I, CUDA_R_32I, CUDA_R_8I, CUDA_R_32I, false, false}};
const LtConfig kLtHalf[] = {
    {"f16, compute 32F", CUBLAS_COMPUTE_32F, CUDA_R_32F, CUDA_R_16F, CUDA_R_16F, false, false}};

Err lt_layout(cudaDataType_t type, int rows, int cols, int ld, LtLayoutPtr& out) {
    cublasLtMatrixLayout_t raw = nullptr;
    BENCH_LT(cublasLtMatrixLayoutCreate(&raw, type, rows, cols, ld));
    out.reset(raw, cublasLtMatrixLayoutDestroy);
    return Err();
}

// Column-major D[Cout, M] = op(A)[Cout, Cin] B[Cin, M]: A is W [Cout][Cin] row-major seen as [Cin, Cout] and
// transposed, B is X [M][Cin] row-major seen as [Cin, M]; D is Y [M][Cout] row-major (the TN layout of IMMA).
Err lt_candidates(Ctx& ctx, Data& d, const LtConfig& cfg, std::vector<Candidate>& out) {
    const Shape& s = d.s;
    const int m = s.k, n = static_cast<int>(s.x_elems() / s.c), k = s.c;
    const bool half = cfg.ab == CUDA_R_16F;
    const void* a = half ? d.hw.p : d.dw.p;
    const void* b = half ? d.hx.p : d.dx.p;
    void* dst = half ? d.hy.p : cfg.cd == CUDA_R_8I ? d.dy8.p : d.dy32.p;
    cublasLtMatmulDesc_t raw = nullptr;
    BENCH_LT(cublasLtMatmulDescCreate(&raw, cfg.compute, cfg.scale));
    LtDescPtr desc(raw, cublasLtMatmulDescDestroy);
    const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    BENCH_LT(cublasLtMatmulDescSetAttribute(raw, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
    BENCH_LT(cublasLtMatmulDescSetAttribute(raw, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
    if (cfg.vector_alpha) {
        const cublasLtPointerMode_t mode = CUBLASLT_POINTER_MODE_ALPHA_DEVICE_VECTOR_BETA_HOST;
        BENCH_LT(cublasLtMatmulDescSetAttribute(raw, CUBLASLT_MATMUL_DESC_POINTER_MODE, &mode, sizeof mode));
    }
    if (cfg.relu_bias) {
        // The bias of IMMA kernels with int8 C is of the scale type (float), the default for this configuration.
        const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_RELU_BIAS;
        const void* bias = d.dbias.p;
        BENCH_LT(cublasLtMatmulDescSetAttribute(raw, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof epilogue));
        BENCH_LT(cublasLtMatmulDescSetAttribute(raw, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
    }
    auto la = std::make_shared<LtLayoutPtr>(), lb = std::make_shared<LtLayoutPtr>();
    auto lc = std::make_shared<LtLayoutPtr>();
    BENCH_TRY(lt_layout(cfg.ab, k, m, k, *la));
    BENCH_TRY(lt_layout(cfg.ab, k, n, k, *lb));
    BENCH_TRY(lt_layout(cfg.cd, m, n, m, *lc));
    cublasLtMatmulPreference_t praw = nullptr;
    BENCH_LT(cublasLtMatmulPreferenceCreate(&praw));
    LtPrefPtr pref(praw, cublasLtMatmulPreferenceDestroy);
    const uint64_t cap = kLtWorkspace;
    BENCH_LT(cublasLtMatmulPreferenceSetAttribute(praw, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &cap, sizeof cap));
    cublasLtMatmulHeuristicResult_t results[8] = {};
    int count = 0;
    BENCH_LT(cublasLtMatmulAlgoGetHeuristic(ctx.lt, raw, la->get(), lb->get(), lc->get(), lc->get(), praw, 8, results,
                                            &count));
    const float alpha_f = cfg.vector_alpha || cfg.cd != CUDA_R_8I ? 1.0f : d.alpha1, beta_f = 0.0f;
    const int32_t alpha_i = 1, beta_i = 0;
    const bool int_scale = cfg.scale == CUDA_R_32I;
    for (int i = 0; i < count && out.size() < 4; ++i) {
        if (results[i].state != CUBLAS_STATUS_SUCCESS) continue;
        const cublasLtMatmulAlgo_t algo = results[i].algo;
        const size_t ws = results[i].workspaceSize;
        out.push_back({std::string(cfg.name) + " #" + std::to_string(i), std::string("lt:") + cfg.name,
                       [&ctx, &d, desc, la, lb, lc, algo, ws, a, b, dst, cfg, alpha_f, beta_f, alpha_i, beta_i,
                        int_scale]() -> Err {
                           const void* alpha = cfg.vector_alpha ? d.dalpha.p
                                               : int_scale      ? static_cast<const void*>(&alpha_i)
                                                                : static_cast<const void*>(&alpha_f);
                           const void* beta = int_scale ? static_cast<const void*>(&beta_i)
                                                        : static_cast<const void*>(&beta_f);
                           BENCH_LT(cublasLtMatmul(ctx.lt, desc.get(), alpha, a, la->get(), b, lb->get(), beta, dst,
                                                   lc->get(), dst, lc->get(), &algo, ws ? ctx.workspace.p : nullptr,
                                                   ws, ctx.stream));
                           return Err();
                       }});
    }
    return out.empty() ? Err("no algorithm (heuristic returned none)") : Err();
}

// The first configuration (in order of preference) that cuBLASLt runs; the refusals before it are noted.
template <size_t N>
Setup lt_path(Ctx& ctx, Data& d, const LtConfig (&configs)[N]) {
    Setup setup;
    for (const LtConfig& cfg : configs) {
        Setup trial;
        trial.error = lt_candidates(ctx, d, cfg, trial.candidates);
        const Err before = trial.error;
        keep_runnable(ctx, trial);
        if (!trial.candidates.empty()) {
            setup.candidates = std::move(trial.candidates);
            setup.config = cfg.name;
            setup.vector_alpha = cfg.vector_alpha;
            setup.error.clear();
            return setup;
        }
        const Err why = !before.empty() ? before : trial.error;
        setup.refused += std::string(setup.refused.empty() ? "" : "; ") + cfg.name + ": " + why;
        if (setup.error.empty()) setup.error = why;
    }
    return setup;
}

const LtConfig* lt_config(const std::string& name) {
    for (const LtConfig& c : kLtInt8Out) {
        if (name == c.name) return &c;
    }
    for (const LtConfig& c : kLtWideOut) {
        if (name == c.name) return &c;
    }
    return nullptr;
}

// Median microseconds per call.
struct Timing {
    float us = -1.0f;
    bool graph = false;
};

Err measure(Ctx& ctx, const std::function<Err()>& run, Timing& t) {
    const cudaStream_t st = ctx.stream;
    cudaGraph_t graph = nullptr;
    cudaGraphExec_t raw_exec = nullptr;
    if (cudaStreamBeginCapture(st, cudaStreamCaptureModeRelaxed) == cudaSuccess) {
        Err e;
        for (int i = 0; i < kCallsPerSample && e.empty(); ++i) e = run();
        const cudaError_t end = cudaStreamEndCapture(st, &graph);
        if (!e.empty() || end != cudaSuccess || !graph || cudaGraphInstantiate(&raw_exec, graph, 0) != cudaSuccess) {
            raw_exec = nullptr;
        }
        if (graph) cudaGraphDestroy(graph);
    }
    cudaGetLastError();  // a refused capture leaves its error; the direct launches below report their own
    std::unique_ptr<std::remove_pointer_t<cudaGraphExec_t>, cudaError_t (*)(cudaGraphExec_t)> exec(raw_exec,
                                                                                                  cudaGraphExecDestroy);
    t.graph = exec != nullptr;
    auto launch = [&]() -> Err {
        if (exec) {
            BENCH_CUDA(cudaGraphLaunch(exec.get(), st));
            return Err();
        }
        for (int i = 0; i < kCallsPerSample; ++i) BENCH_TRY(run());
        return Err();
    };
    for (int i = 0; i < 3; ++i) BENCH_TRY(launch());
    BENCH_CUDA(cudaStreamSynchronize(st));
    struct Events {
        std::vector<cudaEvent_t> e;
        ~Events() {
            for (auto ev : e) cudaEventDestroy(ev);
        }
    } events;
    for (int i = 0; i < 2 * ctx.iterations; ++i) {
        cudaEvent_t ev = nullptr;
        BENCH_CUDA(cudaEventCreate(&ev));
        events.e.push_back(ev);
    }
    // No synchronization between samples: the queue stays ahead of the GPU, so gaps of host work are not timed.
    for (int i = 0; i < ctx.iterations; ++i) {
        BENCH_CUDA(cudaEventRecord(events.e[2 * i], st));
        BENCH_TRY(launch());
        BENCH_CUDA(cudaEventRecord(events.e[2 * i + 1], st));
    }
    BENCH_CUDA(cudaStreamSynchronize(st));
    std::vector<float> us;
    for (int i = 0; i < ctx.iterations; ++i) {
        float ms = 0.0f;
        BENCH_CUDA(cudaEventElapsedTime(&ms, events.e[2 * i], events.e[2 * i + 1]));
        us.push_back(ms * 1000.0f / kCallsPerSample);
    }
    std::sort(us.begin(), us.end());
    t.us = us[us.size() / 2];
    return Err();
}

// Correctness results by candidate key: true while every checked shape passed.
using Checks = std::map<std::string, bool>;

template <class T>
Err download(const DevBuf& buf, size_t n, std::vector<T>& out) {
    out.resize(n);
    BENCH_CUDA(cudaMemcpy(out.data(), buf.p, n * sizeof(T), cudaMemcpyDeviceToHost));
    return Err();
}

// Runs a path's candidates on a small shape and compares with the int32 reference. out_kind: 0 float output and
// 1 int32 output (both exact), 2 int8 output (within 1 of the same requantization).
void check_path(Ctx& ctx, Data& d, const char* label, Setup setup, int out_kind, bool residual, Checks& checks) {
    const std::vector<int32_t> acc = reference_acc(d);
    std::printf("  %-34s", (d.s.name() + " " + label).c_str());
    if (setup.candidates.empty()) {
        std::printf(" unsupported (%s)\n", setup.error.c_str());
        return;
    }
    std::printf("\n");
    for (auto& c : setup.candidates) {
        double worst = 0.0;
        Err e = c.run();
        if (e.empty()) {
            const cudaError_t sync = cudaStreamSynchronize(ctx.stream);
            if (sync != cudaSuccess) e = cudaGetErrorName(sync);
        }
        const size_t n = d.s.y_elems();
        const LtConfig* cfg = lt_config(setup.config);
        std::vector<float> f;
        std::vector<int32_t> i32;
        std::vector<int8_t> i8;
        if (e.empty()) e = out_kind == 0 ? download(d.dy32, n, f) : out_kind == 1 ? download(d.dy32, n, i32)
                                                                                 : download(d.dy8, n, i8);
        for (size_t j = 0; j < n && e.empty(); ++j) {
            const int ch = static_cast<int>(j % d.s.k);
            double got = 0.0, want = acc[j];
            if (out_kind == 0) got = f[j];
            if (out_kind == 1) got = i32[j];
            if (out_kind == 2) {
                // cuBLASLt without RELU_BIAS applies neither bias nor ReLU; cuDNN's fused call always both.
                got = i8[j];
                const bool vec = cfg && cfg->vector_alpha, bias_relu = !cfg || cfg->relu_bias;
                const double v = (vec ? d.alpha[ch] : d.alpha1) * double(acc[j]) + (residual ? 0.5 * d.z[j] : 0.0) +
                                 (bias_relu ? d.bias[ch] : 0.0);
                want = requantize(v, bias_relu);
            }
            worst = std::max(worst, std::fabs(got - want));
        }
        const bool pass = e.empty() && worst <= (out_kind == 2 ? 1.0 : 0.0);
        cudaGetLastError();
        auto it = checks.find(c.key);
        checks[c.key] = pass && (it == checks.end() || it->second);
        std::printf("    %-44s %s", c.name.c_str(), pass ? "PASS" : "FAIL");
        if (!e.empty()) std::printf(" (%s)", e.c_str());
        std::printf(" (max |error| %g)\n", worst);
    }
}

struct Cell {
    float us = -1.0f;
    std::string text, name;
};

// The fastest candidate of a path, its table text marked "!" (failed the check), "?" (not checked) or "d" (direct
// launches, no CUDA graph); failing candidates are timed but only chosen when nothing else runs.
Cell best_of(Ctx& ctx, const Setup& setup, const Checks* checks) {
    Cell cell;
    if (setup.candidates.empty()) {
        cell.text = "unsupported (" + setup.error + ")";
        return cell;
    }
    Err last;
    bool best_pass = false, best_graph = true;
    std::string best_mark;
    for (const auto& c : setup.candidates) {
        Timing t;
        Err e = measure(ctx, c.run, t);
        cudaGetLastError();
        if (!e.empty()) {
            last = e;
            continue;
        }
        std::string mark;
        bool pass = true;
        if (checks) {
            auto it = checks->find(c.key);
            mark = it == checks->end() ? "?" : it->second ? "" : "!";
            pass = it == checks->end() || it->second;
        }
        const bool better = cell.us < 0.0f || (pass && !best_pass) || (pass == best_pass && t.us < cell.us);
        if (better) {
            cell.us = t.us;
            cell.name = c.name;
            best_pass = pass;
            best_graph = t.graph;
            best_mark = mark;
        }
    }
    if (cell.us < 0.0f) {
        cell.text = "failed (" + last + ")";
        return cell;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f", cell.us);
    cell.text = buf + std::string(best_mark.empty() && best_graph ? "" : " ") + best_mark + (best_graph ? "" : "d");
    if (!best_pass) cell.us = -2.0f;  // shown, but no speed-up is computed from a wrong result
    return cell;
}

std::string fmt(double v, const char* f = "%.1f") {
    char buf[32];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

Err create_context(Ctx& ctx) {
    BENCH_CUDA(cudaStreamCreateWithFlags(&ctx.stream, cudaStreamNonBlocking));
    BENCH_DNN(cudnnCreate(&ctx.dnn));
    BENCH_DNN(cudnnSetStream(ctx.dnn, ctx.stream));
    BENCH_LT(cublasLtCreate(&ctx.lt));
    BENCH_TRY(ctx.workspace.alloc(kWorkspace));
    return Err();
}

void run_checks(Ctx& ctx, Checks& checks) {
    std::printf("## Correctness (N=2, int8 data against a CPU int32 reference; int8 outputs within 1)\n\n");
    const Shape small[] = {{2, 32, 8, 8, 64, 1, 1, 1, true}, {2, 32, 8, 8, 32, 3, 1, 1, false}};
    for (const Shape& s : small) {
        Data d;
        const Err e = make_data(s, 7, d);
        if (!e.empty()) {
            std::printf("  %s: data setup failed (%s)\n", s.name().c_str(), e.c_str());
            continue;
        }
        check_path(ctx, d, "cudnn int8 float-out", int8_cudnn(ctx, d, false, false), 0, false, checks);
        check_path(ctx, d, "cudnn int8 fused", int8_cudnn(ctx, d, true, false), 2, false, checks);
        check_path(ctx, d, "cudnn int8 fused + z", int8_cudnn(ctx, d, true, true), 2, true, checks);
        if (s.pointwise()) {
            Setup lt8 = lt_path(ctx, d, kLtInt8Out);
            if (!lt8.refused.empty()) std::printf("  cuBLASLt refused: %s\n", lt8.refused.c_str());
            check_path(ctx, d, "lt int8-out", lt8, 2, false, checks);
            Setup wide = lt_path(ctx, d, kLtWideOut);
            if (!wide.refused.empty()) std::printf("  cuBLASLt refused: %s\n", wide.refused.c_str());
            const LtConfig* cfg = lt_config(wide.config);
            check_path(ctx, d, "lt wide-out", wide, cfg && cfg->cd == CUDA_R_32I ? 1 : 0, false, checks);
        }
    }
    std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
    int batch = 32, iterations = 50;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if ((arg == "--batch" || arg == "--iterations") && i + 1 < argc) {
            const int v = std::atoi(argv[++i]);
            if (v <= 0) {
                std::fprintf(stderr, "%s needs a positive number\n", arg.c_str());
                return 2;
            }
            (arg == "--batch" ? batch : iterations) = v;
        } else {
            std::fprintf(stderr, "usage: %s [--batch N] [--iterations K]\n", argv[0]);
            return arg == "--help" || arg == "-h" ? 0 : 2;
        }
    }
    int devices = 0;
    const cudaError_t dev_err = cudaGetDeviceCount(&devices);
    if (dev_err != cudaSuccess || devices == 0) {
        std::printf("no CUDA device (%s)\n", dev_err != cudaSuccess ? cudaGetErrorString(dev_err) : "none found");
        return 0;
    }
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) prop = cudaDeviceProp{};
    int runtime = 0;
    cudaRuntimeGetVersion(&runtime);
    std::printf("# INT8 convolution benchmark: %s (sm_%d%d), CUDA runtime %d, cuDNN %zu, cuBLASLt %zu\n", prop.name,
                prop.major, prop.minor, runtime, cudnnGetVersion(), cublasLtGetVersion());
    std::printf("batch %d, NHWC, median of %d samples of %d calls each (CUDA graph), microseconds per call\n\n", batch,
                iterations, kCallsPerSample);

    Ctx ctx;
    ctx.iterations = iterations;
    const Err init = create_context(ctx);
    if (!init.empty()) {
        std::printf("setup failed: %s\n", init.c_str());
        return 1;
    }
    Checks checks;
    run_checks(ctx, checks);

    struct Row {
        Shape s;
        Cell fp16, i8f, i8q, lt8, lt16, i8z, ltw;
        std::string lt_config, ltw_config, lt_refused;
        bool vector_alpha = false;
    };
    std::vector<Row> rows;
    for (const Shape& s : resnet50_shapes(batch)) {
        Row row;
        row.s = s;
        Data d;
        const Err e = make_data(s, 1234, d);
        if (!e.empty()) {
            row.fp16.text = row.i8f.text = row.i8q.text = "setup failed (" + e + ")";
            rows.push_back(row);
            continue;
        }
        row.fp16 = best_of(ctx, fp16_cudnn(ctx, d), nullptr);
        row.i8f = best_of(ctx, int8_cudnn(ctx, d, false, false), &checks);
        row.i8q = best_of(ctx, int8_cudnn(ctx, d, true, false), &checks);
        if (s.expansion) row.i8z = best_of(ctx, int8_cudnn(ctx, d, true, true), &checks);
        if (s.pointwise()) {
            Setup lt8 = lt_path(ctx, d, kLtInt8Out);
            row.lt_config = lt8.config;
            row.lt_refused = lt8.refused;
            row.vector_alpha = lt8.vector_alpha;
            row.lt8 = best_of(ctx, lt8, &checks);
            Setup wide = lt_path(ctx, d, kLtWideOut);
            row.ltw_config = wide.config.empty() ? wide.refused : wide.config;
            row.ltw = best_of(ctx, wide, &checks);
            row.lt16 = best_of(ctx, lt_path(ctx, d, kLtHalf), nullptr);
        }
        rows.push_back(row);
        std::fprintf(stderr, "measured %s\n", s.name().c_str());
    }

    std::printf("## Times (us per call)\n\n");
    std::printf("| shape (count in ResNet-50) | fp16 cudnn us | int8 cudnn float-out us | int8 cudnn fused int8-out us "
                "| int8 lt us (1x1 only) | fp16 lt us | best int8 / fp16 speedup |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
    double tot[5] = {0, 0, 0, 0, 0}, tot_fp16 = 0, tot_int8 = 0;
    int missing[5] = {0, 0, 0, 0, 0};
    for (const Row& r : rows) {
        const Cell* cells[5] = {&r.fp16, &r.i8f, &r.i8q, &r.lt8, &r.lt16};
        double best16 = -1, best8 = -1;
        for (int i = 0; i < 5; ++i) {
            const double us = cells[i]->us;
            if (i >= 3 && !r.s.pointwise()) continue;
            if (us >= 0) {
                tot[i] += us * r.s.count;
            } else {
                ++missing[i];
            }
            if (us < 0) continue;
            double& best = (i == 0 || i == 4) ? best16 : best8;
            best = best < 0 ? us : std::min(best, us);
        }
        std::string speedup = "n/a";
        if (best16 > 0 && best8 > 0) {
            speedup = fmt(best16 / best8, "%.2fx");
            tot_fp16 += best16 * r.s.count;
            tot_int8 += best8 * r.s.count;
        }
        std::printf("| %s (x%d) | %s | %s | %s | %s | %s | %s |\n", r.s.name().c_str(), r.s.count, r.fp16.text.c_str(),
                    r.i8f.text.c_str(), r.i8q.text.c_str(), r.s.pointwise() ? r.lt8.text.c_str() : "-",
                    r.s.pointwise() ? r.lt16.text.c_str() : "-", speedup.c_str());
    }
    auto total = [&](int i) {
        return fmt(tot[i]) + (missing[i] ? " (" + std::to_string(missing[i]) + " shapes missing)" : "");
    };
    std::printf("| **total, count-weighted** | %s | %s | %s | %s (1x1 only) | %s (1x1 only) | %s |\n\n",
                total(0).c_str(), total(1).c_str(), total(2).c_str(), total(3).c_str(), total(4).c_str(),
                tot_int8 > 0 ? fmt(tot_fp16 / tot_int8, "%.2fx").c_str() : "n/a");

    std::printf("## Details (the fastest candidate of each path)\n\n");
    std::printf("| shape | fp16 cudnn | int8 float-out | int8 fused | int8 fused + z (alpha2 0.5) us | int8 lt "
                "configuration | per-channel alpha | int8 lt wide-out us (configuration) |\n");
    std::printf("|---|---|---|---|---|---|---|---|\n");
    for (const Row& r : rows) {
        const std::string lt = r.s.pointwise() ? r.lt_config.empty() ? "none: " + r.lt_refused
                                                                     : r.lt_config + " " + r.lt8.name
                                               : "-";
        const std::string ltw = r.s.pointwise() ? r.ltw.text + " (" + r.ltw_config + ")" : "-";
        std::printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", r.s.name().c_str(), r.fp16.name.c_str(),
                    r.i8f.name.c_str(), r.i8q.name.c_str(),
                    r.s.expansion ? (r.i8z.text + " " + r.i8z.name).c_str() : "-", lt.c_str(),
                    r.s.pointwise() ? (r.vector_alpha ? "yes" : "no (" + r.lt_refused + ")").c_str() : "-",
                    ltw.c_str());
    }
    std::printf("\nMarks: ! failed the correctness check (not used for the speed-up), ? configuration not covered by "
                "the check, d timed with direct launches (CUDA graph capture refused; host overhead included).\n"
                "Speed-up: fastest fp16 (cudnn, lt) over fastest passing int8 (float-out, fused, lt); the fused and "
                "lt int8 paths include bias + ReLU + requantization, the fp16 ones do not.\n");
    cublasLtDestroy(ctx.lt);
    cudnnDestroy(ctx.dnn);
    cudaStreamDestroy(ctx.stream);
    return 0;
}
