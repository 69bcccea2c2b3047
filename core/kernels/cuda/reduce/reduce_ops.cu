// ReduceSum ReduceMean ReduceMax ReduceMin ReduceProd ReduceSumSquare ReduceL1 ReduceL2 ReduceLogSum
// ReduceLogSumExp over float32/float16 with float accumulation. Axes come from the attribute or the constant
// second input (the input wins, as in the reference); the reduced axes must be one contiguous run once size-1
// dims are ignored, so the input is an [outer, reduced, inner] view. An empty reduction gives the op's
// identity (0, 1, -inf, +inf; NaN for the mean), as in the reference.
#include <algorithm>

#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/reduce/kernels.h"
#include "core/kernels/cuda/reduce/reduce_common.cuh"

namespace rtinfer::cuda {
namespace {

enum ReduceOp : int { kSum, kMean, kMax, kMin, kProd, kSumSquare, kL1, kL2, kLogSum, kLogSumExp };
enum Combine : int { kAdd, kMul, kTakeMax, kTakeMin };

struct ReduceParams {
    const void* x;
    void* y;
    int64_t outer;
    int64_t n;  // reduced elements per output
    int64_t inner;
    int op;
};

__host__ __device__ inline int combine_of(int op) {
    switch (op) {
        case kMax:
            return kTakeMax;
        case kMin:
            return kTakeMin;
        case kProd:
            return kMul;
        default:
            return kAdd;
    }
}

__device__ __forceinline__ float identity_of(int c) {
    switch (c) {
        case kMul:
            return 1.0f;
        case kTakeMax:
            return -INFINITY;
        case kTakeMin:
            return INFINITY;
        default:
            return 0.0f;
    }
}

// Max and min keep a NaN once seen, as the reference does.
__device__ __forceinline__ float combine(int c, float a, float b) {
    switch (c) {
        case kMul:
            return a * b;
        case kTakeMax:
            return (b > a || b != b) ? b : a;
        case kTakeMin:
            return (b < a || b != b) ? b : a;
        default:
            return a + b;
    }
}

__device__ __forceinline__ float prepare(int op, float x, float m) {
    switch (op) {
        case kSumSquare:
        case kL2:
            return x * x;
        case kL1:
            return fabsf(x);
        case kLogSumExp:
            return expf(x - m);
        default:
            return x;
    }
}

__device__ __forceinline__ float finish(int op, float acc, int64_t n, float m) {
    switch (op) {
        case kMean:
            return acc / static_cast<float>(n);
        case kL2:
            return sqrtf(acc);
        case kLogSum:
            return logf(acc);
        case kLogSumExp:
            return isinf(m) ? m : m + logf(acc);
        default:
            return acc;
    }
}

__device__ __forceinline__ float warp_reduce(int c, float v) {
    for (int o = 16; o > 0; o >>= 1) v = combine(c, v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Every thread of the block gets the result; all threads must call it.
__device__ __forceinline__ float block_reduce(int c, float v, float* scratch) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    v = warp_reduce(c, v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < static_cast<int>(blockDim.x >> 5) ? scratch[lane] : identity_of(c);
    return warp_reduce(c, v);
}

// One row of n contiguous elements per warp.
template <class T>
__global__ void reduce_warp_kernel(ReduceParams p) {
    const int64_t row = static_cast<int64_t>(blockIdx.x) * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= p.outer) return;
    const int lane = threadIdx.x & 31;
    const T* x = static_cast<const T*>(p.x) + row * p.n;
    const int c = combine_of(p.op);
    float m = 0.0f;
    if (p.op == kLogSumExp) {
        float mm = -INFINITY;
        for (int64_t k = lane; k < p.n; k += 32) mm = combine(kTakeMax, mm, to_float(x[k]));
        m = warp_reduce(kTakeMax, mm);
    }
    float acc = identity_of(c);
    for (int64_t k = lane; k < p.n; k += 32) acc = combine(c, acc, prepare(p.op, to_float(x[k]), m));
    acc = warp_reduce(c, acc);
    if (lane == 0) static_cast<T*>(p.y)[row] = from_float<T>(finish(p.op, acc, p.n, m));
}

// One long row per block.
template <class T>
__global__ void reduce_block_kernel(ReduceParams p) {
    __shared__ float scratch[32];
    const int64_t row = blockIdx.x;
    const T* x = static_cast<const T*>(p.x) + row * p.n;
    const int c = combine_of(p.op);
    float m = 0.0f;
    if (p.op == kLogSumExp) {
        float mm = -INFINITY;
        for (int64_t k = threadIdx.x; k < p.n; k += blockDim.x) mm = combine(kTakeMax, mm, to_float(x[k]));
        m = block_reduce(kTakeMax, mm, scratch);
    }
    float acc = identity_of(c);
    for (int64_t k = threadIdx.x; k < p.n; k += blockDim.x) acc = combine(c, acc, prepare(p.op, to_float(x[k]), m));
    acc = block_reduce(c, acc, scratch);
    if (threadIdx.x == 0) static_cast<T*>(p.y)[row] = from_float<T>(finish(p.op, acc, p.n, m));
}

constexpr int kMaxColumnRows = 32;

// [outer, n, inner] with inner > 1: a block covers 32 neighbouring inner positions of one outer index, its
// blockDim.y thread rows splitting the reduced axis; the partial results meet in shared memory.
template <class T>
__global__ void __launch_bounds__(32 * kMaxColumnRows) reduce_column_kernel(ReduceParams p) {
    __shared__ float part[kMaxColumnRows][33];
    __shared__ float shared_max[32];
    const int tx = threadIdx.x;
    const int ty = threadIdx.y;
    const int rows = static_cast<int>(blockDim.y);
    const int64_t i = static_cast<int64_t>(blockIdx.x) * 32 + tx;
    const bool valid = i < p.inner;
    const int c = combine_of(p.op);
    for (int64_t o = blockIdx.y; o < p.outer; o += gridDim.y) {
        const T* x = static_cast<const T*>(p.x) + o * p.n * p.inner + i;
        float m = 0.0f;
        if (p.op == kLogSumExp) {
            float mm = -INFINITY;
            if (valid) {
                for (int64_t k = ty; k < p.n; k += rows) mm = combine(kTakeMax, mm, to_float(x[k * p.inner]));
            }
            part[ty][tx] = mm;
            __syncthreads();
            if (ty == 0) {
                for (int r = 1; r < rows; ++r) mm = combine(kTakeMax, mm, part[r][tx]);
                shared_max[tx] = mm;
            }
            __syncthreads();
            m = shared_max[tx];
        }
        float acc = identity_of(c);
        if (valid) {
            for (int64_t k = ty; k < p.n; k += rows) acc = combine(c, acc, prepare(p.op, to_float(x[k * p.inner]), m));
        }
        part[ty][tx] = acc;
        __syncthreads();
        if (ty == 0 && valid) {
            for (int r = 1; r < rows; ++r) acc = combine(c, acc, part[r][tx]);
            static_cast<T*>(p.y)[o * p.inner + i] = from_float<T>(finish(p.op, acc, p.n, m));
        }
        __syncthreads();
    }
}

constexpr int64_t kWarpRowLimit = 1024;
constexpr int kRowBlock = 256;

template <class T>
Status launch(const ReduceParams& p, cudaStream_t stream) {
    if (p.inner == 1 && p.n <= kWarpRowLimit) {
        const unsigned int grid = static_cast<unsigned int>((p.outer + 3) / 4);
        reduce_warp_kernel<T><<<grid, 128, 0, stream>>>(p);
    } else if (p.inner == 1) {
        reduce_block_kernel<T><<<static_cast<unsigned int>(p.outer), kRowBlock, 0, stream>>>(p);
    } else {
        // Enough thread rows to split the reduced axis, no more than it has.
        int rows = 1;
        while (rows < kMaxColumnRows && rows < p.n) rows *= 2;
        const dim3 grid(static_cast<unsigned int>((p.inner + 31) / 32),
                        static_cast<unsigned int>(std::min<int64_t>(p.outer, 65535)));
        reduce_column_kernel<T><<<grid, dim3(32, static_cast<unsigned int>(rows)), 0, stream>>>(p);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

class ReduceCudaOp final : public CudaOp {
public:
    ReduceCudaOp(ReduceParams params, bool half, bool noop) : params_(params), half_(half), noop_(noop) {}
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        if (noop_) {
            if (inputs[0].data != outputs[0].data && outputs[0].nbytes()) {
                RT_CUDA_CHECK(cudaMemcpyAsync(outputs[0].data, inputs[0].data, outputs[0].nbytes(),
                                              cudaMemcpyDeviceToDevice, libs.stream));
            }
            return Status();
        }
        if (params_.outer * params_.inner == 0) return Status();
        ReduceParams p = params_;
        p.x = inputs[0].data;
        p.y = outputs[0].data;
        return half_ ? launch<__half>(p, libs.stream) : launch<float>(p, libs.stream);
    }

private:
    ReduceParams params_;
    bool half_;
    bool noop_;
};

int op_of(const std::string& type) {
    if (type == "ReduceMean") return kMean;
    if (type == "ReduceMax") return kMax;
    if (type == "ReduceMin") return kMin;
    if (type == "ReduceProd") return kProd;
    if (type == "ReduceSumSquare") return kSumSquare;
    if (type == "ReduceL1") return kL1;
    if (type == "ReduceL2") return kL2;
    if (type == "ReduceLogSum") return kLogSum;
    if (type == "ReduceLogSumExp") return kLogSumExp;
    return kSum;
}

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs&) {
    const ir::InputInfo& x = setup.inputs[0];
    if (!is_float_math_type(x.dtype)) return setup.unsupported(std::string("type ") + data_type_name(x.dtype));
    const ir::Shape& in = x.shape;
    const int rank = static_cast<int>(in.size());
    std::vector<int64_t> axes;
    if (setup.has_input(1)) {
        if (setup.inputs.size() < 2 || !setup.inputs[1].value) return setup.unsupported("axes input is not a constant");
        axes = ir::to_int64s(*setup.inputs[1].value);
    } else {
        axes = setup.node.attr_ints("axes");
    }
    const bool noop = axes.empty() && setup.node.attr_int("noop_with_empty_axes", 0) != 0;
    const bool half = x.dtype == DataType::kFloat16;
    const int op = op_of(setup.node.op_type);
    if (noop) return std::unique_ptr<CudaOp>(new ReduceCudaOp(ReduceParams{}, half, true));
    std::vector<bool> reduced(in.size(), axes.empty());
    for (int64_t a : axes) {
        if (a < -rank || a >= rank) return reduce_setup_error(setup, "axis " + std::to_string(a) + " is out of range");
        const size_t k = static_cast<size_t>(a < 0 ? a + rank : a);
        if (reduced[k]) return reduce_setup_error(setup, "axis " + std::to_string(a) + " is repeated");
        reduced[k] = true;
    }
    int64_t out_count = 1;
    int64_t n = 1;
    for (size_t d = 0; d < in.size(); ++d) (reduced[d] ? n : out_count) *= in[d];
    ReduceParams p{nullptr, nullptr, out_count, n, 1, op};
    if (out_count > 0 && n > 1) {
        // Dims of size 1 can sit anywhere; the others must read kept*, reduced+, kept*.
        int64_t outer = 1;
        int64_t inner = 1;
        int stage = 0;  // 0: before the reduced run, 1: in it, 2: after it
        for (size_t d = 0; d < in.size(); ++d) {
            if (in[d] == 1) continue;
            if (reduced[d]) {
                if (stage == 2) return setup.unsupported("reduced axes that are not contiguous");
                stage = 1;
            } else if (stage == 0) {
                outer *= in[d];
            } else {
                stage = 2;
                inner *= in[d];
            }
        }
        p.outer = outer;
        p.inner = inner;
    }
    if (p.inner == 1 && p.outer > INT32_MAX) return setup.unsupported("more than 2^31 rows");
    return std::unique_ptr<CudaOp>(new ReduceCudaOp(p, half, false));
}

}  // namespace

const CudaKernel kReduceSumCuda = {"ReduceSum", "", create};
const CudaKernel kReduceMeanCuda = {"ReduceMean", "", create};
const CudaKernel kReduceMaxCuda = {"ReduceMax", "", create};
const CudaKernel kReduceMinCuda = {"ReduceMin", "", create};
const CudaKernel kReduceProdCuda = {"ReduceProd", "", create};
const CudaKernel kReduceSumSquareCuda = {"ReduceSumSquare", "", create};
const CudaKernel kReduceL1Cuda = {"ReduceL1", "", create};
const CudaKernel kReduceL2Cuda = {"ReduceL2", "", create};
const CudaKernel kReduceLogSumCuda = {"ReduceLogSum", "", create};
const CudaKernel kReduceLogSumExpCuda = {"ReduceLogSumExp", "", create};

}  // namespace rtinfer::cuda
