// fuse_matmul_bias_activation: the graph before and after, the same numbers from both on the reference backend,
// the patterns it must leave alone, and a CPU engine built from an ONNX model with a ViT-style MLP block.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/ir/fused_activation.h"
#include "core/ir/op.h"
#include "core/ir/shape_inference.h"
#include "core/kernels/ref/ref_backend.h"
#include "core/passes/passes.h"
#include "tests/unit/graph_builders.h"
#include "tests/unit/reference_run.h"
#include "tests/unit/plugin_test_util.h"

using namespace rtinfer;
using namespace rtinfer::testing;

namespace {

const float kSqrt2 = 1.41421356f;

// GELU as torch exports it below opset 20: Mul(Mul(v, Add(Erf(Div(v, sqrt2)), 1)), 0.5), the constants' operand
// order swapped where `swapped`.
void add_erf_gelu(ir::Graph& g, const std::string& v, const std::string& out, const std::string& tag, bool swapped,
                  float divisor = kSqrt2) {
    add_constant(g, tag + "_sqrt2", scalar(divisor));
    add_constant(g, tag + "_one", scalar(1.0f));
    add_constant(g, tag + "_half", scalar(0.5f));
    add_node(g, "Div", {v, tag + "_sqrt2"}, {tag + "_d"});
    add_node(g, "Erf", {tag + "_d"}, {tag + "_e"});
    if (swapped) {
        add_node(g, "Add", {tag + "_one", tag + "_e"}, {tag + "_a"});
        add_node(g, "Mul", {tag + "_a", v}, {tag + "_m"});
        add_node(g, "Mul", {tag + "_half", tag + "_m"}, {out});
    } else {
        add_node(g, "Add", {tag + "_e", tag + "_one"}, {tag + "_a"});
        add_node(g, "Mul", {v, tag + "_a"}, {tag + "_m"});
        add_node(g, "Mul", {tag + "_m", tag + "_half"}, {out});
    }
}

// A ViT MLP block on tokens x [2, 5, 8]: Linear(8, 16) -> GELU -> Linear(16, 8).
ir::Graph vit_mlp(bool swapped) {
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {2, 5, 8});
    add_constant(g, "w1", random_tensor({8, 16}, 1));
    add_constant(g, "b1", random_tensor({16}, 2));
    add_constant(g, "w2", random_tensor({16, 8}, 3));
    add_constant(g, "b2", random_tensor({8}, 4));
    add_node(g, "MatMul", {"x", "w1"}, {"h"}, "fc1");
    if (swapped) {
        add_node(g, "Add", {"b1", "h"}, {"hb"});
    } else {
        add_node(g, "Add", {"h", "b1"}, {"hb"});
    }
    add_erf_gelu(g, "hb", "act", "gelu", swapped);
    add_node(g, "MatMul", {"act", "w2"}, {"o"}, "fc2");
    add_node(g, "Add", {"o", "b2"}, {"y"});
    g.outputs = {"y"};
    return g;
}

// Runs the pass on g and checks the output before and after on random data; returns the fused count.
int fuse_and_compare(ir::Graph& g, const std::map<std::string, ir::Tensor>& inputs, const std::string& out = "y") {
    EXPECT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    const auto before = run_reference(g, inputs);
    EXPECT_FALSE(before.empty());
    int fused = -1;
    Status s = passes::fuse_matmul_bias_activation(g, &fused);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    EXPECT_TRUE(g.validate().is_ok());
    EXPECT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    const auto after = run_reference(g, inputs);
    EXPECT_FALSE(after.empty());
    if (before.empty() || after.empty()) return fused;
    EXPECT_LE(max_rel_error(before.at(out), after.at(out)), 1e-5);
    return fused;
}

int activation_of(const ir::Node& n) {
    return static_cast<int>(n.attr_int("rt_fused_activation", 0));
}

}  // namespace

TEST(FuseMatMulBiasActivation, VitMlpBecomesTwoMatMulBiasNodes) {
    for (bool swapped : {false, true}) {
        ir::Graph g = vit_mlp(swapped);
        EXPECT_EQ(g.nodes.size(), 9u);
        EXPECT_EQ(fuse_and_compare(g, {{"x", random_tensor({2, 5, 8}, 7)}}), 2);
        ASSERT_EQ(op_types(g), (std::vector<std::string>{"MatMulBias", "MatMulBias"})) << swapped;
        EXPECT_EQ(g.nodes[0].domain, ir::kRtinferDomain);
        EXPECT_EQ(activation_of(g.nodes[0]), static_cast<int>(ir::FusedActivation::kGelu));
        EXPECT_EQ(activation_of(g.nodes[1]), 0);
        EXPECT_EQ(g.nodes[0].outputs[0], "act");
        EXPECT_EQ(g.nodes[1].outputs[0], "y");
        EXPECT_EQ(g.at(g.nodes[0].inputs[2]).shape, (ir::Shape{16}));
        EXPECT_EQ(g.at("y").shape, (ir::Shape{2, 5, 8}));
        EXPECT_EQ(g.find("gelu_e"), nullptr);  // the GELU's inner values are gone
    }
}

TEST(FuseMatMulBiasActivation, MatrixInputBecomesGemmWithReluOrGelu) {
    // x [4, 8]: MatMul + Add(bias [1, 16]) + Relu; MatMul + Add(bias [16]) + Gelu (opset 20); MatMul + Add +
    // GELU with its scale as Mul(0.70710677).
    ir::Graph g;
    g.opsets[""] = 20;
    add_input(g, "x", {4, 8});
    add_constant(g, "w1", random_tensor({8, 16}, 1));
    add_constant(g, "b1", random_tensor({1, 16}, 2));
    add_constant(g, "w2", random_tensor({16, 6}, 3));
    add_constant(g, "b2", random_tensor({6}, 4));
    add_constant(g, "w3", random_tensor({6, 5}, 5));
    add_constant(g, "b3", random_tensor({5}, 6));
    add_node(g, "MatMul", {"x", "w1"}, {"h1"});
    add_node(g, "Add", {"h1", "b1"}, {"a1"});
    add_node(g, "Relu", {"a1"}, {"r1"});
    add_node(g, "MatMul", {"r1", "w2"}, {"h2"});
    add_node(g, "Add", {"b2", "h2"}, {"a2"});
    add_node(g, "Gelu", {"a2"}, {"r2"});
    add_node(g, "MatMul", {"r2", "w3"}, {"h3"});
    add_node(g, "Add", {"h3", "b3"}, {"a3"});
    add_constant(g, "inv_sqrt2", scalar(0.70710677f));
    add_constant(g, "one", scalar(1.0f));
    add_constant(g, "half", scalar(0.5f));
    add_node(g, "Mul", {"inv_sqrt2", "a3"}, {"d"});
    add_node(g, "Erf", {"d"}, {"e"});
    add_node(g, "Add", {"e", "one"}, {"p"});
    add_node(g, "Mul", {"a3", "p"}, {"m"});
    add_node(g, "Mul", {"m", "half"}, {"y"});
    g.outputs = {"y"};
    EXPECT_EQ(fuse_and_compare(g, {{"x", random_tensor({4, 8}, 8)}}), 3);
    ASSERT_EQ(op_types(g), (std::vector<std::string>{"Gemm", "Gemm", "Gemm"}));
    EXPECT_EQ(activation_of(g.nodes[0]), static_cast<int>(ir::FusedActivation::kRelu));
    EXPECT_EQ(activation_of(g.nodes[1]), static_cast<int>(ir::FusedActivation::kGelu));
    EXPECT_EQ(activation_of(g.nodes[2]), static_cast<int>(ir::FusedActivation::kGelu));
    EXPECT_EQ(g.at(g.nodes[0].inputs[2]).shape, (ir::Shape{16}));  // the [1, 16] bias as a row
}

TEST(FuseMatMulBiasActivation, GeluTanhIsRecordedAsTheTanhForm) {
    // x [2, 3, 8] and x [4, 8]: MatMul + Add + Gelu(approximate="tanh") -> MatMulBias / Gemm with kGeluTanh, not
    // kGelu: the two forms differ by more than float32 rounding.
    for (bool matrix : {false, true}) {
        ir::Graph g;
        g.opsets[""] = 20;
        const ir::Shape xs = matrix ? ir::Shape{4, 8} : ir::Shape{2, 3, 8};
        add_input(g, "x", xs);
        add_constant(g, "w", random_tensor({8, 6}, 1));
        add_constant(g, "b", random_tensor({6}, 2));
        add_node(g, "MatMul", {"x", "w"}, {"h"});
        add_node(g, "Add", {"h", "b"}, {"a"});
        ir::Attribute approx;
        approx.kind = ir::Attribute::Kind::kString;
        approx.s = "tanh";
        add_node(g, "Gelu", {"a"}, {"y"}).attrs["approximate"] = approx;
        g.outputs = {"y"};
        // x scaled by 3 so that the GELU's negative tail, where the forms part, is reached.
        ir::Tensor x = random_tensor(xs, 3);
        for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] *= 3.0f;
        EXPECT_EQ(fuse_and_compare(g, {{"x", x}}), 1);
        ASSERT_EQ(op_types(g), (std::vector<std::string>{matrix ? "Gemm" : "MatMulBias"}));
        EXPECT_EQ(activation_of(g.nodes[0]), static_cast<int>(ir::FusedActivation::kGeluTanh));
    }
}

TEST(FuseMatMulBiasActivation, GemmTakesItsActivationAndABiasAdd) {
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {3, 8});
    add_constant(g, "w1", random_tensor({16, 8}, 1));
    add_constant(g, "c1", random_tensor({16}, 2));
    add_constant(g, "w2", random_tensor({16, 4}, 3));
    add_constant(g, "b2", random_tensor({4}, 4));
    ir::Node& gemm = add_node(g, "Gemm", {"x", "w1", "c1"}, {"h1"});
    ir::Attribute tb;
    tb.kind = ir::Attribute::Kind::kInt;
    tb.i = 1;
    gemm.attrs["transB"] = tb;
    add_node(g, "Relu", {"h1"}, {"r1"});
    ir::Node& second = add_node(g, "Gemm", {"r1", "w2"}, {"h2"});  // no C: the Add becomes it
    ir::Attribute alpha;
    alpha.kind = ir::Attribute::Kind::kFloat;
    alpha.f = 0.5f;
    second.attrs["alpha"] = alpha;
    add_node(g, "Add", {"h2", "b2"}, {"a2"});
    add_erf_gelu(g, "a2", "y", "gelu", false);
    g.outputs = {"y"};
    EXPECT_EQ(fuse_and_compare(g, {{"x", random_tensor({3, 8}, 9)}}), 2);
    ASSERT_EQ(op_types(g), (std::vector<std::string>{"Gemm", "Gemm"}));
    EXPECT_EQ(activation_of(g.nodes[0]), static_cast<int>(ir::FusedActivation::kRelu));
    EXPECT_EQ(activation_of(g.nodes[1]), static_cast<int>(ir::FusedActivation::kGelu));
    ASSERT_EQ(g.nodes[1].inputs.size(), 3u);
    EXPECT_EQ(g.nodes[1].inputs[2], "b2");
}

TEST(FuseMatMulBiasActivation, LeavesNonConstantBiasAndWeightsAlone) {
    // The bias is a runtime input: nothing fuses.
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {2, 3, 8});
    add_input(g, "bias", {16});
    add_constant(g, "w", random_tensor({8, 16}, 1));
    add_node(g, "MatMul", {"x", "w"}, {"h"});
    add_node(g, "Add", {"h", "bias"}, {"a"});
    add_node(g, "Relu", {"a"}, {"y"});
    g.outputs = {"y"};
    EXPECT_EQ(fuse_and_compare(g, {{"x", random_tensor({2, 3, 8}, 2)}, {"bias", random_tensor({16}, 3)}}), 0);
    EXPECT_EQ(op_types(g), (std::vector<std::string>{"MatMul", "Add", "Relu"}));

    // The weights are a runtime input: nothing fuses.
    ir::Graph h;
    h.opsets[""] = 17;
    add_input(h, "x", {2, 3, 8});
    add_input(h, "w", {8, 16});
    add_constant(h, "b", random_tensor({16}, 4));
    add_node(h, "MatMul", {"x", "w"}, {"m"});
    add_node(h, "Add", {"m", "b"}, {"y"});
    h.outputs = {"y"};
    EXPECT_EQ(fuse_and_compare(h, {{"x", random_tensor({2, 3, 8}, 5)}, {"w", random_tensor({8, 16}, 6)}}), 0);
    EXPECT_EQ(op_types(h), (std::vector<std::string>{"MatMul", "Add"}));

    // A bias [2, 1, 16] varies along the batch too: it is no row [N].
    ir::Graph k;
    k.opsets[""] = 17;
    add_input(k, "x", {2, 3, 8});
    add_constant(k, "w", random_tensor({8, 16}, 1));
    add_constant(k, "b", random_tensor({2, 1, 16}, 4));
    add_node(k, "MatMul", {"x", "w"}, {"m"});
    add_node(k, "Add", {"m", "b"}, {"y"});
    k.outputs = {"y"};
    EXPECT_EQ(fuse_and_compare(k, {{"x", random_tensor({2, 3, 8}, 5)}}), 0);
}

TEST(FuseMatMulBiasActivation, ActivationWithASecondConsumerStaysSeparate) {
    // The biased sum feeds the Relu and a graph output: MatMul + Add fuse, the Relu stays.
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {2, 3, 8});
    add_constant(g, "w", random_tensor({8, 16}, 1));
    add_constant(g, "b", random_tensor({16}, 2));
    add_node(g, "MatMul", {"x", "w"}, {"h"});
    add_node(g, "Add", {"h", "b"}, {"a"});
    add_node(g, "Relu", {"a"}, {"y"});
    add_node(g, "Sigmoid", {"a"}, {"z"});
    g.outputs = {"y", "z"};
    EXPECT_EQ(fuse_and_compare(g, {{"x", random_tensor({2, 3, 8}, 2)}}), 1);
    EXPECT_EQ(op_types(g), (std::vector<std::string>{"MatMulBias", "Relu", "Sigmoid"}));
    EXPECT_EQ(activation_of(g.nodes[0]), 0);

    // An inner value of the GELU (the Erf's output) is read elsewhere: the GELU stays.
    ir::Graph h = vit_mlp(false);
    add_node(h, "Neg", {"gelu_e"}, {"z"});
    h.outputs = {"y", "z"};
    EXPECT_EQ(fuse_and_compare(h, {{"x", random_tensor({2, 5, 8}, 3)}}), 2);
    EXPECT_EQ(op_types(h),
              (std::vector<std::string>{"MatMulBias", "Div", "Erf", "Add", "Mul", "Mul", "MatMulBias", "Neg"}));
    EXPECT_EQ(activation_of(h.nodes[0]), 0);
}

TEST(FuseMatMulBiasActivation, GeluWithAWrongConstantIsNotFused) {
    for (int which = 0; which < 3; ++which) {
        ir::Graph g;
        g.opsets[""] = 17;
        add_input(g, "x", {2, 3, 8});
        add_constant(g, "w", random_tensor({8, 16}, 1));
        add_constant(g, "b", random_tensor({16}, 2));
        add_node(g, "MatMul", {"x", "w"}, {"h"});
        add_node(g, "Add", {"h", "b"}, {"a"});
        add_erf_gelu(g, "a", "y", "gelu", which == 1, which == 0 ? 1.5f : kSqrt2);
        if (which == 2) g.at("gelu_half").constant = scalar(0.5001f);
        if (which == 1) g.at("gelu_one").constant = scalar(1.001f);
        g.outputs = {"y"};
        EXPECT_EQ(fuse_and_compare(g, {{"x", random_tensor({2, 3, 8}, 4)}}), 1) << which;
        EXPECT_EQ(op_types(g), (std::vector<std::string>{"MatMulBias", "Div", "Erf", "Add", "Mul", "Mul"})) << which;
        EXPECT_EQ(activation_of(g.nodes[0]), 0) << which;
    }
}

TEST(FuseMatMulBiasActivation, CpuEngineRunsTheFusedMlp) {
    // ONNX model: tokens [2, 4, 8] -> MatMul + Add + GELU (Erf form) -> out; built for the CPU backend.
    OnnxMaker m;
    m.input("x", {2, 4, 8});
    m.output("y", {2, 4, 6});
    const ir::Tensor w = random_tensor({8, 6}, 11), b = random_tensor({6}, 12);
    auto init = [&](const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& v) {
        auto* t = m.g().add_initializer();
        t->set_name(name);
        t->set_data_type(::onnx::TensorProto::FLOAT);
        for (int64_t d : dims) t->add_dims(d);
        for (float f : v) t->add_float_data(f);
    };
    init("w", {8, 6}, std::vector<float>(w.data<float>(), w.data<float>() + w.numel()));
    init("b", {6}, std::vector<float>(b.data<float>(), b.data<float>() + b.numel()));
    init("sqrt2", {}, {kSqrt2});
    init("one", {}, {1.0f});
    init("half", {}, {0.5f});
    m.node("MatMul", {"x", "w"}, {"h"}, "fc");
    m.node("Add", {"h", "b"}, {"hb"}, "fc_bias");
    m.node("Div", {"hb", "sqrt2"}, {"d"}, "div");
    m.node("Erf", {"d"}, {"e"}, "erf");
    m.node("Add", {"e", "one"}, {"p"}, "plus1");
    m.node("Mul", {"hb", "p"}, {"q"}, "mul");
    m.node("Mul", {"q", "half"}, {"y"}, "mul_half");
    auto engine = m.build();
    ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
    const auto layers = (*engine)->layers();
    ASSERT_EQ(layers.size(), 1u);
    EXPECT_EQ(layers[0].op_type, "MatMulBias");

    const ir::Tensor x = random_tensor({2, 4, 8}, 13);
    std::vector<float> in(x.data<float>(), x.data<float>() + x.numel()), out(2 * 4 * 6, -99.0f);
    auto ctx = (*engine)->create_context();
    ASSERT_TRUE(ctx.has_value()) << ctx.status().to_string();
    ASSERT_TRUE((*ctx)->set_tensor_address("x", in.data()).is_ok());
    ASSERT_TRUE((*ctx)->set_tensor_address("y", out.data()).is_ok());
    ASSERT_TRUE((*ctx)->enqueue().is_ok());
    double diff = 0, ref_max = 0;
    for (int r = 0; r < 8; ++r) {
        for (int j = 0; j < 6; ++j) {
            double s = b.data<float>()[j];
            for (int k = 0; k < 8; ++k) s += double(in[r * 8 + k]) * double(w.data<float>()[k * 6 + j]);
            const double ref = 0.5 * s * (1.0 + std::erf(s / std::sqrt(2.0)));
            diff = std::max(diff, std::fabs(ref - out[r * 6 + j]));
            ref_max = std::max(ref_max, std::fabs(ref));
        }
    }
    EXPECT_GT(ref_max, 0.1);
    EXPECT_LE(diff / ref_max, 1e-5);
}

TEST(FuseMatMulBiasActivation, UnknownInputShapeGivesMatMulBias) {
    // X's shape is unknown at build time (computed by a Reshape of run-time values): the product still fuses, as
    // a MatMulBias, with a bias row [N]; a [1, N] bias could widen a 1-D product, so that one stays.
    ir::Graph g = vit_mlp(false);
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    g.at("x").shape_known = false;
    g.at("act").shape_known = false;
    g.at("b2").constant = random_tensor({1, 8}, 4);
    g.at("b2").shape = {1, 8};
    int fused = 0;
    ASSERT_TRUE(passes::fuse_matmul_bias_activation(g, &fused).is_ok());
    EXPECT_EQ(fused, 1);
    EXPECT_EQ(op_types(g), (std::vector<std::string>{"MatMulBias", "MatMul", "Add"}));
    EXPECT_EQ(activation_of(g.nodes[0]), static_cast<int>(ir::FusedActivation::kGelu));
    g.at("x").shape_known = true;
    const auto out = run_reference(g, {{"x", random_tensor({2, 5, 8}, 7)}});
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out.at("y").shape(), (ir::Shape{2, 5, 8}));
}
