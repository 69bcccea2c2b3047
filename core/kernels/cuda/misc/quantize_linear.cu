// QuantizeLinear (float32/float16 x to int8/uint8) and DequantizeLinear (int8/uint8/int32 x to float32/float16),
// opsets 10 to 21, with the reference's arithmetic (core/kernels/ref/misc/quantize_linear.cpp) so that both
// give the same bits: y = saturate(round_half_even(x / scale) + zero_point) and y = float(x - zero_point) *
// scale, each operation rounded once in float (explicitly, so that no division is approximated and nothing
// is fused). Scale and zero point are per tensor or per axis; constant ones (the usual case: initializers)
// are copied to the device at create, others are read from their inputs at enqueue. Blocked quantization
// (opset 21 block_size), float8/int4 types and float64 or bfloat16 on the float side run on the reference.
#include <cuda_fp16.h>

#include <algorithm>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/ir/shape_util.h"
#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/misc/kernels.h"

namespace rtinfer::cuda {
namespace {

// The integer types on the quantized side (x of DequantizeLinear, y of QuantizeLinear, zero points).
enum class QType : uint8_t { kNone, kInt8, kUInt8, kInt32 };

// One QuantizeLinear or DequantizeLinear launch. Element i uses scale/zero point (i / inner) % dim; a
// per-tensor one has dim 1.
struct QdqParams {
    const void* x = nullptr;
    void* y = nullptr;
    int64_t n = 0;
    bool half = false;         // the float side (x of QuantizeLinear, y of DequantizeLinear) is float16
    QType q = QType::kInt8;    // the quantized side
    const void* scale = nullptr;
    bool scale_half = false;
    const void* zero_point = nullptr;  // null: zero
    QType zero_point_type = QType::kNone;
    int64_t dim = 1;
    int64_t inner = 1;
};

constexpr int kThreads = 256;

unsigned int blocks_for(int64_t n) {
    return static_cast<unsigned int>(std::min<int64_t>((n + kThreads - 1) / kThreads, int64_t{1} << 20));
}

__device__ __forceinline__ float load_scale(const QdqParams& p, int64_t s) {
    return p.scale_half ? __half2float(static_cast<const __half*>(p.scale)[s]) : static_cast<const float*>(p.scale)[s];
}

__device__ __forceinline__ int32_t load_int(const void* data, QType t, int64_t i) {
    switch (t) {
        case QType::kInt8:
            return static_cast<const int8_t*>(data)[i];
        case QType::kUInt8:
            return static_cast<const uint8_t*>(data)[i];
        case QType::kInt32:
            return static_cast<const int32_t*>(data)[i];
        default:
            return 0;
    }
}

__device__ __forceinline__ int64_t param_index(const QdqParams& p, int64_t i) {
    return p.dim == 1 ? 0 : (i / p.inner) % p.dim;
}

// T is x's type, Q the output's (int8 or uint8).
template <class T, class Q>
__global__ void quantize_kernel(QdqParams p) {
    constexpr float lo = std::is_same_v<Q, uint8_t> ? 0.0f : -128.0f;
    constexpr float hi = std::is_same_v<Q, uint8_t> ? 255.0f : 127.0f;
    const T* x = static_cast<const T*>(p.x);
    Q* y = static_cast<Q*>(p.y);
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < p.n; i += int64_t{gridDim.x} * blockDim.x) {
        const int64_t s = param_index(p, i);
        const float v = static_cast<float>(x[i]);
        // rintf rounds half to even, as std::nearbyint does in the default rounding mode.
        float q = rintf(__fdiv_rn(v, load_scale(p, s)));
        if (p.zero_point) q = __fadd_rn(q, static_cast<float>(load_int(p.zero_point, p.zero_point_type, s)));
        q = q < lo ? lo : (hi < q ? hi : q);  // std::clamp's comparisons
        y[i] = static_cast<Q>(q);
    }
}

template <class T>
__device__ __forceinline__ void store_float(T* y, int64_t i, float v);
template <>
__device__ __forceinline__ void store_float(float* y, int64_t i, float v) {
    y[i] = v;
}
template <>
__device__ __forceinline__ void store_float(__half* y, int64_t i, float v) {
    y[i] = __float2half_rn(v);
}

template <class Q, class T>
__global__ void dequantize_kernel(QdqParams p) {
    const Q* x = static_cast<const Q*>(p.x);
    T* y = static_cast<T*>(p.y);
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < p.n; i += int64_t{gridDim.x} * blockDim.x) {
        const int64_t s = param_index(p, i);
        const int64_t zp = p.zero_point ? load_int(p.zero_point, p.zero_point_type, s) : 0;
        // int32 x minus an int32 zero point needs 64 bits; the difference is rounded to float once.
        const float d = __ll2float_rn(static_cast<long long>(x[i]) - zp);
        store_float(y, i, __fmul_rn(d, load_scale(p, s)));
    }
}

Status launch_quantize_linear(const QdqParams& p, cudaStream_t stream) {
    if (p.n == 0) return Status();
    const unsigned int blocks = blocks_for(p.n);
    if (p.half) {
        if (p.q == QType::kUInt8) {
            quantize_kernel<__half, uint8_t><<<blocks, kThreads, 0, stream>>>(p);
        } else {
            quantize_kernel<__half, int8_t><<<blocks, kThreads, 0, stream>>>(p);
        }
    } else if (p.q == QType::kUInt8) {
        quantize_kernel<float, uint8_t><<<blocks, kThreads, 0, stream>>>(p);
    } else {
        quantize_kernel<float, int8_t><<<blocks, kThreads, 0, stream>>>(p);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

template <class T>
void launch_dequantize_as(const QdqParams& p, unsigned int blocks, cudaStream_t stream) {
    switch (p.q) {
        case QType::kUInt8:
            dequantize_kernel<uint8_t, T><<<blocks, kThreads, 0, stream>>>(p);
            break;
        case QType::kInt32:
            dequantize_kernel<int32_t, T><<<blocks, kThreads, 0, stream>>>(p);
            break;
        default:
            dequantize_kernel<int8_t, T><<<blocks, kThreads, 0, stream>>>(p);
            break;
    }
}

Status launch_dequantize_linear(const QdqParams& p, cudaStream_t stream) {
    if (p.n == 0) return Status();
    const unsigned int blocks = blocks_for(p.n);
    if (p.half) {
        launch_dequantize_as<__half>(p, blocks, stream);
    } else {
        launch_dequantize_as<float>(p, blocks, stream);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

// ---- create ------------------------------------------------------------------------------------------

QType qtype_of(DataType t) {
    switch (t) {
        case DataType::kInt8:
            return QType::kInt8;
        case DataType::kUInt8:
            return QType::kUInt8;
        case DataType::kInt32:
            return QType::kInt32;
        default:
            return QType::kNone;
    }
}

bool is_float_or_half(DataType t) {
    return t == DataType::kFloat32 || t == DataType::kFloat16;
}

Expected<DeviceBuffer> upload_bytes(const void* data, size_t bytes) {
    RT_ASSIGN_OR_RETURN(DeviceBuffer buf, DeviceBuffer::allocate(bytes));
    if (bytes) RT_CUDA_CHECK(cudaMemcpy(buf.get(), data, bytes, cudaMemcpyHostToDevice));
    return Expected<DeviceBuffer>(std::move(buf));
}

class QdqCudaOp final : public CudaOp {
public:
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        QdqParams p = params_;
        p.x = inputs[0].data;
        p.y = outputs[0].data;
        if (!scale_.get()) p.scale = inputs[1].data;
        if (p.zero_point_type != QType::kNone && !zero_point_.get()) p.zero_point = inputs[2].data;
        return quantize_ ? launch_quantize_linear(p, libs.stream) : launch_dequantize_linear(p, libs.stream);
    }

    bool quantize_ = true;
    QdqParams params_;
    DeviceBuffer scale_, zero_point_;  // constant scale (float32) and zero point (int32) on the device
};

// Checks what both ops share and fills the layout, the scale and the zero point of op->params_. `q` is the
// quantized side's type, which a zero point must have.
Status prepare_common(const OpSetup& setup, DataType q, QdqCudaOp* op) {
    if (!setup.has_input(0) || !setup.has_input(1) || setup.inputs.size() < 2) {
        return setup.unsupported("needs x and scale");
    }
    if (setup.outputs.empty() || !setup.outputs[0].shape_known) {
        return setup.unsupported("the output shape is not known");
    }
    const int64_t block = setup.opset >= 21 ? setup.node.attr_int("block_size", 0) : 0;
    if (block != 0) {
        return setup.unsupported("blocked quantization (block_size " + std::to_string(block) + ") has no CUDA kernel");
    }
    const ir::InputInfo& x = setup.inputs[0];
    const ir::InputInfo& scale = setup.inputs[1];
    if (setup.outputs[0].shape != x.shape) return setup.unsupported("the output shape differs from x");
    if (!is_float_or_half(scale.dtype)) {
        return setup.unsupported(std::string("scale of type ") + data_type_name(scale.dtype) + " has no CUDA kernel");
    }
    const bool has_zp = setup.has_input(2) && setup.inputs.size() > 2;
    if (has_zp) {
        const ir::InputInfo& zp = setup.inputs[2];
        if (zp.dtype != q) {
            return setup.unsupported(std::string("zero point of type ") + data_type_name(zp.dtype) + " with " +
                                     data_type_name(q));
        }
        if (zp.shape != scale.shape) return setup.unsupported("zero point and scale differ in shape");
    }

    QdqParams& p = op->params_;
    p.n = ir::shape_numel(x.shape);
    const int64_t count = ir::shape_numel(scale.shape);
    if (count != 1 || scale.shape.size() > 1) {
        // Per axis: 1-D, one per element of x along `axis` (opset 13+); anything else is the reference's to
        // judge (and report).
        auto axis = ir::normalize_axis(setup.node.attr_int("axis", 1), static_cast<int>(x.shape.size()));
        if (setup.opset < 13 || !axis || scale.shape.size() != 1 || scale.shape[0] != x.shape[*axis]) {
            return setup.unsupported("scale " + ir::shape_str(scale.shape) +
                                     " is neither per tensor nor per axis of x " + ir::shape_str(x.shape));
        }
        p.dim = x.shape[*axis];
        for (size_t i = static_cast<size_t>(*axis) + 1; i < x.shape.size(); ++i) p.inner *= x.shape[i];
    }

    p.scale_half = scale.dtype == DataType::kFloat16;
    if (scale.value) {
        const std::vector<double> values = ir::to_doubles(*scale.value);
        const std::vector<float> f(values.begin(), values.end());
        RT_ASSIGN_OR_RETURN(op->scale_, upload_bytes(f.data(), f.size() * sizeof(float)));
        p.scale = op->scale_.get();
        p.scale_half = false;
    }
    if (has_zp) {
        p.zero_point_type = qtype_of(q);
        if (const ir::Tensor* zp = setup.inputs[2].value) {
            const std::vector<int64_t> values = ir::to_int64s(*zp);
            const std::vector<int32_t> v(values.begin(), values.end());
            RT_ASSIGN_OR_RETURN(op->zero_point_, upload_bytes(v.data(), v.size() * sizeof(int32_t)));
            p.zero_point = op->zero_point_.get();
            p.zero_point_type = QType::kInt32;
        }
    }
    return Status();
}

Expected<std::unique_ptr<CudaOp>> quantize_create(const OpSetup& setup, const CudaLibs&) {
    if (setup.inputs.empty() || setup.outputs.empty()) return setup.unsupported("needs x and y");
    const DataType xt = setup.inputs[0].dtype;
    const DataType yt = setup.outputs[0].dtype;
    if (!is_float_or_half(xt)) {
        return setup.unsupported(std::string("x of type ") + data_type_name(xt) + " has no CUDA kernel");
    }
    if (yt != DataType::kInt8 && yt != DataType::kUInt8) {
        return setup.unsupported(std::string("y of type ") + data_type_name(yt) + " has no CUDA kernel");
    }
    auto op = std::make_unique<QdqCudaOp>();
    op->quantize_ = true;
    op->params_.half = xt == DataType::kFloat16;
    op->params_.q = qtype_of(yt);
    RT_RETURN_IF_ERROR(prepare_common(setup, yt, op.get()));
    return std::unique_ptr<CudaOp>(std::move(op));
}

Expected<std::unique_ptr<CudaOp>> dequantize_create(const OpSetup& setup, const CudaLibs&) {
    if (setup.inputs.empty() || setup.outputs.empty()) return setup.unsupported("needs x and y");
    const DataType xt = setup.inputs[0].dtype;
    const DataType yt = setup.outputs[0].dtype;
    if (qtype_of(xt) == QType::kNone) {
        return setup.unsupported(std::string("x of type ") + data_type_name(xt) + " has no CUDA kernel");
    }
    if (!is_float_or_half(yt)) {
        return setup.unsupported(std::string("y of type ") + data_type_name(yt) + " has no CUDA kernel");
    }
    auto op = std::make_unique<QdqCudaOp>();
    op->quantize_ = false;
    op->params_.half = yt == DataType::kFloat16;
    op->params_.q = qtype_of(xt);
    RT_RETURN_IF_ERROR(prepare_common(setup, xt, op.get()));
    return std::unique_ptr<CudaOp>(std::move(op));
}

}  // namespace

const CudaKernel kQuantizeLinearCuda = {"QuantizeLinear", "", quantize_create};
const CudaKernel kDequantizeLinearCuda = {"DequantizeLinear", "", dequantize_create};

}  // namespace rtinfer::cuda
