// LayerNormalization, InstanceNormalization and GroupNormalization: one kernel normalizes rows (one block per
// row, float statistics from block reductions, two passes for the variance) and applies per-element
// (LayerNormalization) or per-channel (Instance/GroupNormalization) scale and bias, then the fused activation.
// Scale and bias must be constants; they are expanded on the host to what the row indexes.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/ir/shape_util.h"
#include "core/kernels/cuda/nn/kernels.h"
#include "core/kernels/cuda/nn/nn_cuda_util.h"
#include "core/kernels/cuda/nn/nn_device.cuh"

namespace rtinfer::cuda {
namespace nn {

// Row r, element i uses parameter (r % row_groups) * params_per_row + i / param_div.
struct RowNormParams {
    const void* x = nullptr;
    void* y = nullptr;
    bool half = false;
    int64_t rows = 0;
    int64_t row_len = 0;
    float epsilon = 1e-5f;
    const float* scale = nullptr;
    const float* bias = nullptr;  // may be null
    int64_t param_div = 1;
    int64_t row_groups = 1;
    int64_t params_per_row = 0;
    float* mean = nullptr;  // optional per-row outputs
    float* inv_std = nullptr;
    Activation act;
};

namespace {

template <class T>
__global__ void row_norm_kernel(const T* x, T* y, RowNormParams p) {
    const int64_t row = blockIdx.x;
    const T* src = x + row * p.row_len;
    T* dst = y + row * p.row_len;
    float sum = 0.0f;
    for (int64_t i = threadIdx.x; i < p.row_len; i += blockDim.x) sum += load_f(src, i);
    const float mean = block_reduce<false>(sum) / static_cast<float>(p.row_len);
    float sq = 0.0f;
    for (int64_t i = threadIdx.x; i < p.row_len; i += blockDim.x) {
        const float d = load_f(src, i) - mean;
        sq += d * d;
    }
    const float inv = rsqrtf(block_reduce<false>(sq) / static_cast<float>(p.row_len) + p.epsilon);
    const int64_t base = row % p.row_groups * p.params_per_row;
    for (int64_t i = threadIdx.x; i < p.row_len; i += blockDim.x) {
        const int64_t j = base + i / p.param_div;
        float v = (load_f(src, i) - mean) * inv * p.scale[j];
        if (p.bias) v += p.bias[j];
        store_f(dst, i, activate(p.act, v));
    }
    if (threadIdx.x == 0) {
        if (p.mean) p.mean[row] = mean;
        if (p.inv_std) p.inv_std[row] = inv;
    }
}

// Rows of up to kWarpRowVecs 16-byte vectors per lane (1024 float16 or float32 values): one warp per row, the
// row held in registers (one read of x), statistics by warp shuffles, 16-byte loads and stores. LayerNorm in
// transformers (rows of 384 to 1024) spends its time here; the block-per-row kernel above serves the rest.
constexpr int kWarpRowVecs = 8;
constexpr int kWarpRowsPerBlock = 4;

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

template <class T>
__global__ void warp_row_norm_kernel(const T* x, T* y, RowNormParams p, int vecs) {
    constexpr int kElems = 16 / sizeof(T);  // values per 16-byte vector
    const int lane = threadIdx.x & 31;
    const int64_t row = blockIdx.x * int64_t{kWarpRowsPerBlock} + threadIdx.x / 32;
    if (row >= p.rows) return;
    const T* src = x + row * p.row_len;
    T* dst = y + row * p.row_len;
    float v[kWarpRowVecs * kElems];
    float sum = 0.0f;
#pragma unroll
    for (int k = 0; k < kWarpRowVecs; ++k) {
        if (k >= vecs) break;
        const int64_t at = (int64_t{k} * 32 + lane) * kElems;
        const uint4 raw = *reinterpret_cast<const uint4*>(src + at);
        const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
        for (int j = 0; j < kElems; ++j) {
            v[k * kElems + j] = load_f(e, j);
            sum += v[k * kElems + j];
        }
    }
    const float n = static_cast<float>(p.row_len);
    const float mean = warp_sum(sum) / n;
    float sq = 0.0f;
#pragma unroll
    for (int k = 0; k < kWarpRowVecs; ++k) {
        if (k >= vecs) break;
#pragma unroll
        for (int j = 0; j < kElems; ++j) {
            const float d = v[k * kElems + j] - mean;
            sq += d * d;
        }
    }
    const float inv = rsqrtf(warp_sum(sq) / n + p.epsilon);
#pragma unroll
    for (int k = 0; k < kWarpRowVecs; ++k) {
        if (k >= vecs) break;
        const int64_t at = (int64_t{k} * 32 + lane) * kElems;
        uint4 raw;
        T* e = reinterpret_cast<T*>(&raw);
#pragma unroll
        for (int j = 0; j < kElems; ++j) {
            float r = (v[k * kElems + j] - mean) * inv * p.scale[at + j];
            if (p.bias) r += p.bias[at + j];
            store_f(e, j, activate(p.act, r));
        }
        *reinterpret_cast<uint4*>(dst + at) = raw;
    }
    if (lane == 0) {
        if (p.mean) p.mean[row] = mean;
        if (p.inv_std) p.inv_std[row] = inv;
    }
}

// Whether the warp-per-row kernel takes these rows: per-element parameters, whole 16-byte vectors per lane,
// aligned buffers.
int warp_row_vecs(const RowNormParams& p) {
    const int64_t elems = p.half ? 8 : 4;
    const int64_t per_warp = 32 * elems;
    if (p.param_div != 1 || p.row_groups != 1 || p.row_len % per_warp != 0 || p.row_len / per_warp > kWarpRowVecs)
        return 0;
    const auto aligned = [](const void* q) { return reinterpret_cast<uintptr_t>(q) % 16 == 0; };
    if (!aligned(p.x) || !aligned(p.y)) return 0;
    return static_cast<int>(p.row_len / per_warp);
}

}  // namespace

Status launch_row_norm(const RowNormParams& p, cudaStream_t stream) {
    if (const int vecs = warp_row_vecs(p)) {
        const unsigned blocks = static_cast<unsigned>((p.rows + kWarpRowsPerBlock - 1) / kWarpRowsPerBlock);
        const unsigned threads = 32 * kWarpRowsPerBlock;
        if (p.half) {
            warp_row_norm_kernel<<<blocks, threads, 0, stream>>>(static_cast<const __half*>(p.x),
                                                                 static_cast<__half*>(p.y), p, vecs);
        } else {
            warp_row_norm_kernel<<<blocks, threads, 0, stream>>>(static_cast<const float*>(p.x),
                                                                 static_cast<float*>(p.y), p, vecs);
        }
        RT_CUDA_CHECK_LAUNCH();
        return Status();
    }
    // A warp multiple, up to 512 threads, fewer for short rows.
    const int64_t threads = std::min<int64_t>(512, std::max<int64_t>(32, (p.row_len + 31) / 32 * 32));
    const unsigned blocks = static_cast<unsigned>(p.rows);
    if (p.half) {
        row_norm_kernel<<<blocks, static_cast<unsigned>(threads), 0, stream>>>(static_cast<const __half*>(p.x),
                                                                               static_cast<__half*>(p.y), p);
    } else {
        row_norm_kernel<<<blocks, static_cast<unsigned>(threads), 0, stream>>>(static_cast<const float*>(p.x),
                                                                               static_cast<float*>(p.y), p);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

}  // namespace nn

namespace {

class RowNormOp : public CudaOp {
public:
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        nn::RowNormParams p = p_;
        p.x = inputs[0].data;
        p.y = outputs[0].data;
        if (outputs.size() > 1) p.mean = static_cast<float*>(outputs[1].data);
        if (outputs.size() > 2) p.inv_std = static_cast<float*>(outputs[2].data);
        return nn::launch_row_norm(p, libs.stream);
    }

    nn::RowNormParams p_;
    DeviceBuffer scale_, bias_;
};

Status check_common(const OpSetup& setup) {
    const DataType dtype = setup.inputs[0].dtype;
    if (!nn::is_float_or_half(dtype) || setup.outputs[0].dtype != dtype) {
        return setup.unsupported(std::string("type ") + data_type_name(dtype) + " is not supported on CUDA");
    }
    if (nn::has_empty_tensor(setup)) return setup.unsupported("empty tensors run on the reference");
    return Status();
}

Expected<std::unique_ptr<CudaOp>> finish(const OpSetup& setup, std::unique_ptr<RowNormOp> op,
                                         const std::vector<float>& scale, const std::vector<float>& bias) {
    if (op->p_.rows > 0x7fffffff) return setup.unsupported("more rows than one grid holds");
    RT_ASSIGN_OR_RETURN(op->scale_, nn::upload_floats(scale));
    op->p_.scale = static_cast<const float*>(op->scale_.get());
    if (!bias.empty()) {
        RT_ASSIGN_OR_RETURN(op->bias_, nn::upload_floats(bias));
        op->p_.bias = static_cast<const float*>(op->bias_.get());
    }
    RT_ASSIGN_OR_RETURN(op->p_.act, nn::fused_activation(setup));
    op->p_.half = setup.inputs[0].dtype == DataType::kFloat16;
    op->p_.epsilon = setup.node.attr_float("epsilon", 1e-5f);
    return std::unique_ptr<CudaOp>(std::move(op));
}

// A parameter broadcast to the normalized shape, as floats.
Expected<std::vector<float>> expand(const OpSetup& setup, size_t input, const ir::Shape& normalized, const char* what) {
    RT_ASSIGN_OR_RETURN(std::vector<float> v, nn::constant_floats(setup, input, what));
    const ir::Shape& shape = setup.inputs[input].shape;
    auto b = ir::broadcast_shapes(shape, normalized);
    if (shape.size() > normalized.size() || !b || *b != normalized) {
        return setup.unsupported(std::string(what) + " does not broadcast to the normalized shape");
    }
    std::vector<float> out(static_cast<size_t>(ir::shape_numel(normalized)));
    ir::for_each_broadcast(normalized, {shape}, [&](int64_t i, int64_t off, int64_t, int64_t) {
        out[static_cast<size_t>(i)] = v[static_cast<size_t>(off)];
    });
    return out;
}

Expected<std::unique_ptr<CudaOp>> create_layer_norm(const OpSetup& setup, const CudaLibs&) {
    RT_RETURN_IF_ERROR(check_common(setup));
    const ir::Shape& x = setup.inputs[0].shape;
    auto axis = ir::normalize_axis(setup.node.attr_int("axis", -1), static_cast<int>(x.size()));
    if (!axis || x.empty()) return setup.unsupported("axis out of range");
    for (size_t i = 1; i < setup.outputs.size() && i < 3; ++i) {
        if (!setup.node.outputs[i].empty() && setup.outputs[i].dtype != DataType::kFloat32) {
            return setup.unsupported("Mean and InvStdDev must be float32");
        }
    }
    const ir::Shape normalized(x.begin() + *axis, x.end());
    RT_ASSIGN_OR_RETURN(std::vector<float> scale, expand(setup, 1, normalized, "Scale"));
    std::vector<float> bias;
    if (setup.has_input(2)) {
        RT_ASSIGN_OR_RETURN(bias, expand(setup, 2, normalized, "B"));
    }
    auto op = std::make_unique<RowNormOp>();
    op->p_.row_len = ir::shape_numel(normalized);
    op->p_.rows = ir::shape_numel(x) / op->p_.row_len;
    op->p_.param_div = 1;
    op->p_.row_groups = 1;
    return finish(setup, std::move(op), scale, bias);
}

Expected<std::unique_ptr<CudaOp>> create_grouped(const OpSetup& setup, bool instance) {
    RT_RETURN_IF_ERROR(check_common(setup));
    if (setup.outputs.size() > 1) return setup.unsupported("extra outputs");
    const ir::Shape& x = setup.inputs[0].shape;
    if (x.size() < 2) return setup.unsupported("X must be [N, C, ...]");
    const int64_t channels = x[1];
    const int64_t groups = instance ? channels : setup.node.attr_int("num_groups", 0);
    if (groups <= 0 || channels % groups != 0) return setup.unsupported("num_groups does not divide the channels");
    const int64_t per_group = channels / groups;
    RT_ASSIGN_OR_RETURN(std::vector<float> scale, nn::constant_floats(setup, 1, "scale"));
    RT_ASSIGN_OR_RETURN(std::vector<float> bias, nn::constant_floats(setup, 2, "bias"));
    // Per group (GroupNormalization before opset 21) becomes per channel.
    for (std::vector<float>* v : {&scale, &bias}) {
        if (static_cast<int64_t>(v->size()) == channels) continue;
        if (static_cast<int64_t>(v->size()) != groups) return setup.unsupported("scale/bias sizes");
        std::vector<float> per_channel(static_cast<size_t>(channels));
        for (int64_t c = 0; c < channels; ++c) per_channel[c] = (*v)[c / per_group];
        v->swap(per_channel);
    }
    auto op = std::make_unique<RowNormOp>();
    const int64_t inner = ir::shape_numel(x) / (x[0] * channels);
    op->p_.rows = x[0] * groups;
    op->p_.row_len = per_group * inner;
    op->p_.param_div = inner;
    op->p_.row_groups = groups;
    op->p_.params_per_row = per_group;
    return finish(setup, std::move(op), scale, bias);
}

Expected<std::unique_ptr<CudaOp>> create_instance_norm(const OpSetup& setup, const CudaLibs&) {
    return create_grouped(setup, true);
}
Expected<std::unique_ptr<CudaOp>> create_group_norm(const OpSetup& setup, const CudaLibs&) {
    return create_grouped(setup, false);
}

}  // namespace

const CudaKernel kLayerNormalizationCuda = {"LayerNormalization", "", create_layer_norm};
const CudaKernel kInstanceNormalizationCuda = {"InstanceNormalization", "", create_instance_norm};
const CudaKernel kGroupNormalizationCuda = {"GroupNormalization", "", create_group_norm};

}  // namespace rtinfer::cuda
