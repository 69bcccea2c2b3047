// The built-in EfficientNMS_TRT plugin on the CPU, through the whole SDK (import, build, run), against an
// independent O(n^2) NMS written here: per class (or once, class-agnostic), then the best max_output_boxes
// of all kept boxes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <unistd.h>

#include "tests/unit/plugin_test_util.h"

using namespace rtinfer;
using rtinfer::testing::contains;
using rtinfer::testing::OnnxMaker;

namespace {

struct NmsAttrs {
    float score_threshold = 0.2f;
    float iou_threshold = 0.5f;
    int max_output_boxes = 20;
    int background_class = -1;
    int score_activation = 0;
    int class_agnostic = 0;
    int box_coding = 0;
};

struct NmsCase {
    int batch = 1, boxes = 10, classes = 3;
    bool per_class_boxes = false;
    NmsAttrs attrs;
    std::string domain = "TRT";
};

struct Detections {
    std::vector<int32_t> num;
    std::vector<float> boxes, scores;
    std::vector<int32_t> classes;
};

OnnxMaker nms_model(const NmsCase& c) {
    OnnxMaker m;
    const int64_t n = c.batch, a = c.boxes, k = c.attrs.max_output_boxes;
    if (c.per_class_boxes) {
        m.input("boxes", {n, a, c.classes, 4});
    } else {
        m.input("boxes", {n, a, 4});
    }
    m.input("scores", {n, a, c.classes});
    auto* node = m.node("EfficientNMS_TRT", {"boxes", "scores"},
                        {"num_detections", "detection_boxes", "detection_scores", "detection_classes"}, "nms", c.domain);
    OnnxMaker::attr_float(node, "score_threshold", c.attrs.score_threshold);
    OnnxMaker::attr_float(node, "iou_threshold", c.attrs.iou_threshold);
    OnnxMaker::attr_int(node, "max_output_boxes", c.attrs.max_output_boxes);
    OnnxMaker::attr_int(node, "background_class", c.attrs.background_class);
    OnnxMaker::attr_int(node, "score_activation", c.attrs.score_activation);
    OnnxMaker::attr_int(node, "class_agnostic", c.attrs.class_agnostic);
    OnnxMaker::attr_int(node, "box_coding", c.attrs.box_coding);
    OnnxMaker::attr_string(node, "plugin_version", "1");
    m.output("num_detections", {n, 1}, ::onnx::TensorProto::INT32);
    m.output("detection_boxes", {n, k, 4});
    m.output("detection_scores", {n, k});
    m.output("detection_classes", {n, k}, ::onnx::TensorProto::INT32);
    return m;
}

Detections run(const Engine& engine, const NmsCase& c, std::vector<float> boxes, std::vector<float> scores) {
    const size_t n = static_cast<size_t>(c.batch), k = static_cast<size_t>(c.attrs.max_output_boxes);
    Detections d;
    d.num.assign(n, -1);
    d.boxes.assign(n * k * 4, -7.0f);
    d.scores.assign(n * k, -7.0f);
    d.classes.assign(n * k, -7);
    auto ctx = engine.create_context();
    EXPECT_TRUE(ctx.has_value()) << ctx.status().to_string();
    if (!ctx) return d;
    (*ctx)->set_tensor_address("boxes", boxes.empty() ? &d : static_cast<void*>(boxes.data()));
    (*ctx)->set_tensor_address("scores", scores.empty() ? &d : static_cast<void*>(scores.data()));
    (*ctx)->set_tensor_address("num_detections", d.num.data());
    (*ctx)->set_tensor_address("detection_boxes", d.boxes.data());
    (*ctx)->set_tensor_address("detection_scores", d.scores.data());
    (*ctx)->set_tensor_address("detection_classes", d.classes.data());
    Status s = (*ctx)->enqueue();
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return d;
}

Detections run(const NmsCase& c, const std::vector<float>& boxes, const std::vector<float>& scores) {
    auto engine = nms_model(c).build();
    EXPECT_TRUE(engine.has_value()) << engine.status().to_string();
    if (!engine) return {};
    return run(**engine, c, boxes, scores);
}

// --- the independent reference ------------------------------------------------------------------------------

struct RefDet {
    double score;
    int box, cls;
    double x1, y1, x2, y2;
};

double ref_iou(const RefDet& a, const RefDet& b) {
    auto area = [](double x1, double y1, double x2, double y2) { return std::fabs(x2 - x1) * std::fabs(y2 - y1); };
    const double ix = std::min(std::max(a.x1, a.x2), std::max(b.x1, b.x2)) - std::max(std::min(a.x1, a.x2), std::min(b.x1, b.x2));
    const double iy = std::min(std::max(a.y1, a.y2), std::max(b.y1, b.y2)) - std::max(std::min(a.y1, a.y2), std::min(b.y1, b.y2));
    if (ix <= 0 || iy <= 0) return 0;
    const double inter = ix * iy;
    const double uni = area(a.x1, a.y1, a.x2, a.y2) + area(b.x1, b.y1, b.x2, b.y2) - inter;
    return uni > 0 ? inter / uni : 0;
}

bool ref_order(const RefDet& a, const RefDet& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.box != b.box) return a.box < b.box;
    return a.cls < b.cls;
}

Detections reference(const NmsCase& c, const std::vector<float>& boxes, const std::vector<float>& scores) {
    const NmsAttrs& p = c.attrs;
    const int A = c.boxes, C = c.classes, K = p.max_output_boxes;
    Detections out;
    for (int n = 0; n < c.batch; ++n) {
        std::vector<RefDet> kept_all;
        for (int group = 0; group < (p.class_agnostic ? 1 : C); ++group) {
            std::vector<RefDet> cands;
            for (int a = 0; a < A; ++a) {
                for (int cls = 0; cls < C; ++cls) {
                    if (cls == p.background_class || (!p.class_agnostic && cls != group)) continue;
                    const float raw = scores[(static_cast<size_t>(n) * A + a) * C + cls];
                    const double s = p.score_activation ? 1.0f / (1.0f + std::exp(-raw)) : raw;
                    if (!(s > p.score_threshold)) continue;
                    const size_t row = c.per_class_boxes ? (static_cast<size_t>(n) * A + a) * C + cls
                                                         : static_cast<size_t>(n) * A + a;
                    const float* b = &boxes[row * 4];
                    RefDet d{s, a, cls, b[0], b[1], b[2], b[3]};
                    if (p.box_coding == 1) {
                        d = RefDet{s, a, cls, b[0] - b[2] / 2.0, b[1] - b[3] / 2.0, b[0] + b[2] / 2.0, b[1] + b[3] / 2.0};
                    }
                    cands.push_back(d);
                }
            }
            std::sort(cands.begin(), cands.end(), ref_order);
            std::vector<RefDet> kept;
            for (const RefDet& d : cands) {
                bool keep = true;
                for (const RefDet& k : kept) keep = keep && ref_iou(k, d) <= p.iou_threshold;
                if (keep) kept.push_back(d);
            }
            kept_all.insert(kept_all.end(), kept.begin(), kept.end());
        }
        std::sort(kept_all.begin(), kept_all.end(), ref_order);
        const int num = std::min<int>(K, static_cast<int>(kept_all.size()));
        out.num.push_back(num);
        for (int i = 0; i < K; ++i) {
            const bool valid = i < num;
            const RefDet d = valid ? kept_all[static_cast<size_t>(i)] : RefDet{0, 0, 0, 0, 0, 0, 0};
            for (double v : {d.x1, d.y1, d.x2, d.y2}) out.boxes.push_back(static_cast<float>(v));
            out.scores.push_back(static_cast<float>(d.score));
            out.classes.push_back(valid ? d.cls : 0);
        }
    }
    return out;
}

void expect_same(const Detections& got, const Detections& want, const std::string& what) {
    ASSERT_EQ(got.num, want.num) << what;
    ASSERT_EQ(got.classes, want.classes) << what;
    ASSERT_EQ(got.scores.size(), want.scores.size()) << what;
    for (size_t i = 0; i < got.scores.size(); ++i) EXPECT_NEAR(got.scores[i], want.scores[i], 1e-6) << what << " score " << i;
    ASSERT_EQ(got.boxes.size(), want.boxes.size()) << what;
    for (size_t i = 0; i < got.boxes.size(); ++i) EXPECT_NEAR(got.boxes[i], want.boxes[i], 1e-5) << what << " box value " << i;
}

// Boxes around a few centres, so that many overlap (IoU spread over (0, 1)), in the case's coding.
std::vector<float> random_boxes(const NmsCase& c, std::mt19937& rng) {
    std::uniform_real_distribution<float> centre(0.0f, 100.0f), jitter(-6.0f, 6.0f), size(8.0f, 30.0f);
    std::vector<std::pair<float, float>> clusters(4);
    for (auto& cl : clusters) cl = {centre(rng), centre(rng)};
    const size_t rows = static_cast<size_t>(c.batch) * c.boxes * (c.per_class_boxes ? c.classes : 1);
    std::vector<float> out;
    for (size_t i = 0; i < rows; ++i) {
        const auto& cl = clusters[i % clusters.size()];
        const float x = cl.first + jitter(rng), y = cl.second + jitter(rng), w = size(rng), h = size(rng);
        if (c.attrs.box_coding == 1) {
            out.insert(out.end(), {x, y, w, h});
        } else if (i % 3 == 0) {
            out.insert(out.end(), {x + w / 2, y + h / 2, x - w / 2, y - h / 2});  // the other diagonal
        } else {
            out.insert(out.end(), {x - w / 2, y - h / 2, x + w / 2, y + h / 2});
        }
    }
    return out;
}

std::vector<float> random_scores(const NmsCase& c, std::mt19937& rng, bool logits) {
    std::uniform_real_distribution<float> u(0.0f, 1.0f), z(-4.0f, 4.0f);
    std::vector<float> out(static_cast<size_t>(c.batch) * c.boxes * c.classes);
    for (auto& s : out) s = logits ? z(rng) : u(rng);
    return out;
}

}  // namespace

TEST(EfficientNms, RandomBoxesMatchTheReference) {
    int cases = 0;
    for (int agnostic : {0, 1}) {
        for (int coding : {0, 1}) {
            for (int sigmoid : {0, 1}) {
                for (bool per_class : {false, true}) {
                    NmsCase c;
                    c.batch = 3;
                    c.boxes = 60;
                    c.classes = 4;
                    c.per_class_boxes = per_class;
                    c.attrs.class_agnostic = agnostic;
                    c.attrs.box_coding = coding;
                    c.attrs.score_activation = sigmoid;
                    c.attrs.score_threshold = 0.3f;
                    c.attrs.iou_threshold = 0.45f;
                    c.attrs.max_output_boxes = 25;
                    auto engine = nms_model(c).build();
                    ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
                    for (unsigned seed = 1; seed <= 4; ++seed) {
                        std::mt19937 rng(seed * 7919u + static_cast<unsigned>(cases));
                        const auto boxes = random_boxes(c, rng);
                        const auto scores = random_scores(c, rng, sigmoid != 0);
                        const std::string what = "agnostic " + std::to_string(agnostic) + " coding " +
                                                 std::to_string(coding) + " sigmoid " + std::to_string(sigmoid) +
                                                 " per-class boxes " + std::to_string(per_class) + " seed " +
                                                 std::to_string(seed);
                        const Detections want = reference(c, boxes, scores);
                        expect_same(run(**engine, c, boxes, scores), want, what);
                        // Something was suppressed and something kept: the case tests NMS, not a filter.
                        int candidates = 0;
                        for (float s : scores) candidates += (sigmoid ? 1 / (1 + std::exp(-s)) : s) > 0.3f;
                        EXPECT_GT(want.num[0], 0) << what;
                        EXPECT_LT(want.num[0] + want.num[1] + want.num[2], candidates) << what;
                        ++cases;
                    }
                }
            }
        }
    }
    EXPECT_EQ(cases, 64);
}

TEST(EfficientNms, TiesKeepTheLowerBoxThenTheLowerClass) {
    NmsCase c;
    c.boxes = 4;
    c.classes = 2;
    c.attrs.max_output_boxes = 8;
    // Four disjoint boxes, every score 0.5: the order is box 0 class 0, box 0 class 1, box 1 class 0, ...
    const std::vector<float> boxes = {30, 30, 40, 40, 0, 0, 10, 10, 60, 60, 70, 70, 90, 90, 95, 95};
    const std::vector<float> scores(8, 0.5f);
    const Detections got = run(c, boxes, scores);
    ASSERT_EQ(got.num, std::vector<int32_t>{8});
    EXPECT_EQ(got.classes, (std::vector<int32_t>{0, 1, 0, 1, 0, 1, 0, 1}));
    EXPECT_EQ(std::vector<float>(got.boxes.begin(), got.boxes.begin() + 4), (std::vector<float>{30, 30, 40, 40}));
    EXPECT_EQ(std::vector<float>(got.boxes.begin() + 8, got.boxes.begin() + 12), (std::vector<float>{0, 0, 10, 10}));
    // Two equal-scored boxes of one class that overlap: the lower index is kept.
    NmsCase one;
    one.boxes = 2;
    one.classes = 1;
    one.attrs.max_output_boxes = 2;
    const Detections pair = run(one, {0, 0, 10, 10, 1, 1, 11, 11}, {0.7f, 0.7f});
    ASSERT_EQ(pair.num, std::vector<int32_t>{1});
    EXPECT_EQ(std::vector<float>(pair.boxes.begin(), pair.boxes.begin() + 4), (std::vector<float>{0, 0, 10, 10}));
    expect_same(pair, reference(one, {0, 0, 10, 10, 1, 1, 11, 11}, {0.7f, 0.7f}), "pair");
}

TEST(EfficientNms, EmptyInputAndNothingAboveThreshold) {
    NmsCase empty;
    empty.batch = 2;
    empty.boxes = 0;
    empty.attrs.max_output_boxes = 3;
    const Detections none = run(empty, {}, {});
    EXPECT_EQ(none.num, (std::vector<int32_t>{0, 0}));
    EXPECT_EQ(none.boxes, std::vector<float>(24, 0.0f));  // padding rows are zero
    EXPECT_EQ(none.scores, std::vector<float>(6, 0.0f));
    EXPECT_EQ(none.classes, std::vector<int32_t>(6, 0));

    NmsCase low;
    low.boxes = 5;
    low.classes = 2;
    low.attrs.score_threshold = 0.9f;
    std::mt19937 rng(3);
    const Detections got = run(low, random_boxes(low, rng), std::vector<float>(10, 0.9f));  // not > 0.9
    EXPECT_EQ(got.num, std::vector<int32_t>{0});
}

TEST(EfficientNms, AllButOneSuppressed) {
    NmsCase c;
    c.boxes = 6;
    c.classes = 1;
    std::vector<float> boxes;
    for (int i = 0; i < 6; ++i) boxes.insert(boxes.end(), {10.0f, 10.0f, 50.0f, 50.0f});
    const std::vector<float> scores = {0.3f, 0.9f, 0.5f, 0.6f, 0.4f, 0.8f};
    const Detections got = run(c, boxes, scores);
    ASSERT_EQ(got.num, std::vector<int32_t>{1});
    EXPECT_FLOAT_EQ(got.scores[0], 0.9f);
    expect_same(got, reference(c, boxes, scores), "identical boxes");
}

TEST(EfficientNms, MaxOutputBoxesClipsToTheBestScores) {
    NmsCase c;
    c.batch = 2;
    c.boxes = 10;
    c.classes = 2;
    c.attrs.max_output_boxes = 3;
    std::vector<float> boxes;
    for (int n = 0; n < 2; ++n) {
        for (int i = 0; i < 10; ++i) boxes.insert(boxes.end(), {i * 20.0f, 0.0f, i * 20.0f + 10.0f, 10.0f});
    }
    std::mt19937 rng(11);
    const auto scores = random_scores(c, rng, false);
    const Detections got = run(c, boxes, scores);
    EXPECT_EQ(got.num, (std::vector<int32_t>{3, 3}));
    expect_same(got, reference(c, boxes, scores), "clipped");
    for (int n = 0; n < 2; ++n) {
        std::vector<float> mine(scores.begin() + n * 20, scores.begin() + n * 20 + 20);
        std::sort(mine.rbegin(), mine.rend());
        for (int k = 0; k < 3; ++k) EXPECT_FLOAT_EQ(got.scores[static_cast<size_t>(n * 3 + k)], mine[static_cast<size_t>(k)]);
    }
}

TEST(EfficientNms, ClassAwareKeepsOverlapsOfOtherClassesAgnosticDoesNot) {
    NmsCase c;
    c.boxes = 2;
    c.classes = 2;
    const std::vector<float> boxes = {0, 0, 10, 10, 0, 0, 10, 10};
    const std::vector<float> scores = {0.9f, 0.1f, 0.1f, 0.8f};  // box 0 is class 0, box 1 class 1
    EXPECT_EQ(run(c, boxes, scores).num, std::vector<int32_t>{2});
    c.attrs.class_agnostic = 1;
    const Detections agnostic = run(c, boxes, scores);
    EXPECT_EQ(agnostic.num, std::vector<int32_t>{1});
    EXPECT_EQ(agnostic.classes[0], 0);
}

TEST(EfficientNms, BackgroundClassAndSigmoid) {
    NmsCase c;
    c.boxes = 3;
    c.classes = 3;
    c.attrs.background_class = 0;
    c.attrs.score_activation = 1;
    c.attrs.score_threshold = 0.5f;
    const std::vector<float> boxes = {0, 0, 10, 10, 20, 20, 30, 30, 40, 40, 50, 50};
    const std::vector<float> scores = {5, 1, -1, 6, -2, 2, 7, -3, -4};  // logits; class 0 is background
    const Detections got = run(c, boxes, scores);
    ASSERT_EQ(got.num, std::vector<int32_t>{2});
    EXPECT_EQ(got.classes[0], 2);  // box 1, logit 2
    EXPECT_NEAR(got.scores[0], 1.0 / (1.0 + std::exp(-2.0)), 1e-6);
    EXPECT_EQ(got.classes[1], 1);  // box 0, logit 1
    expect_same(got, reference(c, boxes, scores), "background + sigmoid");
}

TEST(EfficientNms, CenterSizeBoxesComeOutAsCorners) {
    NmsCase c;
    c.boxes = 1;
    c.classes = 1;
    c.attrs.box_coding = 1;
    const Detections got = run(c, {50, 40, 20, 10}, {0.9f});
    ASSERT_EQ(got.num, std::vector<int32_t>{1});
    EXPECT_EQ(std::vector<float>(got.boxes.begin(), got.boxes.begin() + 4), (std::vector<float>{40, 35, 60, 45}));
}

TEST(EfficientNms, DefaultDomainImportsToo) {
    NmsCase c;
    c.domain = "";
    c.boxes = 2;
    c.classes = 1;
    const Detections got = run(c, {0, 0, 10, 10, 20, 20, 30, 30}, {0.9f, 0.8f});
    EXPECT_EQ(got.num, std::vector<int32_t>{2});
}

TEST(EfficientNms, EngineSavedReloadedAndRun) {
    NmsCase c;
    c.batch = 2;
    c.boxes = 30;
    c.classes = 3;
    auto engine = nms_model(c).build();
    ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
    const std::string path = ::testing::TempDir() + "nms_" + std::to_string(::getpid()) + ".engine";
    ASSERT_TRUE((*engine)->save(path).is_ok());
    auto loaded = Engine::load_file(path);
    std::remove(path.c_str());
    ASSERT_TRUE(loaded.has_value()) << loaded.status().to_string();
    std::mt19937 rng(5);
    const auto boxes = random_boxes(c, rng);
    const auto scores = random_scores(c, rng, false);
    expect_same(run(**loaded, c, boxes, scores), reference(c, boxes, scores), "reloaded");
    const auto layers = (*loaded)->layers();
    ASSERT_EQ(layers.size(), 1u);
    EXPECT_EQ(layers[0].op_type, "EfficientNMS_TRT");
}

TEST(EfficientNms, BadAttributesAreClearErrors) {
    NmsCase c;
    OnnxMaker m = nms_model(c);
    auto* node = m.g().mutable_node(0);
    for (auto& a : *node->mutable_attribute()) {
        if (a.name() == "score_threshold") {
            a.set_type(::onnx::AttributeProto::STRING);
            a.set_s("high");
        }
    }
    auto engine = m.build();
    ASSERT_FALSE(engine.has_value());
    EXPECT_TRUE(contains(engine.status().message(), "node 'nms' (TRT::EfficientNMS_TRT): attribute 'score_threshold' "
                                                    "is a string, but plugin 'EfficientNMS_TRT' (version 1)"))
        << engine.status().message();
    EXPECT_TRUE(contains(engine.status().message(), "expects a float")) << engine.status().message();

    c.attrs.iou_threshold = 1.5f;
    auto bad_iou = nms_model(c).build();
    ASSERT_FALSE(bad_iou.has_value());
    EXPECT_TRUE(contains(bad_iou.status().message(), "layer 'nms'")) << bad_iou.status().message();
    EXPECT_TRUE(contains(bad_iou.status().message(), "iou_threshold must be in [0, 1], got 1.5")) << bad_iou.status().message();
}

TEST(EfficientNms, AnchorsInputIsNotSupportedYet) {
    NmsCase c;
    OnnxMaker m = nms_model(c);
    m.input("anchors", {1, c.boxes, 4});
    m.g().mutable_node(0)->add_input("anchors");
    auto engine = m.build();
    ASSERT_FALSE(engine.has_value());
    EXPECT_EQ(engine.status().code(), StatusCode::kUnsupported);
    EXPECT_TRUE(contains(engine.status().message(), "node 'nms' (plugin EfficientNMS_TRT)")) << engine.status().message();
    EXPECT_TRUE(contains(engine.status().message(), "fused box decoder mode) is not supported yet")) << engine.status().message();
}
