// Frame pre-processing on the CPU: pixel formats, colour order, normalization, layouts, stretch and
// letterbox geometry, bilinear downscaling, YUV conversion, and bad frames.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "pipelines/preprocess/frame_preprocess.h"

using namespace rtinfer;
using namespace rtinfer::pipelines;

namespace {

// A w x h RGB frame whose pixel (x, y) is (x * 7 + y) % 256, (3 * x + 11 * y) % 256, (x * y + 5) % 256.
std::vector<uint8_t> rgb_pattern(int w, int h) {
    std::vector<uint8_t> px(static_cast<size_t>(w) * h * 3);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            uint8_t* p = &px[(static_cast<size_t>(y) * w + x) * 3];
            p[0] = static_cast<uint8_t>((x * 7 + y) % 256);
            p[1] = static_cast<uint8_t>((3 * x + 11 * y) % 256);
            p[2] = static_cast<uint8_t>((x * y + 5) % 256);
        }
    }
    return px;
}

FrameView packed(PixelFormat format, int w, int h, const std::vector<uint8_t>& px, int bytes) {
    FrameView f;
    f.format = format;
    f.width = w;
    f.height = h;
    f.planes[0] = px.data();
    f.strides[0] = w * bytes;
    return f;
}

config::InputSection input_with(config::ColorOrder color, config::Layout layout) {
    config::InputSection in;
    in.color = color;
    in.layout = layout;
    in.scale = 1.0f;
    if (color == config::ColorOrder::kGray) {
        in.mean = {0.0f};
        in.std = {1.0f};
    }
    return in;
}

}  // namespace

TEST(FramePreprocess, SameSizeRgbIsThePixelsNormalizedInBothLayouts) {
    const int w = 6, h = 4;
    const auto px = rgb_pattern(w, h);
    config::InputSection in = input_with(config::ColorOrder::kRgb, config::Layout::kNchw);
    in.scale = 1.0f / 255.0f;
    in.mean = {0.485f, 0.456f, 0.406f};
    in.std = {0.229f, 0.224f, 0.225f};
    std::vector<float> nchw(3 * w * h), nhwc(3 * w * h);
    ASSERT_TRUE(preprocess_frame(packed(PixelFormat::kRgb, w, h, px, 3), in, w, h, nchw.data()).is_ok());
    in.layout = config::Layout::kNhwc;
    ASSERT_TRUE(preprocess_frame(packed(PixelFormat::kRgb, w, h, px, 3), in, w, h, nhwc.data()).is_ok());
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            for (int c = 0; c < 3; ++c) {
                const float want = (px[(y * w + x) * 3 + c] / 255.0f - in.mean[c]) / in.std[c];
                EXPECT_NEAR(nchw[(c * h + y) * w + x], want, 1e-5) << x << "," << y << "," << c;
                EXPECT_NEAR(nhwc[(y * w + x) * 3 + c], want, 1e-5) << x << "," << y << "," << c;
            }
        }
    }
}

TEST(FramePreprocess, PackedFormatsAndColourOrdersAgree) {
    const int w = 5, h = 3;
    const auto rgb = rgb_pattern(w, h);
    std::vector<uint8_t> bgr(rgb.size()), rgba(static_cast<size_t>(w) * h * 4), bgrx(rgba.size());
    for (int i = 0; i < w * h; ++i) {
        for (int c = 0; c < 3; ++c) {
            bgr[i * 3 + c] = rgb[i * 3 + 2 - c];
            rgba[i * 4 + c] = rgb[i * 3 + c];
            bgrx[i * 4 + c] = rgb[i * 3 + 2 - c];
        }
        rgba[i * 4 + 3] = 77;
        bgrx[i * 4 + 3] = 99;
    }
    const config::InputSection in = input_with(config::ColorOrder::kRgb, config::Layout::kNchw);
    std::vector<float> want(3 * w * h), got(3 * w * h);
    ASSERT_TRUE(preprocess_frame(packed(PixelFormat::kRgb, w, h, rgb, 3), in, w, h, want.data()).is_ok());
    for (const auto& [format, data, bytes] :
         {std::tuple{PixelFormat::kBgr, &bgr, 3}, {PixelFormat::kRgba, &rgba, 4}, {PixelFormat::kBgrx, &bgrx, 4}}) {
        ASSERT_TRUE(preprocess_frame(packed(format, w, h, *data, bytes), in, w, h, got.data()).is_ok());
        EXPECT_EQ(got, want) << pixel_format_name(format);
    }
    // BGR colour order: the same planes, the first and last swapped.
    const config::InputSection bgr_in = input_with(config::ColorOrder::kBgr, config::Layout::kNchw);
    ASSERT_TRUE(preprocess_frame(packed(PixelFormat::kRgb, w, h, rgb, 3), bgr_in, w, h, got.data()).is_ok());
    for (int i = 0; i < w * h; ++i) {
        EXPECT_EQ(got[i], want[2 * w * h + i]);
        EXPECT_EQ(got[w * h + i], want[w * h + i]);
        EXPECT_EQ(got[2 * w * h + i], want[i]);
    }
    // GRAY: one channel, the luma of the RGB pixel.
    const config::InputSection gray_in = input_with(config::ColorOrder::kGray, config::Layout::kNchw);
    std::vector<float> gray(w * h);
    ASSERT_TRUE(preprocess_frame(packed(PixelFormat::kRgb, w, h, rgb, 3), gray_in, w, h, gray.data()).is_ok());
    for (int i = 0; i < w * h; ++i) {
        EXPECT_NEAR(gray[i], 0.299f * rgb[i * 3] + 0.587f * rgb[i * 3 + 1] + 0.114f * rgb[i * 3 + 2], 1e-3);
    }
}

TEST(FramePreprocess, HalvingAveragesNeighbouringPixels) {
    // A horizontal ramp 0, 10, 20, ... halved in width: each output pixel is the mean of two source pixels.
    const int w = 8, h = 2;
    std::vector<uint8_t> px(static_cast<size_t>(w) * h * 3);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            for (int c = 0; c < 3; ++c) px[(y * w + x) * 3 + c] = static_cast<uint8_t>(10 * x);
        }
    }
    const config::InputSection in = input_with(config::ColorOrder::kRgb, config::Layout::kNhwc);
    std::vector<float> out(3 * 4 * 2);
    ASSERT_TRUE(preprocess_frame(packed(PixelFormat::kRgb, w, h, px, 3), in, 4, 2, out.data()).is_ok());
    for (int x = 0; x < 4; ++x) EXPECT_NEAR(out[x * 3], 10.0f * (2 * x) + 5.0f, 1e-4) << x;
}

TEST(FramePreprocess, LetterboxCentresTheFrameAndMapsBack) {
    // 200 x 100 into 64 x 64: scale 0.32, the image 64 x 32 in rows 16..47, the rest the pad value.
    const int w = 200, h = 100;
    std::vector<uint8_t> px(static_cast<size_t>(w) * h * 3, 200);
    config::InputSection in = input_with(config::ColorOrder::kRgb, config::Layout::kNchw);
    in.resize = config::ResizeMode::kLetterbox;
    in.pad_value = 114;
    std::vector<float> out(3 * 64 * 64);
    Placement pl;
    ASSERT_TRUE(preprocess_frame(packed(PixelFormat::kRgb, w, h, px, 3), in, 64, 64, out.data(), &pl).is_ok());
    EXPECT_FLOAT_EQ(pl.scale_x, 0.32f);
    EXPECT_FLOAT_EQ(pl.scale_y, 0.32f);
    EXPECT_FLOAT_EQ(pl.offset_x, 0.0f);
    EXPECT_FLOAT_EQ(pl.offset_y, 16.0f);
    for (int y = 0; y < 64; ++y) {
        const float want = y >= 16 && y < 48 ? 200.0f : 114.0f;
        EXPECT_FLOAT_EQ(out[y * 64 + 10], want) << y;
        EXPECT_FLOAT_EQ(out[2 * 64 * 64 + y * 64 + 60], want) << y;
    }
    // A box corner at input (32, 16) is frame (100, 0); (64, 48) is (200, 100).
    EXPECT_FLOAT_EQ(pl.to_frame_x(32.0f), 100.0f);
    EXPECT_FLOAT_EQ(pl.to_frame_y(16.0f), 0.0f);
    EXPECT_FLOAT_EQ(pl.to_frame_x(64.0f), 200.0f);
    EXPECT_FLOAT_EQ(pl.to_frame_y(48.0f), 100.0f);
    // Stretch: independent scales, no offset.
    const Placement s = place(w, h, 64, 64, config::ResizeMode::kStretch);
    EXPECT_FLOAT_EQ(s.scale_x, 0.32f);
    EXPECT_FLOAT_EQ(s.scale_y, 0.64f);
    EXPECT_FLOAT_EQ(s.offset_y, 0.0f);
}

TEST(FramePreprocess, Nv12AndI420ConvertToTheRgbTheyEncode) {
    // A flat BT.709 limited-range colour: Y 110, U 90, V 170 is about RGB (180, 94, 57).
    const int w = 4, h = 2;
    const float want[3] = {1.164383f * (110 - 16) + 1.792741f * (170 - 128),
                           1.164383f * (110 - 16) - 0.213249f * (90 - 128) - 0.532909f * (170 - 128),
                           1.164383f * (110 - 16) + 2.112402f * (90 - 128)};
    std::vector<uint8_t> y(w * h, 110), uv(w, 0), u(w / 2 * h / 2, 90), v(w / 2 * h / 2, 170);
    for (int i = 0; i < w; i += 2) {
        uv[i] = 90;
        uv[i + 1] = 170;
    }
    FrameView nv12;
    nv12.format = PixelFormat::kNv12;
    nv12.width = w;
    nv12.height = h;
    nv12.planes[0] = y.data();
    nv12.planes[1] = uv.data();
    nv12.strides[0] = w;
    nv12.strides[1] = w;
    FrameView i420 = nv12;
    i420.format = PixelFormat::kI420;
    i420.planes[1] = u.data();
    i420.planes[2] = v.data();
    i420.strides[1] = i420.strides[2] = w / 2;
    const config::InputSection in = input_with(config::ColorOrder::kRgb, config::Layout::kNhwc);
    for (const FrameView& f : {nv12, i420}) {
        std::vector<float> out(3 * w * h);
        ASSERT_TRUE(preprocess_frame(f, in, w, h, out.data()).is_ok()) << pixel_format_name(f.format);
        for (int i = 0; i < w * h; ++i) {
            for (int c = 0; c < 3; ++c) EXPECT_NEAR(out[i * 3 + c], want[c], 0.6) << pixel_format_name(f.format) << c;
        }
    }
}

TEST(FramePreprocess, BadFramesAreErrorsThatSayWhy) {
    const std::vector<uint8_t> px(64 * 3, 0);
    const config::InputSection in = input_with(config::ColorOrder::kRgb, config::Layout::kNchw);
    std::vector<float> out(3 * 8 * 8);
    FrameView odd;
    odd.format = PixelFormat::kNv12;
    odd.width = 5;
    odd.height = 4;
    odd.planes[0] = odd.planes[1] = px.data();
    odd.strides[0] = odd.strides[1] = 5;
    Status s = preprocess_frame(odd, in, 8, 8, out.data());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("NV12 frame 5x4: NV12 and I420 need an even width and height"), std::string::npos)
        << s.message();
    FrameView missing = packed(PixelFormat::kI420, 4, 4, px, 1);
    s = preprocess_frame(missing, in, 8, 8, out.data());
    EXPECT_NE(s.message().find("plane 1 is missing"), std::string::npos) << s.message();
    FrameView narrow = packed(PixelFormat::kRgb, 8, 2, px, 3);
    narrow.strides[0] = 20;
    s = preprocess_frame(narrow, in, 8, 8, out.data());
    EXPECT_NE(s.message().find("plane 0 stride 20 is below 24"), std::string::npos) << s.message();
    s = preprocess_frame(packed(PixelFormat::kRgb, 8, 2, px, 3), in, 0, 8, out.data());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}
