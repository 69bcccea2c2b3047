#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/nn/epilogue.cuh"
#include "core/kernels/cuda/nn/nn_device.cuh"

namespace rtinfer::cuda::nn {
namespace {

template <class T>
__global__ void bias_activation_kernel(T* y, int64_t count, int64_t inner, int64_t channels, const void* bias,
                                       bool bias_half, Activation act) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
        float v = load_f(y, i);
        if (bias) {
            const int64_t c = (i / inner) % channels;
            v += bias_half ? load_f(static_cast<const __half*>(bias), c) : load_f(static_cast<const float*>(bias), c);
        }
        store_f(y, i, activate(act, v));
    }
}

// Two channels per thread with 32-bit indexing (count < 2^31, channels even): the common case of a
// half-precision activation, where one 32-bit load brings both.
__global__ void channels_last_half2_kernel(__half2* y, const __half2* z, const float* bias, int32_t pairs,
                                           int32_t channel_pairs, Activation act) {
    for (int32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < pairs; i += gridDim.x * blockDim.x) {
        float2 v = __half22float2(y[i]);
        if (bias) {
            const int32_t c = 2 * (i % channel_pairs);
            v.x += bias[c];
            v.y += bias[c + 1];
        }
        if (z) {
            const float2 r = __half22float2(z[i]);
            v.x += r.x;
            v.y += r.y;
        }
        y[i] = __floats2half2_rn(activate(act, v.x), activate(act, v.y));
    }
}

template <class T>
__global__ void channels_last_kernel(T* y, const T* z, const float* bias, int64_t count, int64_t channels,
                                     Activation act) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
        float v = load_f(y, i);
        if (bias) v += bias[i % channels];
        if (z) v += load_f(z, i);
        store_f(y, i, activate(act, v));
    }
}

template <class T>
__global__ void shift_copy_kernel(T* dst, const T* src, int64_t count, int64_t d0, int64_t d1, int64_t d2, int64_t s0,
                                  int64_t s1, int64_t s2, int64_t o0, int64_t o1, int64_t o2) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t x2 = i % d2 - o2;
        const int64_t x1 = i / d2 % d1 - o1;
        const int64_t r = i / d2 / d1;
        const int64_t x0 = r % d0 - o0;
        const int64_t plane = r / d0;
        T v = T(0.0f);
        if (x0 >= 0 && x0 < s0 && x1 >= 0 && x1 < s1 && x2 >= 0 && x2 < s2) {
            v = src[((plane * s0 + x0) * s1 + x1) * s2 + x2];
        }
        dst[i] = v;
    }
}

template <class T>
__global__ void broadcast_matrix_kernel(T* dst, const T* src, int64_t rows, int64_t cols, int64_t row_stride,
                                        int64_t col_stride) {
    const int64_t count = rows * cols;
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
        dst[i] = src[i / cols * row_stride + i % cols * col_stride];
    }
}

}  // namespace

Status launch_bias_activation(const BiasActParams& p, cudaStream_t stream) {
    if (p.count == 0) return Status();
    if (p.half) {
        bias_activation_kernel<<<grid_for(p.count), kThreads, 0, stream>>>(static_cast<__half*>(p.y), p.count, p.inner,
                                                                           p.channels, p.bias, p.bias_half, p.act);
    } else {
        bias_activation_kernel<<<grid_for(p.count), kThreads, 0, stream>>>(static_cast<float*>(p.y), p.count, p.inner,
                                                                           p.channels, p.bias, p.bias_half, p.act);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

Status launch_channels_last_epilogue(const ChannelsLastEpilogueParams& p, cudaStream_t stream) {
    if (p.count == 0) return Status();
    if (p.half && p.channels % 2 == 0 && p.count < (int64_t(1) << 31)) {
        const int64_t pairs = p.count / 2;
        channels_last_half2_kernel<<<grid_for(pairs), kThreads, 0, stream>>>(
            static_cast<__half2*>(p.y), static_cast<const __half2*>(p.z), p.bias, static_cast<int32_t>(pairs),
            static_cast<int32_t>(p.channels / 2), p.act);
    } else if (p.half) {
        channels_last_kernel<<<grid_for(p.count), kThreads, 0, stream>>>(
            static_cast<__half*>(p.y), static_cast<const __half*>(p.z), p.bias, p.count, p.channels, p.act);
    } else {
        channels_last_kernel<<<grid_for(p.count), kThreads, 0, stream>>>(
            static_cast<float*>(p.y), static_cast<const float*>(p.z), p.bias, p.count, p.channels, p.act);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

Status launch_shift_copy(const ShiftCopyParams& p, cudaStream_t stream) {
    const int64_t count = p.planes * p.dst_dims[0] * p.dst_dims[1] * p.dst_dims[2];
    if (count == 0) return Status();
    if (p.half) {
        shift_copy_kernel<<<grid_for(count), kThreads, 0, stream>>>(
            static_cast<__half*>(p.dst), static_cast<const __half*>(p.src), count, p.dst_dims[0], p.dst_dims[1],
            p.dst_dims[2], p.src_dims[0], p.src_dims[1], p.src_dims[2], p.offset[0], p.offset[1], p.offset[2]);
    } else {
        shift_copy_kernel<<<grid_for(count), kThreads, 0, stream>>>(
            static_cast<float*>(p.dst), static_cast<const float*>(p.src), count, p.dst_dims[0], p.dst_dims[1],
            p.dst_dims[2], p.src_dims[0], p.src_dims[1], p.src_dims[2], p.offset[0], p.offset[1], p.offset[2]);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

Status launch_broadcast_matrix(const BroadcastParams& p, cudaStream_t stream) {
    const int64_t count = p.rows * p.cols;
    if (count == 0) return Status();
    if (p.half) {
        broadcast_matrix_kernel<<<grid_for(count), kThreads, 0, stream>>>(
            static_cast<__half*>(p.dst), static_cast<const __half*>(p.src), p.rows, p.cols, p.row_stride, p.col_stride);
    } else {
        broadcast_matrix_kernel<<<grid_for(count), kThreads, 0, stream>>>(
            static_cast<float*>(p.dst), static_cast<const float*>(p.src), p.rows, p.cols, p.row_stride, p.col_stride);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

}  // namespace rtinfer::cuda::nn
