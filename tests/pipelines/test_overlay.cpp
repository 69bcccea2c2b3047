// Drawing results onto frames: real pixels read back from frames with padded strides whose padding (and the
// bytes before and after each plane) hold a guard pattern that no drawing may change.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "pipelines/overlay/overlay.h"

using namespace rtinfer;
using namespace rtinfer::pipelines;

namespace {

constexpr uint8_t kGuard = 0xA5;
constexpr int kRowPad = 7;     // stride = row bytes + kRowPad
constexpr int kPlanePad = 64;  // guard bytes before and after each plane

int bytes_per_pixel(PixelFormat f) {
    return f == PixelFormat::kRgba || f == PixelFormat::kBgrx ? 4
           : f == PixelFormat::kRgb || f == PixelFormat::kBgr ? 3
                                                              : 1;
}

// A frame of one background colour in buffers with guarded padding. Packed: R=30 G=60 B=90, alpha/x 17.
// YUV: Y=50, U=110, V=140.
class TestFrame {
  public:
    TestFrame(PixelFormat format, int width, int height) {
        f.format = format;
        f.width = width;
        f.height = height;
        const bool yuv = format == PixelFormat::kNv12 || format == PixelFormat::kI420;
        const int planes = format == PixelFormat::kNv12 ? 2 : format == PixelFormat::kI420 ? 3 : 1;
        for (int p = 0; p < planes; ++p) {
            const int row = p == 0 ? width * bytes_per_pixel(format) : format == PixelFormat::kNv12 ? width : width / 2;
            rows_[p] = p == 0 ? height : height / 2;
            row_bytes_[p] = row;
            f.strides[p] = row + kRowPad;
            bufs_[p].assign(static_cast<size_t>(2 * kPlanePad + rows_[p] * f.strides[p]), kGuard);
            f.planes[p] = bufs_[p].data() + kPlanePad;
            for (int y = 0; y < rows_[p]; ++y) {
                for (int x = 0; x < row; ++x) {
                    uint8_t v;
                    if (!yuv) {
                        const int bpp = bytes_per_pixel(format);
                        const int ch = x % bpp;
                        const bool bgr = format == PixelFormat::kBgr || format == PixelFormat::kBgrx;
                        v = ch == 3 ? 17 : ch == 1 ? 60 : (ch == 0) != bgr ? 30 : 90;
                    } else if (p == 0) {
                        v = 50;
                    } else if (format == PixelFormat::kNv12) {
                        v = x % 2 == 0 ? 110 : 140;
                    } else {
                        v = p == 1 ? 110 : 140;
                    }
                    f.planes[p][y * f.strides[p] + x] = v;
                }
            }
        }
        original_ = bufs_;
    }

    // The bytes of pixel (x, y) in plane 0 (packed formats: all its channels).
    std::vector<uint8_t> px(int x, int y) const {
        const int bpp = bytes_per_pixel(f.format);
        const uint8_t* p = f.planes[0] + y * f.strides[0] + x * bpp;
        return std::vector<uint8_t>(p, p + bpp);
    }
    uint8_t at(int plane, int x_byte, int y) const { return f.planes[plane][y * f.strides[plane] + x_byte]; }
    bool changed(int x, int y) const {
        const int bpp = bytes_per_pixel(f.format);
        for (int k = 0; k < bpp; ++k) {
            const size_t i = static_cast<size_t>(kPlanePad + y * f.strides[0] + x * bpp + k);
            if (bufs_[0][i] != original_[0][i]) return true;
        }
        return false;
    }
    int changed_count() const {
        int n = 0;
        for (int y = 0; y < f.height; ++y)
            for (int x = 0; x < f.width; ++x) n += changed(x, y);
        return n;
    }
    bool unchanged() const { return bufs_ == original_; }
    // Every byte outside the planes' rows still holds the guard.
    bool guards_intact() const {
        for (int p = 0; p < 3; ++p) {
            if (bufs_[p].empty()) continue;
            for (size_t i = 0; i < bufs_[p].size(); ++i) {
                const long off = static_cast<long>(i) - kPlanePad;
                const bool inside =
                    off >= 0 && off < static_cast<long>(rows_[p]) * f.strides[p] && off % f.strides[p] < row_bytes_[p];
                if (!inside && bufs_[p][i] != kGuard) return false;
            }
        }
        return true;
    }

    MutableFrame f;

  private:
    std::array<std::vector<uint8_t>, 3> bufs_, original_;
    int rows_[3] = {0, 0, 0};
    int row_bytes_[3] = {0, 0, 0};
};

std::vector<uint8_t> in_order(PixelFormat f, uint32_t rgb, uint8_t fourth) {
    const uint8_t r = rgb >> 16 & 0xff, g = rgb >> 8 & 0xff, b = rgb & 0xff;
    switch (f) {
        case PixelFormat::kRgb:
            return {r, g, b};
        case PixelFormat::kBgr:
            return {b, g, r};
        case PixelFormat::kRgba:
            return {r, g, b, fourth};
        default:
            return {b, g, r, fourth};
    }
}

Detection det(int cls, float x1, float y1, float x2, float y2, const std::string& label = "", float conf = 0.9f) {
    Detection d;
    d.class_id = cls;
    d.x1 = x1, d.y1 = y1, d.x2 = x2, d.y2 = y2;
    d.label = label;
    d.confidence = conf;
    return d;
}

OverlayStyle boxes_only(int line_width) {
    OverlayStyle s;
    s.line_width = line_width;
    s.show_labels = false;
    s.show_confidence = false;
    return s;
}

// BT.709 limited range by the textbook formula, independent of the library's.
std::array<int, 3> yuv709(uint32_t rgb) {
    const double r = (rgb >> 16 & 0xff) / 255.0, g = (rgb >> 8 & 0xff) / 255.0, b = (rgb & 0xff) / 255.0;
    const double y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    return {static_cast<int>(std::lround(16 + 219 * y)), static_cast<int>(std::lround(128 + 224 * (b - y) / 1.8556)),
            static_cast<int>(std::lround(128 + 224 * (r - y) / 1.5748))};
}

const PixelFormat kPacked[] = {PixelFormat::kRgb, PixelFormat::kBgr, PixelFormat::kRgba, PixelFormat::kBgrx};

}  // namespace

TEST(Overlay, PaletteIsFixedAndDistinct) {
    EXPECT_EQ(class_colour(0), 0xFF4D00u);  // hue 0.05 turn: red with some green
    EXPECT_EQ(class_colour(2), 0x48FF00u);
    EXPECT_EQ(class_colour(3), 0xFF0093u);
    EXPECT_EQ(class_colour(-1), 0x808080u);
    std::set<uint32_t> seen;
    for (int i = 0; i < 16; ++i) {
        seen.insert(class_colour(i));
        for (int j = 0; j < i; ++j) {
            int diff = 0;
            for (int shift : {0, 8, 16}) {
                diff = std::max(diff,
                                std::abs(int(class_colour(i) >> shift & 0xff) - int(class_colour(j) >> shift & 0xff)));
            }
            EXPECT_GE(diff, 48) << "classes " << i << " and " << j;
        }
    }
    EXPECT_EQ(seen.size(), 16u);
}

TEST(Overlay, BoxEdgesInClassColourInEachChannelOrder) {
    for (PixelFormat fmt : kPacked) {
        SCOPED_TRACE(pixel_format_name(fmt));
        TestFrame t(fmt, 64, 48);
        ASSERT_TRUE(draw_detections(t.f, {det(3, 10, 12, 40, 30)}, boxes_only(2)).is_ok());
        const std::vector<uint8_t> edge = in_order(fmt, class_colour(3), 255);
        const std::vector<uint8_t> bg = in_order(fmt, 0x1E3C5A, 17);
        for (auto [x, y] : {std::pair{10, 12}, {11, 20}, {39, 20}, {38, 20}, {20, 29}, {20, 28}, {20, 13}, {39, 29}}) {
            EXPECT_EQ(t.px(x, y), edge) << x << "," << y;
        }
        for (auto [x, y] :
             {std::pair{12, 20}, {37, 27}, {12, 14}, {9, 20}, {40, 20}, {20, 11}, {20, 30}, {0, 0}, {63, 47}}) {
            EXPECT_EQ(t.px(x, y), bg) << x << "," << y;
        }
        // Exactly the 2-pixel frame of a 30x18 box: 2 * 2 * 30 + 2 * 2 * 14.
        EXPECT_EQ(t.changed_count(), 176);
        EXPECT_TRUE(t.guards_intact());
    }
}

TEST(Overlay, LineWidth) {
    TestFrame t(PixelFormat::kRgb, 64, 48);
    ASSERT_TRUE(draw_detections(t.f, {det(1, 10, 12, 40, 30)}, boxes_only(3)).is_ok());
    EXPECT_EQ(t.changed_count(), 2 * 3 * 30 + 2 * 3 * 12);
    EXPECT_TRUE(t.changed(12, 20));
    EXPECT_FALSE(t.changed(13, 20));
    EXPECT_TRUE(t.changed(37, 20));
    EXPECT_FALSE(t.changed(36, 20));
    // Line width 0 draws no outline (and here no tag either).
    TestFrame none(PixelFormat::kRgb, 64, 48);
    ASSERT_TRUE(draw_detections(none.f, {det(1, 10, 12, 40, 30)}, boxes_only(0)).is_ok());
    EXPECT_TRUE(none.unchanged());
    OverlayStyle bad;
    bad.line_width = -1;
    EXPECT_EQ(draw_detections(none.f, {}, bad).code(), StatusCode::kInvalidArgument);
}

TEST(Overlay, LabelAboveTheBox) {
    OverlayStyle s;
    s.font_scale = 0.5;
    TestFrame t(PixelFormat::kRgb, 160, 120);
    ASSERT_TRUE(draw_detections(t.f, {det(0, 20, 50, 100, 110, "car", 0.91f)}, s).is_ok());
    const std::vector<uint8_t> colour = in_order(PixelFormat::kRgb, class_colour(0), 255);
    int top = 120, strip = 0, text = 0, right = 0;
    for (int y = 0; y < 50; ++y) {
        for (int x = 0; x < 160; ++x) {
            if (!t.changed(x, y)) continue;
            top = std::min(top, y);
            right = std::max(right, x);
            EXPECT_GE(x, 20);
            (t.px(x, y) == colour ? strip : text)++;
        }
    }
    EXPECT_LT(top, 50);
    EXPECT_GT(top, 20);  // a strip about one text line high
    EXPECT_GT(strip, 0);
    EXPECT_GT(text, 20);             // glyph pixels of "car 0.91" (white on this darker orange)
    EXPECT_TRUE(t.changed(20, 49));  // the strip sits on the box
    // The confidence widens the tag; without labels or confidence nothing but the box is drawn above it.
    TestFrame short_tag(PixelFormat::kRgb, 160, 120);
    s.show_confidence = false;
    ASSERT_TRUE(draw_detections(short_tag.f, {det(0, 20, 50, 100, 110, "car", 0.91f)}, s).is_ok());
    int short_right = 0;
    for (int y = 0; y < 50; ++y)
        for (int x = 0; x < 160; ++x) short_right = short_tag.changed(x, y) ? std::max(short_right, x) : short_right;
    EXPECT_LT(short_right + 10, right);
    TestFrame no_tag(PixelFormat::kRgb, 160, 120);
    s.show_labels = false;
    ASSERT_TRUE(draw_detections(no_tag.f, {det(0, 20, 50, 100, 110, "car", 0.91f)}, s).is_ok());
    for (int y = 0; y < 50; ++y) EXPECT_FALSE(no_tag.changed(30, y)) << y;
}

TEST(Overlay, EmptyLabelIsClassN) {
    OverlayStyle s;
    s.font_scale = 0.5;
    TestFrame a(PixelFormat::kBgr, 160, 120), b(PixelFormat::kBgr, 160, 120), c(PixelFormat::kBgr, 160, 120);
    ASSERT_TRUE(draw_detections(a.f, {det(7, 20, 50, 100, 110, "", 0.5f)}, s).is_ok());
    ASSERT_TRUE(draw_detections(b.f, {det(7, 20, 50, 100, 110, "class 7", 0.5f)}, s).is_ok());
    ASSERT_TRUE(draw_detections(c.f, {det(7, 20, 50, 100, 110, "class 8", 0.5f)}, s).is_ok());
    int differ_ab = 0, differ_ac = 0;
    for (int y = 0; y < 120; ++y) {
        for (int x = 0; x < 160; ++x) {
            differ_ab += a.px(x, y) != b.px(x, y);
            differ_ac += a.px(x, y) != c.px(x, y);
        }
    }
    EXPECT_EQ(differ_ab, 0);
    EXPECT_GT(differ_ac, 0);
}

TEST(Overlay, LabelInsideTheBoxAtTheTopEdge) {
    OverlayStyle s;
    s.font_scale = 0.5;
    TestFrame t(PixelFormat::kRgba, 160, 120);
    ASSERT_TRUE(draw_detections(t.f, {det(5, 20, 3, 100, 110, "person", 0.75f)}, s).is_ok());
    for (int y = 0; y < 3; ++y)
        for (int x = 0; x < 160; ++x) EXPECT_FALSE(t.changed(x, y)) << x << "," << y;
    // Inside the box below its 2-pixel top edge: the strip and its text.
    int inside = 0;
    for (int y = 6; y < 20; ++y) inside += t.changed(40, y);
    EXPECT_GT(inside, 5);
    EXPECT_TRUE(t.guards_intact());
}

TEST(Overlay, BoxesOutsideTheFrameTouchOnlyFramePixels) {
    const float inf = std::numeric_limits<float>::infinity();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const std::vector<Detection> outside = {det(1, -100, -100, -10, -10, "a"), det(2, 1000, 1000, 2000, 2000, "b"),
                                            det(3, 70, 10, 90, 20, "c"), det(4, nan, 0, 10, 10, "d"),
                                            det(5, -inf, -inf, -1, -1, "e")};
    const std::vector<Detection> partly = {det(1, -50, -50, 20, 20, "left top"), det(2, 50, 40, 500, 500, "far right"),
                                           det(3, -1e30f, 5, 1e30f, 30, "huge"),
                                           det(4, 63, 10, 64, 47, "thin at the edge"),
                                           det(6, 30, 30, 20, 20, "swapped corners")};
    for (PixelFormat fmt : {PixelFormat::kRgb, PixelFormat::kBgr, PixelFormat::kRgba, PixelFormat::kBgrx,
                            PixelFormat::kNv12, PixelFormat::kI420}) {
        SCOPED_TRACE(pixel_format_name(fmt));
        TestFrame none(fmt, 64, 48);
        ASSERT_TRUE(draw_detections(none.f, outside, OverlayStyle{}).is_ok());
        EXPECT_TRUE(none.unchanged());
        TestFrame t(fmt, 64, 48);
        ASSERT_TRUE(draw_detections(t.f, partly, OverlayStyle{}).is_ok());
        EXPECT_TRUE(t.guards_intact());
        EXPECT_FALSE(t.unchanged());
        ASSERT_TRUE(
            draw_classes(t.f, {{1, 0.5f, "a very long class name that runs off the frame"}}, OverlayStyle{}).is_ok());
        EXPECT_TRUE(t.guards_intact());
    }
    // The left-top box is clipped to the frame: its outline runs along row 0 and column 0 up to x, y = 20.
    TestFrame t(PixelFormat::kRgb, 64, 48);
    ASSERT_TRUE(draw_detections(t.f, {det(1, -50, -50, 20, 20)}, boxes_only(2)).is_ok());
    EXPECT_EQ(t.px(0, 0), in_order(PixelFormat::kRgb, class_colour(1), 255));
    EXPECT_EQ(t.px(19, 10), in_order(PixelFormat::kRgb, class_colour(1), 255));
    EXPECT_FALSE(t.changed(20, 10));
    EXPECT_FALSE(t.changed(10, 10));
    EXPECT_EQ(t.changed_count(), 2 * 2 * 20 + 2 * 2 * 16);
}

TEST(Overlay, YuvBoxesInAllPlanes) {
    for (PixelFormat fmt : {PixelFormat::kNv12, PixelFormat::kI420}) {
        SCOPED_TRACE(pixel_format_name(fmt));
        TestFrame t(fmt, 64, 48);
        ASSERT_TRUE(draw_detections(t.f, {det(2, 10, 12, 40, 30)}, boxes_only(2)).is_ok());
        const std::array<int, 3> c = yuv709(class_colour(2));
        EXPECT_EQ(c[0], 186);  // 0x48FF00 by hand: 16 + 219 * 0.7764
        EXPECT_EQ(t.at(0, 10, 12), c[0]);
        EXPECT_EQ(t.at(0, 39, 20), c[0]);
        EXPECT_EQ(t.at(0, 20, 29), c[0]);
        EXPECT_EQ(t.at(0, 12, 20), 50);
        EXPECT_EQ(t.at(0, 9, 20), 50);
        EXPECT_EQ(t.changed_count(), 176);
        // The chroma sample of luma (10, 12) is (5, 6); the interior's (10, 10) and an outside one keep theirs.
        auto u = [&](int cx, int cy) { return fmt == PixelFormat::kNv12 ? t.at(1, 2 * cx, cy) : t.at(1, cx, cy); };
        auto v = [&](int cx, int cy) { return fmt == PixelFormat::kNv12 ? t.at(1, 2 * cx + 1, cy) : t.at(2, cx, cy); };
        EXPECT_EQ(u(5, 6), c[1]);
        EXPECT_EQ(v(5, 6), c[2]);
        EXPECT_EQ(u(19, 10), c[1]);
        EXPECT_EQ(u(10, 10), 110);
        EXPECT_EQ(v(10, 10), 140);
        EXPECT_EQ(u(2, 10), 110);
        EXPECT_EQ(v(25, 20), 140);
        EXPECT_TRUE(t.guards_intact());
    }
}

TEST(Overlay, ClassLinesTopLeft) {
    OverlayStyle s;
    s.font_scale = 0.5;
    TestFrame t(PixelFormat::kBgrx, 200, 100);
    ASSERT_TRUE(draw_classes(t.f, {{3, 0.8f, "tabby cat"}, {5, 0.1f, ""}}, s).is_ok());
    const std::vector<uint8_t> first = in_order(PixelFormat::kBgrx, class_colour(3), 255);
    const std::vector<uint8_t> second = in_order(PixelFormat::kBgrx, class_colour(5), 255);
    EXPECT_EQ(t.px(0, 0), first);
    int boundary = 0;
    while (boundary < 100 && t.px(0, boundary) == first) ++boundary;
    ASSERT_GT(boundary, 8);
    ASSERT_LT(boundary, 40);
    EXPECT_EQ(t.px(0, boundary), second);
    EXPECT_EQ(t.px(0, 2 * boundary - 1), second);
    EXPECT_FALSE(t.changed(0, 2 * boundary));
    EXPECT_FALSE(t.changed(199, 0));
    EXPECT_FALSE(t.changed(100, 99));
    // Lines that would pass the bottom are left out, not cut.
    TestFrame small(PixelFormat::kBgrx, 200, boundary + boundary / 2);
    ASSERT_TRUE(draw_classes(small.f, {{3, 0.8f, "tabby cat"}, {5, 0.1f, ""}}, s).is_ok());
    for (int y = boundary; y < small.f.height; ++y) EXPECT_FALSE(small.changed(0, y)) << y;
    EXPECT_TRUE(small.guards_intact());
}

TEST(Overlay, MaskBlendThroughTheLetterbox) {
    // An 8x4 frame letterboxed into a 16x16 input: scale 2, rows 4..11 hold the image, 0..3 and 12..15 padding.
    const Placement pl = place(8, 4, 16, 16, config::ResizeMode::kLetterbox);
    ASSERT_FLOAT_EQ(pl.offset_y, 4.0f);
    std::vector<int32_t> mask(16 * 16, -1);
    for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 16; ++x)
            if (y < 4 || y >= 12) mask[y * 16 + x] = 5;  // padding classes never reach the frame
    for (int y = 6; y < 8; ++y)
        for (int x = 6; x < 8; ++x) mask[y * 16 + x] = 2;  // frame pixel (3, 1) covers input [6, 8) x [6, 8)
    mask[5 * 16 + 1] = 0;  // frame pixel (0, 0) samples input (1, 5); class 0 is coloured
    OverlayStyle s;
    s.mask_alpha = 0.25f;
    for (PixelFormat fmt : kPacked) {
        SCOPED_TRACE(pixel_format_name(fmt));
        TestFrame t(fmt, 8, 4);
        ASSERT_TRUE(draw_class_mask(t.f, mask.data(), 16, 16, pl, 16, 16, s).is_ok());
        // 0x48FF00 over R=30 G=60 B=90: 30 + (72 - 30) / 4 = 40.5 -> 41, 60 + 195 / 4 = 108.75 -> 109,
        // 90 - 90 / 4 = 67.5 -> 68 (halves round away from zero); alpha/x untouched.
        EXPECT_EQ(t.px(3, 1), in_order(fmt, 0x296D44, 17));
        // 0xFF4D00: 30 + 225 / 4 = 86.25 -> 86, 60 + 17 / 4 = 64.25 -> 64, 67.5 -> 68.
        EXPECT_EQ(t.px(0, 0), in_order(fmt, 0x564044, 17));
        EXPECT_EQ(t.changed_count(), 2);
        EXPECT_TRUE(t.guards_intact());
    }
    // A mask at half the input's resolution: input (7, 7) is mask (3, 3).
    std::vector<int32_t> half(8 * 8, -1);
    half[3 * 8 + 3] = 2;
    TestFrame h(PixelFormat::kRgb, 8, 4);
    ASSERT_TRUE(draw_class_mask(h.f, half.data(), 8, 8, pl, 16, 16, s).is_ok());
    EXPECT_EQ(h.px(3, 1), in_order(PixelFormat::kRgb, 0x296D44, 0));
    EXPECT_EQ(h.changed_count(), 1);
}

TEST(Overlay, MaskLeavesPixelsOutsideTheInputAlone) {
    // A cropping placement: frame columns 0..3 land left of the input.
    Placement crop;
    crop.scale_x = crop.scale_y = 2.0f;
    crop.offset_x = -8.0f;
    std::vector<int32_t> mask(16 * 8, 1);
    OverlayStyle s;
    s.mask_alpha = 1.0f;
    TestFrame t(PixelFormat::kRgb, 8, 4);
    ASSERT_TRUE(draw_class_mask(t.f, mask.data(), 16, 8, crop, 16, 8, s).is_ok());
    for (int y = 0; y < 4; ++y) {
        for (int x = 0; x < 8; ++x) {
            if (x < 4) {
                EXPECT_FALSE(t.changed(x, y)) << x << "," << y;
            } else {
                EXPECT_EQ(t.px(x, y), in_order(PixelFormat::kRgb, class_colour(1), 0)) << x << "," << y;
            }
        }
    }
    s.mask_alpha = 1.5f;
    EXPECT_EQ(draw_class_mask(t.f, mask.data(), 16, 8, crop, 16, 8, s).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(draw_class_mask(t.f, nullptr, 16, 8, crop, 16, 8, OverlayStyle{}).code(), StatusCode::kInvalidArgument);
}

TEST(Overlay, MaskBlendInYuv) {
    const Placement pl = place(8, 4, 8, 4, config::ResizeMode::kStretch);
    std::vector<int32_t> mask(8 * 4, -1);
    mask[2 * 8 + 4] = 3;  // luma (4, 2): the top-left of chroma sample (2, 1)'s block
    OverlayStyle s;
    s.mask_alpha = 0.5f;
    const std::array<int, 3> c = yuv709(class_colour(3));
    for (PixelFormat fmt : {PixelFormat::kNv12, PixelFormat::kI420}) {
        SCOPED_TRACE(pixel_format_name(fmt));
        TestFrame t(fmt, 8, 4);
        ASSERT_TRUE(draw_class_mask(t.f, mask.data(), 8, 4, pl, 8, 4, s).is_ok());
        EXPECT_EQ(t.at(0, 4, 2), std::lround(50 + (c[0] - 50) * 0.5));
        EXPECT_EQ(t.at(0, 5, 2), 50);
        EXPECT_EQ(t.changed_count(), 1);
        const int u = fmt == PixelFormat::kNv12 ? t.at(1, 4, 1) : t.at(1, 2, 1);
        const int v = fmt == PixelFormat::kNv12 ? t.at(1, 5, 1) : t.at(2, 2, 1);
        EXPECT_EQ(u, std::lround(110 + (c[1] - 110) * 0.5));
        EXPECT_EQ(v, std::lround(140 + (c[2] - 140) * 0.5));
        EXPECT_EQ(fmt == PixelFormat::kNv12 ? t.at(1, 2, 1) : t.at(1, 1, 1), 110);
        EXPECT_TRUE(t.guards_intact());
    }
}

TEST(Overlay, BadFramesAreErrorsNamingTheProblem) {
    TestFrame gray(PixelFormat::kGray8, 16, 16);
    const Status st = draw_detections(gray.f, {det(0, 1, 1, 5, 5)}, OverlayStyle{});
    EXPECT_EQ(st.code(), StatusCode::kUnsupported);
    EXPECT_NE(st.message().find("GRAY8"), std::string::npos) << st.message();
    EXPECT_EQ(draw_classes(gray.f, {}, OverlayStyle{}).code(), StatusCode::kUnsupported);
    std::vector<int32_t> mask(4, 0);
    EXPECT_EQ(draw_class_mask(gray.f, mask.data(), 2, 2, Placement{}, 2, 2, OverlayStyle{}).code(),
              StatusCode::kUnsupported);
    EXPECT_TRUE(gray.unchanged());

    TestFrame narrow(PixelFormat::kRgb, 16, 16);
    narrow.f.strides[0] = 40;
    const Status stride = draw_detections(narrow.f, {}, OverlayStyle{});
    EXPECT_EQ(stride.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(stride.message().find("stride 40"), std::string::npos) << stride.message();

    TestFrame odd(PixelFormat::kNv12, 16, 16);
    odd.f.width = 15;
    const Status odd_st = draw_detections(odd.f, {}, OverlayStyle{});
    EXPECT_NE(odd_st.message().find("15x16"), std::string::npos) << odd_st.message();
    TestFrame no_uv(PixelFormat::kI420, 16, 16);
    no_uv.f.planes[2] = nullptr;
    EXPECT_EQ(draw_detections(no_uv.f, {}, OverlayStyle{}).code(), StatusCode::kInvalidArgument);
}
