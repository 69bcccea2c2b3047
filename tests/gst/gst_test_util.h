// Shared pieces of the GStreamer element tests: the detector's reference frames and detections, model.yml
// files written into a per-process folder, frames as GstBuffers, and the results read back from a buffer.
#pragma once

#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <cstdint>
#include <string>
#include <vector>

namespace rtinfer::gst_test {

// A detection in frame pixels, as the reference files, the result meta or the ROI metas give it.
struct Box {
    int class_id = -1;
    float score = 0.0f;
    float x1 = 0.0f, y1 = 0.0f, x2 = 0.0f, y2 = 0.0f;
};

// One reference scene: packed RGB 160 x 160, and PyTorch's EfficientNMS detections for it (input pixels).
struct ReferenceFrame {
    int width = 0;
    int height = 0;
    std::vector<uint8_t> rgb;  // rows of width * 3 bytes
    std::vector<Box> detections;
};

// models/detector/reference: every scene of input_u8.npy with its detections at or above `threshold`.
// Fails the calling test (ADD_FAILURE) and returns nothing when the files cannot be read.
std::vector<ReferenceFrame> load_reference(float threshold);

// Where this process keeps its files (removed at exit) and the engine cache folder shared by test runs.
const std::string& work_dir();

struct ConfigOptions {
    float confidence_threshold = 0.15f;
    int interval = 1;
    std::string onnx;   // default: models/detector/detector_nms.onnx
    std::string extra;  // appended to the model section, e.g. "  bogus: 1\n"
};

inline ConfigOptions with_threshold(float threshold) {
    ConfigOptions options;
    options.confidence_threshold = threshold;
    return options;
}

// Writes <work_dir>/<name>.yml for the default detector (absolute paths, engine cache in the build tree).
std::string write_config(const std::string& name, const ConfigOptions& options = {});

// Frames of a reference scene: packed RGB as is, BGRx or RGB scaled by nearest neighbour, or I420 (BT.709
// limited range, converted by GStreamer's video converter) of the nearest-neighbour scaled scene.
GstBuffer* rgb_buffer(const ReferenceFrame& frame);
GstBuffer* bgrx_buffer(const ReferenceFrame& frame, int width, int height);
GstBuffer* i420_buffer(const ReferenceFrame& frame, int width, int height);
std::string caps_string(const char* format, int width, int height);

// The detections a buffer carries: from the RtinferResultMeta (through the C API) and from its
// GstVideoRegionOfInterestMeta ("detection" parameter structures).
std::vector<Box> result_meta_boxes(GstBuffer* buffer);
std::vector<Box> roi_meta_boxes(GstBuffer* buffer);

// Expects `got` to hold exactly the boxes of `want` scaled by (sx, sy): same classes, scores within
// score_tol, edges within px_tol pixels. `what` names the check in failure messages.
void expect_same_detections(const std::vector<Box>& got, const std::vector<Box>& want, float sx, float sy,
                            float px_tol, float score_tol, const std::string& what);

// The rtinfer element named `name` inside a harness made by gst_harness_new_parse (a new reference).
GstElement* harness_element(GstHarness* h, const char* name);

// Runs a gst_parse_launch pipeline to PLAYING and returns the first ERROR message on its bus ("" when none
// came within `timeout_s`), with its debug text; `state_failed` tells whether the state change failed.
std::string pipeline_error(const std::string& description, bool* state_failed, int timeout_s = 60);

}  // namespace rtinfer::gst_test
