// rtinfer.Int8Conv on CUDA: the tensor-core kernel of int8_conv.cu (see the reference kernel for the op).
// create() uploads W, alpha and B, and chooses the tile shape by measurement on scratch buffers (the choice
// goes to the timing cache under the layer's signature). RTINFER_INT8_CONV_TILE=i takes tile i without
// measuring (tests run every tile this way).
#include <cstdlib>
#include <limits>
#include <string>

#include "core/ir/fused_activation.h"
#include "core/kernels/cuda/nn/int8_conv.h"
#include "core/kernels/cuda/nn/kernels.h"
#include "core/kernels/cuda/nn/nn_cuda_util.h"
#include "core/kernels/cuda/tactic_timing.h"
#include "core/kernels/cuda/timing_cache.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::cuda {
namespace {

namespace refnn = rtinfer::ref::nn;

constexpr int64_t kOnnxFloat16 = 10;

class Int8ConvOp : public CudaOp {
public:
    int64_t tactic() const override { return tile_; }

    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        nn::Int8ConvParams p = params_;
        p.x = static_cast<const int8_t*>(inputs[0].data);
        p.z = p.z_kind == nn::Int8Residual::kNone ? nullptr : inputs[4].data;
        p.y = outputs[0].data;
        return nn::launch_int8_conv(p, tile_, libs.stream);
    }

    nn::Int8ConvParams params_;
    DeviceBuffer weights_, alpha_, bias_;
    int tile_ = 0;
};

// The tile shape: forced, from the timing cache, or the fastest on scratch buffers.
Status choose_tile(Int8ConvOp& op, const CudaLibs& libs, const std::string& signature, size_t x_bytes,
                   size_t y_bytes, size_t z_bytes) {
    if (const char* forced = std::getenv("RTINFER_INT8_CONV_TILE")) {
        const int tile = std::atoi(forced);
        if (tile < 0 || tile >= nn::int8_conv_tile_count()) {
            return Status(StatusCode::kInvalidArgument, "RTINFER_INT8_CONV_TILE=" + std::string(forced) + ": no such tile");
        }
        op.tile_ = tile;
        return Status();
    }
    if (libs.timing_cache) {
        if (auto known = libs.timing_cache->lookup(signature)) {
            if (*known >= 0 && *known < nn::int8_conv_tile_count()) {
                op.tile_ = static_cast<int>(*known);
                return Status();
            }
        }
    }
    RT_ASSIGN_OR_RETURN(DeviceBuffer x, DeviceBuffer::allocate(x_bytes));
    RT_ASSIGN_OR_RETURN(DeviceBuffer y, DeviceBuffer::allocate(y_bytes));
    RT_ASSIGN_OR_RETURN(DeviceBuffer z, DeviceBuffer::allocate(z_bytes));
    RT_CUDA_CHECK(cudaMemsetAsync(x.get(), 0, x_bytes, libs.stream));
    if (z_bytes) RT_CUDA_CHECK(cudaMemsetAsync(z.get(), 0, z_bytes, libs.stream));
    nn::Int8ConvParams p = op.params_;
    p.x = static_cast<const int8_t*>(x.get());
    p.y = y.get();
    p.z = z_bytes ? z.get() : nullptr;
    float best_ms = std::numeric_limits<float>::infinity();
    for (int tile = 0; tile < nn::int8_conv_tile_count(); ++tile) {
        RT_ASSIGN_OR_RETURN(float ms, time_ms(libs.stream, [&] { return nn::launch_int8_conv(p, tile, libs.stream); }));
        if (tile == 0 || clearly_faster(ms, best_ms)) {
            best_ms = ms;
            op.tile_ = tile;
        }
    }
    if (libs.timing_cache) libs.timing_cache->record(signature, op.tile_, best_ms);
    return Status();
}

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs& libs) {
    const ir::Node& node = setup.node;
    if (!nn::int8_conv_supported()) return setup.unsupported("int8 tensor-core convolutions need compute capability 8.0");
    if (setup.inputs[0].dtype != DataType::kInt8 || setup.inputs[1].dtype != DataType::kInt8) {
        return setup.unsupported("X and W must be int8");
    }
    if (!setup.inputs[1].value || !setup.inputs[2].value || (setup.has_input(3) && !setup.inputs[3].value)) {
        return setup.unsupported("W, alpha and B must be constants");
    }
    const ir::Shape& x = setup.inputs[0].shape;
    const ir::Shape& w = setup.inputs[1].shape;
    const ir::Shape& y = setup.outputs[0].shape;
    if (x.size() != 4 || w.size() != 4 || y.size() != 4) return setup.unsupported("X, W and Y must be 4-D");
    if (!nn::int8_conv_shape_supported(static_cast<int>(x[3]), static_cast<int>(w[0]))) {
        return setup.unsupported("input channels must be a multiple of 16 and outputs of 8");
    }
    refnn::Window win;
    RT_RETURN_IF_ERROR(refnn::conv_geometry(node, {x[0], x[3], x[1], x[2]}, {w[0], w[3], w[1], w[2]}, win));
    for (int d = 1; d < refnn::kMaxSpatial; ++d) {
        if (win.pad_begin[d] != win.pad_end[d]) return setup.unsupported("asymmetric padding");
    }
    for (int64_t v : {ir::shape_numel(x), ir::shape_numel(y), ir::shape_numel(w)}) {
        if (v >= (int64_t(1) << 31)) return setup.unsupported("tensors beyond the int range");
    }
    const ir::FusedActivationParams act = ir::read_activation(node, "rt_int8_activation", "rt_int8_");

    auto op = std::make_unique<Int8ConvOp>();
    nn::Int8ConvParams& p = op->params_;
    switch (act.act) {
        case ir::FusedActivation::kNone:
            break;
        case ir::FusedActivation::kRelu:
            p.lo = 0.0f;
            break;
        case ir::FusedActivation::kClip:
            p.lo = act.clip_min;
            p.hi = act.clip_max;
            break;
        case ir::FusedActivation::kSigmoid:
            p.act = nn::Int8Activation::kSigmoid;
            break;
        case ir::FusedActivation::kSilu:
            p.act = nn::Int8Activation::kSilu;
            break;
        case ir::FusedActivation::kHardSwish:
            p.act = nn::Int8Activation::kHardSwish;
            break;
        case ir::FusedActivation::kLeakyRelu:
            p.act = nn::Int8Activation::kLeakyRelu;
            p.act_alpha = act.alpha;
            break;
        default:
            return setup.unsupported("GELU does not fuse into the int8 convolution");
    }
    const DataType out = setup.outputs[0].dtype;
    if (node.attrs.count("rt_output_scale")) {
        if (out != DataType::kInt8) return setup.unsupported("an output scale needs an int8 output");
        p.store = nn::Int8Store::kInt8;
        p.out_scale = node.attr_float("rt_output_scale", 1.0f);
    } else if (out == DataType::kFloat16 && node.attr_int("rt_output_type", 1) == kOnnxFloat16) {
        p.store = nn::Int8Store::kHalf;
    } else if (out == DataType::kFloat32) {
        p.store = nn::Int8Store::kFloat;
    } else {
        return setup.unsupported(std::string("output type ") + data_type_name(out));
    }
    if (setup.has_input(4)) {
        if (setup.inputs[4].shape != y) return setup.unsupported("residual Z must have the output's shape");
        switch (setup.inputs[4].dtype) {
            case DataType::kInt8:
                p.z_kind = nn::Int8Residual::kInt8;
                p.z_scale = node.attr_float("rt_z_scale", 1.0f);
                break;
            case DataType::kFloat16:
                p.z_kind = nn::Int8Residual::kHalf;
                break;
            case DataType::kFloat32:
                p.z_kind = nn::Int8Residual::kFloat;
                break;
            default:
                return setup.unsupported("residual Z must be int8, float16 or float32");
        }
    }
    p.batch = static_cast<int>(x[0]);
    p.in_h = static_cast<int>(x[1]);
    p.in_w = static_cast<int>(x[2]);
    p.in_c = static_cast<int>(x[3]);
    p.out_h = static_cast<int>(y[1]);
    p.out_w = static_cast<int>(y[2]);
    p.out_c = static_cast<int>(y[3]);
    p.kernel_h = static_cast<int>(w[1]);
    p.kernel_w = static_cast<int>(w[2]);
    p.stride_h = static_cast<int>(win.stride[1]);
    p.stride_w = static_cast<int>(win.stride[2]);
    p.pad_h = static_cast<int>(win.pad_begin[1]);
    p.pad_w = static_cast<int>(win.pad_begin[2]);
    p.dilation_h = static_cast<int>(win.dilation[1]);
    p.dilation_w = static_cast<int>(win.dilation[2]);
    if (y[1] != win.out[1] || y[2] != win.out[2]) return setup.unsupported("the output shape does not match the geometry");

    RT_ASSIGN_OR_RETURN(op->weights_, nn::upload(*setup.inputs[1].value, DataType::kInt8));
    RT_ASSIGN_OR_RETURN(std::vector<float> alpha, nn::constant_floats(setup, 2, "alpha"));
    RT_ASSIGN_OR_RETURN(op->alpha_, nn::upload_floats(alpha));
    p.w = static_cast<const int8_t*>(op->weights_.get());
    p.alpha = static_cast<const float*>(op->alpha_.get());
    if (setup.has_input(3)) {
        RT_ASSIGN_OR_RETURN(std::vector<float> bias, nn::constant_floats(setup, 3, "bias B"));
        RT_ASSIGN_OR_RETURN(op->bias_, nn::upload_floats(bias));
        p.bias = static_cast<const float*>(op->bias_.get());
    }
    RT_RETURN_IF_ERROR(nn::int8_conv_prepare());

    const std::string signature =
        std::string("Int8Conv:x") + ir::shape_str(x) + ":w" + ir::shape_str(w) + ":y" + ir::shape_str(y) + ":s" +
        ir::shape_str(node.attr_ints("strides")) + ":d" + ir::shape_str(node.attr_ints("dilations")) + ":p" +
        ir::shape_str(node.attr_ints("pads")) + ":z" + std::to_string(static_cast<int>(p.z_kind)) + ":o" +
        std::to_string(static_cast<int>(p.store));
    const size_t z_bytes = setup.has_input(4) ? static_cast<size_t>(ir::shape_numel(y)) * data_type_size(setup.inputs[4].dtype) : 0;
    RT_RETURN_IF_ERROR(choose_tile(*op, libs, signature, static_cast<size_t>(ir::shape_numel(x)),
                                   static_cast<size_t>(ir::shape_numel(y)) * data_type_size(out), z_bytes));
    return std::unique_ptr<CudaOp>(std::move(op));
}

}  // namespace

const CudaKernel kInt8ConvCuda = {"Int8Conv", ir::kRtinferDomain, create};

}  // namespace rtinfer::cuda
