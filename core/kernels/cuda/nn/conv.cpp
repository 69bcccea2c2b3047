// Conv on cuDNN: 1-D (as 2-D with H = 1), 2-D and 3-D, groups, strides, dilations, pads or auto_pad (resolved
// with the reference's geometry), then bias and the fused activation in one pointwise pass. Padding cuDNN
// cannot express (asymmetric pads that change the output size) is applied by copying the input into a padded
// workspace image first.
#include <string>
#include <vector>

#include "core/kernels/cuda/nn/conv_algo.h"
#include "core/kernels/cuda/nn/kernels.h"
#include "core/kernels/cuda/nn/nn_cuda_util.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::cuda {
namespace {

namespace refnn = rtinfer::ref::nn;

size_t align_up(size_t v) {
    return (v + 255) / 256 * 256;
}

class ConvOp : public CudaOp {
public:
    size_t workspace_bytes() const override { return padded_bytes_ + algo_.workspace; }
    int64_t tactic() const override { return algo_.tactic(); }

    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void* workspace,
                   const CudaLibs& libs) override {
        RT_CUDNN_CHECK(cudnnSetStream(libs.cudnn, libs.stream));
        const void* x = inputs[0].data;
        char* ws = static_cast<char*>(workspace);
        if (padded_bytes_ > 0) {
            nn::ShiftCopyParams p = pad_;
            p.src = x;
            p.dst = ws;
            RT_RETURN_IF_ERROR(nn::launch_shift_copy(p, libs.stream));
            x = ws;
            ws += padded_bytes_;
        }
        const float alpha = 1.0f, beta = 0.0f;
        RT_CUDNN_CHECK(cudnnConvolutionForward(
            libs.cudnn, &alpha, x_desc_.get(), x, w_desc_.get(), weights_.get(inputs), conv_desc_.get(),
            static_cast<cudnnConvolutionFwdAlgo_t>(algo_.algo), algo_.workspace ? ws : nullptr, algo_.workspace, &beta,
            y_desc_.get(), outputs[0].data));
        if (epilogue_.bias || bias_input_ || epilogue_.act.kind != nn::kActNone) {
            nn::BiasActParams p = epilogue_;
            p.y = outputs[0].data;
            if (bias_input_) p.bias = inputs[2].data;
            RT_RETURN_IF_ERROR(nn::launch_bias_activation(p, libs.stream));
        }
        return Status();
    }

    nn::TensorDesc x_desc_, y_desc_;
    nn::FilterDesc w_desc_;
    nn::ConvDesc conv_desc_;
    nn::ConvAlgo algo_;
    nn::Operand weights_;
    DeviceBuffer bias_;        // a constant bias, as float32
    bool bias_input_ = false;  // the bias is a runtime input
    nn::BiasActParams epilogue_;
    nn::ShiftCopyParams pad_;
    size_t padded_bytes_ = 0;  // > 0: the input is copied into a padded image at the start of the workspace
};

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs& libs) {
    const DataType dtype = setup.inputs[0].dtype;
    if (!nn::is_float_or_half(dtype) || setup.outputs[0].dtype != dtype) {
        return setup.unsupported(std::string("type ") + data_type_name(dtype) + " is not supported on CUDA");
    }
    if (nn::has_empty_tensor(setup)) return setup.unsupported("empty tensors run on the reference");
    const ir::Shape& x = setup.inputs[0].shape;
    const ir::Shape& w = setup.inputs[1].shape;
    refnn::Window win;
    RT_RETURN_IF_ERROR(refnn::conv_geometry(setup.node, x, w, win));
    const int64_t group = setup.node.attr_int("group", 1);
    const int64_t batch = x[0], channels = x[1], out_channels = w[0];
    RT_ASSIGN_OR_RETURN(nn::Activation act, nn::fused_activation(setup));

    auto op = std::make_unique<ConvOp>();
    // cuDNN wants at least 2 spatial dims: 1-D runs as 2-D over the window's unit dim 1.
    const int first = win.rank == 3 ? 0 : 1;
    bool symmetric = true;
    for (int d = first; d < refnn::kMaxSpatial; ++d) {
        const int64_t eff_k = (win.kernel[d] - 1) * win.dilation[d] + 1;
        const int64_t span = win.in[d] + 2 * win.pad_begin[d] - eff_k;
        if (span < 0 || span / win.stride[d] + 1 != win.out[d]) symmetric = false;
    }
    std::vector<int> x_dims = {static_cast<int>(batch), static_cast<int>(channels)};
    std::vector<int> w_dims = {static_cast<int>(out_channels), static_cast<int>(w[1])};
    std::vector<int> y_dims = {static_cast<int>(batch), static_cast<int>(out_channels)};
    std::vector<int> pads, strides, dilations;
    op->pad_.half = dtype == DataType::kFloat16;
    op->pad_.planes = batch * channels;
    int64_t padded_numel = batch * channels;
    for (int d = first; d < refnn::kMaxSpatial; ++d) {
        const int64_t in = symmetric ? win.in[d] : win.in[d] + win.pad_begin[d] + win.pad_end[d];
        op->pad_.src_dims[d] = win.in[d];
        op->pad_.dst_dims[d] = in;
        op->pad_.offset[d] = win.pad_begin[d];
        padded_numel *= in;
        x_dims.push_back(static_cast<int>(in));
        w_dims.push_back(static_cast<int>(win.kernel[d]));
        y_dims.push_back(static_cast<int>(win.out[d]));
        pads.push_back(symmetric ? static_cast<int>(win.pad_begin[d]) : 0);
        strides.push_back(static_cast<int>(win.stride[d]));
        dilations.push_back(static_cast<int>(win.dilation[d]));
    }
    if (!nn::fits_int(padded_numel) || !nn::fits_int(ir::shape_numel(setup.outputs[0].shape)) ||
        !nn::fits_int(ir::shape_numel(w))) {
        return setup.unsupported("tensors beyond the int range of cuDNN");
    }
    if (!symmetric) op->padded_bytes_ = align_up(static_cast<size_t>(padded_numel) * data_type_size(dtype));

    RT_ASSIGN_OR_RETURN(op->x_desc_, nn::make_tensor_desc(dtype, x_dims));
    RT_ASSIGN_OR_RETURN(op->y_desc_, nn::make_tensor_desc(dtype, y_dims));
    RT_ASSIGN_OR_RETURN(op->w_desc_, nn::make_filter_desc(dtype, w_dims));
    RT_ASSIGN_OR_RETURN(op->conv_desc_,
                        nn::make_conv_desc(dtype, pads, strides, dilations, static_cast<int>(group), libs.allow_tf32));
    std::vector<int> cudnn_out(y_dims.size());
    RT_CUDNN_CHECK(cudnnGetConvolutionNdForwardOutputDim(op->conv_desc_.get(), op->x_desc_.get(), op->w_desc_.get(),
                                                         static_cast<int>(cudnn_out.size()), cudnn_out.data()));
    if (cudnn_out != y_dims) return setup.unsupported("cuDNN computes another output size for this geometry");

    RT_ASSIGN_OR_RETURN(op->weights_, nn::Operand::make(setup, 1, dtype));
    op->epilogue_.half = dtype == DataType::kFloat16;
    op->epilogue_.count = ir::shape_numel(setup.outputs[0].shape);
    op->epilogue_.channels = out_channels;
    op->epilogue_.inner = win.out_size();
    op->epilogue_.act = act;
    if (setup.has_input(2)) {
        if (setup.inputs[2].value) {
            RT_ASSIGN_OR_RETURN(std::vector<float> bias, nn::constant_floats(setup, 2, "bias B"));
            RT_ASSIGN_OR_RETURN(op->bias_, nn::upload_floats(bias));
            op->epilogue_.bias = op->bias_.get();
        } else {
            if (!nn::is_float_or_half(setup.inputs[2].dtype)) return setup.unsupported("bias B type");
            op->bias_input_ = true;
            op->epilogue_.bias_half = setup.inputs[2].dtype == DataType::kFloat16;
        }
    }

    RT_CUDNN_CHECK(cudnnSetStream(libs.cudnn, libs.stream));
    nn::ConvSearch search;
    search.handle = libs.cudnn;
    search.workspace_cap = std::min(nn::kWorkspaceCap, libs.workspace_limit);
    search.dtype = dtype;
    search.allow_tf32 = libs.allow_tf32;
    search.x = op->x_desc_.get();
    search.w = op->w_desc_.get();
    search.conv = op->conv_desc_.get();
    search.y = op->y_desc_.get();
    search.x_bytes = static_cast<size_t>(padded_numel) * data_type_size(dtype);
    search.w_bytes = static_cast<size_t>(ir::shape_numel(w)) * data_type_size(dtype);
    search.y_bytes = static_cast<size_t>(ir::shape_numel(setup.outputs[0].shape)) * data_type_size(dtype);
    search.w_data = op->weights_.constant();
    search.cache = libs.timing_cache;
    // The layer signature: everything the algorithm choice depends on.
    search.signature = std::string("Conv:") + data_type_name(dtype) + ":x" + ir::shape_str(setup.inputs[0].shape) + ":w" +
                       ir::shape_str(w) + ":y" + ir::shape_str(setup.outputs[0].shape) + ":g" +
                       std::to_string(setup.node.attr_int("group", 1)) + ":s" + ir::shape_str(setup.node.attr_ints("strides")) +
                       ":d" + ir::shape_str(setup.node.attr_ints("dilations")) + ":p" + ir::shape_str(setup.node.attr_ints("pads")) +
                       ":a" + setup.node.attr_string("auto_pad", "NOTSET") + ":tf32=" + std::to_string(libs.allow_tf32);
    RT_ASSIGN_OR_RETURN(op->algo_, nn::find_forward_algo(search));
    return std::unique_ptr<CudaOp>(std::move(op));
}

}  // namespace

const CudaKernel kConvCuda = {"Conv", "", create};

}  // namespace rtinfer::cuda
