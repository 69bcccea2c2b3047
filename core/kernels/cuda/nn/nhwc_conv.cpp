// rtinfer.NhwcConv on cuDNN: a 2-D convolution on channels-last tensors (X NHWC, W OHWI, Y NHWC) with
// symmetric padding, as convert_to_nhwc produces it; bias and the fused activation in one pointwise pass
// after it. Channels-last is the layout tensor cores take half-precision convolutions in without cuDNN
// transposing operands around every call.
#include <string>
#include <vector>

#include "core/kernels/cuda/nn/conv_algo.h"
#include "core/kernels/cuda/nn/kernels.h"
#include "core/kernels/cuda/nn/nn_cuda_util.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::cuda {
namespace {

namespace refnn = rtinfer::ref::nn;

class NhwcConvOp : public CudaOp {
public:
    size_t workspace_bytes() const override { return algo_.workspace; }
    int64_t tactic() const override { return algo_.tactic(); }

    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void* workspace,
                   const CudaLibs& libs) override {
        RT_CUDNN_CHECK(cudnnSetStream(libs.cudnn, libs.stream));
        const float alpha = 1.0f, beta = 0.0f;
        RT_CUDNN_CHECK(cudnnConvolutionForward(libs.cudnn, &alpha, x_desc_.get(), inputs[0].data, w_desc_.get(),
                                               weights_.get(inputs), conv_desc_.get(),
                                               static_cast<cudnnConvolutionFwdAlgo_t>(algo_.algo),
                                               algo_.workspace ? workspace : nullptr, algo_.workspace, &beta,
                                               y_desc_.get(), outputs[0].data));
        if (epilogue_.bias || epilogue_.act.kind != nn::kActNone) {
            nn::BiasActParams p = epilogue_;
            p.y = outputs[0].data;
            RT_RETURN_IF_ERROR(nn::launch_bias_activation(p, libs.stream));
        }
        return Status();
    }

    nn::TensorDesc x_desc_, y_desc_;
    nn::FilterDesc w_desc_;
    nn::ConvDesc conv_desc_;
    nn::ConvAlgo algo_;
    nn::Operand weights_;
    DeviceBuffer bias_;  // float32
    nn::BiasActParams epilogue_;
};

ir::Shape nchw_of(const ir::Shape& nhwc) {
    return {nhwc[0], nhwc[3], nhwc[1], nhwc[2]};
}

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs& libs) {
    const DataType dtype = setup.inputs[0].dtype;
    if (!nn::is_float_or_half(dtype) || setup.outputs[0].dtype != dtype) {
        return setup.unsupported(std::string("type ") + data_type_name(dtype) + " is not supported on CUDA");
    }
    if (nn::has_empty_tensor(setup)) return setup.unsupported("empty tensors run on the reference");
    const ir::Shape x = nchw_of(setup.inputs[0].shape), w = nchw_of(setup.inputs[1].shape);
    const ir::Shape y = nchw_of(setup.outputs[0].shape);
    refnn::Window win;
    RT_RETURN_IF_ERROR(refnn::conv_geometry(setup.node, x, w, win));
    for (int d = 1; d < refnn::kMaxSpatial; ++d) {
        if (win.pad_begin[d] != win.pad_end[d]) return setup.unsupported("asymmetric padding");
    }
    for (int64_t v : {ir::shape_numel(x), ir::shape_numel(y), ir::shape_numel(w)}) {
        if (!nn::fits_int(v)) return setup.unsupported("tensors beyond the int range of cuDNN");
    }
    const int group = static_cast<int>(setup.node.attr_int("group", 1));
    auto as_int = [](const ir::Shape& s) { return std::vector<int>(s.begin(), s.end()); };

    auto op = std::make_unique<NhwcConvOp>();
    RT_ASSIGN_OR_RETURN(op->x_desc_, nn::make_tensor_desc_nhwc(dtype, as_int(x)));
    RT_ASSIGN_OR_RETURN(op->y_desc_, nn::make_tensor_desc_nhwc(dtype, as_int(y)));
    RT_ASSIGN_OR_RETURN(op->w_desc_, nn::make_filter_desc_nhwc(dtype, as_int(w)));
    const std::vector<int> pads = {static_cast<int>(win.pad_begin[1]), static_cast<int>(win.pad_begin[2])};
    const std::vector<int> strides = {static_cast<int>(win.stride[1]), static_cast<int>(win.stride[2])};
    const std::vector<int> dilations = {static_cast<int>(win.dilation[1]), static_cast<int>(win.dilation[2])};
    RT_ASSIGN_OR_RETURN(op->conv_desc_, nn::make_conv_desc(dtype, pads, strides, dilations, group, libs.allow_tf32));
    std::vector<int> cudnn_out(4);
    RT_CUDNN_CHECK(cudnnGetConvolutionNdForwardOutputDim(op->conv_desc_.get(), op->x_desc_.get(), op->w_desc_.get(), 4,
                                                         cudnn_out.data()));
    if (cudnn_out != as_int(y)) return setup.unsupported("cuDNN computes another output size for this geometry");

    RT_ASSIGN_OR_RETURN(op->weights_, nn::Operand::make(setup, 1, dtype));
    RT_ASSIGN_OR_RETURN(nn::Activation act, nn::fused_activation(setup));
    op->epilogue_.half = dtype == DataType::kFloat16;
    op->epilogue_.count = ir::shape_numel(y);
    op->epilogue_.channels = y[1];
    op->epilogue_.inner = 1;  // channels-last: the channel is the fastest dim
    op->epilogue_.act = act;
    if (setup.has_input(2)) {
        RT_ASSIGN_OR_RETURN(std::vector<float> bias, nn::constant_floats(setup, 2, "bias B"));
        RT_ASSIGN_OR_RETURN(op->bias_, nn::upload_floats(bias));
        op->epilogue_.bias = op->bias_.get();
    }

    RT_CUDNN_CHECK(cudnnSetStream(libs.cudnn, libs.stream));
    nn::ConvSearch search;
    search.handle = libs.cudnn;
    search.dtype = dtype;
    search.allow_tf32 = libs.allow_tf32;
    search.x = op->x_desc_.get();
    search.w = op->w_desc_.get();
    search.conv = op->conv_desc_.get();
    search.y = op->y_desc_.get();
    search.x_bytes = static_cast<size_t>(ir::shape_numel(x)) * data_type_size(dtype);
    search.w_bytes = static_cast<size_t>(ir::shape_numel(w)) * data_type_size(dtype);
    search.y_bytes = static_cast<size_t>(ir::shape_numel(y)) * data_type_size(dtype);
    search.w_data = op->weights_.constant();
    search.cache = libs.timing_cache;
    search.signature = std::string("NhwcConv:") + data_type_name(dtype) + ":x" + ir::shape_str(x) + ":w" +
                       ir::shape_str(w) + ":y" + ir::shape_str(y) + ":g" + std::to_string(group) + ":s" +
                       ir::shape_str(setup.node.attr_ints("strides")) + ":d" +
                       ir::shape_str(setup.node.attr_ints("dilations")) + ":p" + ir::shape_str(setup.node.attr_ints("pads")) +
                       ":tf32=" + std::to_string(libs.allow_tf32);
    RT_ASSIGN_OR_RETURN(op->algo_, nn::find_forward_algo(search));
    return std::unique_ptr<CudaOp>(std::move(op));
}

}  // namespace

const CudaKernel kNhwcConvCuda = {"NhwcConv", ir::kRtinferDomain, create};

}  // namespace rtinfer::cuda
