// Softmax and LogSoftmax. From opset 13 the single `axis` (default -1) is normalized; before, the input is
// coerced to 2-D at `axis` (default 1) and each row of the flattened tail is. Rows along the last axis take a
// warp each (a block each when long); other axes a thread per (outer, inner) column. Math in float, with the
// row maximum subtracted before exp.
#include <algorithm>

#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/reduce/kernels.h"
#include "core/kernels/cuda/reduce/reduce_common.cuh"

namespace rtinfer::cuda {
namespace {

struct SoftmaxParams {
    const void* x;
    void* y;
    int64_t outer;
    int64_t n;  // extent of the normalized axis
    int64_t inner;
    bool log;
};

// Rows up to this long take one warp; longer ones a block.
constexpr int64_t kWarpRowLimit = 1024;
constexpr int kRowBlock = 1024;

template <class T>
__device__ __forceinline__ void write_row(const T* x, T* y, int64_t n, int64_t first, int64_t step, float m, float s,
                                          bool log) {
    if (log) {
        const float ls = logf(s);
        for (int64_t k = first; k < n; k += step) y[k] = from_float<T>((to_float(x[k]) - m) - ls);
    } else {
        const float inv = 1.0f / s;
        for (int64_t k = first; k < n; k += step) y[k] = from_float<T>(expf(to_float(x[k]) - m) * inv);
    }
}

template <class T>
__global__ void softmax_warp_kernel(SoftmaxParams p) {
    const int64_t row = static_cast<int64_t>(blockIdx.x) * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= p.outer) return;  // the whole warp leaves together
    const int lane = threadIdx.x & 31;
    const T* x = static_cast<const T*>(p.x) + row * p.n;
    T* y = static_cast<T*>(p.y) + row * p.n;
    float m = -INFINITY;
    for (int64_t k = lane; k < p.n; k += 32) m = fmaxf(m, to_float(x[k]));
    m = warp_max(m);
    float s = 0.0f;
    for (int64_t k = lane; k < p.n; k += 32) s += expf(to_float(x[k]) - m);
    s = warp_sum(s);
    write_row(x, y, p.n, lane, 32, m, s, p.log);
}

template <class T>
__global__ void __launch_bounds__(kRowBlock) softmax_block_kernel(SoftmaxParams p) {
    __shared__ float scratch[32];
    const int64_t row = blockIdx.x;
    const T* x = static_cast<const T*>(p.x) + row * p.n;
    T* y = static_cast<T*>(p.y) + row * p.n;
    float m = -INFINITY;
    for (int64_t k = threadIdx.x; k < p.n; k += blockDim.x) m = fmaxf(m, to_float(x[k]));
    m = block_max(m, scratch);
    float s = 0.0f;
    for (int64_t k = threadIdx.x; k < p.n; k += blockDim.x) s += expf(to_float(x[k]) - m);
    s = block_sum(s, scratch);
    write_row(x, y, p.n, threadIdx.x, blockDim.x, m, s, p.log);
}

// Neighbouring threads take neighbouring inner positions, so every pass over the axis reads coalesced.
template <class T>
__global__ void softmax_column_kernel(SoftmaxParams p) {
    const int64_t columns = p.outer * p.inner;
    for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < columns;
         c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int64_t o = c / p.inner;
        const int64_t i = c - o * p.inner;
        const T* x = static_cast<const T*>(p.x) + o * p.n * p.inner + i;
        T* y = static_cast<T*>(p.y) + o * p.n * p.inner + i;
        float m = -INFINITY;
        for (int64_t k = 0; k < p.n; ++k) m = fmaxf(m, to_float(x[k * p.inner]));
        float s = 0.0f;
        for (int64_t k = 0; k < p.n; ++k) s += expf(to_float(x[k * p.inner]) - m);
        if (p.log) {
            const float ls = logf(s);
            for (int64_t k = 0; k < p.n; ++k) y[k * p.inner] = from_float<T>((to_float(x[k * p.inner]) - m) - ls);
        } else {
            const float inv = 1.0f / s;
            for (int64_t k = 0; k < p.n; ++k) y[k * p.inner] = from_float<T>(expf(to_float(x[k * p.inner]) - m) * inv);
        }
    }
}

template <class T>
Status launch(const SoftmaxParams& p, cudaStream_t stream) {
    if (p.inner == 1 && p.n <= kWarpRowLimit) {
        const int64_t warps_per_block = 4;
        const unsigned int grid = static_cast<unsigned int>((p.outer + warps_per_block - 1) / warps_per_block);
        softmax_warp_kernel<T><<<grid, 32 * warps_per_block, 0, stream>>>(p);
    } else if (p.inner == 1) {
        softmax_block_kernel<T><<<static_cast<unsigned int>(p.outer), kRowBlock, 0, stream>>>(p);
    } else {
        const int64_t columns = p.outer * p.inner;
        const unsigned int grid = static_cast<unsigned int>(std::min<int64_t>((columns + 255) / 256, 4096));
        softmax_column_kernel<T><<<grid, 256, 0, stream>>>(p);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

class SoftmaxOp final : public CudaOp {
public:
    SoftmaxOp(SoftmaxParams params, bool half) : params_(params), half_(half) {}
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        if (params_.outer * params_.n * params_.inner == 0) return Status();
        SoftmaxParams p = params_;
        p.x = inputs[0].data;
        p.y = outputs[0].data;
        return half_ ? launch<__half>(p, libs.stream) : launch<float>(p, libs.stream);
    }

private:
    SoftmaxParams params_;
    bool half_;
};

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs&) {
    const ir::InputInfo& x = setup.inputs[0];
    if (!is_float_math_type(x.dtype)) return setup.unsupported(std::string("type ") + data_type_name(x.dtype));
    const int rank = static_cast<int>(x.shape.size());
    const int64_t axis = setup.node.attr_int("axis", setup.opset < 13 ? 1 : -1);
    if (rank == 0 || axis < -rank || axis >= rank) {
        return reduce_setup_error(setup,
                                  "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    }
    AxisView v = view_at_axis(x.shape, static_cast<int>(axis < 0 ? axis + rank : axis));
    if (setup.opset < 13) {
        v.axis *= v.inner;
        v.inner = 1;
    }
    if (v.outer > INT32_MAX) return setup.unsupported("more than 2^31 rows");
    const SoftmaxParams params{nullptr, nullptr, v.outer, v.axis, v.inner, setup.node.op_type == "LogSoftmax"};
    return std::unique_ptr<CudaOp>(new SoftmaxOp(params, x.dtype == DataType::kFloat16));
}

}  // namespace

const CudaKernel kSoftmaxCuda = {"Softmax", "", create};
const CudaKernel kLogSoftmaxCuda = {"LogSoftmax", "", create};

}  // namespace rtinfer::cuda
