#include "pipelines/preprocess/cuda_preprocess.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

namespace rtinfer::pipelines {

namespace {

Status cuda_status(cudaError_t err, const char* call) {
    return Status(StatusCode::kCudaError, std::string("pre-processing: ") + call + ": " + cudaGetErrorString(err));
}

#define RT_PRE_CUDA_CHECK(expr)                                         \
    do {                                                                \
        const cudaError_t rt_err_ = (expr);                             \
        if (rt_err_ != cudaSuccess) return cuda_status(rt_err_, #expr); \
    } while (0)

// Everything the kernel needs, folded on the host: the colour coefficients and the placement are computed
// there exactly as the CPU version computes them, so both sample the same positions.
struct KernelParams {
    PixelFormat format;
    int frame_width, frame_height;
    const uint8_t* planes[3];
    int strides[3];
    float y_scale, c_scale, y_offset, kr, kb;
    int width, height;
    float offset_x, offset_y, scale_x, scale_y;
    float x0, x1, y0, y1;  // the placed image's extent; outside it, the pad value
    float pad;
    config::ColorOrder color;
    int channels;
    bool nchw;
    float scale;
    float mean[3], std[3];
    float* out;
};

struct Rgb {
    float r, g, b;
};

__device__ __forceinline__ Rgb yuv_to_rgb(const KernelParams& p, uint8_t y8, uint8_t u8, uint8_t v8) {
    const float y = (float(y8) - p.y_offset) * p.y_scale;
    const float u = (float(u8) - 128.0f) * p.c_scale, v = (float(v8) - 128.0f) * p.c_scale;
    const float kg = 1.0f - p.kr - p.kb;
    const float r = y + 2.0f * (1.0f - p.kr) * v;
    const float b = y + 2.0f * (1.0f - p.kb) * u;
    const float g = __fdiv_rn(y - p.kr * r - p.kb * b, kg);
    return {fminf(255.0f, fmaxf(0.0f, r)), fminf(255.0f, fmaxf(0.0f, g)), fminf(255.0f, fmaxf(0.0f, b))};
}

// Pixel (x, y) as RGB in 0..255, not rounded. The switch is uniform across a launch, so it does not diverge.
__device__ __forceinline__ Rgb read_pixel(const KernelParams& p, int x, int y) {
    const uint8_t* row = p.planes[0] + static_cast<size_t>(y) * p.strides[0];
    switch (p.format) {
        case PixelFormat::kRgb:
            return {float(row[3 * x]), float(row[3 * x + 1]), float(row[3 * x + 2])};
        case PixelFormat::kBgr:
            return {float(row[3 * x + 2]), float(row[3 * x + 1]), float(row[3 * x])};
        case PixelFormat::kRgba:
            return {float(row[4 * x]), float(row[4 * x + 1]), float(row[4 * x + 2])};
        case PixelFormat::kBgrx:
            return {float(row[4 * x + 2]), float(row[4 * x + 1]), float(row[4 * x])};
        case PixelFormat::kGray8: {
            const float v = float(row[x]);
            return {v, v, v};
        }
        case PixelFormat::kNv12: {
            const uint8_t* uv = p.planes[1] + static_cast<size_t>(y / 2) * p.strides[1] + 2 * (x / 2);
            return yuv_to_rgb(p, row[x], uv[0], uv[1]);
        }
        case PixelFormat::kI420: {
            const size_t chroma = static_cast<size_t>(y / 2);
            return yuv_to_rgb(p, row[x], p.planes[1][chroma * p.strides[1] + x / 2],
                              p.planes[2][chroma * p.strides[2] + x / 2]);
        }
    }
    return {0.0f, 0.0f, 0.0f};
}

// One thread per output pixel, all its channels. The arithmetic is the CPU version's, operation for
// operation (the library is compiled without FMA contraction), so the two agree to the last bit or nearly.
__global__ void preprocess_kernel(const KernelParams p) {
    const int ox = blockIdx.x * blockDim.x + threadIdx.x;
    const int oy = blockIdx.y * blockDim.y + threadIdx.y;
    if (ox >= p.width || oy >= p.height) return;
    float rgb[3];
    if (ox < p.x0 || ox >= p.x1 || oy < p.y0 || oy >= p.y1) {
        rgb[0] = rgb[1] = rgb[2] = p.pad;
    } else {
        // Bilinear at the output pixel's centre, edges clamped (half-pixel centres).
        const float sx = fmaxf(0.0f, __fdiv_rn(ox + 0.5f - p.offset_x, p.scale_x) - 0.5f);
        const float sy = fmaxf(0.0f, __fdiv_rn(oy + 0.5f - p.offset_y, p.scale_y) - 0.5f);
        const int xa = min(static_cast<int>(sx), p.frame_width - 1);
        const int ya = min(static_cast<int>(sy), p.frame_height - 1);
        const int xb = min(xa + 1, p.frame_width - 1), yb = min(ya + 1, p.frame_height - 1);
        const float fx = fminf(1.0f, sx - xa), fy = fminf(1.0f, sy - ya);
        const Rgb p00 = read_pixel(p, xa, ya), p01 = read_pixel(p, xb, ya);
        const Rgb p10 = read_pixel(p, xa, yb), p11 = read_pixel(p, xb, yb);
        const float a[3] = {p00.r, p00.g, p00.b}, b[3] = {p01.r, p01.g, p01.b};
        const float c[3] = {p10.r, p10.g, p10.b}, d[3] = {p11.r, p11.g, p11.b};
#pragma unroll
        for (int k = 0; k < 3; ++k) {
            const float top = a[k] + (b[k] - a[k]) * fx, bottom = c[k] + (d[k] - c[k]) * fx;
            rgb[k] = top + (bottom - top) * fy;
        }
    }
    float values[3];
    switch (p.color) {
        case config::ColorOrder::kRgb:
            values[0] = rgb[0], values[1] = rgb[1], values[2] = rgb[2];
            break;
        case config::ColorOrder::kBgr:
            values[0] = rgb[2], values[1] = rgb[1], values[2] = rgb[0];
            break;
        case config::ColorOrder::kGray:
            values[0] = 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
            break;
    }
    const size_t pixel = static_cast<size_t>(oy) * p.width + ox;
    const size_t plane = static_cast<size_t>(p.width) * p.height;
    for (int k = 0; k < p.channels; ++k) {
        const float v = __fdiv_rn(values[k] * p.scale - p.mean[k], p.std[k]);
        p.out[p.nchw ? k * plane + pixel : pixel * p.channels + k] = v;
    }
}

}  // namespace

Status preprocess_frame_cuda(const FrameView& device_frame, const config::InputSection& input, int width, int height,
                             float* device_out, void* stream, Placement* placement) {
    const FrameView& f = device_frame;
    RT_RETURN_IF_ERROR(check_frame(f));
    if (width <= 0 || height <= 0 || !device_out) {
        return Status(StatusCode::kInvalidArgument, "pre-processing: the input size " + std::to_string(width) + "x" +
                                                        std::to_string(height) + " or the output buffer is invalid");
    }
    const int channels = input.channels();
    if (static_cast<int>(input.mean.size()) != channels || static_cast<int>(input.std.size()) != channels) {
        return Status(StatusCode::kInvalidArgument, "pre-processing: mean and std need one value per channel");
    }
    const Placement pl = place(f.width, f.height, width, height, input.resize);
    if (placement) *placement = pl;

    KernelParams p{};
    p.format = f.format;
    p.frame_width = f.width;
    p.frame_height = f.height;
    for (int i = 0; i < 3; ++i) {
        p.planes[i] = f.planes[i];
        p.strides[i] = f.strides[i];
    }
    // Limited range: Y 16..235 and UV 16..240 stretched to 0..255.
    p.y_scale = f.full_range ? 1.0f : 255.0f / 219.0f;
    p.c_scale = f.full_range ? 1.0f : 255.0f / 224.0f;
    p.y_offset = f.full_range ? 0.0f : 16.0f;
    p.kr = f.matrix == YuvMatrix::kBt601 ? 0.299f : 0.2126f;
    p.kb = f.matrix == YuvMatrix::kBt601 ? 0.114f : 0.0722f;
    p.width = width;
    p.height = height;
    p.offset_x = pl.offset_x;
    p.offset_y = pl.offset_y;
    p.scale_x = pl.scale_x;
    p.scale_y = pl.scale_y;
    p.x0 = pl.offset_x;
    p.y0 = pl.offset_y;
    p.x1 = pl.offset_x + std::round(f.width * pl.scale_x);
    p.y1 = pl.offset_y + std::round(f.height * pl.scale_y);
    p.pad = static_cast<float>(input.pad_value);
    p.color = input.color;
    p.channels = channels;
    p.nchw = input.layout == config::Layout::kNchw;
    p.scale = input.scale;
    for (int c = 0; c < channels; ++c) {
        p.mean[c] = input.mean[static_cast<size_t>(c)];
        p.std[c] = input.std[static_cast<size_t>(c)];
    }
    p.out = device_out;

    const dim3 block(32, 8);
    const dim3 grid((width + block.x - 1) / block.x, (height + block.y - 1) / block.y);
    if (grid.y > 65535) {
        return Status(StatusCode::kInvalidArgument,
                      "pre-processing: the input height " + std::to_string(height) + " is too large");
    }
    preprocess_kernel<<<grid, block, 0, static_cast<cudaStream_t>(stream)>>>(p);
    RT_PRE_CUDA_CHECK(cudaGetLastError());
    return Status();
}

DeviceFrameBuffer::~DeviceFrameBuffer() {
    if (data_) cudaFree(data_);
}

DeviceFrameBuffer::DeviceFrameBuffer(DeviceFrameBuffer&& other) noexcept
    : data_(other.data_), capacity_(other.capacity_) {
    other.data_ = nullptr;
    other.capacity_ = 0;
}

DeviceFrameBuffer& DeviceFrameBuffer::operator=(DeviceFrameBuffer&& other) noexcept {
    if (this != &other) {
        if (data_) cudaFree(data_);
        data_ = other.data_;
        capacity_ = other.capacity_;
        other.data_ = nullptr;
        other.capacity_ = 0;
    }
    return *this;
}

Expected<FrameView> DeviceFrameBuffer::upload(const FrameView& host_frame, void* stream) {
    RT_RETURN_IF_ERROR(check_frame(host_frame));
    const PlaneLayout shape = plane_layout(host_frame);
    // Planes start on 256-byte boundaries, as cudaMalloc's own allocations do.
    size_t offsets[3] = {0, 0, 0};
    size_t total = 0;
    for (int p = 0; p < shape.planes; ++p) {
        offsets[p] = total;
        total += (static_cast<size_t>(shape.row_bytes[p]) * shape.rows[p] + 255) / 256 * 256;
    }
    const cudaStream_t s = static_cast<cudaStream_t>(stream);
    if (total > capacity_) {
        if (data_) {
            // The old allocation may still be read by work enqueued on the stream.
            RT_PRE_CUDA_CHECK(cudaStreamSynchronize(s));
            RT_PRE_CUDA_CHECK(cudaFree(data_));
            data_ = nullptr;
            capacity_ = 0;
        }
        RT_PRE_CUDA_CHECK(cudaMalloc(&data_, total));
        capacity_ = total;
    }
    FrameView device = host_frame;
    for (int p = 0; p < 3; ++p) {
        if (p >= shape.planes) {
            device.planes[p] = nullptr;
            device.strides[p] = 0;
            continue;
        }
        uint8_t* dst = static_cast<uint8_t*>(data_) + offsets[p];
        RT_PRE_CUDA_CHECK(cudaMemcpy2DAsync(dst, shape.row_bytes[p], host_frame.planes[p], host_frame.strides[p],
                                            shape.row_bytes[p], shape.rows[p], cudaMemcpyHostToDevice, s));
        device.planes[p] = dst;
        device.strides[p] = shape.row_bytes[p];
    }
    return device;
}

}  // namespace rtinfer::pipelines
