// rtinfer.NchwToNhwc: a float32 or float16 NCHW image to channels-last with zero channels up to `channels`,
// in float16 (to_half) or the input's type, in one pass. One thread per output pixel: neighbouring threads
// read neighbouring pixels of each input plane (coalesced) and write their pixel's channels; a float16
// pixel of 8 channels is one 16-byte store.
#include <cuda_fp16.h>

#include <string>

#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/nn/nn_device.cuh"
#include "core/kernels/cuda/tensor/kernels.h"

namespace rtinfer::cuda {
namespace {

struct ReformatParams {
    const void* x = nullptr;
    void* y = nullptr;
    int64_t batch = 0, pixels = 0;
    int in_channels = 0, out_channels = 0;
};

using nn::load_f;
using nn::store_f;

template <class In, class Out>
__global__ void nchw_to_nhwc_kernel(ReformatParams p) {
    const In* x = static_cast<const In*>(p.x);
    Out* y = static_cast<Out*>(p.y);
    const int64_t count = p.batch * p.pixels;
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t n = i / p.pixels, q = i - n * p.pixels;
        const In* src = x + n * p.in_channels * p.pixels + q;
        if constexpr (std::is_same_v<Out, __half>) {
            if (p.out_channels == 8) {
                __half v[8];
#pragma unroll
                for (int c = 0; c < 8; ++c)
                    v[c] = __float2half_rn(c < p.in_channels ? load_f(src, c * p.pixels) : 0.0f);
                uint4 packed;
                memcpy(&packed, v, sizeof(packed));
                reinterpret_cast<uint4*>(y)[i] = packed;
                continue;
            }
        }
        for (int c = 0; c < p.out_channels; ++c) {
            store_f(y, i * p.out_channels + c, c < p.in_channels ? load_f(src, c * p.pixels) : 0.0f);
        }
    }
}

template <class In, class Out>
Status launch(const ReformatParams& p, cudaStream_t stream) {
    const int64_t count = p.batch * p.pixels;
    if (count == 0) return Status();
    const unsigned grid = static_cast<unsigned>(std::min<int64_t>((count + 255) / 256, int64_t(1) << 20));
    nchw_to_nhwc_kernel<In, Out><<<grid, 256, 0, stream>>>(p);
    RT_CUDA_CHECK(cudaGetLastError());
    return Status();
}

class NchwToNhwcOp final : public CudaOp {
  public:
    NchwToNhwcOp(const ReformatParams& p, DataType in, DataType out) : p_(p), in_(in), out_(out) {}
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        ReformatParams p = p_;
        p.x = inputs[0].data;
        p.y = outputs[0].data;
        const bool in_half = in_ == DataType::kFloat16, out_half = out_ == DataType::kFloat16;
        if (out_half && p.out_channels == 8 && reinterpret_cast<uintptr_t>(p.y) % 16 != 0) {
            return Status(StatusCode::kInternal, "NchwToNhwc: output not 16-byte aligned");
        }
        if (in_half) return out_half ? launch<__half, __half>(p, libs.stream) : launch<__half, float>(p, libs.stream);
        return out_half ? launch<float, __half>(p, libs.stream) : launch<float, float>(p, libs.stream);
    }

  private:
    ReformatParams p_;
    DataType in_, out_;
};

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs&) {
    const DataType in = setup.inputs[0].dtype, out = setup.outputs[0].dtype;
    const auto supported = [](DataType t) { return t == DataType::kFloat32 || t == DataType::kFloat16; };
    if (!supported(in) || !supported(out)) {
        return setup.unsupported(std::string("types ") + data_type_name(in) + " -> " + data_type_name(out));
    }
    const ir::Shape& x = setup.inputs[0].shape;
    const ir::Shape& y = setup.outputs[0].shape;
    if (x.size() != 4 || y.size() != 4 || y[3] < x[1])
        return setup.unsupported("expects X [N, C, H, W] -> Y [N, H, W, C']");
    ReformatParams p;
    p.batch = x[0];
    p.pixels = x[2] * x[3];
    p.in_channels = static_cast<int>(x[1]);
    p.out_channels = static_cast<int>(y[3]);
    return std::unique_ptr<CudaOp>(new NchwToNhwcOp(p, in, out));
}

}  // namespace

const CudaKernel kNchwToNhwcCuda = {"NchwToNhwc", ir::kRtinferDomain, create};

}  // namespace rtinfer::cuda
