// INT8 from calibrated ranges: which layers are quantized, where the Q/DQ pairs go, and that the graph then
// computes exactly what int8 arithmetic with those scales computes.
#include <gtest/gtest.h>

#include <cmath>

#include "core/quant/insert_qdq.h"
#include "tests/unit/graph_builders.h"
#include "tests/unit/reference_run.h"

namespace rtinfer::testing {
namespace {

ir::Attribute ints(std::vector<int64_t> v) { return ir::ints_attribute(std::move(v)); }

// x [1,2,4,4] -> Conv(3 filters 1x1) -> Relu -> Gemm (transB) -> y; plus a MatMul reading x's flattening.
ir::Graph conv_relu_gemm() {
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {1, 2, 4, 4});
    add_constant(g, "w", random_tensor({3, 2, 1, 1}, 1));
    add_constant(g, "b", random_tensor({3}, 2));
    add_node(g, "Conv", {"x", "w", "b"}, {"c"}, "conv").attrs["kernel_shape"] = ints({1, 1});
    add_node(g, "Relu", {"c"}, {"r"}, "relu");
    add_constant(g, "shape", ir::Tensor::from_int64s({1, 48}, {2}));
    add_node(g, "Reshape", {"r", "shape"}, {"f"}, "flatten");
    add_constant(g, "wg", random_tensor({5, 48}, 3));
    add_node(g, "Gemm", {"f", "wg"}, {"y"}, "gemm").attrs["transB"] = ir::int_attribute(1);
    g.outputs = {"y"};
    for (const char* v : {"c", "r"}) {
        g.at(v).dtype = DataType::kFloat32;
        g.at(v).shape = {1, 3, 4, 4};
        g.at(v).shape_known = true;
    }
    g.at("f").dtype = DataType::kFloat32;
    g.at("f").shape = {1, 48};
    g.at("f").shape_known = true;
    g.at("y").dtype = DataType::kFloat32;
    return g;
}

TEST(InsertQdq, ConvAndGemmWithConstantWeightsAreTheLayersAndTheirActivationsTheTensors) {
    ir::Graph g = conv_relu_gemm();
    const auto layers = quant::quantizable_layers(g);
    ASSERT_EQ(layers.size(), 2u);
    EXPECT_EQ(g.nodes[layers[0].node].name, "conv");
    EXPECT_EQ(layers[0].channel_axis, 0);
    EXPECT_EQ(g.nodes[layers[1].node].name, "gemm");
    EXPECT_EQ(layers[1].channel_axis, 0);  // transB: B is [N, K]
    EXPECT_EQ(quant::calibration_tensors(g), (std::vector<std::string>{"x", "f"}));
    EXPECT_FALSE(quant::has_qdq(g));
}

TEST(InsertQdq, PairsGoInFrontOfEachLayerAndTheGraphComputesInt8Arithmetic) {
    ir::Graph g = conv_relu_gemm();
    const ir::Tensor w = g.at("w").constant.clone();
    const float amax_x = 0.8f;  // below max |x| (~1): the largest inputs clip
    auto summary = quant::insert_qdq(g, {{"x", amax_x}, {"f", 2.0f}});
    ASSERT_TRUE(summary.has_value()) << summary.status().to_string();
    EXPECT_EQ(summary->quantized, 2);
    EXPECT_TRUE(summary->skipped.empty());
    EXPECT_TRUE(quant::has_qdq(g));
    ASSERT_TRUE(g.validate().is_ok()) << g.validate().to_string();
    ASSERT_EQ(g.nodes.size(), 8u);  // 4 nodes + 2 Q/DQ pairs
    EXPECT_EQ(g.nodes[0].op_type, "QuantizeLinear");
    EXPECT_EQ(g.nodes[1].op_type, "DequantizeLinear");
    EXPECT_EQ(g.nodes[2].name, "conv");
    EXPECT_EQ(g.nodes[2].inputs[0], g.nodes[1].outputs[0]);
    EXPECT_FLOAT_EQ(g.nodes[2].attr_float("rt_int8_input_scale", 0), amax_x / 127.0f);
    ASSERT_EQ(g.nodes[2].attr_floats("rt_int8_weight_scales").size(), 3u);
    EXPECT_EQ(g.nodes[7].name, "gemm");
    EXPECT_EQ(g.nodes[5].op_type, "QuantizeLinear");
    EXPECT_EQ(g.nodes[5].inputs[0], "f");
    EXPECT_EQ(g.at("w").constant.data<float>()[0], w.data<float>()[0]) << "the original weights are left alone";

    // The conv by hand in int8: q(x) = clamp(round(x / sx)), q(w) per channel, int32 sums, then the scales.
    const ir::Tensor x = random_tensor({1, 2, 4, 4}, 9);
    auto values = run_reference(g, {{"x", x}});
    ASSERT_FALSE(values.empty());
    const float sx = amax_x / 127.0f;
    for (int co = 0; co < 3; ++co) {
        float wmax = 0;
        for (int ci = 0; ci < 2; ++ci) wmax = std::max(wmax, std::fabs(w.data<float>()[co * 2 + ci]));
        const float sw = wmax / 127.0f;
        for (int p = 0; p < 16; ++p) {
            int32_t acc = 0;
            for (int ci = 0; ci < 2; ++ci) {
                const auto qx = static_cast<int32_t>(std::clamp(std::nearbyint(x.data<float>()[ci * 16 + p] / sx), -128.0f, 127.0f));
                const auto qw = static_cast<int32_t>(std::nearbyint(w.data<float>()[co * 2 + ci] / sw));
                acc += qx * qw;
            }
            const float expected = static_cast<float>(acc) * sx * sw + g.at("b").constant.data<float>()[co];
            EXPECT_NEAR(values.at("c").data<float>()[co * 16 + p], expected, 1e-5f) << "channel " << co << " pixel " << p;
        }
    }
}

TEST(InsertQdq, LayersWithoutARangeOrWithAZeroOneStayInFloat) {
    ir::Graph g = conv_relu_gemm();
    auto summary = quant::insert_qdq(g, {{"x", 0.0f}});
    ASSERT_TRUE(summary.has_value());
    EXPECT_EQ(summary->quantized, 0);
    ASSERT_EQ(summary->skipped.size(), 2u);
    EXPECT_NE(summary->skipped[0].find("'conv'"), std::string::npos) << summary->skipped[0];
    EXPECT_NE(summary->skipped[0].find("always zero"), std::string::npos) << summary->skipped[0];
    EXPECT_NE(summary->skipped[1].find("no range for 'f'"), std::string::npos) << summary->skipped[1];
    EXPECT_FALSE(quant::has_qdq(g));
    EXPECT_EQ(g.nodes.size(), 4u);
}

TEST(InsertQdq, LayersReadingOneActivationShareOnePair) {
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {1, 2, 3, 3});
    add_constant(g, "w1", random_tensor({4, 2, 1, 1}, 4));
    add_constant(g, "w2", random_tensor({4, 2, 1, 1}, 5));
    add_node(g, "Conv", {"x", "w1"}, {"a"}, "left");
    add_node(g, "Conv", {"x", "w2"}, {"b"}, "right");
    add_node(g, "Add", {"a", "b"}, {"y"}, "sum");
    g.outputs = {"y"};
    auto summary = quant::insert_qdq(g, {{"x", 1.0f}});
    ASSERT_TRUE(summary.has_value());
    EXPECT_EQ(summary->quantized, 2);
    int quantizers = 0;
    for (const auto& n : g.nodes) quantizers += n.op_type == "QuantizeLinear";
    EXPECT_EQ(quantizers, 1);
    EXPECT_EQ(g.nodes[2].inputs[0], g.nodes[3].inputs[0]);
}

TEST(InsertQdq, SoftmaxAndSigmoidOutputsTakeTheirFixedRange) {
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {1, 4, 3, 3});
    add_node(g, "Softmax", {"x"}, {"p"}, "softmax").attrs["axis"] = ir::int_attribute(1);
    add_node(g, "Sigmoid", {"x"}, {"s"}, "sigmoid");
    add_node(g, "Relu", {"x"}, {"r"}, "relu");
    add_constant(g, "w", random_tensor({2, 4, 1, 1}, 6));
    add_node(g, "Conv", {"p", "w"}, {"a"}, "on_softmax");
    add_node(g, "Conv", {"s", "w"}, {"b"}, "on_sigmoid");
    add_node(g, "Conv", {"r", "w"}, {"c"}, "on_relu");
    for (const char* v : {"p", "s", "r"}) {
        g.at(v).dtype = DataType::kFloat32;
        g.at(v).shape = {1, 4, 3, 3};
        g.at(v).shape_known = true;
    }
    g.outputs = {"a", "b", "c"};
    EXPECT_EQ(quant::known_ranges(g), (std::map<std::string, float>{{"p", 1.0f}, {"s", 1.0f}}));
}

}  // namespace
}  // namespace rtinfer::testing
