// Video sources: URIs into gst-launch source descriptions (and the errors), and the choice of a V4L2
// capture mode.
#include <gtest/gtest.h>

#include "pipelines/camera/sources.h"

using namespace rtinfer;
using namespace rtinfer::pipelines;

TEST(Sources, UrisBecomeSourceDescriptions) {
    EXPECT_EQ(source_description("v4l2:///dev/video2").value(), "v4l2src device=/dev/video2");
    EXPECT_EQ(source_description("file:///videos/a.mp4").value(), "filesrc location=/videos/a.mp4 ! decodebin");
    EXPECT_EQ(source_description("rtsp://cam.local:8554/s1").value(),
              "rtspsrc location=rtsp://cam.local:8554/s1 latency=200 ! decodebin");
    EXPECT_EQ(source_description("test://").value(), "videotestsrc pattern=smpte is-live=true");
    EXPECT_EQ(source_description("test://ball").value(), "videotestsrc pattern=ball is-live=true");
}

TEST(Sources, BadUrisNameTheUriAndTheProblem) {
    const std::pair<const char*, const char*> cases[] = {
        {"/dev/video0", "not a URI"},
        {"http://x/y.mp4", "unknown scheme 'http'"},
        {"file://relative.mp4", "expected an absolute path"},
        {"v4l2://video0", "expected v4l2:///dev/videoN"},
        {"file:///a b.mp4", "spaces, quotes"},
        {"file:///a.mp4 ! fakesink", "spaces, quotes"},
        {"rtsp://", "no host"},
    };
    for (const auto& [uri, why] : cases) {
        auto got = source_description(uri);
        ASSERT_FALSE(got.has_value()) << uri;
        EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument) << uri;
        EXPECT_NE(got.status().message().find(std::string("source '") + uri + "'"), std::string::npos)
            << got.status().message();
        EXPECT_NE(got.status().message().find(why), std::string::npos) << got.status().message();
    }
}

TEST(Sources, CaptureModeChoice) {
    const std::vector<CaptureMode> modes = {
        {"YUYV", 640, 480, 30}, {"MJPG", 1920, 1080, 30}, {"YUYV", 1920, 1080, 5}, {"NV12", 1280, 720, 60}};
    auto pick = [&](int w, int h, double fps) {
        auto m = choose_capture_mode(modes, w, h, fps);
        EXPECT_TRUE(m.has_value());
        return m.has_value() ? m->fourcc + " " + std::to_string(m->width) + "x" + std::to_string(m->height) : "";
    };
    EXPECT_EQ(pick(1280, 720, 30), "NV12 1280x720");    // big and fast enough, raw
    EXPECT_EQ(pick(1920, 1080, 30), "MJPG 1920x1080");  // only MJPG has the size at the rate
    EXPECT_EQ(pick(1920, 1080, 5), "YUYV 1920x1080");   // raw at the size when the rate allows
    EXPECT_EQ(pick(3840, 2160, 30), "NV12 1280x720");   // nothing that big: the largest raw mode at the rate
    EXPECT_EQ(pick(320, 240, 30), "YUYV 640x480");      // the smallest raw mode at least that big
    auto none = choose_capture_mode({}, 640, 480, 30);
    ASSERT_FALSE(none.has_value());
    EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
}
