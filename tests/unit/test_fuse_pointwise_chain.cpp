// fuse_pointwise_chain: the graph before and after (which nodes join a chain and which stay), the same numbers
// from both on the reference backend for every op a chain takes, the program checks, and the Gelu tanh form
// (reference kernel and fused activation) against hand-computed values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "core/ir/fused_activation.h"
#include "core/ir/op.h"
#include "core/ir/pointwise_chain.h"
#include "core/ir/shape_inference.h"
#include "core/ir/shape_util.h"
#include "core/kernels/ref/ref_backend.h"
#include "core/passes/passes.h"
#include "tests/unit/graph_builders.h"
#include "tests/unit/pointwise_chain_cases.h"
#include "tests/unit/reference_run.h"

using namespace rtinfer;
using namespace rtinfer::testing;

namespace {

std::vector<const ir::Node*> chains_of(const ir::Graph& g) {
    std::vector<const ir::Node*> out;
    for (const auto& n : g.nodes) {
        if (n.op_type == "PointwiseChain" && n.domain == ir::kRtinferDomain) out.push_back(&n);
    }
    return out;
}

struct Result {
    int chains = -1;
    int nodes = -1;
};

// Infers shapes, runs the pass and compares every graph output before and after on the reference backend.
// float32 chains compute exactly what their nodes did; float16 ones skip the rounding between nodes.
Result fuse_and_compare(ir::Graph& g, const std::map<std::string, ir::Tensor>& inputs, double tol = 1e-6) {
    Result r;
    Status s = ir::infer_shapes(g, ref::reference_registry());
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    const auto before = run_reference(g, inputs);
    EXPECT_FALSE(before.empty());
    s = passes::fuse_pointwise_chain(g, &r.chains, &r.nodes);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    s = g.validate();
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    s = ir::infer_shapes(g, ref::reference_registry());
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    const auto after = run_reference(g, inputs);
    EXPECT_FALSE(after.empty());
    if (before.empty() || after.empty()) return r;
    for (const auto& out : g.outputs) EXPECT_LE(max_rel_error(before.at(out), after.at(out)), tol) << out;
    return r;
}

// x [2, 3, 4, 5] * scale [3, 1, 1] + bias [5] -> SiLU (Sigmoid and Mul) + z [2, 3, 4, 5] -> Relu -> y.
ir::Graph silu_block(DataType dtype) {
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {2, 3, 4, 5}, dtype);
    add_input(g, "z", {2, 3, 4, 5}, dtype);
    add_constant(g, "scale", cast_to(random_tensor({3, 1, 1}, 1), dtype));
    add_constant(g, "bias", cast_to(random_tensor({5}, 2), dtype));
    add_node(g, "Mul", {"x", "scale"}, {"m"});
    add_node(g, "Add", {"m", "bias"}, {"a"});
    add_node(g, "Sigmoid", {"a"}, {"s"});
    add_node(g, "Mul", {"a", "s"}, {"silu"});
    add_node(g, "Add", {"silu", "z"}, {"r"});
    add_node(g, "Relu", {"r"}, {"y"}, "last");
    g.outputs = {"y"};
    return g;
}

}  // namespace

TEST(FusePointwiseChain, SiluBlockBecomesOneNode) {
    ir::Graph g = silu_block(DataType::kFloat32);
    const Result r =
        fuse_and_compare(g, {{"x", random_tensor({2, 3, 4, 5}, 3)}, {"z", random_tensor({2, 3, 4, 5}, 4)}});
    EXPECT_EQ(r.chains, 1);
    EXPECT_EQ(r.nodes, 6);
    ASSERT_EQ(g.nodes.size(), 1u);
    const ir::Node& n = g.nodes[0];
    EXPECT_EQ(n.op_type, "PointwiseChain");
    EXPECT_EQ(n.domain, ir::kRtinferDomain);
    EXPECT_EQ(n.name, "last");
    EXPECT_EQ(n.inputs, (std::vector<std::string>{"x", "scale", "bias", "z"}));
    EXPECT_EQ(n.outputs, (std::vector<std::string>{"y"}));
    EXPECT_EQ(n.attr_string("fused_ops", ""), "Mul+Add+Sigmoid+Mul+Add+Relu");
    auto program = ir::read_pointwise_program(n, n.inputs.size());
    ASSERT_TRUE(program.has_value()) << program.status().to_string();
    ASSERT_EQ(program->size(), 6u);
    // Slots: x 0, scale 1, bias 2, z 3, then the steps from 4; the SiLU's Mul reads the Add (5) and Sigmoid (6).
    EXPECT_EQ((*program)[3].op, ir::PointwiseOp::kMul);
    EXPECT_EQ((*program)[3].a, 5);
    EXPECT_EQ((*program)[3].b, 6);
    EXPECT_EQ((*program)[4].b, 3);
    for (const char* gone : {"m", "a", "s", "silu", "r"}) EXPECT_EQ(g.find(gone), nullptr) << gone;
    EXPECT_EQ(g.at("y").shape, (ir::Shape{2, 3, 4, 5}));
    EXPECT_EQ(g.opset(ir::kRtinferDomain), 1);
}

TEST(FusePointwiseChain, Float16ChainSkipsTheRoundingBetweenNodes) {
    ir::Graph g = silu_block(DataType::kFloat16);
    const Result r = fuse_and_compare(g,
                                      {{"x", cast_to(random_tensor({2, 3, 4, 5}, 3), DataType::kFloat16)},
                                       {"z", cast_to(random_tensor({2, 3, 4, 5}, 4), DataType::kFloat16)}},
                                      5e-3);
    EXPECT_EQ(r.chains, 1);
    ASSERT_EQ(g.nodes.size(), 1u);
    EXPECT_EQ(g.at("y").dtype, DataType::kFloat16);
}

TEST(FusePointwiseChain, ScalarConstantsBecomeImmediates) {
    // GELU in its Erf form: y = (x * (Erf(x / sqrt 2) + 1)) * 0.5, then Clip(0, 6) with constant bounds.
    ir::Graph g;
    g.opsets[""] = 13;
    add_input(g, "x", {4, 6});
    add_constant(g, "sqrt2", scalar(1.41421356f));
    add_constant(g, "one", scalar(1.0f));
    add_constant(g, "half", scalar(0.5f));
    add_constant(g, "lo", scalar(0.0f));
    add_constant(g, "hi", scalar(0.3f));
    add_node(g, "Div", {"x", "sqrt2"}, {"d"});
    add_node(g, "Erf", {"d"}, {"e"});
    add_node(g, "Add", {"one", "e"}, {"p"});
    add_node(g, "Mul", {"x", "p"}, {"q"});
    add_node(g, "Mul", {"q", "half"}, {"gelu"});
    add_node(g, "Clip", {"gelu", "lo", "hi"}, {"y"});
    g.outputs = {"y"};
    const Result r = fuse_and_compare(g, {{"x", random_tensor({4, 6}, 5)}});
    EXPECT_EQ(r.chains, 1);
    ASSERT_EQ(g.nodes.size(), 1u);
    EXPECT_EQ(g.nodes[0].inputs, (std::vector<std::string>{"x"}));
    auto program = ir::read_pointwise_program(g.nodes[0], 1);
    ASSERT_TRUE(program.has_value());
    EXPECT_EQ((*program)[0].b, ir::kImmediate);
    EXPECT_FLOAT_EQ((*program)[0].p1, 1.41421356f);
    EXPECT_EQ((*program)[2].a, ir::kImmediate);  // Add(1, e): the constant is operand a
    EXPECT_FLOAT_EQ((*program)[2].p0, 1.0f);
    EXPECT_EQ((*program)[5].op, ir::PointwiseOp::kClip);
    EXPECT_FLOAT_EQ((*program)[5].p1, 0.3f);
    for (const char* gone : {"sqrt2", "one", "half", "lo", "hi"}) EXPECT_EQ(g.find(gone), nullptr) << gone;
}

TEST(FusePointwiseChain, AScalarThatWidensTheOutputStaysAnInput) {
    // x [5] + c [1, 1, 1] is [1, 1, 5]: c shapes the output, so it is read as an input, not an immediate.
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {5});
    add_constant(g, "c", ir::Tensor::from_floats({0.25f}, {1, 1, 1}));
    add_node(g, "Add", {"x", "c"}, {"a"});
    add_node(g, "Tanh", {"a"}, {"y"});
    g.outputs = {"y"};
    EXPECT_EQ(fuse_and_compare(g, {{"x", random_tensor({5}, 6)}}).chains, 1);
    ASSERT_EQ(g.nodes.size(), 1u);
    EXPECT_EQ(g.nodes[0].inputs, (std::vector<std::string>{"x", "c"}));
    EXPECT_EQ(g.at("y").shape, (ir::Shape{1, 1, 5}));
}

TEST(FusePointwiseChain, ADiamondJoinsWhole) {
    // e = Exp(x); y = Neg(e) + Sqrt(e): e has two readers, both in the group.
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {3, 7});
    add_node(g, "Exp", {"x"}, {"e"});
    add_node(g, "Neg", {"e"}, {"n"});
    add_node(g, "Sqrt", {"e"}, {"b"});
    add_node(g, "Add", {"n", "b"}, {"y"});
    g.outputs = {"y"};
    const Result r = fuse_and_compare(g, {{"x", random_tensor({3, 7}, 7)}});
    EXPECT_EQ(r.chains, 1);
    EXPECT_EQ(r.nodes, 4);
    EXPECT_EQ(op_types(g), (std::vector<std::string>{"PointwiseChain"}));
}

TEST(FusePointwiseChain, AValueReadOutsideTheGroupEndsIt) {
    // a = x + w feeds Relu -> Mul(2) and also a Transpose: the Add stays, Relu and Mul fuse.
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {2, 3});
    add_input(g, "w", {2, 3});
    add_constant(g, "two", scalar(2.0f));
    add_node(g, "Add", {"x", "w"}, {"a"});
    add_node(g, "Relu", {"a"}, {"r"});
    add_node(g, "Mul", {"r", "two"}, {"y"});
    ir::Node& t = add_node(g, "Transpose", {"a"}, {"t"});
    ir::Attribute perm;
    perm.kind = ir::Attribute::Kind::kInts;
    perm.ints = {1, 0};
    t.attrs["perm"] = perm;
    g.outputs = {"y", "t"};
    const Result r = fuse_and_compare(g, {{"x", random_tensor({2, 3}, 8)}, {"w", random_tensor({2, 3}, 9)}});
    EXPECT_EQ(r.chains, 1);
    EXPECT_EQ(r.nodes, 2);
    EXPECT_EQ(op_types(g), (std::vector<std::string>{"Add", "PointwiseChain", "Transpose"}));
    EXPECT_EQ(chains_of(g)[0]->inputs, (std::vector<std::string>{"a"}));
}

TEST(FusePointwiseChain, AGraphOutputInTheMiddleEndsIt) {
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {8});
    add_node(g, "Relu", {"x"}, {"r"});
    add_node(g, "Sigmoid", {"r"}, {"s"});
    add_node(g, "Neg", {"s"}, {"y"});
    g.outputs = {"r", "y"};
    const Result r = fuse_and_compare(g, {{"x", random_tensor({8}, 10)}});
    EXPECT_EQ(r.chains, 1);
    EXPECT_EQ(op_types(g), (std::vector<std::string>{"Relu", "PointwiseChain"}));
    EXPECT_EQ(chains_of(g)[0]->attr_string("fused_ops", ""), "Sigmoid+Neg");
}

TEST(FusePointwiseChain, MixedTypesAndCastsStaySeparate) {
    // Relu (float32) -> Cast (float16) -> Sigmoid -> Neg (float16) -> Cast (float32) -> Abs.
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {4, 4});
    add_node(g, "Relu", {"x"}, {"r"});
    ir::Attribute to;
    to.kind = ir::Attribute::Kind::kInt;
    to.i = 10;  // FLOAT16
    add_node(g, "Cast", {"r"}, {"h"}).attrs["to"] = to;
    add_node(g, "Sigmoid", {"h"}, {"s"});
    add_node(g, "Neg", {"s"}, {"n"});
    to.i = 1;  // FLOAT
    add_node(g, "Cast", {"n"}, {"f"}).attrs["to"] = to;
    add_node(g, "Abs", {"f"}, {"y"});
    g.outputs = {"y"};
    const Result r = fuse_and_compare(g, {{"x", random_tensor({4, 4}, 11)}});
    EXPECT_EQ(r.chains, 1);
    EXPECT_EQ(op_types(g), (std::vector<std::string>{"Relu", "Cast", "PointwiseChain", "Cast", "Abs"}));
    EXPECT_EQ(g.at(chains_of(g)[0]->outputs[0]).dtype, DataType::kFloat16);
}

TEST(FusePointwiseChain, NonElementwiseNodesBreakTheChain) {
    // Relu -> Softmax -> Sigmoid -> Reshape -> Tanh: nothing is fused.
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {2, 6});
    add_constant(g, "shape", ir::Tensor::from_int64s({3, 4}, {2}));
    add_node(g, "Relu", {"x"}, {"r"});
    add_node(g, "Softmax", {"r"}, {"m"});
    add_node(g, "Sigmoid", {"m"}, {"s"});
    add_node(g, "Reshape", {"s", "shape"}, {"v"});
    add_node(g, "Tanh", {"v"}, {"y"});
    g.outputs = {"y"};
    const Result r = fuse_and_compare(g, {{"x", random_tensor({2, 6}, 12)}});
    EXPECT_EQ(r.chains, 0);
    EXPECT_EQ(r.nodes, 0);
    EXPECT_EQ(g.nodes.size(), 5u);
}

TEST(FusePointwiseChain, FusionAttributesAreLeftAlone) {
    // A Relu carrying rt_* attributes (another pass's or the builder's) is not absorbed; the rest fuse.
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {6});
    add_node(g, "Relu", {"x"}, {"r"}).attrs["rt_cpu_fallback"] = attr_f(1.0f);
    add_node(g, "Exp", {"r"}, {"e"});
    add_node(g, "Neg", {"e"}, {"y"});
    g.outputs = {"y"};
    EXPECT_EQ(fuse_and_compare(g, {{"x", random_tensor({6}, 13)}}).chains, 1);
    EXPECT_EQ(op_types(g), (std::vector<std::string>{"Relu", "PointwiseChain"}));
}

TEST(FusePointwiseChain, ASmallerIntermediateIsNotRecomputedPerElement) {
    // A squeeze-excitation gate: Sigmoid of [2, 3, 1, 1] times x [2, 3, 4, 4]. The Sigmoid has not the output's
    // shape, so it stays a node and its result an input; with the Relu after the Mul, Mul and Relu fuse.
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {2, 3, 4, 4});
    add_input(g, "gate", {2, 3, 1, 1});
    add_node(g, "Sigmoid", {"gate"}, {"s"});
    add_node(g, "Mul", {"x", "s"}, {"m"});
    add_node(g, "Relu", {"m"}, {"y"});
    g.outputs = {"y"};
    const Result r =
        fuse_and_compare(g, {{"x", random_tensor({2, 3, 4, 4}, 14)}, {"gate", random_tensor({2, 3, 1, 1}, 15)}});
    EXPECT_EQ(r.chains, 1);
    EXPECT_EQ(op_types(g), (std::vector<std::string>{"Sigmoid", "PointwiseChain"}));
    EXPECT_EQ(chains_of(g)[0]->inputs, (std::vector<std::string>{"x", "s"}));
}

TEST(FusePointwiseChain, LongChainsSplitAtTheStepLimit) {
    // 40 alternating Add / Tanh nodes: chains of at most kMaxChainSteps steps, the same result.
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {3, 5});
    add_constant(g, "c", random_tensor({5}, 16));
    std::string v = "x";
    for (int i = 0; i < 40; ++i) {
        const std::string out = i == 39 ? "y" : "v" + std::to_string(i);
        if (i % 2 == 0) {
            add_node(g, "Add", {v, "c"}, {out});
        } else {
            add_node(g, "Tanh", {v}, {out});
        }
        v = out;
    }
    g.outputs = {"y"};
    const Result r = fuse_and_compare(g, {{"x", random_tensor({3, 5}, 17)}});
    EXPECT_EQ(r.chains, 2);
    EXPECT_EQ(r.nodes, 40);
    for (const ir::Node* n : chains_of(g)) {
        EXPECT_LE(n->attr_ints("ops").size(), static_cast<size_t>(ir::kMaxChainSteps));
    }
}

TEST(FusePointwiseChain, InputsAreCappedAtTheLimit) {
    // y = x0 + x1 + ... + x11 as a left-deep chain of Adds: no chain reads more than kMaxChainInputs inputs.
    ir::Graph g;
    g.opsets[""] = 17;
    std::map<std::string, ir::Tensor> inputs;
    for (int i = 0; i < 12; ++i) {
        const std::string name = "x" + std::to_string(i);
        add_input(g, name, {2, 4});
        inputs[name] = random_tensor({2, 4}, 20 + static_cast<unsigned>(i));
    }
    std::string v = "x0";
    for (int i = 1; i < 12; ++i) {
        const std::string out = i == 11 ? "y" : "s" + std::to_string(i);
        add_node(g, "Add", {v, "x" + std::to_string(i)}, {out});
        v = out;
    }
    g.outputs = {"y"};
    const Result r = fuse_and_compare(g, inputs);
    EXPECT_EQ(r.chains, 2);
    for (const ir::Node* n : chains_of(g)) EXPECT_LE(n->inputs.size(), static_cast<size_t>(ir::kMaxChainInputs));
}

// float16 chains differ from their nodes by the rounding to half the nodes did between them.
const DataType kBoth[] = {DataType::kFloat32, DataType::kFloat16};

TEST(FusePointwiseChain, BroadcastOperandsOfEveryKind) {
    for (const ir::Shape& shape : broadcast_chain_shapes()) {
        for (DataType dtype : kBoth) {
            SCOPED_TRACE(ir::shape_str(shape) + (dtype == DataType::kFloat16 ? " fp16" : " fp32"));
            ir::Graph g = broadcast_chain_graph(shape, dtype);
            std::map<std::string, ir::Tensor> inputs = broadcast_chain_inputs(shape);
            for (auto& [name, t] : inputs) t = cast_to(t, dtype);
            const Result r = fuse_and_compare(g, inputs, dtype == DataType::kFloat16 ? 5e-3 : 1e-6);
            EXPECT_EQ(r.chains, 1);
            EXPECT_EQ(r.nodes, 8);
            ASSERT_EQ(g.nodes.size(), 1u);
            EXPECT_EQ(g.nodes[0].inputs, (std::vector<std::string>{"x", "scale", "bias", "z", "t"}));
        }
    }
}

TEST(FusePointwiseChain, EveryUnaryOpComputesAsItsNode) {
    for (const UnaryChainCase& c : unary_chain_cases()) {
        for (DataType dtype : kBoth) {
            SCOPED_TRACE(c.op + (dtype == DataType::kFloat16 ? " fp16" : " fp32"));
            ir::Graph g = unary_chain_graph(c, dtype);
            const Result r = fuse_and_compare(g, {{"x", cast_to(unary_chain_input(c), dtype)}},
                                              dtype == DataType::kFloat16 ? 5e-3 : 1e-6);
            EXPECT_EQ(r.chains, 1);
            EXPECT_EQ(r.nodes, 4);
            EXPECT_EQ(g.nodes.size(), 1u);
        }
    }
}

TEST(FusePointwiseChain, EveryBinaryOpComputesAsItsNode) {
    for (const BinaryChainCase& c : binary_chain_cases()) {
        for (DataType dtype : kBoth) {
            SCOPED_TRACE(c.op + " " + c.b + (c.three ? " 3" : "") + (dtype == DataType::kFloat16 ? " fp16" : " fp32"));
            ir::Graph g = binary_chain_graph(c, dtype);
            std::map<std::string, ir::Tensor> inputs = binary_chain_inputs();
            for (auto& [name, t] : inputs) t = cast_to(t, dtype);
            const Result r = fuse_and_compare(g, inputs, dtype == DataType::kFloat16 ? 5e-3 : 1e-6);
            EXPECT_EQ(r.chains, 1);
            EXPECT_EQ(r.nodes, 4);
            EXPECT_EQ(g.nodes.size(), 1u);
        }
    }
}

TEST(FusePointwiseChain, ClipBeforeOpset11UsesItsAttributes) {
    ir::Graph g;
    g.opsets[""] = 6;
    add_input(g, "x", {10});
    ir::Node& clip = add_node(g, "Clip", {"x"}, {"c"});
    clip.attrs["min"] = attr_f(-0.5f);
    clip.attrs["max"] = attr_f(0.25f);
    add_node(g, "Neg", {"c"}, {"y"});
    g.outputs = {"y"};
    EXPECT_EQ(fuse_and_compare(g, {{"x", random_tensor({10}, 50)}}).chains, 1);
}

TEST(FusePointwiseChain, ClipWithARunTimeBoundIsNotFused) {
    ir::Graph g;
    g.opsets[""] = 13;
    add_input(g, "x", {10});
    add_input(g, "hi", {});
    add_node(g, "Clip", {"x", "", "hi"}, {"c"});
    add_node(g, "Neg", {"c"}, {"y"});
    g.outputs = {"y"};
    EXPECT_EQ(fuse_and_compare(g, {{"x", random_tensor({10}, 51)}, {"hi", scalar(0.3f)}}).chains, 0);
}

TEST(PointwiseChainProgram, BadProgramsAreRejectedNamingTheNode) {
    ir::Node n;
    n.name = "chain";
    n.op_type = "PointwiseChain";
    n.domain = ir::kRtinferDomain;
    n.inputs = {"x"};
    n.outputs = {"y"};
    const auto with = [&](std::vector<ir::PointwiseStep> steps) {
        ir::Node m = n;
        ir::write_pointwise_program(m, steps);
        return ir::read_pointwise_program(m, 1);
    };
    EXPECT_TRUE(with({{ir::PointwiseOp::kRelu, 0, ir::kNoOperand}}).has_value());
    EXPECT_TRUE(
        with({{ir::PointwiseOp::kRelu, 0, ir::kNoOperand}, {ir::PointwiseOp::kAdd, 1, ir::kImmediate}}).has_value());
    // Operands that read a later step, both immediates, an unknown op, a unary op with a second operand.
    for (const auto& steps : std::vector<std::vector<ir::PointwiseStep>>{
             {{ir::PointwiseOp::kRelu, 1, ir::kNoOperand}},
             {{ir::PointwiseOp::kAdd, ir::kImmediate, ir::kImmediate}},
             {{static_cast<ir::PointwiseOp>(99), 0, ir::kNoOperand}},
             {{ir::PointwiseOp::kExp, 0, 0}},
             {}}) {
        auto p = with(steps);
        ASSERT_FALSE(p.has_value());
        EXPECT_EQ(p.status().code(), StatusCode::kInvalidModel);
        EXPECT_NE(p.status().message().find("chain"), std::string::npos) << p.status().message();
    }
    // Too many inputs, and attribute lists of the wrong length.
    ir::Node wide = n;
    ir::write_pointwise_program(wide, {{ir::PointwiseOp::kRelu, 0, ir::kNoOperand}});
    EXPECT_FALSE(ir::read_pointwise_program(wide, ir::kMaxChainInputs + 1).has_value());
    wide.attrs["params"].floats.pop_back();
    EXPECT_FALSE(ir::read_pointwise_program(wide, 1).has_value());
}

TEST(GeluTanh, ReferenceKernelMatchesHandComputedValues) {
    // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), computed in double.
    const std::vector<float> xs = {-3.0f, -1.0f, -0.5f, 0.5f, 1.0f, 2.0f};
    const std::vector<double> want = {-0.0036373920817729943, -0.15880800939172324, -0.15428599017485606,
                                      0.34571400982514394,    0.8411919906082768,   1.954597694087775};
    ir::Node node;
    node.name = "gelu";
    node.op_type = "Gelu";
    node.inputs = {"x"};
    node.outputs = {"y"};
    node.attrs["approximate"] = attr_s("tanh");
    const ir::Tensor x = ir::Tensor::from_floats(xs, {6});
    std::vector<ir::Tensor> out;
    const ir::OpKernel* kernel = ref::reference_registry().find("", "Gelu");
    ASSERT_NE(kernel, nullptr);
    ASSERT_TRUE(ref::evaluate_node(*kernel, node, 20, {&x}, out).is_ok());
    ir::FusedActivationParams tanh_form;
    tanh_form.act = ir::FusedActivation::kGeluTanh;
    ir::FusedActivationParams erf_form;
    erf_form.act = ir::FusedActivation::kGelu;
    for (size_t i = 0; i < xs.size(); ++i) {
        EXPECT_NEAR(out[0].data<float>()[i], want[i], 2e-7 + 1e-6 * std::fabs(want[i])) << xs[i];
        EXPECT_NEAR(ir::apply_fused_activation(tanh_form, xs[i]), want[i], 2e-7 + 1e-6 * std::fabs(want[i])) << xs[i];
    }
    // The two forms differ by more than float32 rounding (at x = -3 by 4e-4): the form must be recorded.
    EXPECT_GT(std::fabs(ir::apply_fused_activation(erf_form, -3.0f) - ir::apply_fused_activation(tanh_form, -3.0f)),
              1e-4);
}
