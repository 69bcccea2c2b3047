#include "core/kernels/cuda/nn/nn_cuda_util.h"

#include <cstring>
#include <limits>
#include <string>

#include "core/ir/half.h"

namespace rtinfer::cuda::nn {

Expected<Activation> fused_activation(const OpSetup& setup, bool input) {
    const ir::Node& node = setup.node;
    const std::string code = input ? "rt_input_activation" : "rt_fused_activation";
    const std::string prefix = input ? "rt_input_" : "rt_";
    Activation act;
    act.kind = static_cast<int>(node.attr_int(code, kActNone));
    switch (act.kind) {
        case kActNone:
        case kActRelu:
        case kActSigmoid:
        case kActSilu:
        case kActHardSwish:
        case kActGelu:
        case kActGeluTanh:
            break;
        case kActClip:
            act.a = node.attr_float(prefix + "clip_min", -std::numeric_limits<float>::infinity());
            act.b = node.attr_float(prefix + "clip_max", std::numeric_limits<float>::infinity());
            break;
        case kActLeakyRelu:
            act.a = node.attr_float(prefix + "alpha", 0.01f);
            break;
        default:
            return setup.unsupported(code + " " + std::to_string(act.kind) + " is not a known activation");
    }
    return act;
}

Expected<DeviceBuffer> upload(const ir::Tensor& t, DataType to) {
    RT_ASSIGN_OR_RETURN(DeviceBuffer buf, DeviceBuffer::allocate(static_cast<size_t>(t.numel()) * data_type_size(to)));
    if (t.numel() == 0) return buf;
    if (t.dtype() == to) {
        RT_CUDA_CHECK(cudaMemcpy(buf.get(), t.raw(), t.nbytes(), cudaMemcpyHostToDevice));
        return buf;
    }
    const std::vector<double> values = ir::to_doubles(t);
    if (to == DataType::kFloat16) {
        std::vector<uint16_t> h(values.size());
        for (size_t i = 0; i < values.size(); ++i) h[i] = ir::float_to_half(static_cast<float>(values[i]));
        RT_CUDA_CHECK(cudaMemcpy(buf.get(), h.data(), h.size() * sizeof(uint16_t), cudaMemcpyHostToDevice));
    } else {
        std::vector<float> f(values.begin(), values.end());
        RT_CUDA_CHECK(cudaMemcpy(buf.get(), f.data(), f.size() * sizeof(float), cudaMemcpyHostToDevice));
    }
    return buf;
}

Expected<DeviceBuffer> upload_floats(const std::vector<float>& v) {
    RT_ASSIGN_OR_RETURN(DeviceBuffer buf, DeviceBuffer::allocate(v.size() * sizeof(float)));
    if (!v.empty()) RT_CUDA_CHECK(cudaMemcpy(buf.get(), v.data(), v.size() * sizeof(float), cudaMemcpyHostToDevice));
    return buf;
}

Expected<Operand> Operand::make(const OpSetup& setup, size_t input, DataType as) {
    Operand op;
    op.input_ = input;
    const ir::InputInfo& info = setup.inputs[input];
    if (info.value) {
        if (!is_float_or_half(info.value->dtype()) && info.value->dtype() != DataType::kFloat64) {
            return setup.unsupported(std::string("constant input ") + std::to_string(input) + " is " +
                                     data_type_name(info.value->dtype()));
        }
        RT_ASSIGN_OR_RETURN(op.owned_, upload(*info.value, as));
        return op;
    }
    if (info.dtype != as) {
        return setup.unsupported(std::string("input ") + std::to_string(input) + " is " + data_type_name(info.dtype) +
                                 " but the op computes in " + data_type_name(as));
    }
    return op;
}

Expected<std::vector<float>> constant_floats(const OpSetup& setup, size_t input, const char* what) {
    const ir::Tensor* t = setup.has_input(input) ? setup.inputs[input].value : nullptr;
    if (!t) return setup.unsupported(std::string(what) + " must be a constant");
    const ir::DType d = t->dtype();
    if (!is_float_or_half(d) && d != DataType::kFloat64) {
        return setup.unsupported(std::string(what) + " is " + data_type_name(d));
    }
    const std::vector<double> v = ir::to_doubles(*t);
    return std::vector<float>(v.begin(), v.end());
}

bool has_empty_tensor(const OpSetup& setup) {
    for (size_t i = 0; i < setup.inputs.size(); ++i) {
        if (setup.has_input(i) && ir::shape_numel(setup.inputs[i].shape) == 0) return true;
    }
    for (const ir::OutputInfo& o : setup.outputs) {
        if (ir::shape_numel(o.shape) == 0) return true;
    }
    return false;
}

bool fits_int(int64_t v) {
    return v >= 0 && v <= std::numeric_limits<int>::max();
}

namespace {
std::vector<int> packed_strides(const std::vector<int>& dims) {
    std::vector<int> strides(dims.size(), 1);
    for (size_t i = dims.size() - 1; i > 0; --i) strides[i - 1] = strides[i] * dims[i];
    return strides;
}
}  // namespace

Expected<TensorDesc> make_tensor_desc(DataType dtype, const std::vector<int>& dims) {
    cudnnTensorDescriptor_t raw = nullptr;
    RT_CUDNN_CHECK(cudnnCreateTensorDescriptor(&raw));
    TensorDesc desc(raw);
    const std::vector<int> strides = packed_strides(dims);
    RT_CUDNN_CHECK(
        cudnnSetTensorNdDescriptor(raw, cudnn_type(dtype), static_cast<int>(dims.size()), dims.data(), strides.data()));
    return desc;
}

Expected<FilterDesc> make_filter_desc(DataType dtype, const std::vector<int>& dims) {
    cudnnFilterDescriptor_t raw = nullptr;
    RT_CUDNN_CHECK(cudnnCreateFilterDescriptor(&raw));
    FilterDesc desc(raw);
    RT_CUDNN_CHECK(cudnnSetFilterNdDescriptor(raw, cudnn_type(dtype), CUDNN_TENSOR_NCHW, static_cast<int>(dims.size()),
                                              dims.data()));
    return desc;
}

Expected<TensorDesc> make_tensor_desc_nhwc(DataType dtype, const std::vector<int>& nchw) {
    cudnnTensorDescriptor_t raw = nullptr;
    RT_CUDNN_CHECK(cudnnCreateTensorDescriptor(&raw));
    TensorDesc desc(raw);
    RT_CUDNN_CHECK(cudnnSetTensor4dDescriptor(raw, CUDNN_TENSOR_NHWC, cudnn_type(dtype), nchw[0], nchw[1], nchw[2], nchw[3]));
    return desc;
}

Expected<FilterDesc> make_filter_desc_nhwc(DataType dtype, const std::vector<int>& kcrs) {
    cudnnFilterDescriptor_t raw = nullptr;
    RT_CUDNN_CHECK(cudnnCreateFilterDescriptor(&raw));
    FilterDesc desc(raw);
    RT_CUDNN_CHECK(cudnnSetFilter4dDescriptor(raw, cudnn_type(dtype), CUDNN_TENSOR_NHWC, kcrs[0], kcrs[1], kcrs[2], kcrs[3]));
    return desc;
}

cudnnMathType_t conv_math_type(DataType dtype, bool allow_tf32) {
    // CUDNN_DEFAULT_MATH lets float32 run as TF32 on Ampere and later; FMA math keeps it exact float.
    if (dtype == DataType::kFloat16) return CUDNN_TENSOR_OP_MATH;
    return allow_tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
}

Expected<ConvDesc> make_conv_desc(DataType dtype, const std::vector<int>& pads, const std::vector<int>& strides,
                                  const std::vector<int>& dilations, int groups, bool allow_tf32) {
    cudnnConvolutionDescriptor_t raw = nullptr;
    RT_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&raw));
    ConvDesc desc(raw);
    RT_CUDNN_CHECK(cudnnSetConvolutionNdDescriptor(raw, static_cast<int>(pads.size()), pads.data(), strides.data(),
                                                   dilations.data(), CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    RT_CUDNN_CHECK(cudnnSetConvolutionGroupCount(raw, groups));
    RT_CUDNN_CHECK(cudnnSetConvolutionMathType(raw, conv_math_type(dtype, allow_tf32)));
    return desc;
}

}  // namespace rtinfer::cuda::nn
