// MaxPool and AveragePool over 1 to 3 spatial dims, and GlobalAveragePool / GlobalMaxPool. Direct kernels
// rather than cuDNN pooling: they take the reference's geometry as is (asymmetric pads, dilations, ceil_mode,
// count_include_pad counting only the declared padding), which cuDNN's symmetric pooling cannot all express.
// MaxPool's Indices output runs on the reference.
#include <cfloat>
#include <string>
#include <vector>

#include "core/kernels/cuda/nn/kernels.h"
#include "core/kernels/cuda/nn/nn_cuda_util.h"
#include "core/kernels/cuda/nn/nn_device.cuh"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::cuda {
namespace nn {

enum PoolMode : int { kPoolMax = 0, kPoolAverageExcludePad = 1, kPoolAverageIncludePad = 2 };

// Window geometry as in the reference: dims [0, 3) with leading unit dims.
struct PoolParams {
    const void* x = nullptr;
    void* y = nullptr;
    bool half = false;
    int mode = kPoolMax;
    int64_t planes = 0;
    int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, kernel[3] = {1, 1, 1}, stride[3] = {1, 1, 1},
            dilation[3] = {1, 1, 1}, pad_begin[3] = {0, 0, 0}, pad_end[3] = {0, 0, 0};
};

// One value per plane of `size` elements: the mean or the max.
struct GlobalPoolParams {
    const void* x = nullptr;
    void* y = nullptr;
    bool half = false;
    bool max = false;
    int64_t planes = 0;
    int64_t size = 0;
};

namespace {

template <class T>
__global__ void pool_kernel(const T* x, T* y, PoolParams p) {
    const int64_t out_size = p.out[0] * p.out[1] * p.out[2];
    const int64_t in_size = p.in[0] * p.in[1] * p.in[2];
    const int64_t count = p.planes * out_size;
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t o2 = i % p.out[2], o1 = i / p.out[2] % p.out[1], o0 = i / p.out[2] / p.out[1] % p.out[0];
        const int64_t plane = i / out_size;
        const T* src = x + plane * in_size;
        const int64_t b0 = o0 * p.stride[0] - p.pad_begin[0], b1 = o1 * p.stride[1] - p.pad_begin[1],
                      b2 = o2 * p.stride[2] - p.pad_begin[2];
        float acc = p.mode == kPoolMax ? -FLT_MAX : 0.0f;
        int64_t taps = 0;
        for (int64_t k0 = 0; k0 < p.kernel[0]; ++k0) {
            const int64_t i0 = b0 + k0 * p.dilation[0];
            if (i0 < 0 || i0 >= p.in[0]) continue;
            for (int64_t k1 = 0; k1 < p.kernel[1]; ++k1) {
                const int64_t i1 = b1 + k1 * p.dilation[1];
                if (i1 < 0 || i1 >= p.in[1]) continue;
                const T* row = src + (i0 * p.in[1] + i1) * p.in[2];
                for (int64_t k2 = 0; k2 < p.kernel[2]; ++k2) {
                    const int64_t i2 = b2 + k2 * p.dilation[2];
                    if (i2 < 0 || i2 >= p.in[2]) continue;
                    const float v = load_f(row, i2);
                    acc = p.mode == kPoolMax ? (taps == 0 || v > acc ? v : acc) : acc + v;
                    ++taps;
                }
            }
        }
        if (p.mode == kPoolAverageIncludePad) {
            // Taps inside the declared padding count, those past it (ceil_mode) do not.
            const int64_t b[3] = {b0, b1, b2};
            taps = 1;
            for (int d = 0; d < 3; ++d) {
                int64_t n = 0;
                for (int64_t k = 0; k < p.kernel[d]; ++k) {
                    const int64_t at = b[d] + k * p.dilation[d];
                    if (at >= -p.pad_begin[d] && at < p.in[d] + p.pad_end[d]) ++n;
                }
                taps *= n;
            }
        }
        if (p.mode != kPoolMax) acc = taps > 0 ? acc / static_cast<float>(taps) : 0.0f;
        store_f(y, i, acc);
    }
}

template <class T>
__global__ void global_pool_kernel(const T* x, T* y, int64_t size, bool max) {
    const T* src = x + blockIdx.x * size;
    float acc = max ? -INFINITY : 0.0f;
    for (int64_t i = threadIdx.x; i < size; i += blockDim.x) {
        const float v = load_f(src, i);
        acc = max ? fmaxf(acc, v) : acc + v;
    }
    acc = max ? block_reduce<true>(acc) : block_reduce<false>(acc);
    if (threadIdx.x == 0) store_f(y, blockIdx.x, max ? acc : acc / static_cast<float>(size));
}

}  // namespace

Status launch_pool(const PoolParams& p, cudaStream_t stream) {
    const int64_t count = p.planes * p.out[0] * p.out[1] * p.out[2];
    if (p.half) {
        pool_kernel<<<grid_for(count), kThreads, 0, stream>>>(static_cast<const __half*>(p.x),
                                                              static_cast<__half*>(p.y), p);
    } else {
        pool_kernel<<<grid_for(count), kThreads, 0, stream>>>(static_cast<const float*>(p.x), static_cast<float*>(p.y),
                                                              p);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

Status launch_global_pool(const GlobalPoolParams& p, cudaStream_t stream) {
    // One block per plane; the grid's x dim holds up to 2^31 - 1 planes.
    const unsigned blocks = static_cast<unsigned>(p.planes);
    if (p.half) {
        global_pool_kernel<<<blocks, kThreads, 0, stream>>>(static_cast<const __half*>(p.x), static_cast<__half*>(p.y),
                                                            p.size, p.max);
    } else {
        global_pool_kernel<<<blocks, kThreads, 0, stream>>>(static_cast<const float*>(p.x), static_cast<float*>(p.y),
                                                            p.size, p.max);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

}  // namespace nn

namespace {

namespace refnn = rtinfer::ref::nn;

class PoolOp : public CudaOp {
public:
    explicit PoolOp(const nn::PoolParams& p) : p_(p) {}
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        nn::PoolParams p = p_;
        p.x = inputs[0].data;
        p.y = outputs[0].data;
        return nn::launch_pool(p, libs.stream);
    }

private:
    nn::PoolParams p_;
};

class GlobalPoolOp : public CudaOp {
public:
    explicit GlobalPoolOp(const nn::GlobalPoolParams& p) : p_(p) {}
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        nn::GlobalPoolParams p = p_;
        p.x = inputs[0].data;
        p.y = outputs[0].data;
        return nn::launch_global_pool(p, libs.stream);
    }

private:
    nn::GlobalPoolParams p_;
};

Status check_types(const OpSetup& setup) {
    const DataType dtype = setup.inputs[0].dtype;
    if (!nn::is_float_or_half(dtype) || setup.outputs[0].dtype != dtype) {
        return setup.unsupported(std::string("type ") + data_type_name(dtype) + " is not supported on CUDA");
    }
    if (nn::has_empty_tensor(setup)) return setup.unsupported("empty tensors run on the reference");
    if (setup.inputs[0].shape.size() < 3) return setup.unsupported("X must be [N, C, spatial...]");
    if (setup.node.attr_int("rt_fused_activation", 0) != 0) return setup.unsupported("no fused activation on pooling");
    return Status();
}

Expected<std::unique_ptr<CudaOp>> create_pool(const OpSetup& setup, bool max) {
    RT_RETURN_IF_ERROR(check_types(setup));
    if (max && setup.outputs.size() > 1 && !setup.node.outputs[1].empty()) {
        return setup.unsupported("the Indices output runs on the reference");
    }
    const ir::Shape& x = setup.inputs[0].shape;
    if (!setup.node.has_attr("kernel_shape")) return setup.unsupported("the kernel_shape attribute is required");
    RT_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, refnn::kernel_shape(setup.node, {}));
    const int64_t ceil_mode = setup.node.attr_int("ceil_mode", 0);
    refnn::Window w;
    RT_RETURN_IF_ERROR(refnn::conv_window(setup.node, ir::Shape(x.begin() + 2, x.end()), kernel, ceil_mode != 0, w));
    nn::PoolParams p;
    p.half = setup.inputs[0].dtype == DataType::kFloat16;
    p.mode = max ? nn::kPoolMax
                 : (setup.node.attr_int("count_include_pad", 0) != 0 ? nn::kPoolAverageIncludePad
                                                                     : nn::kPoolAverageExcludePad);
    p.planes = x[0] * x[1];
    for (int d = 0; d < refnn::kMaxSpatial; ++d) {
        p.in[d] = w.in[d];
        p.out[d] = w.out[d];
        p.kernel[d] = w.kernel[d];
        p.stride[d] = w.stride[d];
        p.dilation[d] = w.dilation[d];
        p.pad_begin[d] = w.pad_begin[d];
        p.pad_end[d] = w.pad_end[d];
    }
    if (p.planes * w.out_size() != ir::shape_numel(setup.outputs[0].shape)) {
        return setup.unsupported("the output shape differs from the pooling geometry");
    }
    return std::unique_ptr<CudaOp>(std::make_unique<PoolOp>(p));
}

Expected<std::unique_ptr<CudaOp>> create_max(const OpSetup& setup, const CudaLibs&) {
    return create_pool(setup, true);
}
Expected<std::unique_ptr<CudaOp>> create_average(const OpSetup& setup, const CudaLibs&) {
    return create_pool(setup, false);
}

Expected<std::unique_ptr<CudaOp>> create_global(const OpSetup& setup, bool max) {
    RT_RETURN_IF_ERROR(check_types(setup));
    const ir::Shape& x = setup.inputs[0].shape;
    nn::GlobalPoolParams p;
    p.half = setup.inputs[0].dtype == DataType::kFloat16;
    p.max = max;
    p.planes = x[0] * x[1];
    p.size = ir::shape_numel(x) / p.planes;
    if (p.planes > 0x7fffffff) return setup.unsupported("more planes than one grid holds");
    return std::unique_ptr<CudaOp>(std::make_unique<GlobalPoolOp>(p));
}

Expected<std::unique_ptr<CudaOp>> create_global_average(const OpSetup& setup, const CudaLibs&) {
    return create_global(setup, false);
}
Expected<std::unique_ptr<CudaOp>> create_global_max(const OpSetup& setup, const CudaLibs&) {
    return create_global(setup, true);
}

}  // namespace

const CudaKernel kMaxPoolCuda = {"MaxPool", "", create_max};
const CudaKernel kAveragePoolCuda = {"AveragePool", "", create_average};
const CudaKernel kGlobalAveragePoolCuda = {"GlobalAveragePool", "", create_global_average};
const CudaKernel kGlobalMaxPoolCuda = {"GlobalMaxPool", "", create_global_max};

}  // namespace rtinfer::cuda
