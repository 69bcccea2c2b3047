// Tests of the misc family's reference kernels: NMS, Q/DQ, RoiAlign, GridSample, RNN/GRU/LSTM, windows,
// DFT/STFT, MelWeightMatrix and the random ops. Expected values are hand-computed or come from small
// independent implementations written here.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/ir/half.h"
#include "core/kernels/ref/ref_backend.h"

namespace rtinfer {
namespace {

using ir::DType;
using ir::Tensor;

constexpr double kPi = 3.14159265358979323846;

struct NodeBuilder {
    ir::Node node;
    NodeBuilder(const std::string& op, size_t inputs, size_t outputs) {
        node.name = "test_" + op;
        node.op_type = op;
        for (size_t i = 0; i < inputs; ++i) node.inputs.push_back("in" + std::to_string(i));
        for (size_t i = 0; i < outputs; ++i) node.outputs.push_back("out" + std::to_string(i));
    }
    NodeBuilder& i(const std::string& k, int64_t v) {
        ir::Attribute a;
        a.kind = ir::Attribute::Kind::kInt;
        a.i = v;
        node.attrs[k] = a;
        return *this;
    }
    NodeBuilder& f(const std::string& k, float v) {
        ir::Attribute a;
        a.kind = ir::Attribute::Kind::kFloat;
        a.f = v;
        node.attrs[k] = a;
        return *this;
    }
    NodeBuilder& s(const std::string& k, const std::string& v) {
        ir::Attribute a;
        a.kind = ir::Attribute::Kind::kString;
        a.s = v;
        node.attrs[k] = a;
        return *this;
    }
    NodeBuilder& ints(const std::string& k, const std::vector<int64_t>& v) {
        ir::Attribute a;
        a.kind = ir::Attribute::Kind::kInts;
        a.ints = v;
        node.attrs[k] = a;
        return *this;
    }
    NodeBuilder& floats(const std::string& k, const std::vector<float>& v) {
        ir::Attribute a;
        a.kind = ir::Attribute::Kind::kFloats;
        a.floats = v;
        node.attrs[k] = a;
        return *this;
    }
    NodeBuilder& strings(const std::string& k, const std::vector<std::string>& v) {
        ir::Attribute a;
        a.kind = ir::Attribute::Kind::kStrings;
        a.strings = v;
        node.attrs[k] = a;
        return *this;
    }
    // Marks input i as omitted.
    NodeBuilder& skip_input(size_t idx) {
        node.inputs[idx].clear();
        return *this;
    }
    NodeBuilder& skip_output(size_t idx) {
        node.outputs[idx].clear();
        return *this;
    }
};

Status run(const ir::Node& node, int64_t opset, const std::vector<const Tensor*>& inputs, std::vector<Tensor>& out) {
    const ir::OpKernel* k = ref::reference_registry().find("", node.op_type);
    if (!k) return Status(StatusCode::kUnsupported, "no kernel for " + node.op_type);
    return ref::evaluate_node(*k, node, opset, inputs, out);
}

std::vector<float> floats_of(const Tensor& t) {
    std::vector<float> v;
    for (double d : ir::to_doubles(t)) v.push_back(static_cast<float>(d));
    return v;
}

Tensor make_typed(DType t, const std::vector<double>& values, ir::Shape shape) {
    Tensor x(t, std::move(shape));
    for (size_t i = 0; i < values.size(); ++i) {
        switch (t) {
            case DType::kFloat32:
                x.data<float>()[i] = static_cast<float>(values[i]);
                break;
            case DType::kFloat64:
                x.data<double>()[i] = values[i];
                break;
            case DType::kFloat16:
                x.data<uint16_t>()[i] = ir::float_to_half(static_cast<float>(values[i]));
                break;
            case DType::kInt8:
                x.data<int8_t>()[i] = static_cast<int8_t>(values[i]);
                break;
            case DType::kUInt8:
                x.data<uint8_t>()[i] = static_cast<uint8_t>(values[i]);
                break;
            case DType::kInt32:
                x.data<int32_t>()[i] = static_cast<int32_t>(values[i]);
                break;
            case DType::kInt64:
                x.data<int64_t>()[i] = static_cast<int64_t>(values[i]);
                break;
            default:
                break;
        }
    }
    return x;
}

// Deterministic non-zero values in [-1, 1].
std::vector<float> random_floats(size_t n, uint32_t seed) {
    std::vector<float> v(n);
    for (auto& x : v) {
        seed = seed * 1664525u + 1013904223u;
        x = static_cast<float>((seed >> 8) % 2000 + 1) / 1000.0f - 1.0005f;
    }
    return v;
}

void expect_near_all(const std::vector<float>& got, const std::vector<float>& want, float tol) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

// ---------------------------------------------------------------- NonMaxSuppression

struct NmsCase {
    std::vector<float> boxes;
    ir::Shape boxes_shape;
    std::vector<float> scores;
    ir::Shape scores_shape;
};

// The six boxes of the ONNX examples: three overlapping near the origin, two near y=10, one at y=100.
NmsCase six_boxes() {
    return {{0.5f, 0.5f,  1.0f, 1.0f, 0.5f, 0.6f,  1.0f, 1.0f, 0.5f, 0.4f,   1.0f, 1.0f,
             0.5f, 10.5f, 1.0f, 1.0f, 0.5f, 10.6f, 1.0f, 1.0f, 0.5f, 100.5f, 1.0f, 1.0f},
            {1, 6, 4},
            {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f},
            {1, 1, 6}};
}

// Converts the center-format boxes above to corners [y1, x1, y2, x2].
std::vector<float> to_corners(const std::vector<float>& center) {
    std::vector<float> out;
    for (size_t i = 0; i < center.size(); i += 4) {
        const float xc = center[i], yc = center[i + 1], w = center[i + 2], h = center[i + 3];
        out.insert(out.end(), {yc - h / 2, xc - w / 2, yc + h / 2, xc + w / 2});
    }
    return out;
}

Status run_nms(const NmsCase& c, int64_t max_out, float iou, const float* score_threshold, int64_t center,
               std::vector<int64_t>& selected) {
    NodeBuilder nb("NonMaxSuppression", 5, 1);
    nb.i("center_point_box", center);
    Tensor boxes = Tensor::from_floats(c.boxes, c.boxes_shape);
    Tensor scores = Tensor::from_floats(c.scores, c.scores_shape);
    Tensor max_t = Tensor::from_int64s({max_out}, {1});
    Tensor iou_t = Tensor::from_floats({iou}, {1});
    Tensor st = Tensor::from_floats({score_threshold ? *score_threshold : 0.0f}, {1});
    if (!score_threshold) nb.skip_input(4);
    std::vector<Tensor> out;
    RT_RETURN_IF_ERROR(run(nb.node, 11, {&boxes, &scores, &max_t, &iou_t, score_threshold ? &st : nullptr}, out));
    EXPECT_EQ(out[0].dtype(), DType::kInt64);
    EXPECT_EQ(out[0].rank(), 2);
    EXPECT_EQ(out[0].dim(1), 3);
    selected = ir::to_int64s(out[0]);
    return Status();
}

TEST(MiscNms, SuppressesOverlapsInScoreOrder) {
    NmsCase c = six_boxes();
    c.boxes = to_corners(c.boxes);
    std::vector<int64_t> sel;
    ASSERT_TRUE(run_nms(c, 3, 0.5f, nullptr, 0, sel).is_ok());
    EXPECT_EQ(sel, (std::vector<int64_t>{0, 0, 3, 0, 0, 0, 0, 0, 5}));
}

TEST(MiscNms, CenterPointBoxGivesTheSameSelection) {
    std::vector<int64_t> sel;
    ASSERT_TRUE(run_nms(six_boxes(), 3, 0.5f, nullptr, 1, sel).is_ok());
    EXPECT_EQ(sel, (std::vector<int64_t>{0, 0, 3, 0, 0, 0, 0, 0, 5}));
}

TEST(MiscNms, FlippedCornersAreNormalized) {
    NmsCase c = six_boxes();
    c.boxes = to_corners(c.boxes);
    for (size_t i = 0; i < c.boxes.size(); i += 8) {  // flip every other box's corner order
        std::swap(c.boxes[i], c.boxes[i + 2]);
        std::swap(c.boxes[i + 1], c.boxes[i + 3]);
    }
    std::vector<int64_t> sel;
    ASSERT_TRUE(run_nms(c, 3, 0.5f, nullptr, 0, sel).is_ok());
    EXPECT_EQ(sel, (std::vector<int64_t>{0, 0, 3, 0, 0, 0, 0, 0, 5}));
}

TEST(MiscNms, ScoreThresholdDropsLowScores) {
    NmsCase c = six_boxes();
    c.boxes = to_corners(c.boxes);
    const float threshold = 0.4f;
    std::vector<int64_t> sel;
    ASSERT_TRUE(run_nms(c, 3, 0.5f, &threshold, 0, sel).is_ok());
    EXPECT_EQ(sel, (std::vector<int64_t>{0, 0, 3, 0, 0, 0}));
}

TEST(MiscNms, MaxOutputClipsPerClass) {
    NmsCase c = six_boxes();
    c.boxes = to_corners(c.boxes);
    std::vector<int64_t> sel;
    ASSERT_TRUE(run_nms(c, 2, 0.5f, nullptr, 0, sel).is_ok());
    EXPECT_EQ(sel, (std::vector<int64_t>{0, 0, 3, 0, 0, 0}));
}

TEST(MiscNms, HighIouThresholdKeepsOverlaps) {
    NmsCase c = six_boxes();
    c.boxes = to_corners(c.boxes);
    std::vector<int64_t> sel;
    ASSERT_TRUE(run_nms(c, 10, 0.95f, nullptr, 0, sel).is_ok());
    // IoU of the overlapping pairs is 0.82, so nothing is suppressed: all six in score order.
    EXPECT_EQ(sel, (std::vector<int64_t>{0, 0, 3, 0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 4, 0, 0, 5}));
}

TEST(MiscNms, IdenticalBoxesKeepOnlyTheFirst) {
    NmsCase c;
    for (int i = 0; i < 5; ++i) {
        for (float v : {0.0f, 0.0f, 1.0f, 1.0f}) c.boxes.push_back(v);
    }
    c.boxes_shape = {1, 5, 4};
    c.scores = {0.9f, 0.9f, 0.9f, 0.9f, 0.9f};
    c.scores_shape = {1, 1, 5};
    std::vector<int64_t> sel;
    ASSERT_TRUE(run_nms(c, 3, 0.5f, nullptr, 0, sel).is_ok());
    EXPECT_EQ(sel, (std::vector<int64_t>{0, 0, 0}));
}

TEST(MiscNms, ClassesAndBatchesAreIndependent) {
    NmsCase one = six_boxes();
    NmsCase c;
    c.boxes = to_corners(one.boxes);
    c.boxes.insert(c.boxes.end(), c.boxes.begin(), c.boxes.end());  // batch 1 = batch 0
    c.boxes_shape = {2, 6, 4};
    // class 1 reverses the preference between box 0 and box 1, box 5 wins overall in batch 1 class 0
    const std::vector<float> class1 = {0.7f, 0.8f, 0.6f, 0.1f, 0.2f, 0.3f};
    const std::vector<float> b1c0 = {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.99f};
    c.scores = one.scores;
    c.scores.insert(c.scores.end(), class1.begin(), class1.end());
    c.scores.insert(c.scores.end(), b1c0.begin(), b1c0.end());
    c.scores.insert(c.scores.end(), class1.begin(), class1.end());
    c.scores_shape = {2, 2, 6};
    std::vector<int64_t> sel;
    ASSERT_TRUE(run_nms(c, 2, 0.5f, nullptr, 0, sel).is_ok());
    EXPECT_EQ(sel, (std::vector<int64_t>{0, 0, 3, 0, 0, 0, 0, 1, 1, 0, 1, 5, 1, 0, 5, 1, 0, 3, 1, 1, 1, 1, 1, 5}));
}

TEST(MiscNms, EmptyResults) {
    NmsCase c = six_boxes();
    c.boxes = to_corners(c.boxes);
    std::vector<int64_t> sel;
    const float high = 0.99f;
    ASSERT_TRUE(run_nms(c, 3, 0.5f, &high, 0, sel).is_ok());
    EXPECT_TRUE(sel.empty());
    ASSERT_TRUE(run_nms(c, 0, 0.5f, nullptr, 0, sel).is_ok());
    EXPECT_TRUE(sel.empty());
}

TEST(MiscNms, BadShapesNameTheNode) {
    NodeBuilder nb("NonMaxSuppression", 2, 1);
    Tensor boxes = Tensor::from_floats(std::vector<float>(12, 1.0f), {1, 4, 3});
    Tensor scores = Tensor::from_floats(std::vector<float>(4, 1.0f), {1, 1, 4});
    std::vector<Tensor> out;
    Status s = run(nb.node, 11, {&boxes, &scores}, out);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("node 'test_NonMaxSuppression' (NonMaxSuppression)"), std::string::npos) << s.message();
}

// ---------------------------------------------------------------- Quantize / Dequantize

TEST(MiscQuantize, PerTensorRoundsHalfToEvenAndSaturates) {
    NodeBuilder nb("QuantizeLinear", 3, 1);
    Tensor x = Tensor::from_floats({0.0f, 1.0f, 3.0f, 5.0f, -3.0f, 1000.0f, -1000.0f, 2.9f}, {8});
    Tensor scale = Tensor::from_floats({2.0f}, {});
    Tensor zp = make_typed(DType::kUInt8, {128}, {});
    std::vector<Tensor> out;
    ASSERT_TRUE(run(nb.node, 13, {&x, &scale, &zp}, out).is_ok());
    ASSERT_EQ(out[0].dtype(), DType::kUInt8);
    // 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -1.5 -> -2, 1.45 -> 1
    EXPECT_EQ(ir::to_int64s(out[0]), (std::vector<int64_t>{128, 128, 130, 130, 126, 255, 0, 129}));

    Tensor zp8 = make_typed(DType::kInt8, {-1}, {});
    ASSERT_TRUE(run(nb.node, 13, {&x, &scale, &zp8}, out).is_ok());
    ASSERT_EQ(out[0].dtype(), DType::kInt8);
    EXPECT_EQ(ir::to_int64s(out[0]), (std::vector<int64_t>{-1, -1, 1, 1, -3, 127, -128, 0}));
}

TEST(MiscQuantize, DefaultZeroPointIsUint8Zero) {
    NodeBuilder nb("QuantizeLinear", 2, 1);
    Tensor x = Tensor::from_floats({-1.0f, 0.4f, 0.6f, 300.0f}, {4});
    Tensor scale = Tensor::from_floats({1.0f}, {1});
    std::vector<Tensor> out;
    ASSERT_TRUE(run(nb.node, 10, {&x, &scale}, out).is_ok());
    ASSERT_EQ(out[0].dtype(), DType::kUInt8);
    EXPECT_EQ(ir::to_int64s(out[0]), (std::vector<int64_t>{0, 0, 1, 255}));
}

TEST(MiscQuantize, RoundTripStaysWithinHalfAStep) {
    const std::vector<float> xs = random_floats(64, 5);
    Tensor x = Tensor::from_floats(xs, {4, 16});
    Tensor scale = Tensor::from_floats({0.01f}, {});
    Tensor zp = make_typed(DType::kInt8, {3}, {});
    std::vector<Tensor> q, dq;
    ASSERT_TRUE(run(NodeBuilder("QuantizeLinear", 3, 1).node, 13, {&x, &scale, &zp}, q).is_ok());
    ASSERT_TRUE(run(NodeBuilder("DequantizeLinear", 3, 1).node, 13, {&q[0], &scale, &zp}, dq).is_ok());
    ASSERT_EQ(dq[0].dtype(), DType::kFloat32);
    ASSERT_EQ(dq[0].shape(), x.shape());
    const std::vector<float> back = floats_of(dq[0]);
    for (size_t i = 0; i < xs.size(); ++i) EXPECT_NEAR(back[i], xs[i], 0.005f + 1e-6f) << i;
}

TEST(MiscQuantize, PerAxisScalesAndZeroPoints) {
    // x [2, 3, 2], axis 1: channel c uses scale[c], zp[c]
    Tensor x = Tensor::from_floats({1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6}, {2, 3, 2});
    Tensor scale = Tensor::from_floats({1.0f, 2.0f, 4.0f}, {3});
    Tensor zp = make_typed(DType::kInt8, {0, 10, -10}, {3});
    NodeBuilder qn("QuantizeLinear", 3, 1);
    qn.i("axis", 1);
    std::vector<Tensor> q;
    ASSERT_TRUE(run(qn.node, 13, {&x, &scale, &zp}, q).is_ok());
    // 3/2=1.5->2, 4/2=2, 5/4=1.25->1, 6/4=1.5->2, -3/2=-1.5->-2, -4/2=-2, -5/4->-1, -6/4=-1.5->-2
    EXPECT_EQ(ir::to_int64s(q[0]), (std::vector<int64_t>{1, 2, 12, 12, -9, -8, -1, -2, 8, 8, -11, -12}));
    NodeBuilder dn("DequantizeLinear", 3, 1);
    dn.i("axis", -2);
    std::vector<Tensor> dq;
    ASSERT_TRUE(run(dn.node, 13, {&q[0], &scale, &zp}, dq).is_ok());
    expect_near_all(floats_of(dq[0]), {1, 2, 4, 4, 4, 8, -1, -2, -4, -4, -4, -8}, 0.0f);
}

TEST(MiscQuantize, PerAxisNeedsOpset13AndMatchingLength) {
    Tensor x = Tensor::from_floats({1, 2, 3, 4}, {2, 2});
    Tensor scale = Tensor::from_floats({1.0f, 2.0f}, {2});
    Tensor bad_scale = Tensor::from_floats({1.0f, 2.0f, 3.0f}, {3});
    NodeBuilder nb("QuantizeLinear", 2, 1);
    std::vector<Tensor> out;
    Status s = run(nb.node, 10, {&x, &scale}, out);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("node 'test_QuantizeLinear' (QuantizeLinear)"), std::string::npos) << s.message();
    s = run(nb.node, 13, {&x, &bad_scale}, out);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("test_QuantizeLinear"), std::string::npos);
}

TEST(MiscQuantize, BlockedScalesFromOpset21) {
    // x [1, 5] along axis 1 with block 2: scales [1, 3] cover elements {0,1}, {2,3}, {4}
    Tensor x = Tensor::from_floats({2, 4, 6, 8, 10}, {1, 5});
    Tensor scale = Tensor::from_floats({2.0f, 4.0f, 5.0f}, {1, 3});
    NodeBuilder nb("QuantizeLinear", 2, 1);
    nb.i("axis", 1).i("block_size", 2).i("output_dtype", 3);
    std::vector<Tensor> out;
    ASSERT_TRUE(run(nb.node, 21, {&x, &scale}, out).is_ok());
    ASSERT_EQ(out[0].dtype(), DType::kInt8);
    EXPECT_EQ(ir::to_int64s(out[0]), (std::vector<int64_t>{1, 2, 2, 2, 2}));
    NodeBuilder dn("DequantizeLinear", 2, 1);
    dn.i("axis", 1).i("block_size", 2);
    std::vector<Tensor> dq;
    ASSERT_TRUE(run(dn.node, 21, {&out[0], &scale}, dq).is_ok());
    expect_near_all(floats_of(dq[0]), {2, 4, 8, 8, 10}, 0.0f);
}

TEST(MiscQuantize, DequantizeOutputFollowsScaleTypeFromOpset19) {
    Tensor x = make_typed(DType::kUInt8, {0, 3, 255}, {3});
    Tensor scale = make_typed(DType::kFloat16, {0.5}, {});
    Tensor zp = make_typed(DType::kUInt8, {1}, {});
    std::vector<Tensor> out;
    ASSERT_TRUE(run(NodeBuilder("DequantizeLinear", 3, 1).node, 19, {&x, &scale, &zp}, out).is_ok());
    ASSERT_EQ(out[0].dtype(), DType::kFloat16);
    expect_near_all(floats_of(out[0]), {-0.5f, 1.0f, 127.0f}, 0.0f);
    ASSERT_TRUE(run(NodeBuilder("DequantizeLinear", 3, 1).node, 13, {&x, &scale, &zp}, out).is_ok());
    EXPECT_EQ(out[0].dtype(), DType::kFloat32);
}

TEST(MiscQuantize, DequantizeInt32) {
    Tensor x = make_typed(DType::kInt32, {-100000, 7}, {2});
    Tensor scale = Tensor::from_floats({0.25f}, {});
    std::vector<Tensor> out;
    ASSERT_TRUE(run(NodeBuilder("DequantizeLinear", 2, 1).node, 13, {&x, &scale}, out).is_ok());
    expect_near_all(floats_of(out[0]), {-25000.0f, 1.75f}, 0.0f);
}

TEST(MiscQuantize, DynamicQuantizeLinear) {
    // The ONNX example: range [-3, 2] -> scale 5/255, zero point round(3 / scale) = 153.
    Tensor x = Tensor::from_floats({0.0f, 2.0f, -3.0f, -2.5f, 1.34f, 0.5f}, {6});
    std::vector<Tensor> out;
    ASSERT_TRUE(run(NodeBuilder("DynamicQuantizeLinear", 1, 3).node, 11, {&x}, out).is_ok());
    EXPECT_NEAR(out[1].data<float>()[0], 5.0f / 255.0f, 1e-7f);
    EXPECT_EQ(out[2].data<uint8_t>()[0], 153);
    EXPECT_EQ(ir::to_int64s(out[0]), (std::vector<int64_t>{153, 255, 0, 26, 221, 179}));

    // All positive: the range is widened to contain zero, so the zero point is 0.
    Tensor pos = Tensor::from_floats({1.0f, 2.55f}, {2});
    ASSERT_TRUE(run(NodeBuilder("DynamicQuantizeLinear", 1, 3).node, 11, {&pos}, out).is_ok());
    EXPECT_EQ(out[2].data<uint8_t>()[0], 0);
    EXPECT_EQ(ir::to_int64s(out[0]), (std::vector<int64_t>{100, 255}));
}

// ---------------------------------------------------------------- RoiAlign

// X = 4y + x on a 4x4 plane: bilinear sampling of a linear function is exact, so each bin's average is
// the function at the bin's mean sample point.
Tensor linear_plane() {
    std::vector<float> v;
    for (int y = 0; y < 4; ++y) {
        for (int x = 0; x < 4; ++x) v.push_back(static_cast<float>(4 * y + x));
    }
    return Tensor::from_floats(v, {1, 1, 4, 4});
}

TEST(MiscRoiAlign, AverageOfALinearPlane) {
    Tensor x = linear_plane();
    Tensor rois = Tensor::from_floats({0.5f, 0.5f, 2.5f, 2.5f}, {1, 4});
    Tensor idx = Tensor::from_int64s({0}, {1});
    NodeBuilder nb("RoiAlign", 3, 1);
    nb.i("output_height", 2).i("output_width", 2).i("sampling_ratio", 2);
    std::vector<Tensor> out;
    ASSERT_TRUE(run(nb.node, 16, {&x, &rois, &idx}, out).is_ok());
    ASSERT_EQ(out[0].shape(), (ir::Shape{1, 1, 2, 2}));
    // half_pixel: the roi spans [0, 2]; bins are [0,1] and [1,2] with samples at 0.25/0.75 and 1.25/1.75
    expect_near_all(floats_of(out[0]), {2.5f, 3.5f, 6.5f, 7.5f}, 1e-5f);

    // Opset 10 has no half-pixel offset: the roi spans [0.5, 2.5], every bin shifts by 0.5 in x and y.
    ASSERT_TRUE(run(nb.node, 10, {&x, &rois, &idx}, out).is_ok());
    expect_near_all(floats_of(out[0]), {5.0f, 6.0f, 9.0f, 10.0f}, 1e-5f);
}

TEST(MiscRoiAlign, HandComputedBilinearSampleAndMaxMode) {
    // A non-linear plane: v[1][0]=1, v[1][1]=9, v[2][0]=4, v[2][1]=-2, zero elsewhere; one sample per bin.
    std::vector<float> v(16, 0.0f);
    v[4] = 1.0f;
    v[5] = 9.0f;
    v[8] = 4.0f;
    v[9] = -2.0f;
    Tensor x = Tensor::from_floats(v, {1, 1, 4, 4});
    Tensor rois = Tensor::from_floats({0.0f, 0.5f, 2.0f, 3.0f}, {1, 4});
    Tensor idx = Tensor::from_int64s({0}, {1});
    NodeBuilder nb("RoiAlign", 3, 1);
    nb.i("sampling_ratio", 1).f("spatial_scale", 0.5f);
    // Scaled by 0.5 and shifted by the half pixel, the roi spans x in [-0.5, 0.5] and y in [-0.25, 1]: its one
    // sample sits at (y, x) = (0.375, 0): 0.625 * v[0][0] + 0.375 * v[1][0].
    std::vector<Tensor> out;
    ASSERT_TRUE(run(nb.node, 16, {&x, &rois, &idx}, out).is_ok());
    EXPECT_NEAR(out[0].data<float>()[0], 0.375f, 1e-6f);

    // Opset 10 (no half-pixel shift): a unit roi from (y, x) = (0.75, 0) samples at its center (1.25, 0.5).
    Tensor rois2 = Tensor::from_floats({0.0f, 0.75f, 1.0f, 1.75f}, {1, 4});
    NodeBuilder nb2("RoiAlign", 3, 1);
    nb2.i("sampling_ratio", 1);
    ASSERT_TRUE(run(nb2.node, 10, {&x, &rois2, &idx}, out).is_ok());
    const float expected = 0.75f * (0.5f * 1.0f + 0.5f * 9.0f) + 0.25f * (0.5f * 4.0f + 0.5f * -2.0f);
    EXPECT_NEAR(out[0].data<float>()[0], expected, 1e-5f);

    nb2.s("mode", "max");  // the max of the four weighted corners: 0.75 * 0.5 * 9
    ASSERT_TRUE(run(nb2.node, 10, {&x, &rois2, &idx}, out).is_ok());
    EXPECT_NEAR(out[0].data<float>()[0], 3.375f, 1e-5f);
}

TEST(MiscRoiAlign, BatchIndexSelectsTheImageAndIsChecked) {
    Tensor a = linear_plane();
    std::vector<float> two = floats_of(a);
    for (float f : floats_of(a)) two.push_back(100.0f + f);
    Tensor x = Tensor::from_floats(two, {2, 1, 4, 4});
    Tensor rois = Tensor::from_floats({0.5f, 0.5f, 2.5f, 2.5f, 0.5f, 0.5f, 2.5f, 2.5f}, {2, 4});
    Tensor idx = Tensor::from_int64s({1, 0}, {2});
    NodeBuilder nb("RoiAlign", 3, 1);
    nb.i("sampling_ratio", 2);
    std::vector<Tensor> out;
    ASSERT_TRUE(run(nb.node, 16, {&x, &rois, &idx}, out).is_ok());
    expect_near_all(floats_of(out[0]), {105.0f, 5.0f}, 1e-5f);
    Tensor bad = Tensor::from_int64s({2, 0}, {2});
    Status s = run(nb.node, 16, {&x, &rois, &bad}, out);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("test_RoiAlign"), std::string::npos);
}

// ---------------------------------------------------------------- GridSample

TEST(MiscGridSample, IdentityGridWithAlignCornersReproducesTheInput) {
    const std::vector<float> xs = random_floats(2 * 3 * 4, 11);
    Tensor x = Tensor::from_floats(xs, {1, 2, 3, 4});
    std::vector<float> grid;
    for (int y = 0; y < 3; ++y) {
        for (int xx = 0; xx < 4; ++xx) grid.insert(grid.end(), {-1.0f + 2.0f * xx / 3.0f, -1.0f + 2.0f * y / 2.0f});
    }
    Tensor g = Tensor::from_floats(grid, {1, 3, 4, 2});
    for (const char* mode : {"bilinear", "nearest", "bicubic"}) {
        NodeBuilder nb("GridSample", 2, 1);
        nb.i("align_corners", 1).s("mode", mode);
        std::vector<Tensor> out;
        ASSERT_TRUE(run(nb.node, 16, {&x, &g}, out).is_ok()) << mode;
        ASSERT_EQ(out[0].shape(), (ir::Shape{1, 2, 3, 4}));
        expect_near_all(floats_of(out[0]), xs, 1e-5f);
    }
}

TEST(MiscGridSample, BilinearPointAndPaddingModes) {
    Tensor x = Tensor::from_floats({1, 2, 3, 4}, {1, 1, 2, 2});
    // align_corners 0: x = ((g + 1) * 2 - 1) / 2; g = 0 -> 0.5 (the center), g = -1 -> -0.5, g = 2 -> 2.5
    Tensor g = Tensor::from_floats({0.0f, 0.0f, -1.0f, -1.0f, 2.0f, 0.0f}, {1, 1, 3, 2});
    std::vector<Tensor> out;
    NodeBuilder zeros("GridSample", 2, 1);
    ASSERT_TRUE(run(zeros.node, 16, {&x, &g}, out).is_ok());
    // center: mean 2.5; corner (-0.5, -0.5): a quarter of pixel (0,0); x=2.5: outside, y=0.5 -> zeros
    expect_near_all(floats_of(out[0]), {2.5f, 0.25f, 0.0f}, 1e-6f);
    NodeBuilder border("GridSample", 2, 1);
    border.s("padding_mode", "border");
    ASSERT_TRUE(run(border.node, 16, {&x, &g}, out).is_ok());
    expect_near_all(floats_of(out[0]), {2.5f, 1.0f, 3.0f}, 1e-6f);  // x clamped to 1, y=0.5: mean of 2 and 4
    NodeBuilder reflect("GridSample", 2, 1);
    reflect.s("padding_mode", "reflection");
    ASSERT_TRUE(run(reflect.node, 16, {&x, &g}, out).is_ok());
    // x = 2.5 reflects about 1.5 to 0.5
    expect_near_all(floats_of(out[0]), {2.5f, 1.0f, 2.5f}, 1e-6f);
}

TEST(MiscGridSample, RankChecksNameTheNode) {
    Tensor x = Tensor::from_floats(std::vector<float>(8, 1.0f), {1, 1, 2, 2, 2});
    Tensor g = Tensor::from_floats(std::vector<float>(3, 0.0f), {1, 1, 1, 1, 3});
    std::vector<Tensor> out;
    Status s = run(NodeBuilder("GridSample", 2, 1).node, 16, {&x, &g}, out);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("node 'test_GridSample' (GridSample)"), std::string::npos) << s.message();
    ASSERT_TRUE(run(NodeBuilder("GridSample", 2, 1).node, 20, {&x, &g}, out).is_ok());  // volumetric from 20
    EXPECT_NEAR(out[0].data<float>()[0], 1.0f, 1e-6f);
}

// ---------------------------------------------------------------- RNN / GRU / LSTM

enum class CellKind { kRnn, kGru, kLstm };

// An independent, plainly written recurrence over layout-0 tensors, one direction at a time.
struct RecurrentCase {
    CellKind kind = CellKind::kLstm;
    int64_t seq = 2, batch = 2, input = 3, hidden = 2, dirs = 1;
    bool linear_before_reset = false;
    std::vector<float> x, w, r, b, h0, c0, p;
    std::vector<int64_t> lens;
    std::vector<float> y, y_h, y_c;  // expected

    int64_t gates() const { return kind == CellKind::kLstm ? 4 : kind == CellKind::kGru ? 3 : 1; }

    void expect_outputs() {
        const int64_t g = gates(), hs = hidden;
        y.assign(static_cast<size_t>(seq * dirs * batch * hs), 0.0f);
        y_h.assign(static_cast<size_t>(dirs * batch * hs), 0.0f);
        y_c = y_h;
        auto sigmoid = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
        for (int64_t d = 0; d < dirs; ++d) {
            for (int64_t bi = 0; bi < batch; ++bi) {
                std::vector<double> h(static_cast<size_t>(hs)), c(static_cast<size_t>(hs));
                for (int64_t j = 0; j < hs; ++j) {
                    h[j] = h0.empty() ? 0.0 : h0[(d * batch + bi) * hs + j];
                    c[j] = c0.empty() ? 0.0 : c0[(d * batch + bi) * hs + j];
                }
                const int64_t len = lens.empty() ? seq : lens[bi];
                for (int64_t k = 0; k < len; ++k) {
                    const int64_t t = d == 1 ? len - 1 - k : k;
                    // wx[gate][j] = W_gate x_t + Wb_gate ; rh[gate][j] = R_gate h + Rb_gate
                    std::vector<std::vector<double>> wx(g, std::vector<double>(hs)), rh = wx;
                    for (int64_t gi = 0; gi < g; ++gi) {
                        for (int64_t j = 0; j < hs; ++j) {
                            const int64_t row = gi * hs + j;
                            double a = b.empty() ? 0.0 : b[d * 2 * g * hs + row];
                            double bb = b.empty() ? 0.0 : b[d * 2 * g * hs + g * hs + row];
                            for (int64_t i = 0; i < input; ++i)
                                a += w[(d * g * hs + row) * input + i] * x[(t * batch + bi) * input + i];
                            for (int64_t i = 0; i < hs; ++i) bb += r[(d * g * hs + row) * hs + i] * h[i];
                            wx[gi][j] = a;
                            rh[gi][j] = bb;
                        }
                    }
                    std::vector<double> nh(static_cast<size_t>(hs));
                    for (int64_t j = 0; j < hs; ++j) {
                        if (kind == CellKind::kRnn) {
                            nh[j] = std::tanh(wx[0][j] + rh[0][j]);
                        } else if (kind == CellKind::kGru) {
                            const double z = sigmoid(wx[0][j] + rh[0][j]);
                            const double rr = sigmoid(wx[1][j] + rh[1][j]);
                            double cand;
                            if (linear_before_reset) {
                                cand = std::tanh(wx[2][j] + rr * rh[2][j]);
                            } else {  // R_h (r . h) + Rb_h, computed from scratch
                                double s = b.empty() ? 0.0 : b[d * 2 * g * hs + g * hs + 2 * hs + j];
                                for (int64_t i = 0; i < hs; ++i) {
                                    const double ri = sigmoid(wx[1][i] + rh[1][i]);
                                    s += r[(d * g * hs + 2 * hs + j) * hs + i] * ri * h[i];
                                }
                                cand = std::tanh(wx[2][j] + s);
                            }
                            nh[j] = (1.0 - z) * cand + z * h[j];
                        } else {
                            const double pi = p.empty() ? 0.0 : p[d * 3 * hs + j];
                            const double po = p.empty() ? 0.0 : p[d * 3 * hs + hs + j];
                            const double pf = p.empty() ? 0.0 : p[d * 3 * hs + 2 * hs + j];
                            const double ig = sigmoid(wx[0][j] + rh[0][j] + pi * c[j]);
                            const double fg = sigmoid(wx[2][j] + rh[2][j] + pf * c[j]);
                            const double cc = std::tanh(wx[3][j] + rh[3][j]);
                            const double cn = fg * c[j] + ig * cc;
                            const double og = sigmoid(wx[1][j] + rh[1][j] + po * cn);
                            c[j] = cn;
                            nh[j] = og * std::tanh(cn);
                        }
                    }
                    h = nh;
                    for (int64_t j = 0; j < hs; ++j)
                        y[((t * dirs + d) * batch + bi) * hs + j] = static_cast<float>(h[j]);
                }
                for (int64_t j = 0; j < hs; ++j) {
                    y_h[(d * batch + bi) * hs + j] = static_cast<float>(h[j]);
                    y_c[(d * batch + bi) * hs + j] = static_cast<float>(c[j]);
                }
            }
        }
    }

    void fill(uint32_t seed, bool with_b, bool with_h0, bool with_c0, bool with_p) {
        const int64_t g = gates();
        x = random_floats(static_cast<size_t>(seq * batch * input), seed);
        w = random_floats(static_cast<size_t>(dirs * g * hidden * input), seed + 1);
        r = random_floats(static_cast<size_t>(dirs * g * hidden * hidden), seed + 2);
        if (with_b) b = random_floats(static_cast<size_t>(dirs * 2 * g * hidden), seed + 3);
        if (with_h0) h0 = random_floats(static_cast<size_t>(dirs * batch * hidden), seed + 4);
        if (with_c0) c0 = random_floats(static_cast<size_t>(dirs * batch * hidden), seed + 5);
        if (with_p) p = random_floats(static_cast<size_t>(dirs * 3 * hidden), seed + 6);
    }

    // Runs the kernel (layout 0) and compares all outputs.
    void check(int64_t opset = 14) {
        expect_outputs();
        const char* op = kind == CellKind::kLstm ? "LSTM" : kind == CellKind::kGru ? "GRU" : "RNN";
        const bool lstm = kind == CellKind::kLstm;
        NodeBuilder nb(op, lstm ? 8 : 6, lstm ? 3 : 2);
        nb.i("hidden_size", hidden).s("direction", dirs == 2 ? "bidirectional" : "forward");
        if (kind == CellKind::kGru) nb.i("linear_before_reset", linear_before_reset ? 1 : 0);
        const int64_t g = gates();
        Tensor xt = Tensor::from_floats(x, {seq, batch, input});
        Tensor wt = Tensor::from_floats(w, {dirs, g * hidden, input});
        Tensor rt = Tensor::from_floats(r, {dirs, g * hidden, hidden});
        Tensor bt = Tensor::from_floats(b, {dirs, 2 * g * hidden});
        Tensor lt = make_typed(DType::kInt32, std::vector<double>(lens.begin(), lens.end()), {batch});
        Tensor ht = Tensor::from_floats(h0, {dirs, batch, hidden});
        Tensor ct = Tensor::from_floats(c0, {dirs, batch, hidden});
        Tensor pt = Tensor::from_floats(p, {dirs, 3 * hidden});
        std::vector<const Tensor*> ins = {
            &xt, &wt, &rt, b.empty() ? nullptr : &bt, lens.empty() ? nullptr : &lt, h0.empty() ? nullptr : &ht};
        if (lstm) {
            ins.push_back(c0.empty() ? nullptr : &ct);
            ins.push_back(p.empty() ? nullptr : &pt);
        }
        for (size_t i = 0; i < ins.size(); ++i) {
            if (!ins[i]) nb.skip_input(i);
        }
        std::vector<Tensor> out;
        Status s = run(nb.node, opset, ins, out);
        ASSERT_TRUE(s.is_ok()) << s.to_string();
        ASSERT_EQ(out[0].shape(), (ir::Shape{seq, dirs, batch, hidden}));
        expect_near_all(floats_of(out[0]), y, 1e-5f);
        expect_near_all(floats_of(out[1]), y_h, 1e-5f);
        if (lstm) expect_near_all(floats_of(out[2]), y_c, 1e-5f);
    }
};

TEST(MiscRecurrent, RnnOneAndTwoSteps) {
    for (int64_t seq : {1, 2}) {
        RecurrentCase c;
        c.kind = CellKind::kRnn;
        c.seq = seq;
        c.fill(21, true, true, false, false);
        c.check();
    }
}

TEST(MiscRecurrent, RnnBidirectionalWithoutBias) {
    RecurrentCase c;
    c.kind = CellKind::kRnn;
    c.dirs = 2;
    c.seq = 3;
    c.fill(22, false, false, false, false);
    c.check(7);
}

TEST(MiscRecurrent, GruBothResetOrders) {
    for (bool lbr : {false, true}) {
        RecurrentCase c;
        c.kind = CellKind::kGru;
        c.linear_before_reset = lbr;
        c.fill(31, true, true, false, false);
        c.check();
    }
}

TEST(MiscRecurrent, GruBidirectionalWithSequenceLengths) {
    RecurrentCase c;
    c.kind = CellKind::kGru;
    c.dirs = 2;
    c.seq = 3;
    c.lens = {3, 1};
    c.fill(32, true, true, false, false);
    c.check();
    // Steps past batch 1's length are zero in Y.
    for (int64_t t = 1; t < 3; ++t) {
        for (int64_t d = 0; d < 2; ++d) {
            for (int64_t j = 0; j < c.hidden; ++j) EXPECT_EQ(c.y[((t * 2 + d) * 2 + 1) * c.hidden + j], 0.0f);
        }
    }
}

TEST(MiscRecurrent, LstmOneAndTwoStepsWithPeepholes) {
    for (int64_t seq : {1, 2}) {
        RecurrentCase c;
        c.seq = seq;
        c.fill(41, true, true, true, true);
        c.check();
    }
}

TEST(MiscRecurrent, LstmBidirectionalDefaults) {
    RecurrentCase c;
    c.dirs = 2;
    c.hidden = 3;
    c.lens = {2, 1};
    c.fill(42, false, false, false, false);
    c.check();
}

TEST(MiscRecurrent, Layout1IsBatchFirst) {
    RecurrentCase c;
    c.seq = 3;
    c.batch = 2;
    c.dirs = 2;
    c.fill(43, true, true, true, false);
    c.expect_outputs();
    // Transpose X to [batch, seq, input] and the states to [batch, dirs, hidden].
    std::vector<float> xb, hb, cb;
    for (int64_t b = 0; b < c.batch; ++b) {
        for (int64_t t = 0; t < c.seq; ++t) {
            for (int64_t i = 0; i < c.input; ++i) xb.push_back(c.x[(t * c.batch + b) * c.input + i]);
        }
        for (int64_t d = 0; d < c.dirs; ++d) {
            for (int64_t j = 0; j < c.hidden; ++j) {
                hb.push_back(c.h0[(d * c.batch + b) * c.hidden + j]);
                cb.push_back(c.c0[(d * c.batch + b) * c.hidden + j]);
            }
        }
    }
    NodeBuilder nb("LSTM", 7, 3);
    nb.i("hidden_size", c.hidden).s("direction", "bidirectional").i("layout", 1).skip_input(4);
    Tensor xt = Tensor::from_floats(xb, {c.batch, c.seq, c.input});
    Tensor wt = Tensor::from_floats(c.w, {2, 4 * c.hidden, c.input});
    Tensor rt = Tensor::from_floats(c.r, {2, 4 * c.hidden, c.hidden});
    Tensor bt = Tensor::from_floats(c.b, {2, 8 * c.hidden});
    Tensor ht = Tensor::from_floats(hb, {c.batch, 2, c.hidden});
    Tensor ct = Tensor::from_floats(cb, {c.batch, 2, c.hidden});
    std::vector<Tensor> out;
    ASSERT_TRUE(run(nb.node, 14, {&xt, &wt, &rt, &bt, nullptr, &ht, &ct}, out).is_ok());
    ASSERT_EQ(out[0].shape(), (ir::Shape{c.batch, c.seq, 2, c.hidden}));
    const std::vector<float> y = floats_of(out[0]), yh = floats_of(out[1]);
    for (int64_t b = 0; b < c.batch; ++b) {
        for (int64_t t = 0; t < c.seq; ++t) {
            for (int64_t d = 0; d < 2; ++d) {
                for (int64_t j = 0; j < c.hidden; ++j) {
                    EXPECT_NEAR(y[((b * c.seq + t) * 2 + d) * c.hidden + j],
                                c.y[((t * 2 + d) * c.batch + b) * c.hidden + j], 1e-5f);
                }
            }
        }
        for (int64_t d = 0; d < 2; ++d) {
            for (int64_t j = 0; j < c.hidden; ++j) {
                EXPECT_NEAR(yh[(b * 2 + d) * c.hidden + j], c.y_h[(d * c.batch + b) * c.hidden + j], 1e-5f);
            }
        }
    }
}

TEST(MiscRecurrent, ActivationsAttributeIsUsed) {
    // RNN with Relu: one step, h = relu(W x + R h0); check against the formula directly.
    const std::vector<float> x = {1.0f, -2.0f}, w = {0.5f, 0.25f, -1.0f, 0.5f}, r = {0.1f, 0.2f, 0.3f, 0.4f};
    const std::vector<float> h0 = {1.0f, -1.0f};
    NodeBuilder nb("RNN", 6, 2);
    nb.i("hidden_size", 2).strings("activations", {"Relu"}).skip_input(3).skip_input(4);
    Tensor xt = Tensor::from_floats(x, {1, 1, 2}), wt = Tensor::from_floats(w, {1, 2, 2});
    Tensor rt = Tensor::from_floats(r, {1, 2, 2}), ht = Tensor::from_floats(h0, {1, 1, 2});
    std::vector<Tensor> out;
    ASSERT_TRUE(run(nb.node, 14, {&xt, &wt, &rt, nullptr, nullptr, &ht}, out).is_ok());
    // pre-activations: unit 0: 0.5 - 0.5 + 0.1 - 0.2 = -0.1; unit 1: -1 - 1 + 0.3 - 0.4 = -2.1
    expect_near_all(floats_of(out[1]), {0.0f, 0.0f}, 1e-6f);
    nb.strings("activations", {"Affine"}).floats("activation_alpha", {-2.0f}).floats("activation_beta", {1.0f});
    ASSERT_TRUE(run(nb.node, 14, {&xt, &wt, &rt, nullptr, nullptr, &ht}, out).is_ok());
    expect_near_all(floats_of(out[1]), {-2.0f * -0.1f + 1.0f, -2.0f * -2.1f + 1.0f}, 1e-5f);
    nb.strings("activations", {"LeakyRelu"}).floats("activation_alpha", {0.5f});
    ASSERT_TRUE(run(nb.node, 14, {&xt, &wt, &rt, nullptr, nullptr, &ht}, out).is_ok());
    expect_near_all(floats_of(out[1]), {-0.05f, -1.05f}, 1e-6f);
}

TEST(MiscRecurrent, BadWeightsNameTheNode) {
    NodeBuilder nb("LSTM", 3, 2);
    nb.i("hidden_size", 2);
    Tensor x = Tensor::from_floats(random_floats(6, 1), {1, 2, 3});
    Tensor w = Tensor::from_floats(random_floats(18, 2), {1, 6, 3});  // needs 4 * hidden rows
    Tensor r = Tensor::from_floats(random_floats(16, 3), {1, 8, 2});
    std::vector<Tensor> out;
    Status s = run(nb.node, 14, {&x, &w, &r}, out);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("node 'test_LSTM' (LSTM)"), std::string::npos) << s.message();
    nb.i("hidden_size", 3);
    Tensor w_ok = Tensor::from_floats(random_floats(24, 2), {1, 8, 3});
    s = run(nb.node, 14, {&x, &w_ok, &r}, out);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("hidden_size"), std::string::npos) << s.message();
}

// ---------------------------------------------------------------- windows

std::vector<float> run_window(const std::string& op, int64_t size, int64_t periodic, int64_t out_type = 1) {
    NodeBuilder nb(op, 1, 1);
    nb.i("periodic", periodic).i("output_datatype", out_type);
    Tensor n = Tensor::from_int64s({size}, {});
    std::vector<Tensor> out;
    Status s = run(nb.node, 17, {&n}, out);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    if (!s.is_ok()) return {};
    EXPECT_EQ(out[0].shape(), (ir::Shape{size}));
    return floats_of(out[0]);
}

TEST(MiscWindow, MatchFormulas) {
    for (int64_t periodic : {0, 1}) {
        const int64_t size = 10;
        const double n = static_cast<double>(periodic ? size : size - 1);
        std::vector<float> hann, hamming, blackman;
        for (int64_t i = 0; i < size; ++i) {
            const double a = 2.0 * kPi * static_cast<double>(i) / n;
            hann.push_back(static_cast<float>(std::pow(std::sin(kPi * static_cast<double>(i) / n), 2.0)));
            hamming.push_back(static_cast<float>(0.543478261 - 0.456521739 * std::cos(a)));
            blackman.push_back(static_cast<float>(0.42 - 0.5 * std::cos(a) + 0.08 * std::cos(2.0 * a)));
        }
        expect_near_all(run_window("HannWindow", size, periodic), hann, 1e-6f);
        expect_near_all(run_window("HammingWindow", size, periodic), hamming, 1e-6f);
        expect_near_all(run_window("BlackmanWindow", size, periodic), blackman, 1e-6f);
    }
    // symmetric windows end where they start
    const std::vector<float> sym = run_window("HannWindow", 7, 0);
    EXPECT_NEAR(sym.front(), sym.back(), 1e-7f);
    EXPECT_NEAR(sym[3], 1.0f, 1e-7f);
}

TEST(MiscWindow, OutputDatatype) {
    NodeBuilder nb("HammingWindow", 1, 1);
    nb.i("output_datatype", 11);
    Tensor n = make_typed(DType::kInt32, {4}, {});
    std::vector<Tensor> out;
    ASSERT_TRUE(run(nb.node, 17, {&n}, out).is_ok());
    ASSERT_EQ(out[0].dtype(), DType::kFloat64);
    EXPECT_NEAR(out[0].data<double>()[2], 25.0 / 46.0 + 21.0 / 46.0, 1e-12);
    nb.i("output_datatype", 8);  // string
    Status s = run(nb.node, 17, {&n}, out);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("test_HammingWindow"), std::string::npos);
}

// ---------------------------------------------------------------- DFT / STFT / MelWeightMatrix

// The direct transform of complex points (re, im interleaved).
std::vector<float> direct_dft(const std::vector<double>& xs, int64_t len, bool inverse) {
    std::vector<float> out;
    const int64_t n = static_cast<int64_t>(xs.size()) / 2;
    for (int64_t k = 0; k < len; ++k) {
        double re = 0.0, im = 0.0;
        for (int64_t t = 0; t < std::min(n, len); ++t) {
            const double a = (inverse ? 2.0 : -2.0) * kPi * static_cast<double>(k * t) / static_cast<double>(len);
            re += xs[2 * t] * std::cos(a) - xs[2 * t + 1] * std::sin(a);
            im += xs[2 * t] * std::sin(a) + xs[2 * t + 1] * std::cos(a);
        }
        const double scale = inverse ? 1.0 / static_cast<double>(len) : 1.0;
        out.push_back(static_cast<float>(re * scale));
        out.push_back(static_cast<float>(im * scale));
    }
    return out;
}

TEST(MiscDft, RealInputMatchesTheDirectSumAndOnesidedKeepsHalf) {
    const std::vector<float> xs = random_floats(8, 51);
    std::vector<double> cx;
    for (float v : xs) cx.insert(cx.end(), {v, 0.0});
    Tensor x = Tensor::from_floats(xs, {1, 8, 1});
    std::vector<Tensor> out;
    ASSERT_TRUE(run(NodeBuilder("DFT", 1, 1).node, 17, {&x}, out).is_ok());
    ASSERT_EQ(out[0].shape(), (ir::Shape{1, 8, 2}));
    const std::vector<float> want = direct_dft(cx, 8, false);
    expect_near_all(floats_of(out[0]), want, 1e-5f);

    NodeBuilder one("DFT", 1, 1);
    one.i("onesided", 1);
    ASSERT_TRUE(run(one.node, 17, {&x}, out).is_ok());
    ASSERT_EQ(out[0].shape(), (ir::Shape{1, 5, 2}));
    expect_near_all(floats_of(out[0]), std::vector<float>(want.begin(), want.begin() + 10), 1e-5f);

    // dft_length 12 zero-pads the signal
    Tensor len = Tensor::from_int64s({12}, {});
    ASSERT_TRUE(run(NodeBuilder("DFT", 2, 1).node, 17, {&x, &len}, out).is_ok());
    ASSERT_EQ(out[0].shape(), (ir::Shape{1, 12, 2}));
    expect_near_all(floats_of(out[0]), direct_dft(cx, 12, false), 1e-5f);
}

TEST(MiscDft, InverseUndoesForwardOnComplexInput) {
    const std::vector<float> xs = random_floats(2 * 6 * 2, 52);
    Tensor x = Tensor::from_floats(xs, {2, 6, 2});
    std::vector<Tensor> fwd, back;
    ASSERT_TRUE(run(NodeBuilder("DFT", 1, 1).node, 17, {&x}, fwd).is_ok());
    NodeBuilder inv("DFT", 1, 1);
    inv.i("inverse", 1);
    ASSERT_TRUE(run(inv.node, 17, {&fwd[0]}, back).is_ok());
    expect_near_all(floats_of(back[0]), xs, 1e-5f);
}

TEST(MiscDft, AxisAttributeAndOpset20AxisInput) {
    // x [2, 3, 4, 1]: transform along dim 2 (length 4) for every (batch, row)
    const std::vector<float> xs = random_floats(24, 53);
    Tensor x = Tensor::from_floats(xs, {2, 3, 4, 1});
    std::vector<float> want;
    for (int64_t o = 0; o < 6; ++o) {
        std::vector<double> cx;
        for (int64_t k = 0; k < 4; ++k) cx.insert(cx.end(), {xs[o * 4 + k], 0.0});
        const std::vector<float> row = direct_dft(cx, 4, false);
        want.insert(want.end(), row.begin(), row.end());
    }
    NodeBuilder nb("DFT", 1, 1);
    nb.i("axis", 2);
    std::vector<Tensor> out;
    ASSERT_TRUE(run(nb.node, 17, {&x}, out).is_ok());
    ASSERT_EQ(out[0].shape(), (ir::Shape{2, 3, 4, 2}));
    expect_near_all(floats_of(out[0]), want, 1e-5f);

    NodeBuilder nb20("DFT", 3, 1);
    nb20.skip_input(1);
    Tensor axis = Tensor::from_int64s({-2}, {});
    ASSERT_TRUE(run(nb20.node, 20, {&x, nullptr, &axis}, out).is_ok());
    expect_near_all(floats_of(out[0]), want, 1e-5f);

    nb.i("axis", 3);  // the complex dim cannot be transformed
    Status s = run(nb.node, 17, {&x}, out);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("node 'test_DFT' (DFT)"), std::string::npos) << s.message();
}

TEST(MiscDft, StftFramesAreWindowedDfts) {
    const std::vector<float> xs = random_floats(16, 54);
    Tensor x = Tensor::from_floats(xs, {1, 16, 1});
    Tensor step = Tensor::from_int64s({4}, {});
    std::vector<float> win;
    for (int i = 0; i < 8; ++i) win.push_back(0.5f + 0.05f * static_cast<float>(i));
    Tensor w = Tensor::from_floats(win, {8});
    std::vector<Tensor> out;
    ASSERT_TRUE(run(NodeBuilder("STFT", 3, 1).node, 17, {&x, &step, &w}, out).is_ok());
    ASSERT_EQ(out[0].shape(), (ir::Shape{1, 3, 5, 2}));  // (16 - 8) / 4 + 1 frames, 8 / 2 + 1 bins
    const std::vector<float> got = floats_of(out[0]);
    for (int64_t f = 0; f < 3; ++f) {
        std::vector<double> cx;
        for (int64_t n = 0; n < 8; ++n) cx.insert(cx.end(), {xs[f * 4 + n] * win[n], 0.0});
        const std::vector<float> want = direct_dft(cx, 8, false);
        for (int64_t k = 0; k < 10; ++k) EXPECT_NEAR(got[f * 10 + k], want[k], 1e-5f) << f << " " << k;
    }
    // frame_length without a window, two-sided
    NodeBuilder nb("STFT", 4, 1);
    nb.i("onesided", 0).skip_input(2);
    Tensor frame = Tensor::from_int64s({8}, {});
    ASSERT_TRUE(run(nb.node, 17, {&x, &step, nullptr, &frame}, out).is_ok());
    ASSERT_EQ(out[0].shape(), (ir::Shape{1, 3, 8, 2}));
    Tensor frame_bad = Tensor::from_int64s({6}, {});
    Status s = run(NodeBuilder("STFT", 4, 1).node, 17, {&x, &step, &w, &frame_bad}, out);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("test_STFT"), std::string::npos);
}

TEST(MiscDft, MelWeightMatrixMatchesTheOnnxFormula) {
    Tensor mel = Tensor::from_int64s({3}, {}), dft = Tensor::from_int64s({32}, {});
    Tensor rate = Tensor::from_int64s({16000}, {});
    Tensor lo = Tensor::from_floats({100.0f}, {}), hi = Tensor::from_floats({8000.0f}, {});
    std::vector<Tensor> out;
    ASSERT_TRUE(run(NodeBuilder("MelWeightMatrix", 5, 1).node, 17, {&mel, &dft, &rate, &lo, &hi}, out).is_ok());
    ASSERT_EQ(out[0].shape(), (ir::Shape{17, 3}));
    // Bin edges are 0, 1, 2, 5, 9 (computed with the ONNX reference formula).
    const float t = 1.0f / 3.0f;
    const std::vector<std::vector<float>> cols = {{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                                                  {0, 0, 1, 2 * t, t, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                                                  {0, 0, 0, t, 2 * t, 1, 0.75f, 0.5f, 0.25f, 0, 0, 0, 0, 0, 0, 0, 0}};
    const std::vector<float> got = floats_of(out[0]);
    for (size_t m = 0; m < 3; ++m) {
        for (size_t b = 0; b < 17; ++b) EXPECT_NEAR(got[b * 3 + m], cols[m][b], 1e-6f) << b << " " << m;
    }
}

// ---------------------------------------------------------------- random ops

void mean_and_std(const std::vector<float>& v, double& mean, double& sd) {
    mean = 0.0;
    for (float f : v) mean += f;
    mean /= static_cast<double>(v.size());
    double var = 0.0;
    for (float f : v) var += (f - mean) * (f - mean);
    sd = std::sqrt(var / static_cast<double>(v.size()));
}

TEST(MiscRandom, NormalHasTheRequestedMomentsAndIsSeeded) {
    NodeBuilder nb("RandomNormal", 0, 1);
    nb.ints("shape", {200, 100}).f("mean", 2.0f).f("scale", 3.0f).f("seed", 7.0f);
    std::vector<Tensor> a, b, c;
    ASSERT_TRUE(run(nb.node, 13, {}, a).is_ok());
    ASSERT_EQ(a[0].dtype(), DType::kFloat32);
    ASSERT_EQ(a[0].shape(), (ir::Shape{200, 100}));
    double mean, sd;
    mean_and_std(floats_of(a[0]), mean, sd);
    EXPECT_NEAR(mean, 2.0, 0.1);
    EXPECT_NEAR(sd, 3.0, 0.1);
    ASSERT_TRUE(run(nb.node, 13, {}, b).is_ok());
    EXPECT_EQ(floats_of(a[0]), floats_of(b[0]));
    nb.f("seed", 8.0f);
    ASSERT_TRUE(run(nb.node, 13, {}, c).is_ok());
    EXPECT_NE(floats_of(a[0]), floats_of(c[0]));
}

TEST(MiscRandom, UniformStaysInRange) {
    NodeBuilder nb("RandomUniform", 0, 1);
    nb.ints("shape", {10000}).f("low", -2.0f).f("high", 5.0f).i("dtype", 11);
    std::vector<Tensor> out;
    ASSERT_TRUE(run(nb.node, 13, {}, out).is_ok());
    ASSERT_EQ(out[0].dtype(), DType::kFloat64);
    const std::vector<double> v = ir::to_doubles(out[0]);
    double mean = 0.0;
    for (double d : v) {
        EXPECT_GE(d, -2.0);
        EXPECT_LT(d, 5.0);
        mean += d;
    }
    EXPECT_NEAR(mean / static_cast<double>(v.size()), 1.5, 0.1);
}

TEST(MiscRandom, LikeVariantsTakeShapeAndType) {
    Tensor ints = make_typed(DType::kInt64, std::vector<double>(12, 1.0), {3, 4});
    NodeBuilder nb("RandomNormalLike", 1, 1);
    nb.i("dtype", 1);
    std::vector<Tensor> out;
    ASSERT_TRUE(run(nb.node, 13, {&ints}, out).is_ok());
    EXPECT_EQ(out[0].dtype(), DType::kFloat32);
    EXPECT_EQ(out[0].shape(), (ir::Shape{3, 4}));
    Tensor d = make_typed(DType::kFloat64, std::vector<double>(6, 1.0), {2, 3});
    ASSERT_TRUE(run(NodeBuilder("RandomUniformLike", 1, 1).node, 13, {&d}, out).is_ok());
    EXPECT_EQ(out[0].dtype(), DType::kFloat64);
    EXPECT_EQ(out[0].shape(), (ir::Shape{2, 3}));
    NodeBuilder half("RandomUniformLike", 1, 1);
    half.i("dtype", 10).f("low", 1.0f).f("high", 2.0f);
    ASSERT_TRUE(run(half.node, 13, {&d}, out).is_ok());
    ASSERT_EQ(out[0].dtype(), DType::kFloat16);
    for (float f : floats_of(out[0])) {
        EXPECT_GE(f, 1.0f);
        EXPECT_LE(f, 2.0f);
    }
    Status s = run(NodeBuilder("RandomNormalLike", 1, 1).node, 13, {&ints}, out);  // int64 output is not allowed
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("test_RandomNormalLike"), std::string::npos);
}

TEST(MiscRandom, BernoulliFollowsTheProbabilities) {
    std::vector<float> p(10000, 0.3f);
    p[0] = 0.0f;
    p[1] = 1.0f;
    Tensor pt = Tensor::from_floats(p, {100, 100});
    NodeBuilder nb("Bernoulli", 1, 1);
    nb.f("seed", 3.0f).i("dtype", 9);
    std::vector<Tensor> out;
    ASSERT_TRUE(run(nb.node, 15, {&pt}, out).is_ok());
    ASSERT_EQ(out[0].dtype(), DType::kBool);
    const std::vector<int64_t> v = ir::to_int64s(out[0]);
    EXPECT_EQ(v[0], 0);
    EXPECT_EQ(v[1], 1);
    double mean = 0.0;
    for (size_t i = 2; i < v.size(); ++i) {
        EXPECT_TRUE(v[i] == 0 || v[i] == 1);
        mean += static_cast<double>(v[i]);
    }
    EXPECT_NEAR(mean / static_cast<double>(v.size() - 2), 0.3, 0.02);
    ASSERT_TRUE(run(NodeBuilder("Bernoulli", 1, 1).node, 15, {&pt}, out).is_ok());
    EXPECT_EQ(out[0].dtype(), DType::kFloat32);
}

TEST(MiscRandom, MultinomialSamplesByProbability) {
    Tensor logits = Tensor::from_floats({std::log(0.1f), std::log(0.2f), std::log(0.7f), 5.0f, -50.0f, -50.0f}, {2, 3});
    NodeBuilder nb("Multinomial", 1, 1);
    nb.i("sample_size", 20000).i("dtype", 7).f("seed", 1.0f);
    std::vector<Tensor> out;
    ASSERT_TRUE(run(nb.node, 7, {&logits}, out).is_ok());
    ASSERT_EQ(out[0].dtype(), DType::kInt64);
    ASSERT_EQ(out[0].shape(), (ir::Shape{2, 20000}));
    const std::vector<int64_t> v = ir::to_int64s(out[0]);
    double counts[3] = {0, 0, 0};
    for (int64_t i = 0; i < 20000; ++i) counts[v[static_cast<size_t>(i)]] += 1.0;
    EXPECT_NEAR(counts[0] / 20000.0, 0.1, 0.015);
    EXPECT_NEAR(counts[1] / 20000.0, 0.2, 0.015);
    EXPECT_NEAR(counts[2] / 20000.0, 0.7, 0.015);
    for (int64_t i = 20000; i < 40000; ++i) EXPECT_EQ(v[static_cast<size_t>(i)], 0);
}

// ---------------------------------------------------------------- TfIdfVectorizer

TEST(MiscTfIdf, CountsUnigramsOnceAndSkipGrams) {
    // pool: unigrams {2, 5}, bigrams {(2,3), (2,2)} -> output indexes 0..3
    NodeBuilder nb("TfIdfVectorizer", 1, 1);
    nb.i("min_gram_length", 1).i("max_gram_length", 2).i("max_skip_count", 1).s("mode", "TF");
    nb.ints("pool_int64s", {2, 5, 2, 3, 2, 2}).ints("ngram_counts", {0, 2}).ints("ngram_indexes", {0, 1, 2, 3});
    Tensor x = make_typed(DType::kInt32, {2, 3, 2, 3, 5, 5, 5, 2, 2, 0}, {2, 5});
    std::vector<Tensor> out;
    ASSERT_TRUE(run(nb.node, 9, {&x}, out).is_ok());
    ASSERT_EQ(out[0].shape(), (ir::Shape{2, 4}));
    // row 0: 2 twice, 5 once; (2,3) twice at distance 1; (2,2) once at distance 2
    // row 1 [5, 5, 2, 2, 0]: 5 twice, 2 twice, (2,2) once at distance 1; (5,2) is not in the pool
    expect_near_all(floats_of(out[0]), {2, 1, 2, 1, 2, 2, 0, 1}, 0.0f);
    nb.s("mode", "TFIDF").floats("weights", {1, 2, 3, 4});
    ASSERT_TRUE(run(nb.node, 9, {&x}, out).is_ok());
    expect_near_all(floats_of(out[0]), {2, 2, 6, 4, 2, 4, 0, 4}, 0.0f);
    nb.s("mode", "IDF");
    ASSERT_TRUE(run(nb.node, 9, {&x}, out).is_ok());
    expect_near_all(floats_of(out[0]), {1, 2, 3, 4, 1, 2, 0, 4}, 0.0f);
    nb.s("mode", "BM25");
    Status st = run(nb.node, 9, {&x}, out);
    ASSERT_FALSE(st.is_ok());
    EXPECT_NE(st.message().find("node 'test_TfIdfVectorizer' (TfIdfVectorizer)"), std::string::npos);
}

// ---------------------------------------------------------------- training optimizers

std::vector<float> run_optimizer(NodeBuilder& nb, int64_t step, const std::vector<std::vector<float>>& tensors) {
    nb.node.domain = "ai.onnx.preview.training";
    Tensor r = Tensor::from_floats({0.1f}, {});
    Tensor t = Tensor::from_int64s({step}, {});
    std::vector<Tensor> ins;
    for (const auto& v : tensors) ins.push_back(Tensor::from_floats(v, {static_cast<int64_t>(v.size())}));
    std::vector<const Tensor*> ptrs = {&r, &t};
    for (const auto& v : ins) ptrs.push_back(&v);
    const ir::OpKernel* k = ref::reference_registry().find("ai.onnx.preview.training", nb.node.op_type);
    EXPECT_NE(k, nullptr);
    if (!k) return {};
    std::vector<Tensor> out;
    Status s = ref::evaluate_node(*k, nb.node, 1, ptrs, out);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    std::vector<float> all;
    for (const auto& o : out) {
        for (float f : floats_of(o)) all.push_back(f);
    }
    return all;
}

TEST(MiscOptimizers, AdagradMomentumAdamOneStep) {
    NodeBuilder ada("Adagrad", 5, 2);
    ada.f("decay_factor", 0.1f);
    // r = 0.1 / 1.1; H = 2 + 1; X = 1 + r / sqrt(3)
    expect_near_all(run_optimizer(ada, 1, {{1.0f}, {-1.0f}, {2.0f}}),
                    {static_cast<float>(1.0 + 0.1 / 1.1 / (std::sqrt(3.0) + 1e-6)), 3.0f}, 1e-6f);

    NodeBuilder mom("Momentum", 5, 2);
    mom.f("alpha", 0.9f).f("beta", 0.5f).s("mode", "standard");
    expect_near_all(run_optimizer(mom, 1, {{1.0f}, {2.0f}, {3.0f}}), {0.63f, 3.7f}, 1e-6f);
    expect_near_all(run_optimizer(mom, 0, {{1.0f}, {2.0f}, {3.0f}}), {0.53f, 4.7f}, 1e-6f);  // T = 0: beta is 1
    mom.s("mode", "nesterov");
    expect_near_all(run_optimizer(mom, 1, {{1.0f}, {2.0f}, {3.0f}}), {0.467f, 3.7f}, 1e-6f);

    NodeBuilder adam("Adam", 6, 3);
    const double v = 0.1 * 2.0, h = 0.001 * 4.0;
    const double r = 0.1 * std::sqrt(1.0 - 0.999 * 0.999) / (1.0 - 0.9 * 0.9);
    const float x_new = static_cast<float>(1.0 - r * v / (std::sqrt(h) + 1e-6));
    expect_near_all(run_optimizer(adam, 2, {{1.0f}, {2.0f}, {0.0f}, {0.0f}}),
                    {x_new, static_cast<float>(v), static_cast<float>(h)}, 1e-5f);
}

// ---------------------------------------------------------------- LpNormalization, MaxRoiPool, CenterCropPad

TEST(MiscLpNormalization, L1AndL2AlongAnAxis) {
    Tensor x = Tensor::from_floats({3, 4, -6, 8, 0, 0}, {3, 2});
    NodeBuilder nb("LpNormalization", 1, 1);
    std::vector<Tensor> out;
    ASSERT_TRUE(run(nb.node, 1, {&x}, out).is_ok());  // axis -1, p 2: rows [3,4], [-6,8], [0,0]
    expect_near_all(floats_of(out[0]), {0.6f, 0.8f, -0.6f, 0.8f, 0.0f, 0.0f}, 1e-6f);
    nb.i("axis", 0).i("p", 1);  // columns: |3|+|-6|+0 = 9, 4+8+0 = 12
    ASSERT_TRUE(run(nb.node, 1, {&x}, out).is_ok());
    expect_near_all(floats_of(out[0]), {3.0f / 9, 4.0f / 12, -6.0f / 9, 8.0f / 12, 0, 0}, 1e-6f);
    nb.i("p", 3);
    Status s = run(nb.node, 1, {&x}, out);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("test_LpNormalization"), std::string::npos);
}

TEST(MiscMaxRoiPool, MaxOverRoundedBins) {
    std::vector<float> v(16);
    for (int i = 0; i < 16; ++i) v[i] = static_cast<float>((i * 7) % 16);  // rows 0 7 14 5 / 12 3 10 1 / 8 15 6 13
    Tensor x = Tensor::from_floats(v, {1, 1, 4, 4});
    // roi x 0.6..2.4 -> 1..2, y 0..3: 4 rows in 2 bins, 2 columns in 1 bin
    Tensor rois = Tensor::from_floats({0, 0.6f, 0.0f, 2.4f, 3.0f}, {1, 5});
    NodeBuilder nb("MaxRoiPool", 2, 1);
    nb.ints("pooled_shape", {2, 1});
    std::vector<Tensor> out;
    ASSERT_TRUE(run(nb.node, 1, {&x, &rois}, out).is_ok());
    ASSERT_EQ(out[0].shape(), (ir::Shape{1, 1, 2, 1}));
    // rows 0-1, cols 1-2: {7, 14, 3, 10} -> 14; rows 2-3: {15, 6, 11, 2} -> 15
    expect_near_all(floats_of(out[0]), {14.0f, 15.0f}, 0.0f);
}

TEST(MiscCenterCropPad, CropsAndPadsAroundTheCenter) {
    std::vector<float> v(12);
    for (int i = 0; i < 12; ++i) v[i] = static_cast<float>(i + 1);
    Tensor x = Tensor::from_floats(v, {3, 4});
    Tensor shape = Tensor::from_int64s({2, 7}, {2});
    std::vector<Tensor> out;
    ASSERT_TRUE(run(NodeBuilder("CenterCropPad", 2, 1).node, 18, {&x, &shape}, out).is_ok());
    ASSERT_EQ(out[0].shape(), (ir::Shape{2, 7}));
    // rows: crop 3 -> 2 keeps rows 0-1; cols: pad 4 -> 7 puts 1 before and 2 after
    expect_near_all(floats_of(out[0]), {0, 1, 2, 3, 4, 0, 0, 0, 5, 6, 7, 8, 0, 0}, 0.0f);

    Tensor h = make_typed(DType::kFloat16, {1, 2, 3, 4, 5}, {5});
    Tensor one = Tensor::from_int64s({2}, {1});
    NodeBuilder nb("CenterCropPad", 2, 1);
    nb.ints("axes", {-1});
    ASSERT_TRUE(run(nb.node, 18, {&h, &one}, out).is_ok());
    ASSERT_EQ(out[0].dtype(), DType::kFloat16);
    expect_near_all(floats_of(out[0]), {2, 3}, 0.0f);
}

// ---------------------------------------------------------------- Col2Im, AffineGrid, DeformConv

TEST(MiscCol2Im, SumsOverlappingBlocks) {
    // image [1, 4], block [1, 2], stride 1: three positions; column k of position l lands at l + k
    Tensor x = Tensor::from_floats({1, 2, 3, 10, 20, 30}, {1, 2, 3});
    Tensor image = Tensor::from_int64s({1, 4}, {2}), block = Tensor::from_int64s({1, 2}, {2});
    std::vector<Tensor> out;
    ASSERT_TRUE(run(NodeBuilder("Col2Im", 3, 1).node, 18, {&x, &image, &block}, out).is_ok());
    ASSERT_EQ(out[0].shape(), (ir::Shape{1, 1, 1, 4}));
    expect_near_all(floats_of(out[0]), {1, 2 + 10, 3 + 20, 30}, 0.0f);
    Tensor wrong = Tensor::from_floats(std::vector<float>(8, 1.0f), {1, 2, 4});
    Status s = run(NodeBuilder("Col2Im", 3, 1).node, 18, {&wrong, &image, &block}, out);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("node 'test_Col2Im' (Col2Im)"), std::string::npos) << s.message();
}

TEST(MiscAffineGrid, IdentityAndTranslation) {
    Tensor theta = Tensor::from_floats({1, 0, 0.5f, 0, 1, 0}, {1, 2, 3});  // shift x by 0.5
    Tensor size = Tensor::from_int64s({1, 1, 2, 3}, {4});
    NodeBuilder nb("AffineGrid", 2, 1);
    nb.i("align_corners", 1);
    std::vector<Tensor> out;
    ASSERT_TRUE(run(nb.node, 20, {&theta, &size}, out).is_ok());
    ASSERT_EQ(out[0].shape(), (ir::Shape{1, 2, 3, 2}));
    expect_near_all(floats_of(out[0]), {-0.5f, -1, 0.5f, -1, 1.5f, -1, -0.5f, 1, 0.5f, 1, 1.5f, 1}, 1e-6f);
    ASSERT_TRUE(run(NodeBuilder("AffineGrid", 2, 1).node, 20, {&theta, &size}, out).is_ok());
    // align_corners 0: x centers at -2/3, 0, 2/3; y at -0.5, 0.5
    const float t = 2.0f / 3.0f;
    expect_near_all(floats_of(out[0]),
                    {0.5f - t, -0.5f, 0.5f, -0.5f, 0.5f + t, -0.5f, 0.5f - t, 0.5f, 0.5f, 0.5f, 0.5f + t, 0.5f}, 1e-6f);
}

// A plain 2-D convolution (stride 1, no padding) to compare DeformConv with.
std::vector<float> plain_conv(const std::vector<float>& x, int64_t c, int64_t h, int64_t w, const std::vector<float>& k,
                              int64_t m, int64_t kh, int64_t kw, int64_t shift_y, int64_t shift_x) {
    const int64_t oh = h - kh + 1, ow = w - kw + 1;
    std::vector<float> y(static_cast<size_t>(m * oh * ow), 0.0f);
    for (int64_t o = 0; o < m; ++o) {
        for (int64_t i = 0; i < oh; ++i) {
            for (int64_t j = 0; j < ow; ++j) {
                double s = 0.0;
                for (int64_t ci = 0; ci < c; ++ci) {
                    for (int64_t a = 0; a < kh; ++a) {
                        for (int64_t b = 0; b < kw; ++b) {
                            const int64_t yy = i + a + shift_y, xx = j + b + shift_x;
                            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                            s += k[((o * c + ci) * kh + a) * kw + b] * x[(ci * h + yy) * w + xx];
                        }
                    }
                }
                y[(o * oh + i) * ow + j] = static_cast<float>(s);
            }
        }
    }
    return y;
}

TEST(MiscDeformConv, IntegerOffsetsShiftAPlainConvolution) {
    const int64_t c = 2, h = 5, w = 6, m = 3, kh = 2, kw = 3, oh = 4, ow = 4;
    const std::vector<float> xs = random_floats(static_cast<size_t>(c * h * w), 61);
    const std::vector<float> ks = random_floats(static_cast<size_t>(m * c * kh * kw), 62);
    Tensor x = Tensor::from_floats(xs, {1, c, h, w});
    Tensor k = Tensor::from_floats(ks, {m, c, kh, kw});
    std::vector<float> offsets(static_cast<size_t>(2 * kh * kw * oh * ow), 0.0f);
    Tensor zero = Tensor::from_floats(offsets, {1, 2 * kh * kw, oh, ow});
    std::vector<Tensor> out;
    ASSERT_TRUE(run(NodeBuilder("DeformConv", 3, 1).node, 19, {&x, &k, &zero}, out).is_ok());
    ASSERT_EQ(out[0].shape(), (ir::Shape{1, m, oh, ow}));
    expect_near_all(floats_of(out[0]), plain_conv(xs, c, h, w, ks, m, kh, kw, 0, 0), 1e-5f);
    // every tap moved by (dy, dx) = (1, -1): the same as sampling the input shifted, with zeros outside
    for (int64_t t = 0; t < kh * kw; ++t) {
        for (int64_t q = 0; q < oh * ow; ++q) {
            offsets[static_cast<size_t>((2 * t) * oh * ow + q)] = 1.0f;
            offsets[static_cast<size_t>((2 * t + 1) * oh * ow + q)] = -1.0f;
        }
    }
    Tensor shift = Tensor::from_floats(offsets, {1, 2 * kh * kw, oh, ow});
    std::vector<float> half_mask(static_cast<size_t>(kh * kw * oh * ow), 0.5f);
    Tensor mask = Tensor::from_floats(half_mask, {1, kh * kw, oh, ow});
    ASSERT_TRUE(
        run(NodeBuilder("DeformConv", 5, 1).skip_input(3).node, 19, {&x, &k, &shift, nullptr, &mask}, out).is_ok());
    std::vector<float> want = plain_conv(xs, c, h, w, ks, m, kh, kw, 1, -1);
    for (float& f : want) f *= 0.5f;
    expect_near_all(floats_of(out[0]), want, 1e-5f);
}

}  // namespace
}  // namespace rtinfer
