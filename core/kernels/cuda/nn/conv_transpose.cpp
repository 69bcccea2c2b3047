// ConvTranspose on cuDNN as the backward-data pass of the convolution it is the gradient of: 1-D (as 2-D),
// 2-D and 3-D, groups, strides, dilations, pads, auto_pad, output_padding and output_shape (through the
// reference's geometry), then bias and the fused activation. When cuDNN's symmetric padding cannot give the
// output directly, the full uncropped result goes to the workspace and is cropped (or zero-extended) after.
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

class ConvTransposeOp : public CudaOp {
public:
    size_t workspace_bytes() const override { return full_bytes_ + algo_.workspace; }

    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void* workspace,
                   const CudaLibs& libs) override {
        RT_CUDNN_CHECK(cudnnSetStream(libs.cudnn, libs.stream));
        char* ws = static_cast<char*>(workspace);
        void* dx = full_bytes_ > 0 ? ws : outputs[0].data;
        if (full_bytes_ > 0) ws += full_bytes_;
        const float alpha = 1.0f, beta = 0.0f;
        RT_CUDNN_CHECK(cudnnConvolutionBackwardData(
            libs.cudnn, &alpha, w_desc_.get(), weights_.get(inputs), dy_desc_.get(), inputs[0].data, conv_desc_.get(),
            static_cast<cudnnConvolutionBwdDataAlgo_t>(algo_.algo), algo_.workspace ? ws : nullptr, algo_.workspace,
            &beta, dx_desc_.get(), dx));
        if (full_bytes_ > 0) {
            nn::ShiftCopyParams p = crop_;
            p.src = dx;
            p.dst = outputs[0].data;
            RT_RETURN_IF_ERROR(nn::launch_shift_copy(p, libs.stream));
        }
        if (epilogue_.bias || bias_input_ || epilogue_.act.kind != nn::kActNone) {
            nn::BiasActParams p = epilogue_;
            p.y = outputs[0].data;
            if (bias_input_) p.bias = inputs[2].data;
            RT_RETURN_IF_ERROR(nn::launch_bias_activation(p, libs.stream));
        }
        return Status();
    }

    nn::TensorDesc dy_desc_, dx_desc_;
    nn::FilterDesc w_desc_;
    nn::ConvDesc conv_desc_;
    nn::ConvAlgo algo_;
    nn::Operand weights_;
    DeviceBuffer bias_;
    bool bias_input_ = false;
    nn::BiasActParams epilogue_;
    nn::ShiftCopyParams crop_;
    size_t full_bytes_ = 0;  // > 0: cuDNN writes the uncropped output to the workspace, then crop_ copies it
};

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs& libs) {
    const DataType dtype = setup.inputs[0].dtype;
    if (!nn::is_float_or_half(dtype) || setup.outputs[0].dtype != dtype) {
        return setup.unsupported(std::string("type ") + data_type_name(dtype) + " is not supported on CUDA");
    }
    if (nn::has_empty_tensor(setup)) return setup.unsupported("empty tensors run on the reference");
    const ir::Shape& x = setup.inputs[0].shape;
    const ir::Shape& w = setup.inputs[1].shape;
    if (x.size() < 3 || w.size() != x.size()) return setup.unsupported("X and W must be [N, C, spatial...]");
    const int64_t group = setup.node.attr_int("group", 1);
    if (group <= 0 || x[1] != w[0] || w[0] % group != 0) return setup.unsupported("channels do not match W");
    const int64_t batch = x[0], channels = x[1], out_channels = w[1] * group;
    RT_ASSIGN_OR_RETURN(std::vector<int64_t> kernel,
                        refnn::kernel_shape(setup.node, std::vector<int64_t>(w.begin() + 2, w.end())));
    refnn::Window win;  // win.in is the ConvTranspose output, win.out its input
    RT_RETURN_IF_ERROR(refnn::conv_transpose_window(setup.node, ir::Shape(x.begin() + 2, x.end()), kernel, win));
    RT_ASSIGN_OR_RETURN(nn::Activation act, nn::fused_activation(setup));

    auto op = std::make_unique<ConvTransposeOp>();
    const int first = win.rank == 3 ? 0 : 1;
    // Direct: cuDNN pads both ends by pad_begin, which is right when its forward size of the output is X's.
    bool direct = true;
    for (int d = first; d < refnn::kMaxSpatial; ++d) {
        const int64_t eff_k = (win.kernel[d] - 1) * win.dilation[d] + 1;
        const int64_t span = win.in[d] + 2 * win.pad_begin[d] - eff_k;
        if (win.pad_begin[d] < 0 || span < 0 || span / win.stride[d] + 1 != win.out[d]) direct = false;
    }
    std::vector<int> dy_dims = {static_cast<int>(batch), static_cast<int>(channels)};
    std::vector<int> w_dims = {static_cast<int>(w[0]), static_cast<int>(w[1])};
    std::vector<int> dx_dims = {static_cast<int>(batch), static_cast<int>(out_channels)};
    std::vector<int> pads, strides, dilations;
    op->crop_.half = dtype == DataType::kFloat16;
    op->crop_.planes = batch * out_channels;
    int64_t dx_numel = batch * out_channels;
    for (int d = first; d < refnn::kMaxSpatial; ++d) {
        const int64_t eff_k = (win.kernel[d] - 1) * win.dilation[d] + 1;
        const int64_t full = win.stride[d] * (win.out[d] - 1) + eff_k;  // unpadded, no output_padding
        const int64_t size = direct ? win.in[d] : full;
        op->crop_.src_dims[d] = full;
        op->crop_.dst_dims[d] = win.in[d];
        op->crop_.offset[d] = -win.pad_begin[d];
        dx_numel *= size;
        dy_dims.push_back(static_cast<int>(win.out[d]));
        w_dims.push_back(static_cast<int>(win.kernel[d]));
        dx_dims.push_back(static_cast<int>(size));
        pads.push_back(direct ? static_cast<int>(win.pad_begin[d]) : 0);
        strides.push_back(static_cast<int>(win.stride[d]));
        dilations.push_back(static_cast<int>(win.dilation[d]));
    }
    if (!nn::fits_int(dx_numel) || !nn::fits_int(ir::shape_numel(setup.outputs[0].shape)) ||
        !nn::fits_int(ir::shape_numel(x)) || !nn::fits_int(ir::shape_numel(w))) {
        return setup.unsupported("tensors beyond the int range of cuDNN");
    }
    if (!direct) op->full_bytes_ = align_up(static_cast<size_t>(dx_numel) * data_type_size(dtype));

    RT_ASSIGN_OR_RETURN(op->dy_desc_, nn::make_tensor_desc(dtype, dy_dims));
    RT_ASSIGN_OR_RETURN(op->dx_desc_, nn::make_tensor_desc(dtype, dx_dims));
    RT_ASSIGN_OR_RETURN(op->w_desc_, nn::make_filter_desc(dtype, w_dims));
    RT_ASSIGN_OR_RETURN(op->conv_desc_,
                        nn::make_conv_desc(dtype, pads, strides, dilations, static_cast<int>(group), libs.allow_tf32));
    std::vector<int> forward_out(dy_dims.size());
    RT_CUDNN_CHECK(cudnnGetConvolutionNdForwardOutputDim(op->conv_desc_.get(), op->dx_desc_.get(), op->w_desc_.get(),
                                                         static_cast<int>(forward_out.size()), forward_out.data()));
    if (forward_out != dy_dims) return setup.unsupported("cuDNN computes another size for this geometry");

    RT_ASSIGN_OR_RETURN(op->weights_, nn::Operand::make(setup, 1, dtype));
    op->epilogue_.half = dtype == DataType::kFloat16;
    op->epilogue_.count = ir::shape_numel(setup.outputs[0].shape);
    op->epilogue_.channels = out_channels;
    op->epilogue_.inner = win.in_size();
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
    search.x = op->dx_desc_.get();
    search.w = op->w_desc_.get();
    search.conv = op->conv_desc_.get();
    search.y = op->dy_desc_.get();
    search.x_bytes = static_cast<size_t>(dx_numel) * data_type_size(dtype);
    search.w_bytes = static_cast<size_t>(ir::shape_numel(w)) * data_type_size(dtype);
    search.y_bytes = static_cast<size_t>(ir::shape_numel(x)) * data_type_size(dtype);
    search.w_data = op->weights_.constant();
    RT_ASSIGN_OR_RETURN(op->algo_, nn::find_backward_data_algo(search));
    return std::unique_ptr<CudaOp>(std::move(op));
}

}  // namespace

const CudaKernel kConvTransposeCuda = {"ConvTranspose", "", create};

}  // namespace rtinfer::cuda
