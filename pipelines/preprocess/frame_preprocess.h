// A video frame into a network's input tensor on the CPU, as model.yml's input section says: colour
// conversion from the frame's pixel format, resize (stretch or letterbox, bilinear), scale and per-channel
// mean/std, NCHW or NHWC. The CPU backend's pre-processing for the rtinfer element, and the reference the
// GPU pre-processing kernel is tested against.
#pragma once

#include <cstdint>

#include "pipelines/config/model_config.h"
#include "rtinfer/status.h"

namespace rtinfer::pipelines {

// The raw video formats the element takes (GStreamer names: RGB, BGR, RGBA, BGRx, GRAY8, NV12, I420).
enum class PixelFormat { kRgb, kBgr, kRgba, kBgrx, kGray8, kNv12, kI420 };
const char* pixel_format_name(PixelFormat format);

// YUV to RGB: the matrix and range the frame's colorimetry names (limited range: Y 16..235, UV 16..240).
enum class YuvMatrix { kBt601, kBt709 };

// One frame in memory: packed formats use plane 0; NV12 planes 0 (Y) and 1 (interleaved UV); I420 planes
// 0 (Y), 1 (U), 2 (V). Strides in bytes. NV12 and I420 need an even width and height.
struct FrameView {
    PixelFormat format = PixelFormat::kRgb;
    int width = 0;
    int height = 0;
    const uint8_t* planes[3] = {nullptr, nullptr, nullptr};
    int strides[3] = {0, 0, 0};
    YuvMatrix matrix = YuvMatrix::kBt709;
    bool full_range = false;  // YUV formats: full-range (JPEG-style) instead of limited-range values
};

// The planes a frame's format has, and for each the rows and the bytes per row its pixels take (strides may
// be larger). NV12 and I420 chroma planes have half the rows.
struct PlaneLayout {
    int planes = 1;
    int rows[3] = {0, 0, 0};
    int row_bytes[3] = {0, 0, 0};
};
PlaneLayout plane_layout(const FrameView& frame);

// Whether a frame can be read: a known format, a non-empty size (even for NV12 and I420), every plane present
// with a stride that holds its row. Errors name the format, the size and the plane.
Status check_frame(const FrameView& frame);

// Where the frame lies in the network input: input_x = frame_x * scale_x + offset_x (likewise for y), in
// pixel units with pixel centres at +0.5. Maps detections back to the frame.
struct Placement {
    float scale_x = 1.0f, scale_y = 1.0f;
    float offset_x = 0.0f, offset_y = 0.0f;
    float to_frame_x(float input_x) const { return (input_x - offset_x) / scale_x; }
    float to_frame_y(float input_y) const { return (input_y - offset_y) / scale_y; }
};

// Stretch: the frame fills the input. Letterbox: scaled by one factor to fit, centred, the rest padded.
Placement place(int frame_width, int frame_height, int input_width, int input_height, config::ResizeMode mode);

// Writes one image, input.channels() x height x width float32 values in input.layout, to `out`; the
// placement used goes to *placement when given. Errors name what is wrong with the frame.
Status preprocess_frame(const FrameView& frame, const config::InputSection& input, int width, int height, float* out,
                        Placement* placement = nullptr);

}  // namespace rtinfer::pipelines
