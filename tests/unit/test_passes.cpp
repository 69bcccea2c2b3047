// Each pass: the graph before, the graph after, and (where it computes) the numbers.
#include <gtest/gtest.h>

#include <cmath>

#include "core/passes/passes.h"
#include "tests/unit/graph_builders.h"

using namespace rtinfer;
using namespace rtinfer::testing;

TEST(Passes, RemoveIdentityRewiresConsumers) {
    ir::Graph g;
    add_input(g, "x", {2});
    add_node(g, "Relu", {"x"}, {"a"});
    add_node(g, "Identity", {"a"}, {"b"});
    add_node(g, "Dropout", {"b"}, {"c"});
    add_node(g, "Relu", {"c"}, {"y"});
    g.outputs = {"y"};
    int removed = 0;
    ASSERT_TRUE(passes::remove_identity(g, &removed).is_ok());
    EXPECT_EQ(removed, 2);
    EXPECT_EQ(op_types(g), (std::vector<std::string>{"Relu", "Relu"}));
    EXPECT_EQ(g.nodes[1].inputs[0], "a");
    EXPECT_TRUE(g.validate().is_ok());
}

TEST(Passes, RemoveIdentityKeepsGraphOutputName) {
    ir::Graph g;
    add_input(g, "x", {2});
    add_node(g, "Relu", {"x"}, {"a"});
    add_node(g, "Identity", {"a"}, {"y"});
    g.outputs = {"y"};
    ASSERT_TRUE(passes::remove_identity(g).is_ok());
    ASSERT_EQ(g.nodes.size(), 1u);
    EXPECT_EQ(g.nodes[0].outputs[0], "y");
    EXPECT_TRUE(g.validate().is_ok());
}

TEST(Passes, RemoveIdentityKeepsDropoutWithMask) {
    ir::Graph g;
    add_input(g, "x", {2});
    add_node(g, "Dropout", {"x"}, {"y", "mask"});
    g.outputs = {"y", "mask"};
    int removed = 0;
    ASSERT_TRUE(passes::remove_identity(g, &removed).is_ok());
    EXPECT_EQ(removed, 0);
    EXPECT_EQ(g.nodes.size(), 1u);
}

TEST(Passes, RemoveDeadNodesDropsUnreachableNodesAndConstants) {
    ir::Graph g;
    add_input(g, "x", {2});
    add_constant(g, "unused_w", random_tensor({4}, 1));
    add_node(g, "Relu", {"x"}, {"y"});
    add_node(g, "Relu", {"x"}, {"dead1"});
    add_node(g, "Add", {"dead1", "unused_w"}, {"dead2"});
    g.outputs = {"y"};
    int removed = 0;
    ASSERT_TRUE(passes::remove_dead_nodes(g, &removed).is_ok());
    EXPECT_EQ(removed, 2);
    EXPECT_EQ(op_types(g), (std::vector<std::string>{"Relu"}));
    EXPECT_EQ(g.find("unused_w"), nullptr);
    EXPECT_EQ(g.find("dead2"), nullptr);
}

TEST(Passes, FoldConstantsEvaluatesConstantSubgraphsAndStaticShapes) {
    ir::Graph g;
    add_input(g, "x", {-1, 3});  // dynamic batch
    add_input(g, "z", {2, 3});
    add_constant(g, "c", ir::Tensor::from_floats({1.5f, -2.0f}, {2}));
    add_node(g, "Neg", {"c"}, {"nc"});        // all-constant: folds
    add_node(g, "Shape", {"z"}, {"zs"});      // static shape: folds
    add_node(g, "Shape", {"x"}, {"xs"});      // batch-dependent: stays
    add_node(g, "Relu", {"x"}, {"y"});        // runtime input: stays
    g.outputs = {"nc", "zs", "xs", "y"};
    int evaluated = 0;
    auto evaluator = [&](const ir::Node& node, const std::vector<const ir::Tensor*>& ins, std::vector<ir::Tensor>& outs) {
        ++evaluated;
        outs.assign(1, ir::Tensor());
        if (node.op_type == "Neg") {
            outs[0] = ins[0]->clone();
            for (int64_t i = 0; i < outs[0].numel(); ++i) outs[0].data<float>()[i] *= -1;
        } else {
            std::vector<int64_t> dims(ins[0]->shape().begin(), ins[0]->shape().end());
            outs[0] = ir::Tensor::from_int64s(dims, {static_cast<int64_t>(dims.size())});
        }
        return Status();
    };
    passes::FoldOptions opts;
    opts.batch_dependent = {"x", "y"};
    int folded = 0;
    ASSERT_TRUE(passes::fold_constants(g, evaluator, opts, &folded).is_ok());
    EXPECT_EQ(folded, 2);
    EXPECT_EQ(evaluated, 2);
    EXPECT_EQ(op_types(g), (std::vector<std::string>{"Shape", "Relu"}));
    ASSERT_TRUE(g.at("nc").is_constant());
    EXPECT_FLOAT_EQ(g.at("nc").constant.data<float>()[0], -1.5f);
    EXPECT_FLOAT_EQ(g.at("nc").constant.data<float>()[1], 2.0f);
    ASSERT_TRUE(g.at("zs").is_constant());
    EXPECT_EQ(ir::to_int64s(g.at("zs").constant), (std::vector<int64_t>{2, 3}));
}

TEST(Passes, FuseConvBnFoldsScaleAndShiftIntoWeights) {
    ir::Graph g;
    add_input(g, "x", {1, 2, 4, 4});
    ir::Tensor w = random_tensor({3, 2, 1, 1}, 3), b = random_tensor({3}, 4);
    ir::Tensor scale = random_tensor({3}, 5), shift = random_tensor({3}, 6), mean = random_tensor({3}, 7);
    ir::Tensor var = random_tensor({3}, 8);
    for (int i = 0; i < 3; ++i) var.data<float>()[i] = std::fabs(var.data<float>()[i]) + 0.5f;
    add_constant(g, "w", w);
    add_constant(g, "b", b);
    add_constant(g, "scale", scale);
    add_constant(g, "shift", shift);
    add_constant(g, "mean", mean);
    add_constant(g, "var", var);
    add_node(g, "Conv", {"x", "w", "b"}, {"c"}, "conv");
    ir::Node& bn = add_node(g, "BatchNormalization", {"c", "scale", "shift", "mean", "var"}, {"y"}, "bn");
    ir::Attribute eps;
    eps.kind = ir::Attribute::Kind::kFloat;
    eps.f = 1e-3f;
    bn.attrs["epsilon"] = eps;
    g.outputs = {"y"};

    int fused = 0;
    ASSERT_TRUE(passes::fuse_conv_bn(g, &fused).is_ok());
    EXPECT_EQ(fused, 1);
    ASSERT_EQ(op_types(g), (std::vector<std::string>{"Conv"}));
    EXPECT_EQ(g.nodes[0].outputs[0], "y");
    EXPECT_EQ(g.find("scale"), nullptr);  // BN constants are gone
    const ir::Tensor& nw = g.at(g.nodes[0].inputs[1]).constant;
    const ir::Tensor& nb = g.at(g.nodes[0].inputs[2]).constant;
    for (int c = 0; c < 3; ++c) {
        const double k = scale.data<float>()[c] / std::sqrt(double(var.data<float>()[c]) + 1e-3);
        for (int j = 0; j < 2; ++j) EXPECT_NEAR(nw.data<float>()[c * 2 + j], w.data<float>()[c * 2 + j] * k, 1e-5);
        EXPECT_NEAR(nb.data<float>()[c], (b.data<float>()[c] - mean.data<float>()[c]) * k + shift.data<float>()[c], 1e-5);
    }
    EXPECT_TRUE(g.validate().is_ok());
}

TEST(Passes, FuseConvBnSkipsWhenConvOutputHasOtherUsers) {
    ir::Graph g;
    add_input(g, "x", {1, 1, 2, 2});
    add_constant(g, "w", random_tensor({1, 1, 1, 1}, 1));
    for (const char* n : {"s", "t", "m", "v"}) add_constant(g, n, random_tensor({1}, 2));
    add_node(g, "Conv", {"x", "w"}, {"c"});
    add_node(g, "BatchNormalization", {"c", "s", "t", "m", "v"}, {"y"});
    add_node(g, "Relu", {"c"}, {"r"});
    g.outputs = {"y", "r"};
    int fused = 0;
    ASSERT_TRUE(passes::fuse_conv_bn(g, &fused).is_ok());
    EXPECT_EQ(fused, 0);
    EXPECT_EQ(g.nodes.size(), 3u);
}

TEST(Passes, FuseConvActivationFoldsReluClipAndSilu) {
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {1, 1, 2, 2});
    add_constant(g, "w", random_tensor({1, 1, 1, 1}, 1));
    add_constant(g, "lo", ir::Tensor::from_floats({0.0f}, {}));
    add_constant(g, "hi", ir::Tensor::from_floats({6.0f}, {}));
    add_node(g, "Conv", {"x", "w"}, {"c1"}, "conv1");
    add_node(g, "Relu", {"c1"}, {"r1"});
    add_node(g, "Conv", {"r1", "w"}, {"c2"}, "conv2");
    add_node(g, "Clip", {"c2", "lo", "hi"}, {"r2"});
    add_node(g, "Conv", {"r2", "w"}, {"c3"}, "conv3");
    add_node(g, "Sigmoid", {"c3"}, {"s3"});
    add_node(g, "Mul", {"s3", "c3"}, {"y"});
    g.outputs = {"y"};
    int fused = 0;
    ASSERT_TRUE(passes::fuse_conv_activation(g, &fused).is_ok());
    EXPECT_EQ(fused, 3);
    ASSERT_EQ(op_types(g), (std::vector<std::string>{"Conv", "Conv", "Conv"}));
    EXPECT_EQ(g.nodes[0].attr_int("rt_fused_activation", 0), 1);
    EXPECT_EQ(g.nodes[1].attr_int("rt_fused_activation", 0), 2);
    EXPECT_FLOAT_EQ(g.nodes[1].attr_float("rt_clip_max", 0), 6.0f);
    EXPECT_EQ(g.nodes[2].attr_int("rt_fused_activation", 0), 4);
    EXPECT_EQ(g.nodes[2].outputs[0], "y");
    EXPECT_EQ(g.nodes[1].inputs[0], "r1");
    EXPECT_TRUE(g.validate().is_ok());
}

TEST(Passes, FuseConvActivationLeavesSharedOutputsAlone) {
    ir::Graph g;
    add_input(g, "x", {1, 1, 2, 2});
    add_constant(g, "w", random_tensor({1, 1, 1, 1}, 1));
    add_node(g, "Conv", {"x", "w"}, {"c"});
    add_node(g, "Relu", {"c"}, {"r"});
    add_node(g, "Add", {"c", "r"}, {"y"});  // c is needed unactivated too
    g.outputs = {"y"};
    int fused = 0;
    ASSERT_TRUE(passes::fuse_conv_activation(g, &fused).is_ok());
    EXPECT_EQ(fused, 0);
    EXPECT_EQ(g.nodes.size(), 3u);
}

TEST(Passes, ConvertToFp16CastsAtTheEdgesOnly) {
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {1, 2, 4, 4});
    add_constant(g, "w", random_tensor({2, 2, 1, 1}, 1));
    add_constant(g, "k", ir::Tensor::from_int64s({2}, {1}));
    add_node(g, "Conv", {"x", "w"}, {"c"});
    add_node(g, "Relu", {"c"}, {"r"});
    add_node(g, "Flatten", {"r"}, {"f"});
    add_node(g, "TopK", {"f", "k"}, {"vals", "idx"});  // not a half op: gets float32 back
    add_node(g, "Softmax", {"f"}, {"y"});
    g.outputs = {"vals", "idx", "y"};
    for (auto* name : {"c", "r", "f", "vals", "y"}) g.at(name).dtype = DataType::kFloat32;
    g.at("idx").dtype = DataType::kInt64;
    int converted = 0;
    ASSERT_TRUE(passes::convert_to_fp16(g, &converted).is_ok());
    EXPECT_EQ(converted, 4);  // Conv, Relu, Flatten, Softmax
    // The weight became a float16 constant; the input is cast once.
    const ir::Node* conv = nullptr;
    int casts = 0;
    for (const auto& n : g.nodes) {
        if (n.op_type == "Conv") conv = &n;
        casts += n.op_type == "Cast";
    }
    ASSERT_NE(conv, nullptr);
    EXPECT_EQ(g.at(conv->inputs[1]).constant.dtype(), DataType::kFloat16);
    EXPECT_EQ(casts, 3);  // x -> half, f -> float for TopK, y's half value -> float output
    EXPECT_EQ(g.at("y").dtype, DataType::kFloat32);
    EXPECT_EQ(g.at("r").dtype, DataType::kFloat16);
    EXPECT_EQ(g.find("w"), nullptr);  // the float32 weight is gone
    EXPECT_TRUE(g.validate().is_ok());
}

TEST(Passes, ConvertToFp16ShapeReadsAHalfValueWithoutACast) {
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {1, 2, 4, 4});
    add_constant(g, "w", random_tensor({2, 2, 1, 1}, 1));
    add_node(g, "Conv", {"x", "w"}, {"c"});
    add_node(g, "Shape", {"c"}, {"s"});  // only the shape of a float16 value: no Cast back to float32
    add_node(g, "Relu", {"c"}, {"y"});
    g.outputs = {"s", "y"};
    for (auto* name : {"c", "y"}) g.at(name).dtype = DataType::kFloat32;
    g.at("s").dtype = DataType::kInt64;
    ASSERT_TRUE(passes::convert_to_fp16(g).is_ok());
    int casts = 0;
    for (const auto& n : g.nodes) {
        casts += n.op_type == "Cast";
        if (n.op_type == "Shape") {
            EXPECT_EQ(g.at(n.inputs[0]).dtype, DataType::kFloat16);
        }
    }
    EXPECT_EQ(casts, 2);  // x -> half, y's half value -> float output
    EXPECT_EQ(g.at("s").dtype, DataType::kInt64);
    EXPECT_TRUE(g.validate().is_ok());
}
