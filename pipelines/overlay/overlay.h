// Inference results drawn onto a video frame in place, the drawing behind the rtoverlay element: detection
// boxes with a "label 0.91" tag, classifier results as text lines in the top-left corner, and a segmentation
// class mask blended over the frame. One colour per class. Text is OpenCV's (imgproc) drawn on a cv::Mat that
// wraps the frame's own memory; nothing is copied and nothing outside the frame's rows is written.
//
// Formats: RGB, BGR, RGBA, BGRx (colours in the frame's channel order; pixels drawn by boxes and text get
// alpha/x 255, the mask blend leaves that byte alone), NV12 and I420 (colours converted to YUV with the
// frame's matrix and range; boxes, label backgrounds and the mask in all planes, text glyphs in Y only).
// GRAY8 is refused: the overlay's meaning is its colours.
#pragma once

#include <cstdint>
#include <vector>

#include "pipelines/decode/decode.h"
#include "pipelines/preprocess/frame_preprocess.h"
#include "rtinfer/status.h"

namespace rtinfer::pipelines {

// A frame to draw on: FrameView's layout with writable planes. Packed formats use plane 0; NV12 planes 0 (Y)
// and 1 (interleaved UV); I420 planes 0 (Y), 1 (U), 2 (V). Strides in bytes; the bytes between a row's end
// and the next stride are never touched.
struct MutableFrame {
    PixelFormat format = PixelFormat::kRgb;
    int width = 0;
    int height = 0;
    uint8_t* planes[3] = {nullptr, nullptr, nullptr};
    int strides[3] = {0, 0, 0};
    YuvMatrix matrix = YuvMatrix::kBt709;
    bool full_range = false;  // YUV formats: colours are written as full-range instead of limited-range values
};

struct OverlayStyle {
    int line_width = 2;       // box outline, pixels, drawn inside the box
    double font_scale = 0.0;  // OpenCV Hershey scale; 0: chosen from the frame height
    float mask_alpha = 0.4f;  // weight of the class colour in the mask blend, 0..1
    bool show_confidence = true;
    bool show_labels = true;  // the class name ("class N" when the label is empty)
};

// The colour of a class as 0xRRGGBB: hues a golden-ratio turn apart at full saturation and value, so nearby
// class ids get far-apart hues; the same on every run. Negative ids ("no class") get mid grey.
uint32_t class_colour(int class_id);

// Boxes (frame pixels; the outline lies inside x1..x2, y1..y2) in their class colour, each with a tag of
// "label confidence" on a class-coloured strip above the box, or inside it at the box top when there is no
// room above. Boxes partly outside the frame are drawn clipped to it; boxes wholly outside are skipped.
Status draw_detections(MutableFrame& frame, const std::vector<Detection>& detections, const OverlayStyle& style);

// One line per class ("label score"), top-left corner, best first as given, on class-coloured strips; lines
// that would pass the frame's bottom are left out.
Status draw_classes(MutableFrame& frame, const std::vector<Classification>& classes, const OverlayStyle& style);

// Blends a class mask over the frame: pixel = (1 - alpha) * pixel + alpha * class_colour. `mask` is
// mask_width x mask_height row-major and covers the network input (input_width x input_height, which it may
// sample at a coarser stride); each frame pixel's centre is mapped into the input with `placement` and takes
// the nearest mask value. Negative values mean "no class" and leave the pixel alone, as do frame pixels that
// land outside the input (a cropping placement); class 0 is coloured like any other, so a model whose class
// 0 is background should have its mask's zeros set to -1 first.
Status draw_class_mask(MutableFrame& frame, const int32_t* mask, int mask_width, int mask_height,
                       const Placement& placement, int input_width, int input_height, const OverlayStyle& style);

}  // namespace rtinfer::pipelines
