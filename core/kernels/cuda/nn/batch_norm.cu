// BatchNormalization for inference: y = x * k[c] + shift[c] (then the fused activation, if any), with
// k = scale / sqrt(var + epsilon) and shift = B - mean * k folded on the host at create. Training mode and
// non-constant statistics run on the reference.
#include <cmath>
#include <string>
#include <vector>

#include "core/kernels/cuda/nn/kernels.h"
#include "core/kernels/cuda/nn/nn_cuda_util.h"
#include "core/kernels/cuda/nn/nn_device.cuh"

namespace rtinfer::cuda {
namespace nn {

struct BatchNormParams {
    const void* x = nullptr;
    void* y = nullptr;
    bool half = false;
    int64_t count = 0;
    int64_t channels = 1;
    int64_t inner = 1;
    const float* k = nullptr;
    const float* shift = nullptr;
    Activation act;
};

namespace {

template <class T>
__global__ void batch_norm_kernel(const T* x, T* y, int64_t count, int64_t channels, int64_t inner, const float* k,
                                  const float* shift, Activation act) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t c = i / inner % channels;
        store_f(y, i, activate(act, load_f(x, i) * k[c] + shift[c]));
    }
}

}  // namespace

Status launch_batch_norm(const BatchNormParams& p, cudaStream_t stream) {
    if (p.half) {
        batch_norm_kernel<<<grid_for(p.count), kThreads, 0, stream>>>(static_cast<const __half*>(p.x),
                                                                      static_cast<__half*>(p.y), p.count, p.channels,
                                                                      p.inner, p.k, p.shift, p.act);
    } else {
        batch_norm_kernel<<<grid_for(p.count), kThreads, 0, stream>>>(static_cast<const float*>(p.x),
                                                                      static_cast<float*>(p.y), p.count, p.channels,
                                                                      p.inner, p.k, p.shift, p.act);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

}  // namespace nn

namespace {

class BatchNormOp : public CudaOp {
public:
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        nn::BatchNormParams p = p_;
        p.x = inputs[0].data;
        p.y = outputs[0].data;
        return nn::launch_batch_norm(p, libs.stream);
    }

    nn::BatchNormParams p_;
    DeviceBuffer k_, shift_;
};

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs&) {
    const ir::Node& node = setup.node;
    const DataType dtype = setup.inputs[0].dtype;
    if (!nn::is_float_or_half(dtype) || setup.outputs[0].dtype != dtype) {
        return setup.unsupported(std::string("type ") + data_type_name(dtype) + " is not supported on CUDA");
    }
    if (nn::has_empty_tensor(setup)) return setup.unsupported("empty tensors run on the reference");
    if (setup.opset >= 14 && node.attr_int("training_mode", 0) != 0) return setup.unsupported("training mode");
    for (size_t i = 1; i < node.outputs.size(); ++i) {
        if (!node.outputs[i].empty()) return setup.unsupported("training outputs");
    }
    const ir::Shape& x = setup.inputs[0].shape;
    if (x.size() < 2 || setup.inputs.size() < 5) return setup.unsupported("expects X [N, C, ...] and 4 parameters");
    int64_t channels = x[1], inner = 1;
    for (size_t i = 2; i < x.size(); ++i) inner *= x[i];
    if (setup.opset < 9 && node.attr_int("spatial", 1) == 0) {  // parameters per (channel, position)
        channels *= inner;
        inner = 1;
    }
    RT_ASSIGN_OR_RETURN(std::vector<float> scale, nn::constant_floats(setup, 1, "scale"));
    RT_ASSIGN_OR_RETURN(std::vector<float> bias, nn::constant_floats(setup, 2, "B"));
    RT_ASSIGN_OR_RETURN(std::vector<float> mean, nn::constant_floats(setup, 3, "input_mean"));
    RT_ASSIGN_OR_RETURN(std::vector<float> var, nn::constant_floats(setup, 4, "input_var"));
    const size_t n = static_cast<size_t>(channels);
    if (scale.size() != n || bias.size() != n || mean.size() != n || var.size() != n) {
        return setup.unsupported("parameters do not have one value per channel");
    }
    const double epsilon = node.attr_float("epsilon", 1e-5f);
    std::vector<float> k(n), shift(n);
    for (size_t c = 0; c < n; ++c) {
        const double kc = scale[c] / std::sqrt(static_cast<double>(var[c]) + epsilon);
        k[c] = static_cast<float>(kc);
        shift[c] = static_cast<float>(bias[c] - mean[c] * kc);
    }
    auto op = std::make_unique<BatchNormOp>();
    RT_ASSIGN_OR_RETURN(op->k_, nn::upload_floats(k));
    RT_ASSIGN_OR_RETURN(op->shift_, nn::upload_floats(shift));
    RT_ASSIGN_OR_RETURN(op->p_.act, nn::fused_activation(setup));
    op->p_.half = dtype == DataType::kFloat16;
    op->p_.count = ir::shape_numel(x);
    op->p_.channels = channels;
    op->p_.inner = inner;
    op->p_.k = static_cast<const float*>(op->k_.get());
    op->p_.shift = static_cast<const float*>(op->shift_.get());
    return std::unique_ptr<CudaOp>(std::move(op));
}

}  // namespace

const CudaKernel kBatchNormalizationCuda = {"BatchNormalization", "", create};

}  // namespace rtinfer::cuda
