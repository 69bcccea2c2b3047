// rtinfer.NhwcMaxPool: MaxPool over X [N, H, W, C] -> Y [N, OH, OW, C] with the reference's geometry
// (asymmetric pads, dilations, ceil_mode). One thread per output pixel and channel, or channel pair (half2)
// when C is even: neighbouring threads read neighbouring channels, so every tap is one coalesced read.
#include <cfloat>
#include <string>
#include <vector>

#include "core/kernels/cuda/nn/kernels.h"
#include "core/kernels/cuda/nn/nn_cuda_util.h"
#include "core/kernels/cuda/nn/nn_device.cuh"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::cuda {
namespace nn {

struct NhwcPoolGeometry {
    int64_t batch = 0, channels = 0;  // channels: in units of the element the kernel moves (pairs for half2)
    int in_h = 0, in_w = 0, out_h = 0, out_w = 0;
    int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1, pad_h = 0, pad_w = 0;
};

namespace {

__device__ __forceinline__ float2 load2(const __half2* p, int64_t i) {
    return __half22float2(p[i]);
}
__device__ __forceinline__ void store2(__half2* p, int64_t i, float2 v) {
    p[i] = __floats2half2_rn(v.x, v.y);
}
__device__ __forceinline__ void take_max(float2& best, float2 v, bool first) {
    best.x = first || v.x > best.x ? v.x : best.x;
    best.y = first || v.y > best.y ? v.y : best.y;
}

// V: __half2 (pairs of channels), __half or float (one channel).
template <class V>
__global__ void nhwc_max_pool_kernel(const V* x, V* y, NhwcPoolGeometry g) {
    const int64_t count = g.batch * g.out_h * g.out_w * g.channels;
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t c = i % g.channels;
        const int64_t pixel = i / g.channels;
        const int ox = static_cast<int>(pixel % g.out_w), oy = static_cast<int>(pixel / g.out_w % g.out_h);
        const int64_t n = pixel / g.out_w / g.out_h;
        const V* src = x + n * g.in_h * g.in_w * g.channels + c;
        bool first = true;
        if constexpr (std::is_same_v<V, __half2>) {
            float2 best = make_float2(-FLT_MAX, -FLT_MAX);
            for (int ky = 0; ky < g.kernel_h; ++ky) {
                const int iy = oy * g.stride_h - g.pad_h + ky * g.dilation_h;
                if (iy < 0 || iy >= g.in_h) continue;
                for (int kx = 0; kx < g.kernel_w; ++kx) {
                    const int ix = ox * g.stride_w - g.pad_w + kx * g.dilation_w;
                    if (ix < 0 || ix >= g.in_w) continue;
                    take_max(best, load2(src, (int64_t(iy) * g.in_w + ix) * g.channels), first);
                    first = false;
                }
            }
            store2(y, i, best);
        } else {
            float best = -FLT_MAX;
            for (int ky = 0; ky < g.kernel_h; ++ky) {
                const int iy = oy * g.stride_h - g.pad_h + ky * g.dilation_h;
                if (iy < 0 || iy >= g.in_h) continue;
                for (int kx = 0; kx < g.kernel_w; ++kx) {
                    const int ix = ox * g.stride_w - g.pad_w + kx * g.dilation_w;
                    if (ix < 0 || ix >= g.in_w) continue;
                    const float v = load_f(src, (int64_t(iy) * g.in_w + ix) * g.channels);
                    best = first || v > best ? v : best;
                    first = false;
                }
            }
            store_f(y, i, best);
        }
    }
}

template <class V>
Status launch(const void* x, void* y, const NhwcPoolGeometry& g, cudaStream_t stream) {
    const int64_t count = g.batch * g.out_h * g.out_w * g.channels;
    if (count == 0) return Status();
    nhwc_max_pool_kernel<V><<<grid_for(count), kThreads, 0, stream>>>(static_cast<const V*>(x), static_cast<V*>(y), g);
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

}  // namespace
}  // namespace nn

namespace {

class NhwcMaxPoolOp : public CudaOp {
  public:
    NhwcMaxPoolOp(const nn::NhwcPoolGeometry& g, DataType dtype) : g_(g), dtype_(dtype) {}
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        const void* x = inputs[0].data;
        void* y = outputs[0].data;
        if (dtype_ == DataType::kFloat32) return nn::launch<float>(x, y, g_, libs.stream);
        const bool aligned = reinterpret_cast<uintptr_t>(x) % 4 == 0 && reinterpret_cast<uintptr_t>(y) % 4 == 0;
        if (g_.channels % 2 == 0 && aligned) {
            nn::NhwcPoolGeometry pairs = g_;
            pairs.channels /= 2;
            return nn::launch<__half2>(x, y, pairs, libs.stream);
        }
        return nn::launch<__half>(x, y, g_, libs.stream);
    }

  private:
    nn::NhwcPoolGeometry g_;
    DataType dtype_;
};

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs&) {
    const DataType dtype = setup.inputs[0].dtype;
    if (!nn::is_float_or_half(dtype) || setup.outputs[0].dtype != dtype) {
        return setup.unsupported(std::string("type ") + data_type_name(dtype) + " is not supported on CUDA");
    }
    if (nn::has_empty_tensor(setup)) return setup.unsupported("empty tensors run on the reference");
    const ir::Shape& x = setup.inputs[0].shape;
    if (x.size() != 4) return setup.unsupported("X must be 4-D (NHWC)");
    if (setup.node.attr_int("rt_fused_activation", 0) != 0) return setup.unsupported("no fused activation on pooling");
    if (!setup.node.has_attr("kernel_shape")) return setup.unsupported("the kernel_shape attribute is required");
    RT_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, rtinfer::ref::nn::kernel_shape(setup.node, {}));
    if (kernel.size() != 2) return setup.unsupported("kernel_shape must have 2 entries");
    rtinfer::ref::nn::Window w;
    RT_RETURN_IF_ERROR(rtinfer::ref::nn::conv_window(setup.node, ir::Shape{x[1], x[2]}, kernel,
                                                     setup.node.attr_int("ceil_mode", 0) != 0, w));
    nn::NhwcPoolGeometry g;
    g.batch = x[0];
    g.channels = x[3];
    g.in_h = static_cast<int>(w.in[1]);
    g.in_w = static_cast<int>(w.in[2]);
    g.out_h = static_cast<int>(w.out[1]);
    g.out_w = static_cast<int>(w.out[2]);
    g.kernel_h = static_cast<int>(w.kernel[1]);
    g.kernel_w = static_cast<int>(w.kernel[2]);
    g.stride_h = static_cast<int>(w.stride[1]);
    g.stride_w = static_cast<int>(w.stride[2]);
    g.dilation_h = static_cast<int>(w.dilation[1]);
    g.dilation_w = static_cast<int>(w.dilation[2]);
    g.pad_h = static_cast<int>(w.pad_begin[1]);
    g.pad_w = static_cast<int>(w.pad_begin[2]);
    if (g.batch * g.out_h * g.out_w * g.channels != ir::shape_numel(setup.outputs[0].shape)) {
        return setup.unsupported("the output shape differs from the pooling geometry");
    }
    return std::unique_ptr<CudaOp>(std::make_unique<NhwcMaxPoolOp>(g, dtype));
}

}  // namespace

const CudaKernel kNhwcMaxPoolCuda = {"NhwcMaxPool", ir::kRtinferDomain, create};

}  // namespace rtinfer::cuda
