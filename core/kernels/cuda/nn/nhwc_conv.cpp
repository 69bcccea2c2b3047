// rtinfer.NhwcConv: a 2-D convolution on channels-last tensors (X NHWC, W OHWI, Y NHWC, optional residual Z)
// with symmetric padding, as convert_to_nhwc and fuse_conv_residual produce it. Channels-last is the layout
// tensor cores take half-precision convolutions in without cuDNN transposing operands around every call.
// Paths, the fastest kept by measurement (and remembered in the timing cache):
//   cuDNN: with a bias and a ReLU, cuDNN's fused conv + bias + Z + ReLU call (when it runs the configuration);
//          otherwise the convolution, then bias, Z and the activation in one channels-last pass;
//   pointwise convolutions: one cuBLASLt product with its bias (+ ReLU) epilogue;
//   pointwise convolutions with few input channels (float16): the direct kernel of pointwise_conv.cu;
//   depthwise convolutions: the direct kernel of depthwise_conv.cu, everything fused into its store.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "core/kernels/cuda/device_info.h"
#include "core/kernels/cuda/tactic_timing.h"
#include "core/kernels/cuda/nn/conv_algo.h"
#include "core/kernels/cuda/nn/depthwise_conv.h"
#include "core/kernels/cuda/nn/kernels.h"
#include "core/kernels/cuda/nn/lt_matmul.h"
#include "core/kernels/cuda/nn/nn_cuda_util.h"
#include "core/kernels/cuda/nn/pointwise_conv.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::cuda {
namespace {

namespace refnn = rtinfer::ref::nn;

// RTINFER_CUDNN_FUSED=0 keeps the separate epilogue (for comparisons).
bool fused_enabled() {
    const char* v = std::getenv("RTINFER_CUDNN_FUSED");
    return !(v && std::string(v) == "0");
}

// RTINFER_CONV_GEMM (pointwise layers on cuBLASLt) and RTINFER_CONV_POINTWISE (pointwise layers with few
// inputs on the direct kernel): =0 leaves that path out, =force takes it without measuring (for comparisons
// and tests); otherwise the fastest is kept.
// RTINFER_CONV_DEPTHWISE (depthwise layers on the direct kernel): off unless =auto (measure) or =force. Its
// measurement on scratch buffers that stay in L2 favours it, and in whole networks it lost to cuDNN (H100,
// MobileNetV2 batch 32: 1.24 ms with it measured in, 1.16 ms without), so cuDNN is the default.
std::string path_mode(const char* variable) {
    const char* v = std::getenv(variable);
    return v ? v : "";
}

// The tactic ids of the other paths (cuDNN tactics are algo * 16 + math, far below).
constexpr int64_t kGemmTactic = int64_t(1) << 30;
constexpr int64_t kDepthwiseTactic = kGemmTactic + 1;
constexpr int64_t kPointwiseTactic = kGemmTactic + 2;

enum class Path { kCudnn, kGemm, kDepthwise, kPointwise };

int64_t tactic_of(Path path) {
    return path == Path::kGemm ? kGemmTactic : path == Path::kDepthwise ? kDepthwiseTactic : kPointwiseTactic;
}

struct ActivationDescDeleter {
    void operator()(cudnnActivationStruct* d) const { cudnnDestroyActivationDescriptor(d); }
};
using ActivationDesc = std::unique_ptr<cudnnActivationStruct, ActivationDescDeleter>;

class NhwcConvOp : public CudaOp {
public:
    size_t workspace_bytes() const override { return std::max(algo_.workspace, gemm_ ? gemm_->workspace_bytes() : 0); }
    int64_t tactic() const override { return path_ == Path::kCudnn ? algo_.tactic() : tactic_of(path_); }

    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void* workspace,
                   const CudaLibs& libs) override {
        RT_CUDNN_CHECK(cudnnSetStream(libs.cudnn, libs.stream));
        const void* z = residual_ ? inputs[3].data : nullptr;
        if (path_ == Path::kGemm) return run_gemm(libs.cublaslt, inputs[0].data, z, outputs[0].data, workspace, libs.stream);
        if (path_ == Path::kDepthwise) return run_depthwise(inputs[0].data, z, outputs[0].data, libs.stream);
        if (path_ == Path::kPointwise) return run_pointwise(inputs[0].data, z, outputs[0].data, libs.stream);
        return run(libs.cudnn, inputs[0].data, weights_.get(inputs), z, outputs[0].data, workspace, libs.stream);
    }

    // A pointwise convolution as one cuBLASLt product: Y [pixels, M] = X [pixels, C] W^T + B (+ Z as C), with
    // the ReLU in cuBLASLt's epilogue and any other activation in the channels-last pass.
    Status run_gemm(cublasLtHandle_t handle, const void* x, const void* z, void* y, void* workspace,
                    cudaStream_t stream) const {
        RT_RETURN_IF_ERROR(gemm_->run(handle, stream, x, weights_.constant(), z, y, 1.0f, z ? 1.0f : 0.0f, workspace));
        if (gemm_act_.kind != nn::kActNone) {
            nn::ChannelsLastEpilogueParams p = epilogue_;
            p.y = y;
            p.z = nullptr;
            p.bias = nullptr;
            p.act = gemm_act_;
            RT_RETURN_IF_ERROR(nn::launch_channels_last_epilogue(p, stream));
        }
        return Status();
    }

    Status run_depthwise(const void* x, const void* z, void* y, cudaStream_t stream) const {
        nn::DepthwiseParams p = depthwise_;
        p.x = x;
        p.z = z;
        p.y = y;
        return nn::launch_depthwise_nhwc(p, stream);
    }

    Status run_pointwise(const void* x, const void* z, void* y, cudaStream_t stream) const {
        nn::PointwiseParams p = pointwise_;
        p.x = x;
        p.z = z;
        p.y = y;
        return nn::launch_pointwise_nhwc(p, stream);
    }

    // Runs the given path.
    Status run_path(Path path, const CudaLibs& libs, const void* x, const void* z, void* y, void* ws) const {
        switch (path) {
            case Path::kGemm:
                return run_gemm(libs.cublaslt, x, z, y, ws, libs.stream);
            case Path::kDepthwise:
                return run_depthwise(x, z, y, libs.stream);
            case Path::kPointwise:
                return run_pointwise(x, z, y, libs.stream);
            case Path::kCudnn:
                break;
        }
        return run(libs.cudnn, x, weights_.constant(), z, y, ws, libs.stream);
    }

    // One convolution: cuDNN's fused conv + bias (+ Z) + ReLU when it was found to run, else the convolution
    // followed by the channels-last epilogue.
    Status run(cudnnHandle_t handle, const void* x, const void* w, const void* z, void* y, void* workspace,
               cudaStream_t stream) const {
        const float one = 1.0f, zero = 0.0f;
        void* ws = algo_.workspace ? workspace : nullptr;
        const auto algo = static_cast<cudnnConvolutionFwdAlgo_t>(algo_.algo);
        if (fused_) {
            const float alpha2 = z ? 1.0f : 0.0f;
            RT_CUDNN_CHECK(cudnnConvolutionBiasActivationForward(
                handle, &one, x_desc_.get(), x, w_desc_.get(), w, conv_desc_.get(), algo, ws, algo_.workspace,
                &alpha2, y_desc_.get(), z ? z : y, bias_desc_.get(), bias_typed_.get(), act_desc_.get(), y_desc_.get(),
                y));
            return Status();
        }
        RT_CUDNN_CHECK(cudnnConvolutionForward(handle, &one, x_desc_.get(), x, w_desc_.get(), w, conv_desc_.get(), algo,
                                               ws, algo_.workspace, &zero, y_desc_.get(), y));
        if (epilogue_.bias || z || epilogue_.act.kind != nn::kActNone) {
            nn::ChannelsLastEpilogueParams p = epilogue_;
            p.y = y;
            p.z = z;
            RT_RETURN_IF_ERROR(nn::launch_channels_last_epilogue(p, stream));
        }
        return Status();
    }

    nn::TensorDesc x_desc_, y_desc_, bias_desc_;
    nn::FilterDesc w_desc_;
    nn::ConvDesc conv_desc_;
    ActivationDesc act_desc_;
    nn::ConvAlgo algo_;
    nn::Operand weights_;
    DeviceBuffer bias_;        // float32, for the epilogue
    DeviceBuffer bias_typed_;  // in the activation type, for the fused cuDNN call
    bool residual_ = false;    // input 3 (Z) is added before the activation
    bool fused_ = false;
    std::optional<nn::LtMatmul> gemm_;  // pointwise convolutions: the cuBLASLt candidate
    nn::Activation gemm_act_;           // what the GEMM's epilogue leaves to the channels-last pass
    nn::DepthwiseParams depthwise_;
    DeviceBuffer depthwise_weights_;  // [KH * KW, C]
    nn::PointwiseParams pointwise_;   // pointwise convolutions with few inputs: the direct kernel
    Path path_ = Path::kCudnn;
    nn::ChannelsLastEpilogueParams epilogue_;
};

// Pointwise and depthwise convolutions: measures the other paths (cuBLASLt product, direct kernels) against
// the chosen cuDNN path on scratch buffers and keeps the fastest; the choice goes to the timing cache under
// the layer's signature. A path whose variable (see path_mode) says force is taken without measuring.
Status choose_path(NhwcConvOp& op, const std::vector<std::pair<Path, const char*>>& others, const CudaLibs& libs,
                   const std::string& signature, size_t x_bytes, size_t y_bytes) {
    const std::string key = signature + ":path";
    for (const auto& [path, variable] : others) {
        if (path_mode(variable) == "force") {
            op.path_ = path;
            return Status();
        }
    }
    if (libs.timing_cache) {
        if (auto known = libs.timing_cache->lookup(key)) {
            op.path_ = Path::kCudnn;
            for (const auto& other : others) {
                if (*known == tactic_of(other.first)) op.path_ = other.first;
            }
            return Status();
        }
    }
    auto x = DeviceBuffer::allocate(x_bytes);
    auto y = DeviceBuffer::allocate(y_bytes);
    auto z = DeviceBuffer::allocate(op.residual_ ? y_bytes : 0);
    auto ws = DeviceBuffer::allocate(op.workspace_bytes());
    if (!x || !y || !z || !ws || cudaMemset(x->get(), 0, x_bytes) != cudaSuccess ||
        (op.residual_ && cudaMemset(z->get(), 0, y_bytes) != cudaSuccess)) {
        cudaGetLastError();
        return Status();  // no scratch memory: keep cuDNN
    }
    const void* zp = op.residual_ ? z->get() : nullptr;
    auto measure = [&](Path path) {
        return time_ms(libs.stream, [&] { return op.run_path(path, libs, x->get(), zp, y->get(), ws->get()); });
    };
    RT_ASSIGN_OR_RETURN(float best_ms, measure(Path::kCudnn));
    op.path_ = Path::kCudnn;
    for (const auto& other : others) {
        RT_ASSIGN_OR_RETURN(float ms, measure(other.first));
        if (clearly_faster(ms, best_ms)) {
            best_ms = ms;
            op.path_ = other.first;
        }
    }
    if (libs.timing_cache) {
        libs.timing_cache->record(key, op.path_ == Path::kCudnn ? op.algo_.tactic() : tactic_of(op.path_), best_ms);
    }
    return Status();
}

// Whether cuDNN's fused call runs this configuration: tried once on scratch buffers at create.
bool try_fused(NhwcConvOp& op, cudnnHandle_t handle, size_t x_bytes, size_t y_bytes, bool residual) {
    auto x = DeviceBuffer::allocate(x_bytes);
    auto y = DeviceBuffer::allocate(y_bytes);
    auto z = DeviceBuffer::allocate(residual ? y_bytes : 0);
    auto ws = DeviceBuffer::allocate(op.algo_.workspace);
    if (!x || !y || !z || !ws || cudaMemset(x->get(), 0, x_bytes) != cudaSuccess ||
        (residual && cudaMemset(z->get(), 0, y_bytes) != cudaSuccess)) {
        cudaGetLastError();
        return false;
    }
    op.fused_ = true;
    Status s = op.run(handle, x->get(), op.weights_.constant(), residual ? z->get() : nullptr, y->get(), ws->get(),
                      nullptr);
    if (s.is_ok() && cudaDeviceSynchronize() == cudaSuccess) return true;
    cudaGetLastError();
    op.fused_ = false;
    return false;
}

// Depthwise weights OHWI [C, KH, KW, 1] as [KH * KW, C] in the activation type, on the device.
Expected<DeviceBuffer> tap_major_weights(const ir::Tensor& ohwi, DataType dtype) {
    const int64_t channels = ohwi.dim(0), taps = ohwi.numel() / std::max<int64_t>(channels, 1);
    const size_t es = data_type_size(ohwi.dtype());
    ir::Tensor t(ohwi.dtype(), {taps, channels});
    const auto* src = static_cast<const uint8_t*>(ohwi.raw());
    auto* dst = static_cast<uint8_t*>(t.raw());
    for (int64_t c = 0; c < channels; ++c) {
        for (int64_t k = 0; k < taps; ++k) std::memcpy(dst + (k * channels + c) * es, src + (c * taps + k) * es, es);
    }
    return nn::upload(t, dtype);
}

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
    op->residual_ = setup.has_input(3);
    if (op->residual_ && (setup.inputs[3].dtype != dtype || setup.inputs[3].shape != setup.outputs[0].shape)) {
        return setup.unsupported("residual Z must have the output's type and shape");
    }
    op->epilogue_.half = dtype == DataType::kFloat16;
    op->epilogue_.count = ir::shape_numel(y);
    op->epilogue_.channels = y[1];
    op->epilogue_.act = act;
    if (setup.has_input(2)) {
        RT_ASSIGN_OR_RETURN(std::vector<float> bias, nn::constant_floats(setup, 2, "bias B"));
        RT_ASSIGN_OR_RETURN(op->bias_, nn::upload_floats(bias));
        op->epilogue_.bias = static_cast<const float*>(op->bias_.get());
        if (act.kind == nn::kActRelu) {  // what cuDNN's fused call can apply with any algorithm
            ir::Tensor host(DataType::kFloat32, {static_cast<int64_t>(bias.size())});
            std::copy(bias.begin(), bias.end(), host.data<float>());
            RT_ASSIGN_OR_RETURN(op->bias_typed_, nn::upload(host, dtype));
            RT_ASSIGN_OR_RETURN(op->bias_desc_, nn::make_tensor_desc(dtype, {1, static_cast<int>(y[1]), 1, 1}));
            cudnnActivationDescriptor_t raw = nullptr;
            RT_CUDNN_CHECK(cudnnCreateActivationDescriptor(&raw));
            op->act_desc_.reset(raw);
            RT_CUDNN_CHECK(cudnnSetActivationDescriptor(raw, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0));
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
    if (op->act_desc_ && op->weights_.constant() && fused_enabled()) {
        try_fused(*op, libs.cudnn, search.x_bytes, search.y_bytes, op->residual_);
    }
    const bool pointwise = w[2] == 1 && w[3] == 1 && group == 1 && win.stride[1] == 1 && win.stride[2] == 1 &&
                           win.pad_begin[1] == 0 && win.pad_begin[2] == 0 && op->weights_.constant();
    std::vector<std::pair<Path, const char*>> others;
    if (pointwise && dtype == DataType::kFloat16 && path_mode("RTINFER_CONV_POINTWISE") != "0" &&
        nn::pointwise_supported(static_cast<int>(x[1]), static_cast<int>(y[1]))) {
        nn::PointwiseParams& pw = op->pointwise_;
        pw.w = op->weights_.constant();
        pw.bias = op->epilogue_.bias;
        pw.pixels = ir::shape_numel(x) / x[1];
        pw.inputs = static_cast<int>(x[1]);
        pw.outputs = static_cast<int>(y[1]);
        pw.act = act;
        others.emplace_back(Path::kPointwise, "RTINFER_CONV_POINTWISE");
    }
    if (pointwise && path_mode("RTINFER_CONV_GEMM") != "0") {
        // Y [P, M] = X [P, C] times W [M, C] transposed, P = N * H * W.
        nn::MatmulShape ms;
        ms.dtype = dtype;
        ms.trans_b = true;
        ms.m = ir::shape_numel(x) / x[1];
        ms.k = x[1];
        ms.n = y[1];
        ms.lda = ms.k;
        ms.ldb = ms.k;
        ms.ldc = ms.n;
        if (setup.has_input(2)) {
            if (!op->bias_typed_.get()) {
                ir::Tensor host(DataType::kFloat32, {y[1]});
                RT_ASSIGN_OR_RETURN(std::vector<float> bias, nn::constant_floats(setup, 2, "bias B"));
                std::copy(bias.begin(), bias.end(), host.data<float>());
                RT_ASSIGN_OR_RETURN(op->bias_typed_, nn::upload(host, dtype));
            }
            ms.bias = op->bias_typed_.get();
        }
        ms.relu = act.kind == nn::kActRelu;
        op->gemm_act_ = ms.relu ? nn::Activation{} : act;
        auto gemm = nn::LtMatmul::create(libs.cublaslt, ms, libs.allow_tf32);
        if (gemm.has_value()) {
            op->gemm_ = std::move(gemm).value();
            others.emplace_back(Path::kGemm, "RTINFER_CONV_GEMM");
        }
    }
    if (!others.empty()) {
        RT_RETURN_IF_ERROR(choose_path(*op, others, libs, search.signature, search.x_bytes, search.y_bytes));
    }
    // Depthwise: one filter per channel (group == C == M). An input activation only this path applies.
    const bool depthwise = group > 1 && group == x[1] && w[0] == group && w[1] == 1 && setup.inputs[1].value &&
                           w[2] <= 16 && w[3] <= 16;
    RT_ASSIGN_OR_RETURN(nn::Activation in_act, nn::fused_activation(setup, true));
    if (in_act.kind != nn::kActNone && !depthwise) {
        return setup.unsupported("an input activation needs a depthwise convolution");
    }
    const std::string dw_mode = path_mode("RTINFER_CONV_DEPTHWISE");
    if (depthwise && (dw_mode == "auto" || dw_mode == "force" || in_act.kind != nn::kActNone)) {
        RT_ASSIGN_OR_RETURN(op->depthwise_weights_, tap_major_weights(*setup.inputs[1].value, dtype));
        nn::DepthwiseParams& d = op->depthwise_;
        d.w = op->depthwise_weights_.get();
        d.bias = op->epilogue_.bias;
        d.half = dtype == DataType::kFloat16;
        d.batch = x[0];
        d.channels = static_cast<int>(x[1]);
        d.in_h = static_cast<int>(x[2]);
        d.in_w = static_cast<int>(x[3]);
        d.out_h = static_cast<int>(y[2]);
        d.out_w = static_cast<int>(y[3]);
        d.kernel_h = static_cast<int>(w[2]);
        d.kernel_w = static_cast<int>(w[3]);
        d.stride_h = static_cast<int>(win.stride[1]);
        d.stride_w = static_cast<int>(win.stride[2]);
        d.pad_h = static_cast<int>(win.pad_begin[1]);
        d.pad_w = static_cast<int>(win.pad_begin[2]);
        d.dilation_h = static_cast<int>(win.dilation[1]);
        d.dilation_w = static_cast<int>(win.dilation[2]);
        d.act = act;
        d.in_act = in_act;
        if (in_act.kind != nn::kActNone) {
            op->path_ = Path::kDepthwise;
        } else {
            RT_RETURN_IF_ERROR(choose_path(*op, {{Path::kDepthwise, "RTINFER_CONV_DEPTHWISE"}}, libs, search.signature,
                                           search.x_bytes, search.y_bytes));
        }
    }
    return std::unique_ptr<CudaOp>(std::move(op));
}

}  // namespace

const CudaKernel kNhwcConvCuda = {"NhwcConv", ir::kRtinferDomain, create};

}  // namespace rtinfer::cuda
