// Cameras and other video sources for the pipelines: URIs into GStreamer source descriptions, V4L2 device
// enumeration (formats, sizes, frame rates) and the choice of a capture mode.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rtinfer/status.h"

namespace rtinfer::pipelines {

// A source URI as a gst-launch style description that ends in raw video (decoded where needed):
//   v4l2:///dev/video0            v4l2src device=/dev/video0
//   file:///videos/a.mp4          filesrc location=/videos/a.mp4 ! decodebin
//   rtsp://host:8554/stream       rtspsrc location=rtsp://host:8554/stream latency=200 ! decodebin
//   test://  or  test://ball      videotestsrc pattern=ball is-live=true
// Unknown schemes, empty paths and characters that would break the description are errors naming the URI.
Expected<std::string> source_description(const std::string& uri);

// One capture mode a V4L2 device offers.
struct CaptureMode {
    std::string fourcc;  // "YUYV", "MJPG", "NV12", ...
    int width = 0;
    int height = 0;
    double fps = 0.0;
};

struct V4l2Device {
    std::string path;  // /dev/videoN
    std::string card;  // the driver's name for it
    std::string driver;
    std::vector<CaptureMode> modes;
};

// Every /dev/video* that can capture video, with its modes (discrete sizes and intervals; stepwise ranges
// give their largest size). Devices that cannot be opened are skipped. No devices: an empty list.
std::vector<V4l2Device> list_v4l2_devices();

// The best mode for a target size and rate, by these rules in order: at least the target size if any mode
// has it; at least the target rate if any such mode has it (else the fastest); raw formats before
// compressed ones (no decoder needed); the smallest size that is big enough (or the largest when none is);
// the higher rate. An empty list is an error.
Expected<CaptureMode> choose_capture_mode(const std::vector<CaptureMode>& modes, int width, int height, double fps);

}  // namespace rtinfer::pipelines
