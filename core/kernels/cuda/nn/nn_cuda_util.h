// Host-side pieces shared by the nn CUDA kernels: dtype mapping, RAII cuDNN descriptors, operands that are
// either constants uploaded at create or runtime inputs, and the fused activation the fusion pass attaches.
#pragma once

#include <cudnn.h>

#include <memory>
#include <vector>

#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/cuda_op.h"
#include "core/kernels/cuda/nn/epilogue.cuh"

namespace rtinfer::cuda::nn {

// The activation dtypes the nn CUDA kernels compute in.
inline bool is_float_or_half(DataType t) {
    return t == DataType::kFloat32 || t == DataType::kFloat16;
}
inline cudnnDataType_t cudnn_type(DataType t) {
    return t == DataType::kFloat16 ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
}

// Reads "rt_fused_activation" (input: "rt_input_activation") and its parameters from the node; kNone when
// absent.
Expected<Activation> fused_activation(const OpSetup& setup, bool input = false);

// A host tensor (float16/32/64) as device memory of dtype `to` (float32 or float16), converted on the host.
Expected<DeviceBuffer> upload(const ir::Tensor& t, DataType to);
// Host floats as a float32 device buffer.
Expected<DeviceBuffer> upload_floats(const std::vector<float>& v);

// An input that is either a constant (copied to device memory owned by the op, in the activation dtype) or
// a runtime input whose device pointer comes with enqueue.
class Operand {
public:
    static Expected<Operand> make(const OpSetup& setup, size_t input, DataType as);
    const void* get(const std::vector<DeviceTensor>& inputs) const {
        return owned_.get() ? owned_.get() : inputs[input_].data;
    }
    // The device copy of a constant; null for a runtime input.
    const void* constant() const { return owned_.get(); }

private:
    DeviceBuffer owned_;
    size_t input_ = 0;
};

// A constant input's values as floats (any float dtype); kUnsupported when the input is not a constant.
Expected<std::vector<float>> constant_floats(const OpSetup& setup, size_t input, const char* what);

// True when some input or output of the node is an empty tensor (such nodes are left to the reference).
bool has_empty_tensor(const OpSetup& setup);

struct TensorDescDeleter {
    void operator()(cudnnTensorStruct* d) const { cudnnDestroyTensorDescriptor(d); }
};
struct FilterDescDeleter {
    void operator()(cudnnFilterStruct* d) const { cudnnDestroyFilterDescriptor(d); }
};
struct ConvDescDeleter {
    void operator()(cudnnConvolutionStruct* d) const { cudnnDestroyConvolutionDescriptor(d); }
};
using TensorDesc = std::unique_ptr<cudnnTensorStruct, TensorDescDeleter>;
using FilterDesc = std::unique_ptr<cudnnFilterStruct, FilterDescDeleter>;
using ConvDesc = std::unique_ptr<cudnnConvolutionStruct, ConvDescDeleter>;

// Packed NCHW (or NCDHW) descriptors; dims has 4 or 5 entries.
Expected<TensorDesc> make_tensor_desc(DataType dtype, const std::vector<int>& dims);
Expected<FilterDesc> make_filter_desc(DataType dtype, const std::vector<int>& dims);
// Channels-last 4-D descriptors: dims are given as (N, C, H, W) and (K, C, R, S); memory is NHWC / KRSC.
Expected<TensorDesc> make_tensor_desc_nhwc(DataType dtype, const std::vector<int>& nchw);
Expected<FilterDesc> make_filter_desc_nhwc(DataType dtype, const std::vector<int>& kcrs);
// A cross-correlation over dims.size() spatial dims with symmetric pads; float accumulation for float16.
// Float32 uses FMA math unless TF32 is allowed, so results match the reference to float rounding.
Expected<ConvDesc> make_conv_desc(DataType dtype, const std::vector<int>& pads, const std::vector<int>& strides,
                                  const std::vector<int>& dilations, int groups, bool allow_tf32);
cudnnMathType_t conv_math_type(DataType dtype, bool allow_tf32);

// The cap on the scratch memory one op's algorithm may ask for.
constexpr size_t kWorkspaceCap = size_t(256) << 20;

// Checked narrowing for the int dims cuDNN takes.
bool fits_int(int64_t v);

}  // namespace rtinfer::cuda::nn
