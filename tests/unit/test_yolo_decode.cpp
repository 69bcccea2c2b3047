// The built-in YoloDecode plugin (domain rtinfer) on the CPU, through the whole SDK (import, build, run),
// against an independent decoder written here in double precision, level by level and cell by cell:
// YOLOv8 (anchor-free, DFL) and YOLOv5 (anchors) heads, both ways of giving the grids, with and without the
// sigmoid; attribute and shape errors; engines saved and reloaded; a dynamic batch; and YoloDecode chained
// into EfficientNMS_TRT in one model giving what the two run separately give.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <tuple>

#include "tests/unit/plugin_test_util.h"

using namespace rtinfer;
using rtinfer::testing::contains;
using rtinfer::testing::OnnxMaker;

namespace {

const std::vector<float> kV5Anchors = {10, 13, 16, 30, 33, 23, 30, 61, 62, 45, 59, 119, 116, 90, 156, 198, 373, 326};

struct YoloCase {
    std::string style = "yolov8";
    int batch = 2;
    int classes = 5;
    int reg_max = 16;
    bool give_reg_max = false;
    std::vector<int64_t> strides = {8, 16, 32};
    std::vector<int64_t> image_size = {64, 96};  // height, width
    std::vector<int64_t> grid_sizes;             // instead of image_size when not empty
    std::vector<float> anchors;                  // yolov5
    int apply_sigmoid = -1;                      // -1: attribute left out (default 1)
    bool dynamic_batch = false;

    bool v8() const { return style == "yolov8"; }
    std::vector<std::pair<int64_t, int64_t>> grids() const {
        std::vector<std::pair<int64_t, int64_t>> g;
        for (size_t l = 0; l < strides.size(); ++l) {
            if (!grid_sizes.empty()) {
                g.emplace_back(grid_sizes[2 * l], grid_sizes[2 * l + 1]);
            } else {
                g.emplace_back((image_size[0] + strides[l] - 1) / strides[l],
                               (image_size[1] + strides[l] - 1) / strides[l]);
            }
        }
        return g;
    }
    int anchors_per_level() const { return v8() ? 1 : static_cast<int>(anchors.size() / (2 * strides.size())); }
    int64_t candidates() const {
        int64_t a = 0;
        for (auto [h, w] : grids()) a += h * w * anchors_per_level();
        return a;
    }
    std::vector<int64_t> head_dims(int64_t n) const {
        if (v8()) return {n, 4 * reg_max + classes, candidates()};
        return {n, candidates(), 5 + classes};
    }
};

void add_yolo_node(OnnxMaker& m, const YoloCase& c, const std::string& head, const std::string& boxes,
                   const std::string& scores) {
    auto* node = m.node("YoloDecode", {head}, {boxes, scores}, "decode", "rtinfer");
    OnnxMaker::attr_string(node, "style", c.style);
    OnnxMaker::attr_ints(node, "strides", c.strides);
    if (c.grid_sizes.empty()) {
        OnnxMaker::attr_ints(node, "image_size", c.image_size);
    } else {
        OnnxMaker::attr_ints(node, "grid_sizes", c.grid_sizes);
    }
    if (c.give_reg_max) OnnxMaker::attr_int(node, "reg_max", c.reg_max);
    if (!c.anchors.empty()) OnnxMaker::attr_floats(node, "anchors", c.anchors);
    if (c.apply_sigmoid >= 0) OnnxMaker::attr_int(node, "apply_sigmoid", c.apply_sigmoid);
}

OnnxMaker yolo_model(const YoloCase& c) {
    OnnxMaker m;
    const int64_t n = c.dynamic_batch ? -1 : c.batch, a = c.candidates();
    m.input("head", c.head_dims(n));
    add_yolo_node(m, c, "head", "boxes", "scores");
    m.output("boxes", {n, a, 4});
    m.output("scores", {n, a, c.classes});
    return m;
}

struct Decoded {
    std::vector<float> boxes, scores;
};

Decoded run(const Engine& engine, const YoloCase& c, std::vector<float> head, int batch) {
    const size_t a = static_cast<size_t>(c.candidates()), n = static_cast<size_t>(batch);
    Decoded d;
    d.boxes.assign(n * a * 4, -7.0f);
    d.scores.assign(n * a * static_cast<size_t>(c.classes), -7.0f);
    auto ctx = engine.create_context();
    EXPECT_TRUE(ctx.has_value()) << ctx.status().to_string();
    if (!ctx) return d;
    if (c.dynamic_batch) {
        EXPECT_TRUE((*ctx)->set_batch(batch).is_ok());
    }
    (*ctx)->set_tensor_address("head", head.data());
    (*ctx)->set_tensor_address("boxes", d.boxes.data());
    (*ctx)->set_tensor_address("scores", d.scores.data());
    Status s = (*ctx)->enqueue();
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return d;
}

// --- the independent reference (double precision, straight from the papers' formulas) --------------------------

double sig(double x) {
    return 1.0 / (1.0 + std::exp(-x));
}

Decoded reference(const YoloCase& c, const std::vector<float>& head, int batch) {
    const int64_t A = c.candidates(), C = c.classes, R = c.reg_max;
    const bool act = c.apply_sigmoid != 0;
    Decoded out;
    out.boxes.resize(static_cast<size_t>(batch * A * 4));
    out.scores.resize(static_cast<size_t>(batch * A * C));
    const auto grids = c.grids();
    for (int64_t n = 0; n < batch; ++n) {
        int64_t a = 0;
        for (size_t l = 0; l < c.strides.size(); ++l) {
            const double s = static_cast<double>(c.strides[l]);
            for (int k = 0; k < c.anchors_per_level(); ++k) {
                for (int64_t y = 0; y < grids[l].first; ++y) {
                    for (int64_t x = 0; x < grids[l].second; ++x, ++a) {
                        double box[4];
                        float* scores = &out.scores[static_cast<size_t>((n * A + a) * C)];
                        if (c.v8()) {
                            auto at = [&](int64_t ch) {
                                return static_cast<double>(head[static_cast<size_t>((n * (4 * R + C) + ch) * A + a)]);
                            };
                            double dist[4];
                            for (int side = 0; side < 4; ++side) {
                                double sum = 0, weighted = 0, top = -1e300;
                                for (int64_t i = 0; i < R; ++i) top = std::max(top, at(side * R + i));
                                for (int64_t i = 0; i < R; ++i) {
                                    sum += std::exp(at(side * R + i) - top);
                                    weighted += static_cast<double>(i) * std::exp(at(side * R + i) - top);
                                }
                                dist[side] = R == 1 ? at(side) : weighted / sum;
                            }
                            const double cx = x + 0.5, cy = y + 0.5;
                            box[0] = (cx - dist[0]) * s;
                            box[1] = (cy - dist[1]) * s;
                            box[2] = (cx + dist[2]) * s;
                            box[3] = (cy + dist[3]) * s;
                            for (int64_t k2 = 0; k2 < C; ++k2)
                                scores[k2] = static_cast<float>(act ? sig(at(4 * R + k2)) : at(4 * R + k2));
                        } else {
                            const float* row = &head[static_cast<size_t>((n * A + a) * (5 + C))];
                            auto v = [&](int64_t i) { return act ? sig(row[i]) : static_cast<double>(row[i]); };
                            const double bx = (2 * v(0) - 0.5 + x) * s, by = (2 * v(1) - 0.5 + y) * s;
                            const double bw = std::pow(2 * v(2), 2) * c.anchors[(l * c.anchors_per_level() + k) * 2];
                            const double bh =
                                std::pow(2 * v(3), 2) * c.anchors[(l * c.anchors_per_level() + k) * 2 + 1];
                            box[0] = bx - bw / 2;
                            box[1] = by - bh / 2;
                            box[2] = bx + bw / 2;
                            box[3] = by + bh / 2;
                            for (int64_t k2 = 0; k2 < C; ++k2) scores[k2] = static_cast<float>(v(4) * v(5 + k2));
                        }
                        for (int i = 0; i < 4; ++i)
                            out.boxes[static_cast<size_t>((n * A + a) * 4 + i)] = static_cast<float>(box[i]);
                    }
                }
            }
        }
    }
    return out;
}

std::vector<float> random_head(const YoloCase& c, int batch, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> logit(0.0f, 2.0f);
    std::uniform_real_distribution<float> prob(0.01f, 0.99f);
    const auto dims = c.head_dims(batch);
    std::vector<float> head(static_cast<size_t>(dims[0] * dims[1] * dims[2]));
    for (auto& v : head) v = c.apply_sigmoid == 0 && !c.v8() ? prob(rng) : logit(rng);
    return head;
}

// Boxes are pixel coordinates from differences of float terms (cell centre minus distance, times the
// stride): 1e-4 pixels absolute plus 1e-5 relative covers float rounding; scores, in [0, 1], get 1e-6.
constexpr double kBoxTolerance = 1e-4, kScoreTolerance = 1e-6;

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double tol, const std::string& what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_NEAR(got[i], want[i], tol + 1e-5 * std::fabs(want[i])) << what << " element " << i;
    }
}

void expect_matches_reference(const YoloCase& c, const std::string& what) {
    auto engine = yolo_model(c).build();
    ASSERT_TRUE(engine.has_value()) << what << ": " << engine.status().to_string();
    for (unsigned seed : {1u, 2u}) {
        const auto head = random_head(c, c.batch, seed);
        const Decoded got = run(**engine, c, head, c.batch);
        const Decoded want = reference(c, head, c.batch);
        expect_close(got.boxes, want.boxes, kBoxTolerance, what + " boxes");
        expect_close(got.scores, want.scores, kScoreTolerance, what + " scores");
    }
}

}  // namespace

TEST(YoloDecode, AnchorFreeMatchesTheReference) {
    YoloCase c;  // strides 8/16/32 on a 64 x 96 image: grids 8x12, 4x6, 2x3
    expect_matches_reference(c, "yolov8");
    c.classes = 1;
    c.reg_max = 8;
    c.give_reg_max = true;
    c.apply_sigmoid = 0;
    expect_matches_reference(c, "yolov8 reg_max 8, one class, no sigmoid");
}

TEST(YoloDecode, AnchorFreeWithGridSizesAndRegMaxOne) {
    YoloCase c;
    c.strides = {8, 16};
    c.grid_sizes = {5, 3, 2, 7};
    c.reg_max = 1;  // the head gives the distances themselves
    c.give_reg_max = true;
    expect_matches_reference(c, "yolov8 grid_sizes, reg_max 1");
}

TEST(YoloDecode, AnchorBasedMatchesTheReference) {
    YoloCase c;
    c.style = "yolov5";
    c.classes = 3;
    c.image_size = {64, 64};
    c.anchors = kV5Anchors;
    expect_matches_reference(c, "yolov5");
    c.apply_sigmoid = 0;  // a head whose values are probabilities already
    expect_matches_reference(c, "yolov5 without sigmoid");
    c.apply_sigmoid = 1;
    c.strides = {32};
    c.image_size = {100, 70};  // not a multiple of the stride: ceil gives a 4 x 3 grid
    c.anchors = {20, 30, 60, 50};
    expect_matches_reference(c, "yolov5 one level, two anchors, 100 x 70");
}

TEST(YoloDecode, KnownBoxFromOneHotBins) {
    // One anchor-free cell, reg_max 4: bins peaked hard at 1, 2, 3, 0 give distances 1, 2, 3, 0 cells.
    YoloCase c;
    c.batch = 1;
    c.classes = 1;
    c.reg_max = 4;
    c.give_reg_max = true;
    c.strides = {10};
    c.image_size = {10, 10};
    std::vector<float> head(4 * 4 + 1, -100.0f);
    head[0 * 4 + 1] = head[1 * 4 + 2] = head[2 * 4 + 3] = head[3 * 4 + 0] = 100.0f;
    head[16] = 0.0f;  // class logit: sigmoid 0.5
    auto engine = yolo_model(c).build();
    ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
    const Decoded got = run(**engine, c, head, 1);
    // Cell centre (0.5, 0.5): x1 = (0.5 - 1) * 10, y1 = (0.5 - 2) * 10, x2 = (0.5 + 3) * 10, y2 = (0.5 + 0) * 10.
    EXPECT_EQ(got.boxes, (std::vector<float>{-5, -15, 35, 5}));
    EXPECT_EQ(got.scores, std::vector<float>{0.5f});
}

TEST(YoloDecode, DynamicBatch) {
    YoloCase c;
    c.dynamic_batch = true;
    BuilderConfig config;
    config.min_batch = 1;
    config.opt_batch = 2;
    config.max_batch = 4;
    auto engine = yolo_model(c).build(config);
    ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
    for (int batch : {3, 1}) {
        const auto head = random_head(c, batch, 9u + static_cast<unsigned>(batch));
        const Decoded got = run(**engine, c, head, batch);
        const Decoded want = reference(c, head, batch);
        expect_close(got.boxes, want.boxes, kBoxTolerance, "dynamic batch boxes");
        expect_close(got.scores, want.scores, kScoreTolerance, "dynamic batch scores");
    }
}

TEST(YoloDecode, EngineSavedReloadedAndRun) {
    YoloCase c;
    c.style = "yolov5";
    c.anchors = kV5Anchors;
    auto engine = yolo_model(c).build();
    ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
    const std::string path = ::testing::TempDir() + "yolo_" + std::to_string(::getpid()) + ".engine";
    ASSERT_TRUE((*engine)->save(path).is_ok());
    auto loaded = Engine::load_file(path);
    std::remove(path.c_str());
    ASSERT_TRUE(loaded.has_value()) << loaded.status().to_string();
    const auto head = random_head(c, c.batch, 4);
    const Decoded got = run(**loaded, c, head, c.batch);
    expect_close(got.boxes, reference(c, head, c.batch).boxes, kBoxTolerance, "reloaded boxes");
    const auto layers = (*loaded)->layers();
    ASSERT_EQ(layers.size(), 1u);
    EXPECT_EQ(layers[0].op_type, "YoloDecode");
}

TEST(YoloDecode, ChainsIntoEfficientNms) {
    // head -> YoloDecode -> EfficientNMS_TRT in one model gives what the decoder's outputs give the NMS alone.
    YoloCase c;
    c.batch = 2;
    c.classes = 4;
    OnnxMaker chained;
    const int64_t n = c.batch, a = c.candidates(), k = 30;
    chained.input("head", c.head_dims(n));
    add_yolo_node(chained, c, "head", "boxes", "scores");
    auto add_nms = [&](OnnxMaker& m) {
        auto* nms =
            m.node("EfficientNMS_TRT", {"boxes", "scores"},
                   {"num_detections", "detection_boxes", "detection_scores", "detection_classes"}, "nms", "TRT");
        OnnxMaker::attr_float(nms, "score_threshold", 0.6f);
        OnnxMaker::attr_float(nms, "iou_threshold", 0.5f);
        OnnxMaker::attr_int(nms, "max_output_boxes", k);
        m.output("num_detections", {n, 1}, ::onnx::TensorProto::INT32);
        m.output("detection_boxes", {n, k, 4});
        m.output("detection_scores", {n, k});
        m.output("detection_classes", {n, k}, ::onnx::TensorProto::INT32);
    };
    add_nms(chained);
    OnnxMaker nms_only;
    nms_only.input("boxes", {n, a, 4});
    nms_only.input("scores", {n, a, c.classes});
    add_nms(nms_only);

    auto chained_engine = chained.build();
    ASSERT_TRUE(chained_engine.has_value()) << chained_engine.status().to_string();
    auto nms_engine = nms_only.build();
    ASSERT_TRUE(nms_engine.has_value()) << nms_engine.status().to_string();
    auto decode_engine = yolo_model(c).build();
    ASSERT_TRUE(decode_engine.has_value()) << decode_engine.status().to_string();

    auto head = random_head(c, c.batch, 21);
    Decoded decoded = run(**decode_engine, c, head, c.batch);
    auto detect = [&](const Engine& engine, bool from_head) {
        std::vector<int32_t> num(2), classes(2 * k);
        std::vector<float> boxes(2 * k * 4), scores(2 * k);
        auto ctx = engine.create_context();
        EXPECT_TRUE(ctx.has_value());
        if (from_head) {
            (*ctx)->set_tensor_address("head", head.data());
        } else {
            (*ctx)->set_tensor_address("boxes", decoded.boxes.data());
            (*ctx)->set_tensor_address("scores", decoded.scores.data());
        }
        (*ctx)->set_tensor_address("num_detections", num.data());
        (*ctx)->set_tensor_address("detection_boxes", boxes.data());
        (*ctx)->set_tensor_address("detection_scores", scores.data());
        (*ctx)->set_tensor_address("detection_classes", classes.data());
        EXPECT_TRUE((*ctx)->enqueue().is_ok());
        return std::make_tuple(num, boxes, scores, classes);
    };
    const auto got = detect(**chained_engine, true);
    const auto want = detect(**nms_engine, false);
    EXPECT_EQ(got, want);
    EXPECT_GT(std::get<0>(got)[0] + std::get<0>(got)[1], 0);
    EXPECT_EQ((*chained_engine)->layers().size(), 2u);
}

TEST(YoloDecode, BadAttributesAndShapesAreClearErrors) {
    struct Bad {
        std::function<void(YoloCase&)> change;
        std::string message;
    };
    const std::vector<Bad> cases = {
        {[](YoloCase& c) { c.style = "yolox"; },
         "style must be 'yolov8' (anchor-free, DFL) or 'yolov5' (anchors), got 'yolox'"},
        {[](YoloCase& c) {
             c.grid_sizes = {8, 12, 4, 6};
         },
         "grid_sizes must hold a (height, width) pair per stride: 6 values, got 4"},
        {[](YoloCase& c) { c.image_size = {64}; }, "image_size must be [height, width]"},
        {[](YoloCase& c) {
             c.strides = {8, 16, 0};
         },
         "strides must be in [1, 65536]"},
        {[](YoloCase& c) {
             c.reg_max = 0;
             c.give_reg_max = true;
         },
         "reg_max must be in [1, 64], got 0"},
        {[](YoloCase& c) { c.anchors = kV5Anchors; }, "anchors are for style 'yolov5' only"},
        {[](YoloCase& c) { c.style = "yolov5"; }, "style 'yolov5' needs anchors"},
        {[](YoloCase& c) {
             c.style = "yolov5";
             c.anchors = {10, 13, 16};
         },
         "anchors must hold the same number of (w, h) pairs for each of the 3 levels, got 3 values"},
        {[](YoloCase& c) { c.apply_sigmoid = 2; }, "apply_sigmoid must be 0 or 1, got 2"},
    };
    for (const Bad& bad : cases) {
        YoloCase c;
        bad.change(c);
        YoloCase shapes = c;
        if (shapes.reg_max < 1) shapes.reg_max = 16;
        if (shapes.image_size.size() != 2) shapes.image_size = {64, 96};
        if (shapes.grid_sizes.size() != 2 * shapes.strides.size()) shapes.grid_sizes.clear();
        if (shapes.strides.back() == 0) shapes.strides.back() = 32;
        if (shapes.style == "yolox" || (shapes.style == "yolov5" && shapes.anchors_per_level() < 1))
            shapes.style = "yolov8";
        OnnxMaker m;
        m.input("head", shapes.head_dims(2));
        add_yolo_node(m, c, "head", "boxes", "scores");
        m.output("boxes", {2, shapes.candidates(), 4});
        m.output("scores", {2, shapes.candidates(), c.classes});
        auto engine = m.build();
        ASSERT_FALSE(engine.has_value()) << bad.message;
        EXPECT_TRUE(contains(engine.status().message(), "'decode'")) << engine.status().message();
        EXPECT_TRUE(contains(engine.status().message(), bad.message)) << engine.status().message();
    }
    // The head's candidates must be what the grids give; its channels must hold the boxes and a class.
    YoloCase c;
    OnnxMaker wrong_a;
    wrong_a.input("head", {2, 64 + 5, 100});
    add_yolo_node(wrong_a, c, "head", "boxes", "scores");
    wrong_a.output("boxes", {2, 100, 4});
    wrong_a.output("scores", {2, 100, 5});
    auto e1 = wrong_a.build();
    ASSERT_FALSE(e1.has_value());
    EXPECT_TRUE(contains(e1.status().message(), "the head has 100 candidates, but the strides and grid sizes give 126"))
        << e1.status().message();
    OnnxMaker no_class;
    no_class.input("head", {2, 64, 126});
    add_yolo_node(no_class, c, "head", "boxes", "scores");
    no_class.output("boxes", {2, 126, 4});
    no_class.output("scores", {2, 126, 0});
    auto e2 = no_class.build();
    ASSERT_FALSE(e2.has_value());
    EXPECT_TRUE(contains(e2.status().message(), "the yolov8 head must be [batch, 4 * reg_max + classes, anchors]"))
        << e2.status().message();
}

TEST(YoloDecode, MissingRequiredAttributeNamesIt) {
    OnnxMaker m;
    m.input("head", {1, 69, 126});
    auto* node = m.node("YoloDecode", {"head"}, {"boxes", "scores"}, "decode", "rtinfer");
    OnnxMaker::attr_string(node, "style", "yolov8");
    m.output("boxes", {1, 126, 4});
    m.output("scores", {1, 126, 5});
    auto engine = m.build();
    ASSERT_FALSE(engine.has_value());
    EXPECT_TRUE(contains(engine.status().message(), "strides")) << engine.status().message();
    EXPECT_TRUE(contains(engine.status().message(), "YoloDecode")) << engine.status().message();
}
