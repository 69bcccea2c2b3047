// The CUDA frame pre-processing against the CPU reference preprocess_frame: every pixel format, stretch and
// letterbox, NCHW and NHWC, RGB/BGR/gray colour orders, non-trivial scale/mean/std, odd sizes and padded
// strides, upscales, downscales and 1920x1080 into 160x160, on random non-zero frames. Each frame is run
// three ways: uploaded through DeviceFrameBuffer (rows packed), copied to the device with its padded host
// strides, and (once) from mapped host memory. Outputs are poisoned with NaN before each launch, so values a
// kernel leaves unwritten fail.
//
// Tolerance: max |cuda - cpu| <= 1e-4 on the normalized values. Both sides sample at the same positions
// (the placement is computed by the same host code, the positions with IEEE division on both sides) and
// the kernel is built without FMA contraction, so the differences left are last-bit ones, far below this.
#include <gtest/gtest.h>

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "pipelines/preprocess/cuda_preprocess.h"
#include "pipelines/preprocess/frame_preprocess.h"
#include "tests/gpu/gpu_test_util.h"

namespace rp = rtinfer::pipelines;
namespace rc = rtinfer::config;
using rtinfer::Status;
using rtinfer::StatusCode;

namespace {

constexpr float kTolerance = 1e-4f;

struct CudaFree {
    void operator()(void* p) const { cudaFree(p); }
};
using DevicePtr = std::unique_ptr<void, CudaFree>;

DevicePtr device_alloc(size_t bytes) {
    void* p = nullptr;
    EXPECT_EQ(cudaMalloc(&p, bytes), cudaSuccess);
    return DevicePtr(p);
}

struct CudaStream {
    cudaStream_t s = nullptr;
    CudaStream() { EXPECT_EQ(cudaStreamCreate(&s), cudaSuccess); }
    ~CudaStream() {
        if (s) cudaStreamDestroy(s);
    }
};

// A frame in host memory; every byte, the stride padding included, random and non-zero.
struct HostFrame {
    rp::FrameView view;
    std::vector<uint8_t> planes[3];
    int rows[3] = {0, 0, 0};
    int num_planes = 1;
};

HostFrame make_frame(rp::PixelFormat format, int width, int height, int stride_pad, std::mt19937& rng,
                     rp::YuvMatrix matrix = rp::YuvMatrix::kBt709, bool full_range = false) {
    static const int kBytes[] = {3, 3, 4, 4, 1, 1, 1};
    HostFrame f;
    f.view.format = format;
    f.view.width = width;
    f.view.height = height;
    f.view.matrix = matrix;
    f.view.full_range = full_range;
    int row_bytes[3] = {width * kBytes[static_cast<int>(format)], 0, 0};
    f.rows[0] = height;
    if (format == rp::PixelFormat::kNv12) {
        f.num_planes = 2;
        row_bytes[1] = width;
        f.rows[1] = height / 2;
    } else if (format == rp::PixelFormat::kI420) {
        f.num_planes = 3;
        row_bytes[1] = row_bytes[2] = width / 2;
        f.rows[1] = f.rows[2] = height / 2;
    }
    std::uniform_int_distribution<int> byte(1, 255);
    for (int p = 0; p < f.num_planes; ++p) {
        // Unequal chroma strides where padded, so a U/V mix-up shows.
        f.view.strides[p] = row_bytes[p] + (stride_pad > 0 ? stride_pad + 2 * p : 0);
        f.planes[p].resize(static_cast<size_t>(f.view.strides[p]) * f.rows[p]);
        for (uint8_t& b : f.planes[p]) b = static_cast<uint8_t>(byte(rng));
        f.view.planes[p] = f.planes[p].data();
    }
    return f;
}

rc::InputSection make_input(rc::ColorOrder color, rc::ResizeMode resize, rc::Layout layout, bool pixel_scale) {
    rc::InputSection in;
    in.color = color;
    in.resize = resize;
    in.layout = layout;
    in.pad_value = 37;
    if (pixel_scale) {  // mean/std in 0..255 units, as some models take them
        in.scale = 1.0f;
        in.mean = {123.675f, 116.28f, 103.53f};
        in.std = {58.395f, 57.12f, 57.375f};
    } else {
        in.scale = 1.0f / 255.0f;
        in.mean = {0.485f, 0.456f, 0.406f};
        in.std = {0.229f, 0.224f, 0.225f};
    }
    if (color == rc::ColorOrder::kGray) {
        in.mean = {in.mean[0]};
        in.std = {in.std[0]};
    }
    return in;
}

std::string describe(const rp::FrameView& f, const rc::InputSection& in, int width, int height) {
    static const char* kColor[] = {"RGB", "BGR", "GRAY"};
    return std::string(rp::pixel_format_name(f.format)) + " " + std::to_string(f.width) + "x" +
           std::to_string(f.height) + " (strides " + std::to_string(f.strides[0]) + "," + std::to_string(f.strides[1]) +
           "," + std::to_string(f.strides[2]) + (f.matrix == rp::YuvMatrix::kBt601 ? ", BT.601" : ", BT.709") +
           (f.full_range ? " full" : " limited") + ") -> " + std::to_string(width) + "x" + std::to_string(height) +
           (in.resize == rc::ResizeMode::kLetterbox ? " letterbox " : " stretch ") +
           kColor[static_cast<int>(in.color)] + (in.layout == rc::Layout::kNchw ? " NCHW" : " NHWC");
}

// Runs the kernel on a device frame and returns its output; NaN-poisoned first.
std::vector<float> run_cuda(const rp::FrameView& device_frame, const rc::InputSection& in, int width, int height,
                            cudaStream_t stream, rp::Placement* placement) {
    const size_t count = static_cast<size_t>(in.channels()) * width * height;
    DevicePtr out = device_alloc(count * sizeof(float));
    EXPECT_EQ(cudaMemsetAsync(out.get(), 0xFF, count * sizeof(float), stream), cudaSuccess);
    const Status st =
        rp::preprocess_frame_cuda(device_frame, in, width, height, static_cast<float*>(out.get()), stream, placement);
    EXPECT_TRUE(st.is_ok()) << st.message();
    std::vector<float> host(count);
    EXPECT_EQ(cudaMemcpyAsync(host.data(), out.get(), count * sizeof(float), cudaMemcpyDeviceToHost, stream),
              cudaSuccess);
    EXPECT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
    return host;
}

void expect_close(const std::vector<float>& want, const std::vector<float>& got, const std::string& what) {
    ASSERT_EQ(want.size(), got.size()) << what;
    float worst = 0.0f;
    size_t worst_at = 0;
    for (size_t i = 0; i < want.size(); ++i) {
        const float err = std::fabs(want[i] - got[i]);
        // !(err <= worst) also catches NaN, the poison of an unwritten value.
        if (!(err <= worst)) {
            worst = std::isnan(err) ? INFINITY : err;
            worst_at = i;
        }
    }
    EXPECT_LE(worst, kTolerance) << what << ": value " << worst_at << " is " << got[worst_at] << ", the CPU's "
                                 << want[worst_at];
}

void expect_same_placement(const rp::Placement& a, const rp::Placement& b, const std::string& what) {
    EXPECT_EQ(a.scale_x, b.scale_x) << what;
    EXPECT_EQ(a.scale_y, b.scale_y) << what;
    EXPECT_EQ(a.offset_x, b.offset_x) << what;
    EXPECT_EQ(a.offset_y, b.offset_y) << what;
}

// The CPU reference against the kernel, on the uploaded frame and on a device copy with the host strides.
void check_case(const HostFrame& frame, const rc::InputSection& in, int width, int height,
                rp::DeviceFrameBuffer& buffer, cudaStream_t stream) {
    const std::string what = describe(frame.view, in, width, height);
    SCOPED_TRACE(what);
    std::vector<float> want(static_cast<size_t>(in.channels()) * width * height);
    rp::Placement cpu_placement;
    const Status cpu = rp::preprocess_frame(frame.view, in, width, height, want.data(), &cpu_placement);
    ASSERT_TRUE(cpu.is_ok()) << cpu.message();

    rtinfer::Expected<rp::FrameView> uploaded = buffer.upload(frame.view, stream);
    ASSERT_TRUE(uploaded.has_value()) << uploaded.status().message();
    rp::Placement packed_placement{0.0f, 0.0f, -1.0f, -1.0f};
    expect_close(want, run_cuda(*uploaded, in, width, height, stream, &packed_placement), what + " (uploaded)");
    expect_same_placement(cpu_placement, packed_placement, what);

    rp::FrameView strided = frame.view;
    std::vector<DevicePtr> planes;
    for (int p = 0; p < frame.num_planes; ++p) {
        planes.push_back(device_alloc(frame.planes[p].size()));
        ASSERT_EQ(
            cudaMemcpy(planes.back().get(), frame.planes[p].data(), frame.planes[p].size(), cudaMemcpyHostToDevice),
            cudaSuccess);
        strided.planes[p] = static_cast<const uint8_t*>(planes.back().get());
    }
    rp::Placement strided_placement{0.0f, 0.0f, -1.0f, -1.0f};
    expect_close(want, run_cuda(strided, in, width, height, stream, &strided_placement), what + " (strided)");
    expect_same_placement(cpu_placement, strided_placement, what);
}

const rp::PixelFormat kFormats[] = {rp::PixelFormat::kRgb,  rp::PixelFormat::kBgr,   rp::PixelFormat::kRgba,
                                    rp::PixelFormat::kBgrx, rp::PixelFormat::kGray8, rp::PixelFormat::kNv12,
                                    rp::PixelFormat::kI420};

bool is_yuv(rp::PixelFormat f) {
    return f == rp::PixelFormat::kNv12 || f == rp::PixelFormat::kI420;
}

TEST(CudaPreprocess, EveryFormatResizeColourOrderAndLayout) {
    RT_REQUIRE_GPU();
    std::mt19937 rng(1234);
    CudaStream stream;
    rp::DeviceFrameBuffer buffer;
    int cases = 0;
    for (rp::PixelFormat format : kFormats) {
        // Odd sizes where the format allows them; odd stride padding everywhere.
        const int fw = is_yuv(format) ? 38 : 37, fh = is_yuv(format) ? 26 : 23;
        for (int variant = 0; variant < 2; ++variant) {
            const rp::YuvMatrix matrix = variant == 0 ? rp::YuvMatrix::kBt709 : rp::YuvMatrix::kBt601;
            const HostFrame frame = make_frame(format, fw, fh, 5, rng, matrix, variant == 1);
            for (rc::ResizeMode resize : {rc::ResizeMode::kStretch, rc::ResizeMode::kLetterbox}) {
                for (rc::Layout layout : {rc::Layout::kNchw, rc::Layout::kNhwc}) {
                    for (rc::ColorOrder color : {rc::ColorOrder::kRgb, rc::ColorOrder::kBgr, rc::ColorOrder::kGray}) {
                        const rc::InputSection in = make_input(color, resize, layout, variant == 1);
                        check_case(frame, in, 53, 41, buffer, stream.s);
                        ++cases;
                    }
                }
            }
        }
    }
    EXPECT_EQ(cases, 7 * 2 * 2 * 2 * 3);
}

TEST(CudaPreprocess, UpscaleAndDownscale) {
    RT_REQUIRE_GPU();
    std::mt19937 rng(99);
    CudaStream stream;
    rp::DeviceFrameBuffer buffer;
    for (rp::PixelFormat format : kFormats) {
        const HostFrame small = make_frame(format, is_yuv(format) ? 18 : 17, is_yuv(format) ? 12 : 11, 3, rng);
        const HostFrame large =
            make_frame(format, is_yuv(format) ? 302 : 301, is_yuv(format) ? 204 : 203, 7, rng, rp::YuvMatrix::kBt601);
        for (rc::ResizeMode resize : {rc::ResizeMode::kStretch, rc::ResizeMode::kLetterbox}) {
            check_case(small, make_input(rc::ColorOrder::kRgb, resize, rc::Layout::kNchw, false), 96, 80, buffer,
                       stream.s);
            check_case(large, make_input(rc::ColorOrder::kBgr, resize, rc::Layout::kNhwc, true), 64, 64, buffer,
                       stream.s);
        }
    }
}

TEST(CudaPreprocess, FullHdIntoSmallSquare) {
    RT_REQUIRE_GPU();
    std::mt19937 rng(7);
    CudaStream stream;
    rp::DeviceFrameBuffer buffer;
    for (rp::PixelFormat format : kFormats) {
        const HostFrame frame = make_frame(format, 1920, 1080, 64, rng);
        check_case(frame, make_input(rc::ColorOrder::kRgb, rc::ResizeMode::kLetterbox, rc::Layout::kNchw, false), 160,
                   160, buffer, stream.s);
        check_case(frame, make_input(rc::ColorOrder::kGray, rc::ResizeMode::kStretch, rc::Layout::kNhwc, true), 160,
                   160, buffer, stream.s);
    }
}

TEST(CudaPreprocess, LetterboxPadsWithThePadValue) {
    RT_REQUIRE_GPU();
    std::mt19937 rng(5);
    CudaStream stream;
    rp::DeviceFrameBuffer buffer;
    const HostFrame frame = make_frame(rp::PixelFormat::kRgb, 40, 20, 0, rng);
    rc::InputSection in = make_input(rc::ColorOrder::kRgb, rc::ResizeMode::kLetterbox, rc::Layout::kNchw, false);
    rtinfer::Expected<rp::FrameView> dev = buffer.upload(frame.view, stream.s);
    ASSERT_TRUE(dev.has_value()) << dev.status().message();
    rp::Placement pl;
    const std::vector<float> out = run_cuda(*dev, in, 32, 32, stream.s, &pl);
    // 40x20 into 32x32: scale 0.8, the image 16 rows high, 8 rows of padding above and below.
    EXPECT_FLOAT_EQ(pl.scale_x, 0.8f);
    EXPECT_FLOAT_EQ(pl.offset_y, 8.0f);
    for (int c = 0; c < 3; ++c) {
        const float pad = (37.0f / 255.0f - in.mean[c]) / in.std[c];
        EXPECT_NEAR(out[c * 32 * 32 + 0], pad, 1e-6f);            // top-left
        EXPECT_NEAR(out[c * 32 * 32 + 7 * 32 + 31], pad, 1e-6f);  // last padded row above
        EXPECT_NEAR(out[c * 32 * 32 + 24 * 32 + 5], pad, 1e-6f);  // first padded row below
        EXPECT_NE(out[c * 32 * 32 + 8 * 32 + 5], pad);            // inside the image
    }
}

TEST(CudaPreprocess, BufferGrowsAndIsReused) {
    RT_REQUIRE_GPU();
    std::mt19937 rng(11);
    CudaStream stream;
    rp::DeviceFrameBuffer buffer;
    EXPECT_EQ(buffer.capacity_bytes(), 0u);
    const rc::InputSection in = make_input(rc::ColorOrder::kRgb, rc::ResizeMode::kStretch, rc::Layout::kNchw, false);
    const HostFrame small = make_frame(rp::PixelFormat::kNv12, 64, 48, 0, rng);
    const HostFrame large = make_frame(rp::PixelFormat::kI420, 640, 480, 16, rng);
    check_case(small, in, 32, 32, buffer, stream.s);
    const size_t small_capacity = buffer.capacity_bytes();
    EXPECT_GE(small_capacity, 64u * 48u * 3u / 2u);
    check_case(large, in, 32, 32, buffer, stream.s);
    const size_t large_capacity = buffer.capacity_bytes();
    EXPECT_GT(large_capacity, small_capacity);
    check_case(small, in, 32, 32, buffer, stream.s);
    EXPECT_EQ(buffer.capacity_bytes(), large_capacity);

    rp::DeviceFrameBuffer moved = std::move(buffer);
    EXPECT_EQ(moved.capacity_bytes(), large_capacity);
    EXPECT_EQ(buffer.capacity_bytes(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
    check_case(large, in, 32, 32, moved, stream.s);
}

TEST(CudaPreprocess, MappedHostFrame) {
    RT_REQUIRE_GPU();
    std::mt19937 rng(3);
    CudaStream stream;
    const HostFrame frame = make_frame(rp::PixelFormat::kBgrx, 75, 41, 12, rng);
    void* mapped = nullptr;
    ASSERT_EQ(cudaHostAlloc(&mapped, frame.planes[0].size(), cudaHostAllocMapped), cudaSuccess);
    std::unique_ptr<void, cudaError_t (*)(void*)> owner(mapped, cudaFreeHost);
    std::copy(frame.planes[0].begin(), frame.planes[0].end(), static_cast<uint8_t*>(mapped));
    void* device_ptr = nullptr;
    ASSERT_EQ(cudaHostGetDevicePointer(&device_ptr, mapped, 0), cudaSuccess);
    rp::FrameView view = frame.view;
    view.planes[0] = static_cast<const uint8_t*>(device_ptr);

    const rc::InputSection in = make_input(rc::ColorOrder::kBgr, rc::ResizeMode::kLetterbox, rc::Layout::kNhwc, false);
    std::vector<float> want(3 * 48 * 48);
    ASSERT_TRUE(rp::preprocess_frame(frame.view, in, 48, 48, want.data()).is_ok());
    expect_close(want, run_cuda(view, in, 48, 48, stream.s, nullptr), "mapped BGRx");
}

// Validation happens before any CUDA call, so these run without a GPU too.
TEST(CudaPreprocess, InvalidFramesAreErrorsLikeTheCpuVersion) {
    std::mt19937 rng(8);
    const rc::InputSection in = make_input(rc::ColorOrder::kRgb, rc::ResizeMode::kStretch, rc::Layout::kNchw, false);
    std::vector<float> cpu_out(3 * 16 * 16);
    float* const fake_device_out = cpu_out.data();  // never written: the calls fail first
    rp::DeviceFrameBuffer buffer;

    auto expect_same_error = [&](const rp::FrameView& f, const char* fragment) {
        const Status cpu = rp::preprocess_frame(f, in, 16, 16, cpu_out.data());
        const Status gpu = rp::preprocess_frame_cuda(f, in, 16, 16, fake_device_out, nullptr);
        ASSERT_FALSE(cpu.is_ok());
        ASSERT_FALSE(gpu.is_ok());
        EXPECT_EQ(gpu.code(), StatusCode::kInvalidArgument);
        EXPECT_EQ(gpu.message(), cpu.message());
        EXPECT_NE(gpu.message().find(fragment), std::string::npos) << gpu.message();
        const rtinfer::Expected<rp::FrameView> up = buffer.upload(f, nullptr);
        ASSERT_FALSE(up.has_value());
        EXPECT_EQ(up.status().message(), cpu.message());
    };

    HostFrame odd_nv12 = make_frame(rp::PixelFormat::kNv12, 38, 26, 0, rng);
    odd_nv12.view.width = 37;
    expect_same_error(odd_nv12.view, "NV12 frame 37x26: NV12 and I420 need an even width and height");

    HostFrame no_uv = make_frame(rp::PixelFormat::kNv12, 38, 26, 0, rng);
    no_uv.view.planes[1] = nullptr;
    expect_same_error(no_uv.view, "plane 1 is missing");

    HostFrame no_v = make_frame(rp::PixelFormat::kI420, 38, 26, 0, rng);
    no_v.view.planes[2] = nullptr;
    expect_same_error(no_v.view, "plane 2 is missing");

    HostFrame null_rgb = make_frame(rp::PixelFormat::kRgb, 17, 9, 0, rng);
    null_rgb.view.planes[0] = nullptr;
    expect_same_error(null_rgb.view, "RGB frame 17x9: plane 0 is missing");

    HostFrame narrow = make_frame(rp::PixelFormat::kRgba, 17, 9, 0, rng);
    narrow.view.strides[0] = 67;
    expect_same_error(narrow.view, "stride 67 is below 68");

    HostFrame empty = make_frame(rp::PixelFormat::kGray8, 4, 4, 0, rng);
    empty.view.height = 0;
    expect_same_error(empty.view, "empty");

    const HostFrame good = make_frame(rp::PixelFormat::kRgb, 8, 8, 0, rng);
    const Status no_out = rp::preprocess_frame_cuda(good.view, in, 16, 16, nullptr, nullptr);
    EXPECT_EQ(no_out.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(no_out.message().find("output buffer is invalid"), std::string::npos) << no_out.message();
    const Status zero_size = rp::preprocess_frame_cuda(good.view, in, 0, 16, fake_device_out, nullptr);
    EXPECT_EQ(zero_size.code(), StatusCode::kInvalidArgument);
    rc::InputSection short_mean = in;
    short_mean.mean = {0.5f};
    const Status mean = rp::preprocess_frame_cuda(good.view, short_mean, 16, 16, fake_device_out, nullptr);
    EXPECT_EQ(mean.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(mean.message().find("mean and std need one value per channel"), std::string::npos) << mean.message();
}

}  // namespace
