// rtinfer.PointwiseChain (core/ir/pointwise_chain.h): one launch runs the whole program. Each thread reads its
// element of every input through the broadcast table, runs the steps in float (an interpreter: one switch
// over op codes, so that one kernel per element type and width serves every program) and stores the last
// result once, rounded to half for float16. The formulas are those of activations.cu, unary_math.cu,
// binary_arith.cu, variadic.cu, prelu.cu and clip.cu. Where the inner dim allows (see group_broadcast), a
// thread takes W = 4 or 2 neighbouring elements with one wide load per full-size operand and one wide store.
#include "core/ir/pointwise_chain.h"
#include "core/kernels/cuda/elementwise/common.cuh"
#include "core/kernels/cuda/elementwise/kernels.h"

namespace rtinfer::cuda {
namespace {

using namespace ew;
using ir::PointwiseOp;

constexpr int kInputs = ir::kMaxChainInputs;
constexpr int kSteps = ir::kMaxChainSteps;

// The program as the kernel reads it from its parameters.
struct ChainProgram {
    int inputs = 0;
    int steps = 0;
    uint8_t op[kSteps] = {};
    int8_t a[kSteps] = {};  // a slot, or ir::kImmediate: p0 (b: p1); b of a unary op is unused
    int8_t b[kSteps] = {};
    float p0[kSteps] = {};
    float p1[kSteps] = {};
};

struct ChainParams {
    const void* in[kInputs] = {};
    void* y = nullptr;
    Broadcast<kInputs> bc;  // over groups of W output elements (W = 1: elements)
    bool vec[kInputs] = {};  // W > 1: operand k's group is W neighbours, else one element for all W
    ChainProgram prog;
};

template <class T, int W>
struct alignas(sizeof(T) * W) Pack {
    T v[W];
};

__device__ __forceinline__ float to_float(float x) {
    return x;
}
__device__ __forceinline__ float to_float(__half x) {
    return __half2float(x);
}
template <class T>
__device__ __forceinline__ T from_float(float x) {
    if constexpr (std::is_same_v<T, __half>) {
        return __float2half_rn(x);
    } else {
        return x;
    }
}

__device__ __forceinline__ float softplus(float x) {
    return x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x));
}

__device__ __forceinline__ float apply(int op, float a, float b, float p0, float p1) {
    switch (static_cast<PointwiseOp>(op)) {
        case PointwiseOp::kRelu: return a < 0.0f ? 0.0f : a;
        case PointwiseOp::kSigmoid: {
            if (a >= 0.0f) return 1.0f / (1.0f + expf(-a));
            const float e = expf(a);
            return e / (1.0f + e);
        }
        case PointwiseOp::kTanh: return tanhf(a);
        case PointwiseOp::kExp: return expf(a);
        case PointwiseOp::kLog: return logf(a);
        case PointwiseOp::kSqrt: return sqrtf(a);
        case PointwiseOp::kAbs: return fabsf(a);
        case PointwiseOp::kNeg: return -a;
        case PointwiseOp::kErf: return erff(a);
        case PointwiseOp::kReciprocal: return 1.0f / a;
        case PointwiseOp::kClip: {
            const float v = a < p0 ? p0 : a;
            return p1 < v ? p1 : v;
        }
        case PointwiseOp::kLeakyRelu: return a < 0.0f ? p0 * a : a;
        case PointwiseOp::kHardSigmoid: return std_max(0.0f, std_min(1.0f, p0 * a + p1));
        case PointwiseOp::kHardSwish: return a * std_max(0.0f, std_min(1.0f, a / 6.0f + 0.5f));
        case PointwiseOp::kGelu: return 0.5f * a * (1.0f + erff(a * 0.7071067811865476f));
        case PointwiseOp::kGeluTanh:
            return 0.5f * a * (1.0f + tanhf(0.7978845608028654f * (a + 0.044715f * a * a * a)));
        case PointwiseOp::kSoftplus: return softplus(a);
        case PointwiseOp::kElu: return a < 0.0f ? p0 * expm1f(a) : a;
        case PointwiseOp::kSelu: return a > 0.0f ? p1 * a : p1 * p0 * expm1f(a);
        case PointwiseOp::kSoftsign: return a / (1.0f + fabsf(a));
        case PointwiseOp::kMish: return a * tanhf(softplus(a));
        case PointwiseOp::kAdd: return a + b;
        case PointwiseOp::kSub: return a - b;
        case PointwiseOp::kMul: return a * b;
        case PointwiseOp::kDiv: return a / b;
        case PointwiseOp::kPow: return b == 2.0f ? a * a : powf(a, b);
        case PointwiseOp::kMax: return isnan(a) || isnan(b) ? a + b : (a < b ? b : a);
        case PointwiseOp::kMin: return isnan(a) || isnan(b) ? a + b : (b < a ? b : a);
        case PointwiseOp::kPRelu: return a < 0.0f ? b * a : a;
    }
    return a;
}

template <class T, int W>
__global__ void pointwise_chain_kernel(ChainParams p) {
    const ChainProgram& prog = p.prog;
    RT_EW_FOR_EACH(j, p.bc.n) {
        int64_t off[kInputs];
        broadcast_offsets(p.bc, j, off);
        // Slot k < inputs: input k; inputs + s: step s. Indexed at run time, so this lives in local memory
        // (L1), touched only as far as the program reaches.
        float r[kInputs + kSteps][W];
        for (int k = 0; k < prog.inputs; ++k) {
            const T* x = static_cast<const T*>(p.in[k]) + off[k];
            if (W == 1 || p.vec[k]) {
                const Pack<T, W> g = *reinterpret_cast<const Pack<T, W>*>(x);
#pragma unroll
                for (int e = 0; e < W; ++e) r[k][e] = to_float(g.v[e]);
            } else {
                const float v = to_float(*x);
#pragma unroll
                for (int e = 0; e < W; ++e) r[k][e] = v;
            }
        }
        for (int s = 0; s < prog.steps; ++s) {
            const int op = prog.op[s], a = prog.a[s], b = prog.b[s];
            const float p0 = prog.p0[s], p1 = prog.p1[s];
            float* dst = r[prog.inputs + s];
#pragma unroll
            for (int e = 0; e < W; ++e) dst[e] = apply(op, a >= 0 ? r[a][e] : p0, b >= 0 ? r[b][e] : p1, p0, p1);
        }
        const float* last = r[prog.inputs + prog.steps - 1];
        Pack<T, W> out;
#pragma unroll
        for (int e = 0; e < W; ++e) out.v[e] = from_float<T>(last[e]);
        static_cast<Pack<T, W>*>(p.y)[j] = out;
    }
}

template <class T>
void launch_typed(const ChainParams& p, int width, cudaStream_t stream) {
    const unsigned blocks = blocks_for(p.bc.n);
    if (width == 4) {
        pointwise_chain_kernel<T, 4><<<blocks, kThreads, 0, stream>>>(p);
    } else if (width == 2) {
        pointwise_chain_kernel<T, 2><<<blocks, kThreads, 0, stream>>>(p);
    } else {
        pointwise_chain_kernel<T, 1><<<blocks, kThreads, 0, stream>>>(p);
    }
}

// p.bc is the table over groups of `width` elements (1, 2 or 4), p.vec says which operands are read wide.
Status launch_pointwise_chain(const ChainParams& p, bool half, int width, cudaStream_t stream) {
    if (p.bc.n == 0) return Status();
    if (half) {
        launch_typed<__half>(p, width, stream);
    } else {
        launch_typed<float>(p, width, stream);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

class PointwiseChainCudaOp final : public CudaOp {
public:
    PointwiseChainCudaOp(DataType dtype, const Broadcast<kInputs>& bc, const ChainProgram& prog)
        : half_(dtype == DataType::kFloat16) {
        elements_.bc = bc;
        elements_.prog = prog;
        groups_.prog = prog;
        for (int width : {4, 2}) {
            if (group_broadcast(bc, width, &groups_.bc, groups_.vec)) {
                width_ = width;
                break;
            }
        }
    }

    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        const size_t bytes = (half_ ? 2 : 4) * static_cast<size_t>(width_);
        const auto aligned = [bytes](const void* q) { return reinterpret_cast<uintptr_t>(q) % bytes == 0; };
        bool wide = width_ > 1 && aligned(outputs[0].data);
        for (int k = 0; k < elements_.prog.inputs && wide; ++k) wide = !groups_.vec[k] || aligned(inputs[k].data);
        ChainParams p = wide ? groups_ : elements_;
        for (int k = 0; k < p.prog.inputs; ++k) p.in[k] = inputs[k].data;
        p.y = outputs[0].data;
        return launch_pointwise_chain(p, half_, wide ? width_ : 1, libs.stream);
    }

private:
    bool half_;
    ChainParams elements_;  // one element per thread
    ChainParams groups_;    // width_ elements per thread, when width_ > 1 and the pointers are aligned
    int width_ = 1;
};

Expected<OpPtr> create(const OpSetup& setup, const CudaLibs&) {
    const size_t count = setup.inputs.size();
    RT_ASSIGN_OR_RETURN(const std::vector<ir::PointwiseStep> steps, ir::read_pointwise_program(setup.node, count));
    for (size_t i = 0; i < count; ++i) {
        RT_RETURN_IF_ERROR(check_input(setup, i, kFloatTypes));
        RT_RETURN_IF_ERROR(check_same_type(setup, 0, i));
    }
    RT_RETURN_IF_ERROR(check_output(setup));
    const DataType dtype = setup.inputs[0].dtype;
    RT_RETURN_IF_ERROR(check_output_type(setup, dtype));
    // Unused operand places broadcast a scalar: stride 0, never read.
    std::vector<ir::Shape> shapes = input_shapes(setup, 0, count);
    shapes.resize(kInputs);
    RT_ASSIGN_OR_RETURN(Broadcast<kInputs> bc, make_broadcast<kInputs>(setup, setup.outputs[0].shape, shapes));
    ChainProgram prog;
    prog.inputs = static_cast<int>(count);
    prog.steps = static_cast<int>(steps.size());
    for (size_t s = 0; s < steps.size(); ++s) {
        prog.op[s] = static_cast<uint8_t>(steps[s].op);
        prog.a[s] = static_cast<int8_t>(steps[s].a);
        prog.b[s] = static_cast<int8_t>(steps[s].b);
        prog.p0[s] = steps[s].p0;
        prog.p1[s] = steps[s].p1;
    }
    return OpPtr(new PointwiseChainCudaOp(dtype, bc, prog));
}

}  // namespace

const CudaKernel kPointwiseChainCuda = {"PointwiseChain", ir::kRtinferDomain, create};

}  // namespace rtinfer::cuda
