// The rtinfer element through GstHarness on the CPU backend: detections on the reference scenes (the result
// meta's C API and the ROI metas), interval, flushing and EOS, caps renegotiation, two streams sharing one
// engine, a stalled stream, and the latency it reports.
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "pipelines/gst/rtinfer_meta.h"
#include "tests/gst/gst_test_util.h"

namespace rtinfer::gst_test {
namespace {

constexpr float kThreshold = 0.15f;  // below every reference score kept, well above those dropped
constexpr float kScoreTol = 0.03f;

using Clock = std::chrono::steady_clock;

GstHarness* rtinfer_harness(const std::string& config, const std::string& props = "") {
    const std::string desc = "rtinfer name=inf config=" + config + " " + props;
    GstHarness* h = gst_harness_new_parse(desc.c_str());
    gst_harness_play(h);
    return h;
}

GstBuffer* with_pts(GstBuffer* b, int index) {
    GST_BUFFER_PTS(b) = static_cast<GstClockTime>(index) * GST_SECOND / 30;
    GST_BUFFER_DURATION(b) = GST_SECOND / 30;
    return b;
}

// Pushes one frame, pulls it back and checks both kinds of metadata against `want` scaled by (sx, sy).
void expect_frame(GstHarness* h, GstBuffer* in, const std::vector<Box>& want, float sx, float sy, float px_tol,
                  const std::string& what, float score_tol = kScoreTol) {
    ASSERT_EQ(gst_harness_push(h, in), GST_FLOW_OK) << what;
    GstBuffer* out = gst_harness_pull(h);
    ASSERT_NE(out, nullptr) << what;
    ASSERT_NE(rtinfer_buffer_get_result_meta(out), nullptr) << what << ": no result meta";
    expect_same_detections(result_meta_boxes(out), want, sx, sy, px_tol, score_tol, what + " (result meta)");
    // ROI metas hold whole pixels (x, y truncated, w, h the truncated size): one more pixel of slack.
    expect_same_detections(roi_meta_boxes(out), want, sx, sy, px_tol + 1.5f, score_tol, what + " (ROI meta)");
    gst_buffer_unref(out);
}

TEST(RtinferElement, PluginRegistersItsElements) {
    for (const char* name : {"rtinfer", "rtmetasink", "rtoverlay"}) {
        GstElementFactory* f = gst_element_factory_find(name);
        EXPECT_NE(f, nullptr) << name << " not found in " << RTINFER_GST_PLUGIN_DIR;
        if (f) gst_object_unref(f);
    }
}

TEST(RtinferElement, DetectionsOnReferenceFramesRgb) {
    const auto ref = load_reference(kThreshold);
    ASSERT_FALSE(ref.empty());
    GstHarness* h = rtinfer_harness(write_config("rgb", with_threshold(kThreshold)), "stream-id=5");
    gst_harness_set_src_caps_str(h, caps_string("RGB", 160, 160).c_str());
    for (size_t i = 0; i < ref.size(); ++i) {
        ASSERT_FALSE(ref[i].detections.empty()) << "scene " << i << " has nothing to check";
        expect_frame(h, with_pts(rgb_buffer(ref[i]), static_cast<int>(i)), ref[i].detections, 1.0f, 1.0f, 1.0f,
                     "RGB scene " + std::to_string(i));
    }
    // The meta's bookkeeping and placement for a 160 x 160 frame in a 160 x 160 input.
    ASSERT_EQ(gst_harness_push(h, rgb_buffer(ref[0])), GST_FLOW_OK);
    GstBuffer* out = gst_harness_pull(h);
    const RtinferResultMeta* meta = rtinfer_buffer_get_result_meta(out);
    ASSERT_NE(meta, nullptr);
    EXPECT_EQ(meta->stream_id, 5);
    EXPECT_EQ(meta->frame_number, ref.size());
    EXPECT_EQ(meta->batch_size, 1);
    RtinferPlacement placement;
    rtinfer_result_meta_get_placement(meta, &placement);
    EXPECT_EQ(placement.input_width, 160);
    EXPECT_EQ(placement.input_height, 160);
    EXPECT_NEAR(placement.scale_x, 1.0f, 1e-5f);
    RtinferObject o;
    ASSERT_TRUE(rtinfer_result_meta_get_object(meta, 0, &o));
    EXPECT_STRNE(o.label, "");
    EXPECT_FALSE(rtinfer_result_meta_get_object(meta, rtinfer_result_meta_n_objects(meta), &o));
    gst_buffer_unref(out);
    gst_harness_teardown(h);
}

TEST(RtinferElement, DetectionsOnUpscaledBgrxFrames) {
    const auto ref = load_reference(kThreshold);
    ASSERT_FALSE(ref.empty());
    GstHarness* h = rtinfer_harness(write_config("bgrx", with_threshold(kThreshold)));
    gst_harness_set_src_caps_str(h, caps_string("BGRx", 320, 320).c_str());
    for (size_t i = 0; i < ref.size(); ++i) {
        expect_frame(h, with_pts(bgrx_buffer(ref[i], 320, 320), static_cast<int>(i)), ref[i].detections, 2.0f, 2.0f,
                     2.0f, "BGRx 320x320 scene " + std::to_string(i));
    }
    gst_harness_teardown(h);
}

TEST(RtinferElement, IntervalTwoInfersEveryOtherFrame) {
    const auto ref = load_reference(kThreshold);
    ASSERT_FALSE(ref.empty());
    ConfigOptions options;
    options.interval = 2;
    GstHarness* h = rtinfer_harness(write_config("interval", options));
    gst_harness_set_src_caps_str(h, caps_string("RGB", 160, 160).c_str());
    for (int i = 0; i < 6; ++i) {
        ASSERT_EQ(gst_harness_push(h, with_pts(rgb_buffer(ref[0]), i)), GST_FLOW_OK);
        GstBuffer* out = gst_harness_pull(h);
        ASSERT_NE(out, nullptr);
        const RtinferResultMeta* meta = rtinfer_buffer_get_result_meta(out);
        if (i % 2 == 0) {
            ASSERT_NE(meta, nullptr) << "frame " << i;
            EXPECT_EQ(meta->frame_number, static_cast<guint64>(i));
            expect_same_detections(result_meta_boxes(out), ref[0].detections, 1, 1, 1, kScoreTol,
                                   "frame " + std::to_string(i));
        } else {
            EXPECT_EQ(meta, nullptr) << "frame " << i << " should pass without inference";
            EXPECT_TRUE(roi_meta_boxes(out).empty()) << "frame " << i;
        }
        gst_buffer_unref(out);
    }
    gst_harness_teardown(h);
}

TEST(RtinferElement, FlushMidStreamThenMoreResultsAndEos) {
    const auto ref = load_reference(kThreshold);
    ASSERT_FALSE(ref.empty());
    GstHarness* h = rtinfer_harness(write_config("flush", with_threshold(kThreshold)));
    gst_harness_set_src_caps_str(h, caps_string("RGB", 160, 160).c_str());
    for (int i = 0; i < 2; ++i)
        expect_frame(h, with_pts(rgb_buffer(ref[0]), i), ref[0].detections, 1, 1, 1, "before the flush");
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_flush_start()));
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
    GstSegment segment;
    gst_segment_init(&segment, GST_FORMAT_TIME);
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_segment(&segment)));
    for (int i = 0; i < 3; ++i) {
        const auto& f = ref[static_cast<size_t>(i) % ref.size()];
        expect_frame(h, with_pts(rgb_buffer(f), i), f.detections, 1, 1, 1,
                     "after the flush, frame " + std::to_string(i));
    }
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
    bool flush_start = false, flush_stop = false, eos = false;
    while (GstEvent* e = gst_harness_try_pull_event(h)) {
        flush_start |= GST_EVENT_TYPE(e) == GST_EVENT_FLUSH_START;
        flush_stop |= GST_EVENT_TYPE(e) == GST_EVENT_FLUSH_STOP;
        eos |= GST_EVENT_TYPE(e) == GST_EVENT_EOS;
        gst_event_unref(e);
    }
    EXPECT_TRUE(flush_start);
    EXPECT_TRUE(flush_stop);
    EXPECT_TRUE(eos) << "EOS did not pass through";
    gst_harness_teardown(h);
}

TEST(RtinferElement, CapsRenegotiationToI420KeepsResultsInNewFramePixels) {
    const auto ref = load_reference(kThreshold);
    ASSERT_FALSE(ref.empty());
    GstHarness* h = rtinfer_harness(write_config("renegotiate", with_threshold(kThreshold)));
    gst_harness_set_src_caps_str(h, caps_string("RGB", 160, 160).c_str());
    expect_frame(h, with_pts(rgb_buffer(ref[0]), 0), ref[0].detections, 1, 1, 1, "RGB before the new caps");
    gst_harness_set_src_caps_str(h, caps_string("I420", 320, 240).c_str());
    for (size_t i = 0; i < ref.size(); ++i) {
        // 1.5x vertically is no exact round trip and YUV rounds colours: the weaker scores move by up to 0.07.
        expect_frame(h, with_pts(i420_buffer(ref[i], 320, 240), static_cast<int>(i) + 1), ref[i].detections, 2.0f,
                     1.5f, 3.0f, "I420 320x240 scene " + std::to_string(i), 0.1f);
    }
    gst_harness_teardown(h);
}

TEST(RtinferElement, TwoStreamsShareOneEngineAndBatch) {
    const auto ref = load_reference(kThreshold);
    ASSERT_GE(ref.size(), 2u);
    const std::string config = write_config("shared", with_threshold(kThreshold));
    // A long max-latency: a batch closes when both streams have a frame in it, which is what is tested.
    GstHarness* a = rtinfer_harness(config, "max-latency=2000000 stream-id=0");
    GstHarness* b = rtinfer_harness(config, "max-latency=2000000 stream-id=1");
    GstElement* ea = harness_element(a, "inf");
    GstElement* eb = harness_element(b, "inf");
    gint users_a = 0, users_b = 0;
    g_object_get(ea, "engine-users", &users_a, nullptr);
    g_object_get(eb, "engine-users", &users_b, nullptr);
    EXPECT_EQ(users_a, 2);
    EXPECT_EQ(users_b, 2);
    gint batch = 0;
    g_object_get(ea, "batch-size", &batch, nullptr);
    EXPECT_EQ(batch, 8);
    gst_harness_set_src_caps_str(a, caps_string("RGB", 160, 160).c_str());
    gst_harness_set_src_caps_str(b, caps_string("BGRx", 320, 320).c_str());

    constexpr int kFrames = 6;
    std::atomic<int> failed_pushes{0};
    const auto start = Clock::now();
    std::thread ta([&] {
        for (int i = 0; i < kFrames; ++i)
            if (gst_harness_push(a, with_pts(rgb_buffer(ref[0]), i)) != GST_FLOW_OK) ++failed_pushes;
    });
    std::thread tb([&] {
        for (int i = 0; i < kFrames; ++i)
            if (gst_harness_push(b, with_pts(bgrx_buffer(ref[1], 320, 320), i)) != GST_FLOW_OK) ++failed_pushes;
    });
    ta.join();
    tb.join();
    // Batches that waited out their 2 s would take 12 s: they must close as soon as both streams have a frame.
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    EXPECT_LT(seconds, 5.0) << "the batches waited for max-latency instead of closing with both streams' frames";
    EXPECT_EQ(failed_pushes.load(), 0);
    int batched = 0;
    for (int i = 0; i < kFrames; ++i) {
        for (GstHarness* h : {a, b}) {
            GstBuffer* out = gst_harness_pull(h);
            ASSERT_NE(out, nullptr);
            const RtinferResultMeta* meta = rtinfer_buffer_get_result_meta(out);
            ASSERT_NE(meta, nullptr);
            EXPECT_EQ(meta->stream_id, h == a ? 0 : 1);
            EXPECT_GE(meta->batch_size, 1);
            EXPECT_LE(meta->batch_size, 2);
            if (meta->batch_size == 2) ++batched;
            if (h == a)
                expect_same_detections(result_meta_boxes(out), ref[0].detections, 1, 1, 1, kScoreTol, "stream 0");
            else
                expect_same_detections(result_meta_boxes(out), ref[1].detections, 2, 2, 2, kScoreTol, "stream 1");
            gst_buffer_unref(out);
        }
    }
    EXPECT_GT(batched, 0) << "no inference combined the two streams' frames";
    gst_object_unref(ea);
    gst_harness_teardown(a);
    g_object_get(eb, "engine-users", &users_b, nullptr);
    EXPECT_EQ(users_b, 1) << "a stopped stream should leave the engine";
    gst_object_unref(eb);
    gst_harness_teardown(b);
}

TEST(RtinferElement, StalledStreamDelaysOthersOnlyByMaxLatency) {
    const auto ref = load_reference(kThreshold);
    ASSERT_FALSE(ref.empty());
    const std::string config = write_config("stalled", with_threshold(kThreshold));
    GstHarness* live = rtinfer_harness(config, "max-latency=50000");
    GstHarness* stalled = rtinfer_harness(config, "max-latency=50000");
    GstElement* e = harness_element(live, "inf");
    gint users = 0;
    g_object_get(e, "engine-users", &users, nullptr);
    gst_object_unref(e);
    ASSERT_EQ(users, 2);
    gst_harness_set_src_caps_str(live, caps_string("RGB", 160, 160).c_str());
    for (int i = 0; i < 5; ++i) {
        const auto start = Clock::now();
        ASSERT_EQ(gst_harness_push(live, with_pts(rgb_buffer(ref[0]), i)), GST_FLOW_OK);
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        // The batch waits its 50 ms for the stalled stream, then runs alone.
        EXPECT_GE(ms, 40.0) << "frame " << i << " did not wait for the other stream";
        EXPECT_LT(ms, 2000.0) << "frame " << i << " waited far past max-latency";
        GstBuffer* out = gst_harness_pull(live);
        ASSERT_NE(out, nullptr);
        const RtinferResultMeta* meta = rtinfer_buffer_get_result_meta(out);
        ASSERT_NE(meta, nullptr);
        EXPECT_EQ(meta->batch_size, 1);
        expect_same_detections(result_meta_boxes(out), ref[0].detections, 1, 1, 1, kScoreTol, "live stream");
        gst_buffer_unref(out);
    }
    gst_harness_teardown(stalled);
    gst_harness_teardown(live);
}

// The latency a live pipeline reports, in nanoseconds (-1 when the query fails). The sink syncs: a sink that
// does not answers a latency query with 0.
gint64 live_latency(const std::string& middle) {
    const std::string desc = "videotestsrc is-live=true ! " + caps_string("RGB", 160, 160) + " ! " + middle +
                             " ! fakesink sync=true";
    GError* error = nullptr;
    GstElement* pipeline = gst_parse_launch(desc.c_str(), &error);
    if (!pipeline || error) {
        ADD_FAILURE() << desc << ": " << (error ? error->message : "");
        g_clear_error(&error);
        return -1;
    }
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    GstState state = GST_STATE_NULL;
    gst_element_get_state(pipeline, &state, nullptr, 120 * GST_SECOND);
    gint64 result = -1;
    GstQuery* q = gst_query_new_latency();
    if (state == GST_STATE_PLAYING && gst_element_query(pipeline, q)) {
        gboolean live = FALSE;
        GstClockTime min = 0, max = 0;
        gst_query_parse_latency(q, &live, &min, &max);
        EXPECT_TRUE(live);
        result = static_cast<gint64>(min);
    }
    EXPECT_EQ(state, GST_STATE_PLAYING) << desc;
    gst_query_unref(q);
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(pipeline);
    return result;
}

TEST(RtinferElement, LatencyQueryAddsMaxLatency) {
    const gint64 base = live_latency("identity");
    const std::string config = write_config("latency", with_threshold(kThreshold));
    const gint64 with = live_latency("rtinfer config=" + config + " max-latency=30000");
    ASSERT_GE(base, 0);
    ASSERT_GE(with, 0);
    EXPECT_GE(with, static_cast<gint64>(30 * GST_MSECOND));
    EXPECT_GE(with - base, static_cast<gint64>(30 * GST_MSECOND))
        << "rtinfer added less than its max-latency to " << base << " ns";
}

}  // namespace
}  // namespace rtinfer::gst_test
