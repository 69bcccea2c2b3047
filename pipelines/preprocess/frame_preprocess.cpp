#include "pipelines/preprocess/frame_preprocess.h"

#include <algorithm>
#include <vector>
#include <cmath>
#include <string>

namespace rtinfer::pipelines {

const char* pixel_format_name(PixelFormat format) {
    switch (format) {
        case PixelFormat::kRgb:
            return "RGB";
        case PixelFormat::kBgr:
            return "BGR";
        case PixelFormat::kRgba:
            return "RGBA";
        case PixelFormat::kBgrx:
            return "BGRx";
        case PixelFormat::kGray8:
            return "GRAY8";
        case PixelFormat::kNv12:
            return "NV12";
        case PixelFormat::kI420:
            return "I420";
    }
    return "?";
}

namespace {

struct Rgb {
    float r, g, b;
};

// Reads pixel (x, y) of the frame as RGB in 0..255 (not rounded).
class PixelReader {
  public:
    explicit PixelReader(const FrameView& f) : f_(f) {
        // Limited range: Y 16..235 and UV 16..240 stretched to 0..255.
        const float y_scale = f.full_range ? 1.0f : 255.0f / 219.0f;
        const float c_scale = f.full_range ? 1.0f : 255.0f / 224.0f;
        const float y_offset = f.full_range ? 0.0f : 16.0f;
        const float kr = f.matrix == YuvMatrix::kBt601 ? 0.299f : 0.2126f;
        const float kb = f.matrix == YuvMatrix::kBt601 ? 0.114f : 0.0722f;
        const float kg = 1.0f - kr - kb;
        // R = Y + 2(1-kr)V, B = Y + 2(1-kb)U, G = (Y - kr R - kb B) / kg = Y - (2 kr (1-kr) V + 2 kb (1-kb) U) / kg:
        // each term depends on one byte, so it is looked up rather than computed for every sample.
        for (int i = 0; i < 256; ++i) {
            const float y = (float(i) - y_offset) * y_scale, c = (float(i) - 128.0f) * c_scale;
            y_[i] = y;
            v_r_[i] = 2.0f * (1.0f - kr) * c;
            u_b_[i] = 2.0f * (1.0f - kb) * c;
            v_g_[i] = -2.0f * kr * (1.0f - kr) * c / kg;
            u_g_[i] = -2.0f * kb * (1.0f - kb) * c / kg;
        }
    }

    Rgb at(int x, int y) const {
        const uint8_t* row = f_.planes[0] + static_cast<size_t>(y) * f_.strides[0];
        switch (f_.format) {
            case PixelFormat::kRgb:
                return {float(row[3 * x]), float(row[3 * x + 1]), float(row[3 * x + 2])};
            case PixelFormat::kBgr:
                return {float(row[3 * x + 2]), float(row[3 * x + 1]), float(row[3 * x])};
            case PixelFormat::kRgba:
                return {float(row[4 * x]), float(row[4 * x + 1]), float(row[4 * x + 2])};
            case PixelFormat::kBgrx:
                return {float(row[4 * x + 2]), float(row[4 * x + 1]), float(row[4 * x])};
            case PixelFormat::kGray8:
                return {float(row[x]), float(row[x]), float(row[x])};
            case PixelFormat::kNv12: {
                const uint8_t* uv = f_.planes[1] + static_cast<size_t>(y / 2) * f_.strides[1] + 2 * (x / 2);
                return yuv(row[x], uv[0], uv[1]);
            }
            case PixelFormat::kI420: {
                const uint8_t* u = f_.planes[1] + static_cast<size_t>(y / 2) * f_.strides[1] + x / 2;
                const uint8_t* v = f_.planes[2] + static_cast<size_t>(y / 2) * f_.strides[2] + x / 2;
                return yuv(row[x], *u, *v);
            }
        }
        return {0, 0, 0};
    }

  private:
    Rgb yuv(uint8_t y8, uint8_t u8, uint8_t v8) const {
        const float y = y_[y8];
        auto clamp = [](float c) { return std::min(255.0f, std::max(0.0f, c)); };
        return {clamp(y + v_r_[v8]), clamp(y + u_g_[u8] + v_g_[v8]), clamp(y + u_b_[u8])};
    }

    const FrameView& f_;
    float y_[256], v_r_[256], u_b_[256], v_g_[256], u_g_[256];
};

}  // namespace

PlaneLayout plane_layout(const FrameView& f) {
    static const int kBytes[] = {3, 3, 4, 4, 1, 1, 1};  // plane 0, by PixelFormat
    PlaneLayout l;
    l.rows[0] = f.height;
    l.row_bytes[0] = f.width * kBytes[static_cast<int>(f.format)];
    if (f.format == PixelFormat::kNv12) {
        l.planes = 2;
        l.rows[1] = (f.height + 1) / 2;
        l.row_bytes[1] = f.width;
    } else if (f.format == PixelFormat::kI420) {
        l.planes = 3;
        l.rows[1] = l.rows[2] = (f.height + 1) / 2;
        l.row_bytes[1] = l.row_bytes[2] = (f.width + 1) / 2;
    }
    return l;
}

Status check_frame(const FrameView& f) {
    const std::string what =
        std::string(pixel_format_name(f.format)) + " frame " + std::to_string(f.width) + "x" + std::to_string(f.height);
    if (static_cast<int>(f.format) < 0 || static_cast<int>(f.format) > static_cast<int>(PixelFormat::kI420)) {
        return Status(StatusCode::kInvalidArgument, what + ": unknown pixel format");
    }
    if (f.width <= 0 || f.height <= 0) return Status(StatusCode::kInvalidArgument, what + ": empty");
    const bool yuv = f.format == PixelFormat::kNv12 || f.format == PixelFormat::kI420;
    if (yuv && (f.width % 2 != 0 || f.height % 2 != 0)) {
        return Status(StatusCode::kInvalidArgument, what + ": NV12 and I420 need an even width and height");
    }
    const PlaneLayout layout = plane_layout(f);
    for (int p = 0; p < layout.planes; ++p) {
        if (!f.planes[p])
            return Status(StatusCode::kInvalidArgument, what + ": plane " + std::to_string(p) + " is missing");
        if (f.strides[p] < layout.row_bytes[p]) {
            return Status(StatusCode::kInvalidArgument, what + ": plane " + std::to_string(p) + " stride " +
                                                            std::to_string(f.strides[p]) + " is below " +
                                                            std::to_string(layout.row_bytes[p]));
        }
    }
    return Status();
}

Placement place(int frame_width, int frame_height, int input_width, int input_height, config::ResizeMode mode) {
    Placement p;
    p.scale_x = static_cast<float>(input_width) / static_cast<float>(frame_width);
    p.scale_y = static_cast<float>(input_height) / static_cast<float>(frame_height);
    if (mode == config::ResizeMode::kLetterbox) {
        const float s = std::min(p.scale_x, p.scale_y);
        p.scale_x = p.scale_y = s;
        // Centred; the padding is split evenly, the odd pixel going after the image.
        p.offset_x = std::floor((static_cast<float>(input_width) - std::round(frame_width * s)) / 2.0f);
        p.offset_y = std::floor((static_cast<float>(input_height) - std::round(frame_height * s)) / 2.0f);
    }
    return p;
}

Status preprocess_frame(const FrameView& frame, const config::InputSection& input, int width, int height, float* out,
                        Placement* placement) {
    RT_RETURN_IF_ERROR(check_frame(frame));
    if (width <= 0 || height <= 0 || !out) {
        return Status(StatusCode::kInvalidArgument, "pre-processing: the input size " + std::to_string(width) + "x" +
                                                        std::to_string(height) + " or the output buffer is invalid");
    }
    const int channels = input.channels();
    if (static_cast<int>(input.mean.size()) != channels || static_cast<int>(input.std.size()) != channels) {
        return Status(StatusCode::kInvalidArgument, "pre-processing: mean and std need one value per channel");
    }
    const Placement pl = place(frame.width, frame.height, width, height, input.resize);
    if (placement) *placement = pl;
    const PixelReader reader(frame);
    // The placed image's extent in input pixels; outside it (letterbox) the pad value.
    const float x0 = pl.offset_x, y0 = pl.offset_y;
    const float x1 = pl.offset_x + std::round(frame.width * pl.scale_x);
    const float y1 = pl.offset_y + std::round(frame.height * pl.scale_y);
    const bool nchw = input.layout == config::Layout::kNchw;
    const size_t plane = static_cast<size_t>(width) * height;
    // Where each output column and row samples the frame depends on that column or row alone: worked out once
    // per frame instead of once per pixel.
    struct Tap {
        int a = 0, b = 0;  // the two source pixels (clamped to the frame)
        float f = 0.0f;    // the weight of b
        bool inside = false;
    };
    auto taps = [](int n, float lo, float hi, float offset, float scale, int size) {
        std::vector<Tap> t(static_cast<size_t>(n));
        for (int o = 0; o < n; ++o) {
            Tap& tap = t[static_cast<size_t>(o)];
            tap.inside = !(o < lo || o >= hi);
            if (!tap.inside) continue;
            // Bilinear at the output pixel's centre, edges clamped (half-pixel centres, as OpenCV's INTER_LINEAR
            // and torchvision's resize without antialiasing).
            const float s = std::max(0.0f, (o + 0.5f - offset) / scale - 0.5f);
            tap.a = std::min(static_cast<int>(s), size - 1);
            tap.b = std::min(tap.a + 1, size - 1);
            tap.f = std::min(1.0f, s - tap.a);
        }
        return t;
    };
    const std::vector<Tap> cols = taps(width, x0, x1, pl.offset_x, pl.scale_x, frame.width);
    const std::vector<Tap> rows = taps(height, y0, y1, pl.offset_y, pl.scale_y, frame.height);
    for (int oy = 0; oy < height; ++oy) {
        const Tap& row = rows[static_cast<size_t>(oy)];
        for (int ox = 0; ox < width; ++ox) {
            const Tap& col = cols[static_cast<size_t>(ox)];
            float rgb[3];
            if (!row.inside || !col.inside) {
                rgb[0] = rgb[1] = rgb[2] = static_cast<float>(input.pad_value);
            } else {
                const float fx = col.f, fy = row.f;
                const Rgb p00 = reader.at(col.a, row.a), p01 = reader.at(col.b, row.a), p10 = reader.at(col.a, row.b),
                          p11 = reader.at(col.b, row.b);
                auto mix = [&](float Rgb::*c) {
                    const float top = p00.*c + (p01.*c - p00.*c) * fx, bottom = p10.*c + (p11.*c - p10.*c) * fx;
                    return top + (bottom - top) * fy;
                };
                rgb[0] = mix(&Rgb::r);
                rgb[1] = mix(&Rgb::g);
                rgb[2] = mix(&Rgb::b);
            }
            float values[3];
            switch (input.color) {
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
            const size_t pixel = static_cast<size_t>(oy) * width + ox;
            for (int c = 0; c < channels; ++c) {
                const float v =
                    (values[c] * input.scale - input.mean[static_cast<size_t>(c)]) / input.std[static_cast<size_t>(c)];
                out[nchw ? c * plane + pixel : pixel * channels + c] = v;
            }
        }
    }
    return Status();
}

}  // namespace rtinfer::pipelines
