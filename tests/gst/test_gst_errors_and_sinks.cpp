// What the elements say when the input is wrong (bus ERROR messages naming the file, line and column), and
// the two elements that consume rtinfer's results: rtmetasink's JSON lines and rtoverlay's drawing.
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>

#include "pipelines/gst/rtinfer_meta.h"
#include "tests/gst/gst_test_util.h"

#ifdef RTINFER_GST_TEST_OVERLAY
#include "pipelines/overlay/overlay.h"
#endif

namespace rtinfer::gst_test {
namespace {

std::string one_frame_through(const std::string& rtinfer_props) {
    return "videotestsrc num-buffers=1 ! " + caps_string("RGB", 160, 160) + " ! rtinfer " + rtinfer_props +
           " ! fakesink";
}

TEST(RtinferErrors, UnknownKeyNamesFileLineAndColumn) {
    ConfigOptions options;
    options.extra = "  bacth: 2\n";  // line 6, column 3 of the file write_config writes
    const std::string config = write_config("unknown_key", options);
    bool failed = false;
    const std::string error = pipeline_error(one_frame_through("config=" + config), &failed);
    EXPECT_TRUE(failed) << "the state change should fail";
    EXPECT_NE(error.find(config + ":6:3"), std::string::npos) << error;
    EXPECT_NE(error.find("bacth"), std::string::npos) << error;
}

TEST(RtinferErrors, MissingOnnxNamesTheFile) {
    ConfigOptions options;
    options.onnx = work_dir() + "/no_such_model.onnx";
    const std::string config = write_config("missing_onnx", options);
    bool failed = false;
    const std::string error = pipeline_error(one_frame_through("config=" + config), &failed);
    EXPECT_TRUE(failed);
    EXPECT_NE(error.find(options.onnx), std::string::npos) << error;
}

TEST(RtinferErrors, NoConfigSaysSo) {
    bool failed = false;
    const std::string error = pipeline_error(one_frame_through(""), &failed);
    EXPECT_TRUE(failed);
    EXPECT_NE(error.find("config"), std::string::npos) << error;
}

TEST(RtinferErrors, MissingConfigFileNamesIt) {
    const std::string config = work_dir() + "/absent.yml";
    bool failed = false;
    const std::string error = pipeline_error(one_frame_through("config=" + config), &failed);
    EXPECT_TRUE(failed);
    EXPECT_NE(error.find(config), std::string::npos) << error;
}

// Caps that link but a frame the model cannot take: the error names the frame and the stream stops.
TEST(RtinferErrors, OddSizedNv12FrameIsABusErrorNamingTheFrame) {
    const std::string config = write_config("odd_nv12", ConfigOptions());
    bool failed = false;
    const std::string error =
        pipeline_error("videotestsrc num-buffers=2 ! " + caps_string("NV12", 161, 120) + " ! rtinfer config=" +
                           config + " ! fakesink",
                       &failed);
    EXPECT_NE(error.find("NV12 frame 161x120"), std::string::npos) << error;
    EXPECT_NE(error.find("even width and height"), std::string::npos) << error;
}

TEST(RtinferErrors, GarbageOnnxNamesTheFile) {
    for (const bool truncated : {false, true}) {
        ConfigOptions options;
        options.onnx = work_dir() + (truncated ? "/truncated.onnx" : "/garbage.onnx");
        std::string bytes;
        if (truncated) {
            std::ifstream in(std::string(RTINFER_SOURCE_DIR) + "/models/detector/detector_nms.onnx", std::ios::binary);
            bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
            ASSERT_GT(bytes.size(), 1000u);
            bytes.resize(bytes.size() / 3);
        } else {
            std::mt19937 rng(7);
            for (int i = 0; i < 4096; ++i) bytes.push_back(static_cast<char>(rng()));
        }
        std::ofstream(options.onnx, std::ios::binary) << bytes;
        const std::string config = write_config(truncated ? "truncated_onnx" : "garbage_onnx", options);
        bool failed = false;
        const std::string error = pipeline_error(one_frame_through("config=" + config), &failed);
        EXPECT_TRUE(failed) << options.onnx;
        EXPECT_NE(error.find(options.onnx), std::string::npos) << error;
    }
}

TEST(RtMetaSink, UnwritableLocationNamesThePath) {
    const std::string path = work_dir() + "/no/such/folder/meta.jsonl";
    bool failed = false;
    const std::string error =
        pipeline_error("videotestsrc num-buffers=1 ! rtmetasink location=" + path, &failed);
    EXPECT_TRUE(failed);
    EXPECT_NE(error.find(path), std::string::npos) << error;
}

size_t count_of(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
    return n;
}

TEST(RtMetaSink, WritesOneJsonLinePerFrame) {
    const auto ref = load_reference(0.15f);
    ASSERT_FALSE(ref.empty());
    const std::string config = write_config("metasink", with_threshold(0.15f));
    const std::string path = work_dir() + "/meta.jsonl";
    const std::string desc = "rtinfer config=" + config + " stream-id=7 ! rtmetasink sync=false location=" + path;
    GstHarness* h = gst_harness_new_parse(desc.c_str());
    gst_harness_play(h);
    gst_harness_set_src_caps_str(h, caps_string("BGRx", 320, 320).c_str());
    for (size_t i = 0; i < ref.size(); ++i) {
        GstBuffer* b = bgrx_buffer(ref[i], 320, 320);
        GST_BUFFER_PTS(b) = i * GST_SECOND;
        ASSERT_EQ(gst_harness_push(h, b), GST_FLOW_OK);
    }
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
    gst_harness_teardown(h);

    std::ifstream in(path);
    ASSERT_TRUE(in.good()) << path;
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    ASSERT_EQ(lines.size(), ref.size()) << "one line per frame";
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string& l = lines[i];
        EXPECT_EQ(l.front(), '{') << l;
        EXPECT_EQ(l.back(), '}') << l;
        EXPECT_NE(l.find("\"stream\":7"), std::string::npos) << l;
        EXPECT_NE(l.find("\"frame\":" + std::to_string(i)), std::string::npos) << l;
        EXPECT_NE(l.find("\"pts_ns\":" + std::to_string(i * GST_SECOND)), std::string::npos) << l;
        EXPECT_NE(l.find("\"width\":320"), std::string::npos) << l;
        EXPECT_EQ(count_of(l, "\"class_id\""), ref[i].detections.size()) << l;
        for (const Box& b : ref[i].detections)
            EXPECT_NE(l.find("\"class_id\":" + std::to_string(b.class_id)), std::string::npos) << l;
        EXPECT_EQ(count_of(l, "\"confidence\""), ref[i].detections.size()) << l;
    }
}

#ifdef RTINFER_GST_TEST_OVERLAY
TEST(RtOverlay, DrawsBoxEdgesInClassColours) {
    const auto ref = load_reference(0.5f);  // two confident, disjoint boxes in scene 0
    ASSERT_FALSE(ref.empty());
    ASSERT_GE(ref[0].detections.size(), 2u);
    const std::string desc = "rtinfer config=" + write_config("overlay", with_threshold(0.5f)) + " ! rtoverlay";
    GstHarness* h = gst_harness_new_parse(desc.c_str());
    gst_harness_play(h);
    gst_harness_set_src_caps_str(h, caps_string("RGB", 160, 160).c_str());
    ASSERT_EQ(gst_harness_push(h, rgb_buffer(ref[0])), GST_FLOW_OK);
    GstBuffer* out = gst_harness_pull(h);
    ASSERT_NE(out, nullptr);
    const std::vector<Box> boxes = result_meta_boxes(out);
    ASSERT_EQ(boxes.size(), ref[0].detections.size());
    GstMapInfo map;
    ASSERT_TRUE(gst_buffer_map(out, &map, GST_MAP_READ));
    const int stride = 160 * 3;
    size_t changed = 0;
    for (size_t i = 0; i < map.size; ++i) changed += map.data[i] != ref[0].rgb[i];
    EXPECT_GT(changed, 0u);
    for (const Box& b : boxes) {
        const uint32_t rgb = rtinfer::pipelines::class_colour(b.class_id);
        const int mid_y = static_cast<int>((b.y1 + b.y2) / 2);
        // The outline (2 px, inside the box) covers floor(x1) + 1 whichever way its edge rounds.
        for (const int x : {static_cast<int>(b.x1) + 1, static_cast<int>(b.x2) - 1}) {
            const uint8_t* p = map.data + mid_y * stride + x * 3;
            EXPECT_EQ(p[0], (rgb >> 16) & 0xff) << "class " << b.class_id << " at " << x << "," << mid_y;
            EXPECT_EQ(p[1], (rgb >> 8) & 0xff) << "class " << b.class_id << " at " << x << "," << mid_y;
            EXPECT_EQ(p[2], rgb & 0xff) << "class " << b.class_id << " at " << x << "," << mid_y;
        }
    }
    gst_buffer_unmap(out, &map);
    gst_buffer_unref(out);
    gst_harness_teardown(h);
}

TEST(RtOverlay, FrameWithoutMetasIsUnchanged) {
    const auto ref = load_reference(0.5f);
    ASSERT_FALSE(ref.empty());
    GstHarness* h = gst_harness_new("rtoverlay");
    gst_harness_set_src_caps_str(h, caps_string("RGB", 160, 160).c_str());
    ASSERT_EQ(gst_harness_push(h, rgb_buffer(ref[0])), GST_FLOW_OK);
    GstBuffer* out = gst_harness_pull(h);
    ASSERT_NE(out, nullptr);
    GstMapInfo map;
    ASSERT_TRUE(gst_buffer_map(out, &map, GST_MAP_READ));
    ASSERT_EQ(map.size, ref[0].rgb.size());
    EXPECT_EQ(std::memcmp(map.data, ref[0].rgb.data(), map.size), 0);
    gst_buffer_unmap(out, &map);
    gst_buffer_unref(out);
    gst_harness_teardown(h);
}
#endif

}  // namespace
}  // namespace rtinfer::gst_test

// The plugin under test and a registry of this build's own, so that tests never touch the user's registry.
int main(int argc, char** argv) {
    g_setenv("GST_PLUGIN_PATH", RTINFER_GST_PLUGIN_DIR, TRUE);
    g_setenv("GST_REGISTRY", RTINFER_GST_TEST_REGISTRY, TRUE);
    gst_init(&argc, &argv);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
