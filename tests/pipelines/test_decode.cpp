// Output decoding: classifier top-k with softmax and threshold, each detector format (boxes, scores,
// thresholds, NMS, background class, mapping back to the frame, labels), segmentation masks, bad shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "pipelines/decode/decode.h"

using namespace rtinfer;
using namespace rtinfer::pipelines;

namespace {

config::Labels labels(std::vector<std::string> names) {
    config::Labels l;
    l.names = std::move(names);
    return l;
}

}  // namespace

TEST(Decode, ClassifierTopKSoftmaxAndThreshold) {
    const std::vector<float> logits = {1.0f, 3.0f, 2.0f, -1.0f};
    config::ClassifierOutput out;
    out.top_k = 3;
    out.softmax = true;
    out.threshold = 0.2f;
    out.labels = labels({"a", "b", "c", "d"});
    auto got = decode_classifier(out, {logits.data(), {4}});
    ASSERT_TRUE(got.has_value()) << got.status().message();
    const double sum = std::exp(1.0) + std::exp(3.0) + std::exp(2.0) + std::exp(-1.0);
    ASSERT_EQ(got->size(), 2u);  // the third, class 0 at 0.086, is below the threshold
    EXPECT_EQ((*got)[0].class_id, 1);
    EXPECT_EQ((*got)[0].label, "b");
    EXPECT_NEAR((*got)[0].score, std::exp(3.0) / sum, 1e-6);
    EXPECT_EQ((*got)[1].class_id, 2);
    EXPECT_NEAR((*got)[1].score, std::exp(2.0) / sum, 1e-6);
}

TEST(Decode, Yolov8BoxesThresholdNmsAndLetterboxMapping) {
    // 3 classes, 4 anchors: [4 + 3, 4]. Anchors 0 and 1 overlap (same class): 1 is suppressed; anchor 2 is
    // below the threshold; anchor 3 is another class.
    const int a = 4;
    std::vector<float> t(7 * a, 0.0f);
    auto set = [&](int anchor, float cx, float cy, float w, float h, int cls, float score) {
        t[0 * a + anchor] = cx, t[1 * a + anchor] = cy, t[2 * a + anchor] = w, t[3 * a + anchor] = h;
        t[(4 + cls) * a + anchor] = score;
    };
    set(0, 32, 32, 20, 20, 1, 0.9f);
    set(1, 33, 33, 20, 20, 1, 0.8f);
    set(2, 10, 10, 4, 4, 0, 0.1f);
    set(3, 50, 20, 10, 8, 2, 0.7f);
    config::DetectorOutput out;
    out.format = config::DetectorFormat::kYolov8;
    out.labels = labels({"x", "y", "z"});
    // A 200 x 100 frame letterboxed into 64 x 64: scale 0.32, offset y 16.
    const Placement pl = place(200, 100, 64, 64, config::ResizeMode::kLetterbox);
    auto got = decode_detections(out, {{t.data(), {7, a}}}, 64, 64, pl, 200, 100);
    ASSERT_TRUE(got.has_value()) << got.status().message();
    ASSERT_EQ(got->size(), 2u);
    const Detection& d = (*got)[0];
    EXPECT_EQ(d.class_id, 1);
    EXPECT_EQ(d.label, "y");
    EXPECT_FLOAT_EQ(d.confidence, 0.9f);
    EXPECT_NEAR(d.x1, 22 / 0.32f, 1e-3);
    EXPECT_NEAR(d.y1, (22 - 16) / 0.32f, 1e-3);
    EXPECT_NEAR(d.x2, 42 / 0.32f, 1e-3);
    EXPECT_NEAR(d.y2, (42 - 16) / 0.32f, 1e-3);
    EXPECT_EQ((*got)[1].class_id, 2);
    // Class-agnostic NMS with a low IoU bar keeps both (they do not overlap); max_detections clips.
    out.max_detections = 1;
    got = decode_detections(out, {{t.data(), {7, a}}}, 64, 64, pl, 200, 100);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->size(), 1u);
}

TEST(Decode, Yolov5ConfidenceIsObjectnessTimesClass) {
    // [anchors 2, 5 + 2]: anchor 0 obj 0.5 x class 1 0.8 = 0.4; anchor 1 obj 0.9 x 0.2 = 0.18 (below 0.25).
    const std::vector<float> t = {16, 16, 8, 8, 0.5f, 0.1f, 0.8f, 40, 40, 8, 8, 0.9f, 0.2f, 0.1f};
    config::DetectorOutput out;
    out.format = config::DetectorFormat::kYolov5;
    const Placement pl = place(64, 64, 64, 64, config::ResizeMode::kStretch);
    auto got = decode_detections(out, {{t.data(), {2, 7}}}, 64, 64, pl, 64, 64);
    ASSERT_TRUE(got.has_value()) << got.status().message();
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ((*got)[0].class_id, 1);
    EXPECT_NEAR((*got)[0].confidence, 0.4f, 1e-6);
    EXPECT_FLOAT_EQ((*got)[0].x1, 12.0f);
    EXPECT_FLOAT_EQ((*got)[0].y2, 20.0f);
}

TEST(Decode, SsdNormalizedYxBoxesSkipTheBackground) {
    // boxes [2, 4] as y1 x1 y2 x2 in 0..1; scores [2, 3] with class 0 the background.
    const std::vector<float> boxes = {0.25f, 0.5f, 0.75f, 1.0f, 0.0f, 0.0f, 0.1f, 0.1f};
    const std::vector<float> scores = {0.99f, 0.6f, 0.3f, 0.95f, 0.1f, 0.2f};
    config::DetectorOutput out;
    out.format = config::DetectorFormat::kSsd;
    out.box_order = config::BoxOrder::kYxyx;
    out.normalized_boxes = true;
    out.background_class = 0;
    out.confidence_threshold = 0.25f;
    // A 128 x 64 frame stretched to 64 x 64.
    const Placement pl = place(128, 64, 64, 64, config::ResizeMode::kStretch);
    auto got = decode_detections(out, {{boxes.data(), {2, 4}}, {scores.data(), {2, 3}}}, 64, 64, pl, 128, 64);
    ASSERT_TRUE(got.has_value()) << got.status().message();
    ASSERT_EQ(got->size(), 2u);  // anchor 0: classes 1 and 2; anchor 1: the background only, and 0.2
    EXPECT_EQ((*got)[0].class_id, 1);
    EXPECT_FLOAT_EQ((*got)[0].x1, 64.0f);
    EXPECT_FLOAT_EQ((*got)[0].x2, 128.0f);
    EXPECT_FLOAT_EQ((*got)[0].y1, 16.0f);
    EXPECT_FLOAT_EQ((*got)[0].y2, 48.0f);
    EXPECT_EQ((*got)[1].class_id, 2);
}

TEST(Decode, EfficientNmsOutputsAreTakenAsTheyCome) {
    const std::vector<float> num = {2};
    const std::vector<float> boxes = {1, 2, 30, 40, 5, 5, 10, 10, 0, 0, 0, 0};
    const std::vector<float> scores = {0.9f, 0.5f, 0.0f};
    const std::vector<float> classes = {3, 0, 0};
    config::DetectorOutput out;
    out.format = config::DetectorFormat::kEfficientNms;
    const Placement pl = place(64, 64, 64, 64, config::ResizeMode::kStretch);
    auto got =
        decode_detections(out, {{num.data(), {1}}, {boxes.data(), {3, 4}}, {scores.data(), {3}}, {classes.data(), {3}}},
                          64, 64, pl, 64, 64);
    ASSERT_TRUE(got.has_value()) << got.status().message();
    ASSERT_EQ(got->size(), 2u);
    EXPECT_EQ((*got)[0].class_id, 3);
    EXPECT_FLOAT_EQ((*got)[0].y2, 40.0f);
    EXPECT_EQ((*got)[1].class_id, 0);
}

TEST(Decode, SegmentationIsTheArgmaxPerPixel) {
    // [2 classes, 1, 3]
    const std::vector<float> logits = {0.1f, 0.9f, 0.5f, 0.2f, 0.3f, 0.7f};
    auto got = decode_segmentation({logits.data(), {2, 1, 3}});
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, (std::vector<int32_t>{1, 0, 1}));
}

TEST(Decode, WrongShapesAndCountsAreErrorsThatSayWhich) {
    const std::vector<float> t(12, 0.0f);
    config::DetectorOutput out;
    out.format = config::DetectorFormat::kYolov8;
    const Placement pl;
    auto got = decode_detections(out, {{t.data(), {3, 4}}}, 64, 64, pl, 64, 64);
    ASSERT_FALSE(got.has_value());
    EXPECT_NE(got.status().message().find("detector (yolov8): output of shape [3,4], expected [4 + classes, anchors]"),
              std::string::npos)
        << got.status().message();
    out.format = config::DetectorFormat::kSsd;
    got = decode_detections(out, {{t.data(), {3, 4}}}, 64, 64, pl, 64, 64);
    ASSERT_FALSE(got.has_value());
    EXPECT_NE(got.status().message().find("1 output tensors, the format takes 2"), std::string::npos)
        << got.status().message();
    auto seg = decode_segmentation({t.data(), {12}});
    ASSERT_FALSE(seg.has_value());
    EXPECT_NE(seg.status().message().find("expected [classes, height, width]"), std::string::npos);
}
