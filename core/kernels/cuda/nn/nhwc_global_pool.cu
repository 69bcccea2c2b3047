// rtinfer.NhwcGlobalAveragePool: Y [N, 1, 1, C] = mean over H, W of X [N, H, W, C]. Blocks take (n, tile of
// channels, segment of pixels): the block's lanes cover the tile's channels (two per lane, as half2, when C
// is even), its rows walk the segment's pixels, so every row read is one coalesced segment; the rows' float
// sums are added in shared memory in a fixed order. With few (n, tile) pairs the pixels are split into
// segments so that the whole GPU works; the segments' sums then go through a workspace and a second kernel
// adds them in order (the result never depends on timing).
#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include "core/kernels/cuda/nn/kernels.h"
#include "core/kernels/cuda/nn/nn_cuda_util.h"
#include "core/kernels/cuda/nn/nn_device.cuh"

namespace rtinfer::cuda {
namespace nn {

struct NhwcGlobalPoolParams {
    const void* x = nullptr;
    void* y = nullptr;
    bool half = false;
    int64_t batch = 0, pixels = 0, channels = 0;
    int segments = 1;  // > 1: partial sums in a float workspace of segments * batch * channels
};

namespace {

constexpr int kPoolThreads = 512;
constexpr int kMaxLanes = 32;
constexpr int kTargetBlocks = 264;  // about two per SM of a large GPU

struct Tile {
    int lanes = 1;       // threads per pixel row
    int64_t width = 0;   // channels, or channel pairs
    bool pairs = false;
};

__device__ __forceinline__ float2 load2(const __half2* x, int64_t i) {
    return __half22float2(x[i]);
}
template <class T>
__device__ __forceinline__ float2 load2(const T* x, int64_t i) {
    return make_float2(load_f(x, i), 0.0f);
}

// Sums pixels [seg * per, (seg + 1) * per) of image n for the block's tile; V is __half2 (pairs of channels),
// __half or float. Writes the mean to y, or the sum to partial[seg][n][channel].
template <class V>
__global__ void gap_kernel(const V* x, V* y, float* partial, int64_t pixels, int64_t per, int width, int lanes) {
    constexpr bool kPairs = std::is_same_v<V, __half2>;
    __shared__ float2 rows_sum[kPoolThreads];
    const int lane = threadIdx.x % lanes, row = threadIdx.x / lanes, rows = blockDim.x / lanes;
    const int c = blockIdx.x * lanes + lane;
    const int64_t n = blockIdx.y, batch = gridDim.y;
    const int64_t begin = blockIdx.z * per, end = begin + per < pixels ? begin + per : pixels;
    float2 acc = make_float2(0.0f, 0.0f);
    if (c < width) {
        const V* src = x + n * pixels * width + c;
        for (int64_t p = begin + row; p < end; p += rows) {
            const float2 v = load2(src, p * width);
            acc.x += v.x;
            acc.y += v.y;
        }
    }
    rows_sum[threadIdx.x] = acc;
    __syncthreads();
    if (row != 0 || c >= width) return;
    for (int r = 1; r < rows; ++r) {
        acc.x += rows_sum[r * lanes + lane].x;
        acc.y += rows_sum[r * lanes + lane].y;
    }
    const int channels = kPairs ? 2 * width : width;
    if (partial) {
        float* out = partial + (blockIdx.z * batch + n) * channels;
        if (kPairs) {
            out[2 * c] = acc.x;
            out[2 * c + 1] = acc.y;
        } else {
            out[c] = acc.x;
        }
        return;
    }
    const float inv = pixels > 0 ? 1.0f / static_cast<float>(pixels) : 0.0f;
    if constexpr (kPairs) {
        y[n * width + c] = __floats2half2_rn(acc.x * inv, acc.y * inv);
    } else {
        store_f(y, n * width + c, acc.x * inv);
    }
}

// y[n][c] = (sum over segments of partial[s][n][c]) / pixels, segments added in order.
template <class T>
__global__ void gap_finish_kernel(const float* partial, T* y, int64_t count, int segments, int64_t pixels) {
    const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
    if (i >= count) return;
    float acc = 0.0f;
    for (int s = 0; s < segments; ++s) acc += partial[s * count + i];
    store_f(y, i, pixels > 0 ? acc / static_cast<float>(pixels) : 0.0f);
}

Tile tile_for(const NhwcGlobalPoolParams& p) {
    Tile t;
    t.pairs = p.half && p.channels % 2 == 0 && reinterpret_cast<uintptr_t>(p.x) % 4 == 0 &&
              reinterpret_cast<uintptr_t>(p.y) % 4 == 0;
    t.width = t.pairs ? p.channels / 2 : p.channels;
    while (t.lanes < kMaxLanes && t.lanes < t.width) t.lanes *= 2;
    return t;
}

template <class V, class T>
void launch_gap(const NhwcGlobalPoolParams& p, const Tile& t, float* partial, cudaStream_t stream) {
    const int64_t per = (p.pixels + p.segments - 1) / p.segments;
    const dim3 grid(static_cast<unsigned>((t.width + t.lanes - 1) / t.lanes), static_cast<unsigned>(p.batch),
                    static_cast<unsigned>(p.segments));
    gap_kernel<V><<<grid, kPoolThreads, 0, stream>>>(static_cast<const V*>(p.x), static_cast<V*>(p.y), partial,
                                                     p.pixels, per, static_cast<int>(t.width), t.lanes);
    if (partial) {
        const int64_t count = p.batch * p.channels;
        gap_finish_kernel<T><<<grid_for(count), kThreads, 0, stream>>>(partial, static_cast<T*>(p.y), count,
                                                                        p.segments, p.pixels);
    }
}

}  // namespace

// Segments so that about kTargetBlocks blocks run, each summing at least 8 pixels per row of threads.
int segments_for(int64_t batch, int64_t pixels, int64_t channels, bool half) {
    const int64_t width = half && channels % 2 == 0 ? channels / 2 : channels;
    int lanes = 1;
    while (lanes < kMaxLanes && lanes < width) lanes *= 2;
    const int64_t blocks = (width + lanes - 1) / lanes * batch;
    const int64_t rows = kPoolThreads / lanes;
    const int64_t by_blocks = (kTargetBlocks + blocks - 1) / std::max<int64_t>(blocks, 1);
    const int64_t by_pixels = std::max<int64_t>(1, pixels / (rows * 8));
    return static_cast<int>(std::clamp<int64_t>(std::min(by_blocks, by_pixels), 1, 1024));
}

Status launch_nhwc_global_average(const NhwcGlobalPoolParams& p, void* workspace, cudaStream_t stream) {
    if (p.batch == 0 || p.channels == 0) return Status();
    const Tile t = tile_for(p);
    float* partial = p.segments > 1 ? static_cast<float*>(workspace) : nullptr;
    if (t.pairs) {
        launch_gap<__half2, __half>(p, t, partial, stream);
    } else if (p.half) {
        launch_gap<__half, __half>(p, t, partial, stream);
    } else {
        launch_gap<float, float>(p, t, partial, stream);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

}  // namespace nn

namespace {

class NhwcGlobalPoolOp : public CudaOp {
public:
    explicit NhwcGlobalPoolOp(const nn::NhwcGlobalPoolParams& p) : p_(p) {}
    size_t workspace_bytes() const override {
        return p_.segments > 1 ? static_cast<size_t>(p_.segments * p_.batch * p_.channels) * sizeof(float) : 0;
    }
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void* workspace,
                   const CudaLibs& libs) override {
        nn::NhwcGlobalPoolParams p = p_;
        p.x = inputs[0].data;
        p.y = outputs[0].data;
        return nn::launch_nhwc_global_average(p, workspace, libs.stream);
    }

private:
    nn::NhwcGlobalPoolParams p_;
};

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs&) {
    const DataType dtype = setup.inputs[0].dtype;
    if (!nn::is_float_or_half(dtype) || setup.outputs[0].dtype != dtype) {
        return setup.unsupported(std::string("type ") + data_type_name(dtype) + " is not supported on CUDA");
    }
    const ir::Shape& x = setup.inputs[0].shape;
    if (x.size() != 4) return setup.unsupported("X must be 4-D");
    if (x[0] > 65535) return setup.unsupported("more images than one grid holds");
    nn::NhwcGlobalPoolParams p;
    p.half = dtype == DataType::kFloat16;
    p.batch = x[0];
    p.pixels = x[1] * x[2];
    p.channels = x[3];
    p.segments = nn::segments_for(p.batch, p.pixels, p.channels, p.half);
    return std::unique_ptr<CudaOp>(std::make_unique<NhwcGlobalPoolOp>(p));
}

}  // namespace

const CudaKernel kNhwcGlobalAveragePoolCuda = {"NhwcGlobalAveragePool", ir::kRtinferDomain, create};

}  // namespace rtinfer::cuda
