// fuse_int8_conv: the calibrated Q/DQ graph of a residual block, channels-last, before and after; the int8
// convolutions (on the reference kernel) against the float layers between QuantizeLinear/DequantizeLinear.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "core/ir/shape_inference.h"
#include "core/kernels/ref/ref_backend.h"
#include "core/passes/passes.h"
#include "core/quant/insert_qdq.h"
#include "tests/unit/graph_builders.h"
#include "tests/unit/reference_run.h"

using namespace rtinfer;
using namespace rtinfer::testing;

namespace {

ir::Attribute ints(std::vector<int64_t> v) {
    return ir::ints_attribute(std::move(v));
}

int count_ops(const ir::Graph& g, const std::string& op) {
    int n = 0;
    for (const auto& node : g.nodes) n += node.op_type == op;
    return n;
}

const ir::Node* find_node(const ir::Graph& g, const std::string& op, size_t nth = 0) {
    for (const auto& node : g.nodes) {
        if (node.op_type == op && nth-- == 0) return &node;
    }
    return nullptr;
}

float amax(const ir::Tensor& t) {
    float m = 0.0f;
    for (double v : ir::to_doubles(t)) m = std::max(m, static_cast<float>(std::fabs(v)));
    return m;
}

// x [2, 4, 8, 8] -> stem 3x3 -> h [2, C, 8, 8] -> conv_a 3x3 (+B, Relu) -> a -> conv_b 1x1 (+B) -> Add(h) -> Relu
// -> r -> conv_c 1x1 -> y: a float stem (no range given for x), a ResNet identity block and the next layer.
ir::Graph block(int64_t channels) {
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {2, 4, 8, 8});
    add_constant(g, "ws", random_tensor({channels, 4, 3, 3}, 7));
    ir::Node& stem = add_node(g, "Conv", {"x", "ws"}, {"h"}, "stem");
    stem.attrs["pads"] = ints({1, 1, 1, 1});
    add_constant(g, "wa", random_tensor({16, channels, 3, 3}, 1));
    add_constant(g, "ba", random_tensor({16}, 2));
    add_constant(g, "wb", random_tensor({channels, 16, 1, 1}, 3));
    add_constant(g, "bb", random_tensor({channels}, 4));
    add_constant(g, "wc", random_tensor({32, channels, 1, 1}, 5));
    ir::Node& ca = add_node(g, "Conv", {"h", "wa", "ba"}, {"ca"}, "conv_a");
    ca.attrs["pads"] = ints({1, 1, 1, 1});
    add_node(g, "Relu", {"ca"}, {"a"}, "relu_a");
    add_node(g, "Conv", {"a", "wb", "bb"}, {"cb"}, "conv_b");
    add_node(g, "Add", {"cb", "h"}, {"s"}, "add");
    add_node(g, "Relu", {"s"}, {"r"}, "relu_b");
    add_node(g, "Conv", {"r", "wc"}, {"y"}, "conv_c");
    g.outputs = {"y"};
    return g;
}

// The block quantized with its own ranges on h and made channels-last as the CUDA builder does; `out` holds
// what the reference computes for x before quantization (the float model).
ir::Graph quantized_nhwc(int64_t channels, const ir::Tensor& x, std::map<std::string, ir::Tensor>& float_values,
                         bool half = false) {
    ir::Graph g = block(channels);
    EXPECT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    float_values = run_reference(g, {{"x", x}});
    std::map<std::string, float> ranges;
    for (const char* name : {"h", "a", "r"}) ranges[name] = amax(float_values.at(name));
    EXPECT_TRUE(passes::fuse_conv_activation(g).is_ok());
    auto summary = quant::insert_qdq(g, ranges);
    EXPECT_TRUE(summary.has_value());
    EXPECT_EQ(summary->quantized, 3);
    EXPECT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    if (half) {
        EXPECT_TRUE(passes::convert_to_fp16(g).is_ok());
        EXPECT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    }
    EXPECT_TRUE(passes::convert_to_nhwc(g, half).is_ok());
    EXPECT_TRUE(passes::fuse_conv_residual(g).is_ok());
    EXPECT_TRUE(passes::fuse_conv_activation(g).is_ok());
    EXPECT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    return g;
}

}  // namespace

TEST(FuseInt8Conv, ConvolutionsReadAndWriteInt8) {
    const ir::Tensor x = random_tensor({2, 4, 8, 8}, 9);
    std::map<std::string, ir::Tensor> reference;
    ir::Graph g = quantized_nhwc(16, x, reference);
    const auto emulated = run_reference(g, {{"x", x}});
    ASSERT_FALSE(emulated.empty());

    int converted = 0, int8_outputs = 0;
    ASSERT_TRUE(passes::fuse_int8_conv(g, true, &converted, &int8_outputs).is_ok());
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    ASSERT_TRUE(g.validate().is_ok());
    EXPECT_EQ(converted, 3);
    EXPECT_EQ(int8_outputs, 2);  // conv_a and conv_b feed quantized layers only; y is the graph's output
    EXPECT_EQ(count_ops(g, "Int8Conv"), 3);
    EXPECT_EQ(count_ops(g, "NhwcConv"), 1) << "the stem";
    EXPECT_EQ(count_ops(g, "DequantizeLinear"), 0);
    EXPECT_EQ(count_ops(g, "QuantizeLinear"), 1) << "only h is quantized by a node of its own";
    const ir::Node* conv_b = nullptr;
    for (const auto& n : g.nodes) {
        if (n.name == "conv_b") conv_b = &n;
    }
    ASSERT_NE(conv_b, nullptr);
    EXPECT_TRUE(conv_b->has_attr("rt_z_scale")) << "the residual h is read in int8";
    EXPECT_EQ(g.at(conv_b->inputs[4]).dtype, DataType::kInt8);
    EXPECT_EQ(g.at(conv_b->outputs[0]).dtype, DataType::kInt8);

    const auto int8 = run_reference(g, {{"x", x}});
    ASSERT_FALSE(int8.empty());
    // Against the emulation the difference is the int8 residual (half a step of x's scale) and rounding.
    EXPECT_LT(max_rel_error(emulated.at("y"), int8.at("y")), 0.02);
    EXPECT_LT(max_rel_error(reference.at("y"), int8.at("y")), 0.05);
}

TEST(FuseInt8Conv, Float16GraphQuantizesThroughCasts) {
    // In a float16 engine QuantizeLinear / DequantizeLinear stay float32, with Casts around them.
    const ir::Tensor x = random_tensor({2, 4, 8, 8}, 10);
    std::map<std::string, ir::Tensor> reference;
    ir::Graph g = quantized_nhwc(16, x, reference, true);
    ASSERT_GT(count_ops(g, "Cast"), 0);
    int converted = 0, int8_outputs = 0;
    ASSERT_TRUE(passes::fuse_int8_conv(g, true, &converted, &int8_outputs).is_ok());
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    ASSERT_TRUE(g.validate().is_ok());
    EXPECT_EQ(converted, 3);
    EXPECT_EQ(int8_outputs, 2);
    EXPECT_EQ(count_ops(g, "DequantizeLinear"), 0);
    EXPECT_EQ(count_ops(g, "QuantizeLinear"), 1);
    const auto int8 = run_reference(g, {{"x", x}});
    ASSERT_FALSE(int8.empty());
    EXPECT_LT(max_rel_error(reference.at("y"), int8.at("y")), 0.05);
}

TEST(FuseInt8Conv, WithoutTheKernelLayersReadTheirFloatInputs) {
    const ir::Tensor x = random_tensor({2, 4, 8, 8}, 11);
    std::map<std::string, ir::Tensor> reference;
    ir::Graph g = quantized_nhwc(16, x, reference);
    int converted = -1;
    ASSERT_TRUE(passes::fuse_int8_conv(g, false, &converted).is_ok());
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    EXPECT_EQ(converted, 0);
    EXPECT_EQ(count_ops(g, "Int8Conv"), 0);
    EXPECT_EQ(count_ops(g, "QuantizeLinear"), 0);
    EXPECT_EQ(count_ops(g, "DequantizeLinear"), 0);
    for (const auto& n : g.nodes) EXPECT_FALSE(n.has_attr("rt_int8_weight_scales")) << n.describe();
    const auto after = run_reference(g, {{"x", x}});
    ASSERT_FALSE(after.empty());
    // Only the weights are rounded to int8 now.
    EXPECT_LT(max_rel_error(reference.at("y"), after.at("y")), 0.02);
}

TEST(FuseInt8Conv, LayersTheKernelCannotTakeStayFloat) {
    // 8 channels: conv_a and conv_c read h / r with 8 channels, which the kernel does not take, and read them in
    // float again; conv_b (16 inputs, 8 outputs) runs in int8, its residual h read in int8 (h is still
    // quantized for it) and its output in float for conv_c.
    const ir::Tensor x = random_tensor({2, 4, 8, 8}, 13);
    std::map<std::string, ir::Tensor> reference;
    ir::Graph g = quantized_nhwc(8, x, reference);
    int converted = 0, int8_outputs = 0;
    ASSERT_TRUE(passes::fuse_int8_conv(g, true, &converted, &int8_outputs).is_ok());
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    EXPECT_EQ(converted, 1);
    EXPECT_EQ(int8_outputs, 0);
    ASSERT_NE(find_node(g, "Int8Conv"), nullptr);
    EXPECT_EQ(find_node(g, "Int8Conv")->name, "conv_b");
    EXPECT_EQ(count_ops(g, "NhwcConv"), 3);
    EXPECT_EQ(count_ops(g, "DequantizeLinear"), 0);
    const auto after = run_reference(g, {{"x", x}});
    ASSERT_FALSE(after.empty());
    EXPECT_LT(max_rel_error(reference.at("y"), after.at("y")), 0.02);
}

TEST(FuseInt8Conv, AChoiceKeepsALayerInFloat) {
    // The builder's timing says conv_b is faster in float16: it reads a's float value, so conv_a writes float
    // (and int8 for nobody), and the residual stays as it was.
    const ir::Tensor x = random_tensor({2, 4, 8, 8}, 15);
    std::map<std::string, ir::Tensor> reference;
    ir::Graph g = quantized_nhwc(16, x, reference);
    std::vector<std::string> asked;
    auto prefer_int8 = [&](const ir::Graph&, const ir::Node& float_layer, const ir::Node& int8_layer) {
        EXPECT_EQ(float_layer.op_type, "NhwcConv");
        EXPECT_EQ(int8_layer.op_type, "Int8Conv");
        asked.push_back(float_layer.name);
        return float_layer.name != "conv_b";
    };
    int converted = 0, int8_outputs = 0, kept = 0;
    ASSERT_TRUE(passes::fuse_int8_conv(g, true, &converted, &int8_outputs, prefer_int8, &kept).is_ok());
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    ASSERT_TRUE(g.validate().is_ok());
    EXPECT_EQ(asked, (std::vector<std::string>{"conv_a", "conv_b", "conv_c"}));
    EXPECT_EQ(converted, 2);
    EXPECT_EQ(kept, 1);
    EXPECT_EQ(int8_outputs, 0) << "conv_a's output is read by the float conv_b; y is the graph output";
    EXPECT_EQ(count_ops(g, "NhwcConv"), 2);  // the stem and conv_b
    for (const auto& n : g.nodes) {
        if (n.name == "conv_b") {
            EXPECT_EQ(n.op_type, "NhwcConv");
            EXPECT_FALSE(n.has_attr("rt_int8_weight_scales"));
            EXPECT_NE(g.at(n.inputs[0]).dtype, DataType::kInt8);
        }
    }
    const auto after = run_reference(g, {{"x", x}});
    ASSERT_FALSE(after.empty());
    EXPECT_LT(max_rel_error(reference.at("y"), after.at("y")), 0.05);
}

// rtinfer.Int8Conv given wrong inputs: shape inference fails naming the node and what is wrong.
TEST(FuseInt8Conv, Int8ConvRejectsBadInputsByName) {
    struct Bad {
        DataType x_type;
        int64_t w_channels;
        DataType z_type;  // kUndefined: no Z
        bool z_scale;
        const char* expect;
    };
    const Bad cases[] = {
        {DataType::kFloat32, 16, DataType::kUndefined, false, "must be int8"},
        {DataType::kInt8, 32, DataType::kUndefined, false, "channels"},
        {DataType::kInt8, 16, DataType::kInt8, false, "residual Z"},
        {DataType::kInt8, 16, DataType::kFloat16, true, "residual Z"},
    };
    for (const Bad& c : cases) {
        ir::Graph g;
        g.opsets[""] = 17;
        add_input(g, "x", {1, 4, 4, 16}, c.x_type);
        ir::Tensor w(DataType::kInt8, {8, 1, 1, c.w_channels});
        add_constant(g, "w", w);
        add_constant(g, "alpha", ir::Tensor::from_floats(std::vector<float>(8, 0.1f), {8}));
        std::vector<std::string> ins = {"x", "w", "alpha", "", ""};
        if (c.z_type != DataType::kUndefined) {
            add_input(g, "z", {1, 4, 4, 8}, c.z_type);
            ins[4] = "z";
        }
        ir::Node& n = add_node(g, "Int8Conv", ins, {"y"}, "bad_int8_conv");
        n.domain = ir::kRtinferDomain;
        if (c.z_scale) n.attrs["rt_z_scale"] = ir::float_attribute(0.5f);
        g.outputs = {"y"};
        const Status s = ir::infer_shapes(g, ref::reference_registry());
        ASSERT_FALSE(s.is_ok()) << c.expect;
        EXPECT_NE(s.message().find("bad_int8_conv"), std::string::npos) << s.message();
        EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.message();
    }
}
