// rtinfer.NhwcGlobalAveragePool: Y [N, 1, 1, C] = mean over H, W of X [N, H, W, C]. One thread per (n, c):
// neighbouring threads read neighbouring channels, so every pass over a row of pixels is coalesced.
#include <string>
#include <vector>

#include "core/kernels/cuda/nn/kernels.h"
#include "core/kernels/cuda/nn/nn_cuda_util.h"
#include "core/kernels/cuda/nn/nn_device.cuh"

namespace rtinfer::cuda {
namespace nn {
namespace {

template <class T>
__global__ void nhwc_global_average_kernel(const T* x, T* y, int64_t batch, int64_t pixels, int64_t channels) {
    const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
    if (i >= batch * channels) return;
    const int64_t n = i / channels, c = i % channels;
    const T* src = x + n * pixels * channels + c;
    float acc = 0.0f;
    for (int64_t p = 0; p < pixels; ++p) acc += load_f(src, p * channels);
    store_f(y, i, pixels > 0 ? acc / static_cast<float>(pixels) : 0.0f);
}

}  // namespace

struct NhwcGlobalPoolParams {
    const void* x = nullptr;
    void* y = nullptr;
    bool half = false;
    int64_t batch = 0, pixels = 0, channels = 0;
};

Status launch_nhwc_global_average(const NhwcGlobalPoolParams& p, cudaStream_t stream) {
    const int64_t count = p.batch * p.channels;
    if (count == 0) return Status();
    const unsigned blocks = static_cast<unsigned>((count + kThreads - 1) / kThreads);
    if (p.half) {
        nhwc_global_average_kernel<<<blocks, kThreads, 0, stream>>>(static_cast<const __half*>(p.x),
                                                                   static_cast<__half*>(p.y), p.batch, p.pixels,
                                                                   p.channels);
    } else {
        nhwc_global_average_kernel<<<blocks, kThreads, 0, stream>>>(static_cast<const float*>(p.x),
                                                                   static_cast<float*>(p.y), p.batch, p.pixels,
                                                                   p.channels);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

}  // namespace nn

namespace {

class NhwcGlobalPoolOp : public CudaOp {
public:
    explicit NhwcGlobalPoolOp(const nn::NhwcGlobalPoolParams& p) : p_(p) {}
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        nn::NhwcGlobalPoolParams p = p_;
        p.x = inputs[0].data;
        p.y = outputs[0].data;
        return nn::launch_nhwc_global_average(p, libs.stream);
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
    nn::NhwcGlobalPoolParams p;
    p.half = dtype == DataType::kFloat16;
    p.batch = x[0];
    p.pixels = x[1] * x[2];
    p.channels = x[3];
    return std::unique_ptr<CudaOp>(std::make_unique<NhwcGlobalPoolOp>(p));
}

}  // namespace

const CudaKernel kNhwcGlobalAveragePoolCuda = {"NhwcGlobalAveragePool", ir::kRtinferDomain, create};

}  // namespace rtinfer::cuda
