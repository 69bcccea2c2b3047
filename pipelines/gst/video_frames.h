// What the project's elements share about GStreamer video: frames as the pipelines' frame views, and
// detections read back from standard region-of-interest metas.
#pragma once

#include <gst/video/video.h>

#include <vector>

#include "pipelines/decode/decode.h"
#include "pipelines/preprocess/frame_preprocess.h"

namespace rtinfer::gst {

// The pixel format of a GStreamer video format; false for the formats the pipelines do not take.
bool pixel_format_of(GstVideoFormat format, pipelines::PixelFormat* out);

// A mapped frame's planes, strides and colorimetry. Planes beyond the format's are left null.
struct FrameLayout {
    pipelines::PixelFormat format = pipelines::PixelFormat::kRgb;
    int width = 0, height = 0;
    uint8_t* planes[3] = {nullptr, nullptr, nullptr};
    int strides[3] = {0, 0, 0};
    pipelines::YuvMatrix matrix = pipelines::YuvMatrix::kBt709;
    bool full_range = false;
};
bool frame_layout(const GstVideoFrame* frame, FrameLayout* out);

// The GstVideoRegionOfInterestMeta boxes of a buffer as detections: the ROI type as the label, the class id
// and confidence from a "detection" parameter when there is one (class -1 and confidence 0 otherwise).
std::vector<pipelines::Detection> roi_detections(GstBuffer* buffer);

}  // namespace rtinfer::gst
