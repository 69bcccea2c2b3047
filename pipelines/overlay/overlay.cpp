#include "pipelines/overlay/overlay.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace rtinfer::pipelines {

uint32_t class_colour(int class_id) {
    if (class_id < 0) return 0x808080;
    // Golden-ratio hue steps: every new id lands in the largest gap left by the ones before it.
    const double golden = 0.6180339887498949;
    const double hue = std::fmod(0.05 + class_id * golden, 1.0) * 6.0;
    const int sector = static_cast<int>(hue) % 6;
    const double f = hue - std::floor(hue);
    const int rising = static_cast<int>(std::lround(255.0 * f));
    const int falling = 255 - rising;
    int r = 0, g = 0, b = 0;
    switch (sector) {
        case 0:
            r = 255, g = rising, b = 0;
            break;
        case 1:
            r = falling, g = 255, b = 0;
            break;
        case 2:
            r = 0, g = 255, b = rising;
            break;
        case 3:
            r = 0, g = falling, b = 255;
            break;
        case 4:
            r = rising, g = 0, b = 255;
            break;
        default:
            r = 255, g = 0, b = falling;
            break;
    }
    return static_cast<uint32_t>(r) << 16 | static_cast<uint32_t>(g) << 8 | static_cast<uint32_t>(b);
}

namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

int red(uint32_t rgb) {
    return static_cast<int>(rgb >> 16 & 0xff);
}
int green(uint32_t rgb) {
    return static_cast<int>(rgb >> 8 & 0xff);
}
int blue(uint32_t rgb) {
    return static_cast<int>(rgb & 0xff);
}

uint8_t clamp_u8(double v) {
    return static_cast<uint8_t>(std::clamp<long>(std::lround(v), 0, 255));
}

struct Yuv {
    uint8_t y, u, v;
};

// A colour as one frame's YUV values: the frame's matrix and range decide them, so a box reads back as
// the same RGB colour a packed frame would show.
Yuv to_yuv(uint32_t rgb, YuvMatrix matrix, bool full_range) {
    const double kr = matrix == YuvMatrix::kBt601 ? 0.299 : 0.2126;
    const double kb = matrix == YuvMatrix::kBt601 ? 0.114 : 0.0722;
    const double r = red(rgb) / 255.0, g = green(rgb) / 255.0, b = blue(rgb) / 255.0;
    const double y = kr * r + (1.0 - kr - kb) * g + kb * b;
    const double pb = (b - y) / (2.0 * (1.0 - kb));
    const double pr = (r - y) / (2.0 * (1.0 - kr));
    if (full_range) return {clamp_u8(255.0 * y), clamp_u8(128.0 + 255.0 * pb), clamp_u8(128.0 + 255.0 * pr)};
    return {clamp_u8(16.0 + 219.0 * y), clamp_u8(128.0 + 224.0 * pb), clamp_u8(128.0 + 224.0 * pr)};
}

// Black text on light colours, white on dark ones (BT.709 luma).
uint32_t text_colour_on(uint32_t rgb) {
    const double luma = 0.2126 * red(rgb) + 0.7152 * green(rgb) + 0.0722 * blue(rgb);
    return luma > 140.0 ? 0x000000 : 0xffffff;
}

bool is_yuv(PixelFormat f) {
    return f == PixelFormat::kNv12 || f == PixelFormat::kI420;
}

int bytes_per_pixel(PixelFormat f) {
    switch (f) {
        case PixelFormat::kRgb:
        case PixelFormat::kBgr:
            return 3;
        case PixelFormat::kRgba:
        case PixelFormat::kBgrx:
            return 4;
        default:
            return 1;
    }
}

Status check_frame(const MutableFrame& f) {
    const std::string name = pixel_format_name(f.format);
    switch (f.format) {
        case PixelFormat::kRgb:
        case PixelFormat::kBgr:
        case PixelFormat::kRgba:
        case PixelFormat::kBgrx:
        case PixelFormat::kNv12:
        case PixelFormat::kI420:
            break;
        default:
            return Status(StatusCode::kUnsupported,
                          "overlay: cannot draw on " + name + " frames (RGB, BGR, RGBA, BGRx, NV12 and I420 only)");
    }
    if (f.width <= 0 || f.height <= 0) {
        return Status(StatusCode::kInvalidArgument, "overlay: the " + name + " frame size " + std::to_string(f.width) +
                                                        "x" + std::to_string(f.height) + " is empty");
    }
    if (is_yuv(f.format) && (f.width % 2 != 0 || f.height % 2 != 0)) {
        return Status(StatusCode::kInvalidArgument, "overlay: the " + name + " frame size " + std::to_string(f.width) +
                                                        "x" + std::to_string(f.height) + " is not even");
    }
    const int planes = f.format == PixelFormat::kNv12 ? 2 : f.format == PixelFormat::kI420 ? 3 : 1;
    for (int p = 0; p < planes; ++p) {
        // NV12's UV row holds width bytes (width / 2 pairs); I420's U and V rows width / 2.
        const int row =
            p == 0 ? f.width * bytes_per_pixel(f.format) : (f.format == PixelFormat::kNv12 ? f.width : f.width / 2);
        if (!f.planes[p] || f.strides[p] < row) {
            return Status(StatusCode::kInvalidArgument,
                          "overlay: " + name + " plane " + std::to_string(p) + " is missing or its stride " +
                              std::to_string(f.strides[p]) + " is below " + std::to_string(row) + " bytes");
        }
    }
    return Status::ok();
}

// The frame's planes as cv::Mats over its own memory, and drawing in a colour given as 0xRRGGBB.
class Canvas {
  public:
    explicit Canvas(MutableFrame& f) : f_(f) {
        const int type = bytes_per_pixel(f.format) == 4 ? CV_8UC4 : bytes_per_pixel(f.format) == 3 ? CV_8UC3 : CV_8UC1;
        planes_[0] = cv::Mat(f.height, f.width, type, f.planes[0], static_cast<size_t>(f.strides[0]));
        if (f.format == PixelFormat::kNv12) {
            planes_[1] = cv::Mat(f.height / 2, f.width / 2, CV_8UC2, f.planes[1], static_cast<size_t>(f.strides[1]));
        } else if (f.format == PixelFormat::kI420) {
            planes_[1] = cv::Mat(f.height / 2, f.width / 2, CV_8UC1, f.planes[1], static_cast<size_t>(f.strides[1]));
            planes_[2] = cv::Mat(f.height / 2, f.width / 2, CV_8UC1, f.planes[2], static_cast<size_t>(f.strides[2]));
        }
    }

    int width() const { return f_.width; }
    int height() const { return f_.height; }

    // Fills r (clipped to the frame); in YUV frames also every chroma sample whose 2x2 block r touches.
    void fill(cv::Rect r, uint32_t rgb) {
        r &= cv::Rect(0, 0, f_.width, f_.height);
        if (r.empty()) return;
        if (!is_yuv(f_.format)) {
            cv::rectangle(planes_[0], r, packed(rgb), cv::FILLED);
            return;
        }
        const Yuv c = to_yuv(rgb, f_.matrix, f_.full_range);
        cv::rectangle(planes_[0], r, cv::Scalar(c.y), cv::FILLED);
        const int cx0 = r.x / 2, cy0 = r.y / 2;
        const cv::Rect cr(cx0, cy0, (r.x + r.width + 1) / 2 - cx0, (r.y + r.height + 1) / 2 - cy0);
        if (f_.format == PixelFormat::kNv12) {
            cv::rectangle(planes_[1], cr, cv::Scalar(c.u, c.v), cv::FILLED);
        } else {
            cv::rectangle(planes_[1], cr, cv::Scalar(c.u), cv::FILLED);
            cv::rectangle(planes_[2], cr, cv::Scalar(c.v), cv::FILLED);
        }
    }

    // Text with its baseline's left end at `origin`; OpenCV clips it to the frame. YUV frames get the glyphs
    // in luma only: their chroma stays the strip's, and the light/dark choice of text_colour_on carries the
    // contrast.
    void text(const std::string& s, cv::Point origin, double scale, int thickness, uint32_t rgb) {
        const cv::Scalar colour = is_yuv(f_.format) ? cv::Scalar(to_yuv(rgb, f_.matrix, f_.full_range).y) : packed(rgb);
        cv::putText(planes_[0], s, origin, kFont, scale, colour, thickness, cv::LINE_AA);
    }

  private:
    cv::Scalar packed(uint32_t rgb) const {
        const double r = red(rgb), g = green(rgb), b = blue(rgb);
        switch (f_.format) {
            case PixelFormat::kBgr:
                return cv::Scalar(b, g, r);
            case PixelFormat::kRgba:
                return cv::Scalar(r, g, b, 255);
            case PixelFormat::kBgrx:
                return cv::Scalar(b, g, r, 255);
            default:
                return cv::Scalar(r, g, b);
        }
    }

    MutableFrame& f_;
    cv::Mat planes_[3];
};

double font_scale_for(const Canvas& c, const OverlayStyle& style) {
    if (style.font_scale > 0.0) return style.font_scale;
    // About 20 pixel high capitals at 1080 lines, still legible at 240.
    return std::max(0.35, 0.9 * c.height() / 1080.0);
}

int text_thickness(double scale) {
    return std::max(1, static_cast<int>(std::lround(scale * 1.5)));
}

std::string tag(int class_id, const std::string& label, float score, const OverlayStyle& style) {
    std::string s;
    if (style.show_labels) s = label.empty() ? "class " + std::to_string(class_id) : label;
    if (style.show_confidence && std::isfinite(score)) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%.2f", static_cast<double>(score));
        s += s.empty() ? buf : std::string(" ") + buf;
    }
    return s;
}

// The size of the class-coloured strip behind a line of text, and where the text starts inside it.
struct Strip {
    int width, height, pad, text_height;
};

Strip strip_for(const std::string& s, double scale, int thickness) {
    int baseline = 0;
    const cv::Size size = cv::getTextSize(s, kFont, scale, thickness, &baseline);
    const int pad = thickness + 1;
    return {size.width + 2 * pad, size.height + baseline + 2 * pad, pad, size.height};
}

void draw_strip(Canvas& c, const std::string& s, const Strip& st, cv::Point at, double scale, int thickness,
                uint32_t rgb) {
    c.fill(cv::Rect(at.x, at.y, st.width, st.height), rgb);
    c.text(s, cv::Point(at.x + st.pad, at.y + st.pad + st.text_height), scale, thickness, text_colour_on(rgb));
}

// A float frame coordinate as a pixel edge, kept in a range where the int conversion is defined.
int edge(float v, int limit) {
    return static_cast<int>(std::lround(std::clamp(v, -1.0f, static_cast<float>(limit) + 1.0f)));
}

}  // namespace

Status draw_detections(MutableFrame& frame, const std::vector<Detection>& detections, const OverlayStyle& style) {
    RT_RETURN_IF_ERROR(check_frame(frame));
    if (style.line_width < 0) {
        return Status(StatusCode::kInvalidArgument,
                      "overlay: the line width " + std::to_string(style.line_width) + " is negative");
    }
    Canvas c(frame);
    const double scale = font_scale_for(c, style);
    const int thickness = text_thickness(scale);
    const cv::Rect whole(0, 0, c.width(), c.height());
    for (const Detection& d : detections) {
        if (!std::isfinite(d.x1) || !std::isfinite(d.y1) || !std::isfinite(d.x2) || !std::isfinite(d.y2)) continue;
        // Pixel columns [left, right) and rows [top, bottom); a box thinner than a pixel still gets one.
        const int left = edge(std::min(d.x1, d.x2), c.width());
        const int top = edge(std::min(d.y1, d.y2), c.height());
        const int right = std::max(edge(std::max(d.x1, d.x2), c.width()), left + 1);
        const int bottom = std::max(edge(std::max(d.y1, d.y2), c.height()), top + 1);
        const cv::Rect box = cv::Rect(left, top, right - left, bottom - top) & whole;
        if (box.empty()) continue;
        const uint32_t rgb = class_colour(d.class_id);
        const int lw = std::min({style.line_width, box.width, box.height});
        if (lw > 0) {
            c.fill(cv::Rect(box.x, box.y, box.width, lw), rgb);
            c.fill(cv::Rect(box.x, box.y + box.height - lw, box.width, lw), rgb);
            c.fill(cv::Rect(box.x, box.y, lw, box.height), rgb);
            c.fill(cv::Rect(box.x + box.width - lw, box.y, lw, box.height), rgb);
        }
        const std::string s = tag(d.class_id, d.label, d.confidence, style);
        if (s.empty()) continue;
        const Strip st = strip_for(s, scale, thickness);
        // Above the box when it fits, else inside at its top; shifted left rather than cut at the right edge.
        const int x = std::max(0, std::min(box.x, c.width() - st.width));
        const int y = box.y - st.height >= 0 ? box.y - st.height : box.y;
        draw_strip(c, s, st, cv::Point(x, y), scale, thickness, rgb);
    }
    return Status::ok();
}

Status draw_classes(MutableFrame& frame, const std::vector<Classification>& classes, const OverlayStyle& style) {
    RT_RETURN_IF_ERROR(check_frame(frame));
    Canvas c(frame);
    const double scale = font_scale_for(c, style);
    const int thickness = text_thickness(scale);
    int y = 0;
    for (const Classification& cl : classes) {
        const std::string s = tag(cl.class_id, cl.label, cl.score, style);
        if (s.empty()) continue;
        const Strip st = strip_for(s, scale, thickness);
        if (y + st.height > c.height()) break;
        draw_strip(c, s, st, cv::Point(0, y), scale, thickness, class_colour(cl.class_id));
        y += st.height;
    }
    return Status::ok();
}

namespace {

// For each frame column (or row): the mask column (row) its pixel centre falls in, or -1 outside the input.
std::vector<int> mask_indices(int frame_size, float scale, float offset, int input_size, int mask_size) {
    std::vector<int> out(static_cast<size_t>(frame_size), -1);
    for (int i = 0; i < frame_size; ++i) {
        const double in = (i + 0.5) * static_cast<double>(scale) + offset;
        if (!(in >= 0.0 && in < input_size)) continue;
        out[static_cast<size_t>(i)] =
            std::min(mask_size - 1, static_cast<int>(in * mask_size / static_cast<double>(input_size)));
    }
    return out;
}

uint8_t blend(uint8_t pixel, uint8_t colour, float alpha) {
    return static_cast<uint8_t>(std::lround(pixel + (static_cast<float>(colour) - pixel) * alpha));
}

}  // namespace

Status draw_class_mask(MutableFrame& frame, const int32_t* mask, int mask_width, int mask_height,
                       const Placement& placement, int input_width, int input_height, const OverlayStyle& style) {
    RT_RETURN_IF_ERROR(check_frame(frame));
    if (!mask || mask_width <= 0 || mask_height <= 0 || input_width <= 0 || input_height <= 0) {
        return Status(StatusCode::kInvalidArgument, "overlay: the class mask (" + std::to_string(mask_width) + "x" +
                                                        std::to_string(mask_height) + ") or the input size (" +
                                                        std::to_string(input_width) + "x" +
                                                        std::to_string(input_height) + ") is empty");
    }
    if (!(style.mask_alpha >= 0.0f && style.mask_alpha <= 1.0f)) {
        return Status(StatusCode::kInvalidArgument,
                      "overlay: the mask alpha " + std::to_string(style.mask_alpha) + " is outside 0..1");
    }
    if (!(placement.scale_x > 0.0f && placement.scale_y > 0.0f && std::isfinite(placement.offset_x) &&
          std::isfinite(placement.offset_y))) {
        return Status(StatusCode::kInvalidArgument, "overlay: the placement's scale is not positive");
    }
    const float a = style.mask_alpha;
    const std::vector<int> cols =
        mask_indices(frame.width, placement.scale_x, placement.offset_x, input_width, mask_width);
    const std::vector<int> rows =
        mask_indices(frame.height, placement.scale_y, placement.offset_y, input_height, mask_height);
    auto class_at = [&](int x, int y) -> int32_t {
        const int mx = cols[static_cast<size_t>(x)], my = rows[static_cast<size_t>(y)];
        if (mx < 0 || my < 0) return -1;
        return mask[static_cast<size_t>(my) * static_cast<size_t>(mask_width) + static_cast<size_t>(mx)];
    };
    // The class colours in the frame's own channel order (or YUV), kept for the common small class ids.
    const bool bgr = frame.format == PixelFormat::kBgr || frame.format == PixelFormat::kBgrx;
    std::vector<std::array<uint8_t, 3>> cache(256);
    std::vector<bool> cached(cache.size(), false);
    auto colour_of = [&](int32_t cls) -> std::array<uint8_t, 3> {
        const bool keep = static_cast<size_t>(cls) < cache.size();
        if (keep && cached[static_cast<size_t>(cls)]) return cache[static_cast<size_t>(cls)];
        const uint32_t rgb = class_colour(cls);
        std::array<uint8_t, 3> c;
        if (is_yuv(frame.format)) {
            const Yuv yuv = to_yuv(rgb, frame.matrix, frame.full_range);
            c = {yuv.y, yuv.u, yuv.v};
        } else {
            c = {static_cast<uint8_t>(bgr ? blue(rgb) : red(rgb)), static_cast<uint8_t>(green(rgb)),
                 static_cast<uint8_t>(bgr ? red(rgb) : blue(rgb))};
        }
        if (keep) {
            cache[static_cast<size_t>(cls)] = c;
            cached[static_cast<size_t>(cls)] = true;
        }
        return c;
    };

    if (!is_yuv(frame.format)) {
        const size_t bpp = static_cast<size_t>(bytes_per_pixel(frame.format));
        for (int y = 0; y < frame.height; ++y) {
            uint8_t* row = frame.planes[0] + static_cast<size_t>(y) * static_cast<size_t>(frame.strides[0]);
            for (int x = 0; x < frame.width; ++x) {
                const int32_t cls = class_at(x, y);
                if (cls < 0) continue;
                const std::array<uint8_t, 3> c = colour_of(cls);
                uint8_t* p = row + static_cast<size_t>(x) * bpp;
                for (int k = 0; k < 3; ++k) p[k] = blend(p[k], c[static_cast<size_t>(k)], a);
            }
        }
        return Status::ok();
    }

    for (int y = 0; y < frame.height; ++y) {
        uint8_t* row = frame.planes[0] + static_cast<size_t>(y) * static_cast<size_t>(frame.strides[0]);
        for (int x = 0; x < frame.width; ++x) {
            const int32_t cls = class_at(x, y);
            if (cls >= 0) row[x] = blend(row[x], colour_of(cls)[0], a);
        }
    }
    // A chroma sample takes the class of the top-left pixel of its 2x2 block.
    for (int cy = 0; cy < frame.height / 2; ++cy) {
        const size_t r1 = static_cast<size_t>(cy) * static_cast<size_t>(frame.strides[1]);
        const size_t r2 = static_cast<size_t>(cy) * static_cast<size_t>(frame.strides[2]);
        for (int cx = 0; cx < frame.width / 2; ++cx) {
            const int32_t cls = class_at(2 * cx, 2 * cy);
            if (cls < 0) continue;
            const std::array<uint8_t, 3> c = colour_of(cls);
            uint8_t* u = frame.format == PixelFormat::kNv12 ? frame.planes[1] + r1 + 2 * cx : frame.planes[1] + r1 + cx;
            uint8_t* v = frame.format == PixelFormat::kNv12 ? u + 1 : frame.planes[2] + r2 + cx;
            *u = blend(*u, c[1], a);
            *v = blend(*v, c[2], a);
        }
    }
    return Status::ok();
}

}  // namespace rtinfer::pipelines
