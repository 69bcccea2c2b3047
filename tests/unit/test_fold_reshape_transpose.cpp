// fold_reshape_transpose: each rewrite's graph before and after, the same numbers from both on the reference
// backend (at a second batch too where the batch is dynamic), the patterns it must leave alone, a ViT attention
// block, and the reference MatMul's transposed operands against a hand transpose.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/ir/shape_inference.h"
#include "core/kernels/ref/ref_backend.h"
#include "core/onnx/importer.h"
#include "core/passes/passes.h"
#include "rtinfer/builder.h"
#include "tests/unit/graph_builders.h"
#include "tests/unit/reference_run.h"
#include "tests/unit/vit_attention_model.h"

using namespace rtinfer;
using namespace rtinfer::testing;

namespace {

void transpose(ir::Graph& g, const std::string& x, const std::string& y, std::vector<int64_t> perm) {
    add_node(g, "Transpose", {x}, {y}).attrs["perm"] = ir::ints_attribute(std::move(perm));
}

// A view whose second input is a constant (Reshape's shape, Squeeze/Unsqueeze axes from opset 13).
void view(ir::Graph& g, const std::string& op, const std::string& x, const std::string& y,
          const std::vector<int64_t>& values) {
    const std::string c = g.unique_name(y + "_" + op);
    add_constant(g, c, ir::Tensor::from_int64s(values, {static_cast<int64_t>(values.size())}));
    add_node(g, op, {x, c}, {y});
}

int count(const ir::Graph& g, const std::string& op) {
    return static_cast<int>(std::count_if(g.nodes.begin(), g.nodes.end(), [&](const ir::Node& n) {
        return n.op_type == op;
    }));
}

// Every value of g computed from `inputs`, after shapes are inferred for those inputs' shapes.
std::map<std::string, ir::Tensor> run_at(ir::Graph g, const std::map<std::string, ir::Tensor>& inputs) {
    for (const auto& [name, t] : inputs) {
        if (ir::Value* v = g.find(name)) v->shape = t.shape();
    }
    Status s = ir::infer_shapes(g, ref::reference_registry());
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    if (!s.is_ok()) return {};
    return run_reference(g, inputs);
}

// Checks that `after` computes every graph output of `before` as `before` does: max |a - b| <= tol * max |a|.
void expect_same(const ir::Graph& before, const ir::Graph& after, const std::map<std::string, ir::Tensor>& inputs,
                 double tol = 0.0) {
    const auto want = run_at(before, inputs);
    const auto got = run_at(after, inputs);
    ASSERT_FALSE(want.empty());
    ASSERT_FALSE(got.empty());
    for (const auto& out : before.outputs) {
        const ir::Tensor& a = want.at(out);
        const ir::Tensor& b = got.at(out);
        ASSERT_EQ(a.shape(), b.shape()) << out;
        double diff = 0, scale = 0;
        for (int64_t i = 0; i < a.numel(); ++i) {
            diff = std::max(diff, std::fabs(double(a.data<float>()[i]) - double(b.data<float>()[i])));
            scale = std::max(scale, std::fabs(double(a.data<float>()[i])));
        }
        EXPECT_GT(scale, 0.0) << out;
        EXPECT_LE(diff, tol * scale) << out;
    }
}

// Infers shapes, runs the pass (with `shapes` when given), checks the graph is valid and computes as before on
// `inputs`; returns the rewrites made.
int fold(ir::Graph& g, const std::map<std::string, ir::Tensor>& inputs, double tol = 0.0,
         const passes::SymbolicShapes* shapes = nullptr) {
    EXPECT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    const ir::Graph before = g;
    int folded = -1;
    Status s = passes::fold_reshape_transpose(g, shapes, &folded);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    EXPECT_TRUE(g.validate().is_ok()) << g.validate().to_string();
    expect_same(before, g, inputs, tol);
    return folded;
}

// The symbolic shapes of g at the batch its inputs have and at `other` (dim 0 of every input).
passes::SymbolicShapes shapes_at_two_batches(const ir::Graph& g, int64_t other) {
    ir::Graph a = g, b = g;
    for (const auto& in : g.inputs) b.at(in).shape[0] = other;
    EXPECT_TRUE(ir::infer_shapes(a, ref::reference_registry()).is_ok());
    EXPECT_TRUE(ir::infer_shapes(b, ref::reference_registry()).is_ok());
    return passes::symbolic_shapes(a, &b);
}

}  // namespace

TEST(FoldReshapeTranspose, ComposesTransposePairsAndDropsIdentities) {
    // x -> T(0,2,1,3) -> T(3,0,2,1) -> Relu: one Transpose of the composed permutation.
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {2, 3, 4, 5});
    transpose(g, "x", "a", {0, 2, 1, 3});
    transpose(g, "a", "b", {3, 0, 2, 1});
    add_node(g, "Relu", {"b"}, {"y"});
    g.outputs = {"y"};
    const auto inputs = std::map<std::string, ir::Tensor>{{"x", random_tensor({2, 3, 4, 5}, 1)}};
    EXPECT_EQ(fold(g, inputs), 1);
    ASSERT_EQ(op_types(g), (std::vector<std::string>{"Transpose", "Relu"}));
    EXPECT_EQ(g.nodes[0].inputs[0], "x");
    EXPECT_EQ(g.nodes[0].attr_ints("perm"), (std::vector<int64_t>{3, 0, 1, 2}));

    // Two Transposes that undo each other go entirely; so does one that keeps every axis.
    ir::Graph h;
    h.opsets[""] = 17;
    add_input(h, "x", {2, 3, 4});
    transpose(h, "x", "a", {1, 2, 0});
    transpose(h, "a", "b", {2, 0, 1});
    transpose(h, "b", "c", {0, 1, 2});
    add_node(h, "Relu", {"c"}, {"y"});
    h.outputs = {"y"};
    EXPECT_GE(fold(h, {{"x", random_tensor({2, 3, 4}, 2)}}), 2);
    EXPECT_EQ(op_types(h), (std::vector<std::string>{"Relu"}));
    EXPECT_EQ(h.nodes[0].inputs[0], "x");
}

TEST(FoldReshapeTranspose, ComposesViewChainsIntoOneReshape) {
    // x [2,3,4] -> Unsqueeze(0) -> Reshape [6,4] -> Flatten(0) -> Unsqueeze(2) -> Relu: one Reshape to [1,24,1].
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {2, 3, 4});
    view(g, "Unsqueeze", "x", "a", {0});
    view(g, "Reshape", "a", "b", {6, 4});
    add_node(g, "Flatten", {"b"}, {"c"}).attrs["axis"] = ir::int_attribute(0);
    view(g, "Unsqueeze", "c", "d", {2});
    view(g, "Reshape", "d", "e", {1, 24, 1});  // changes no shape: goes
    add_node(g, "Relu", {"e"}, {"y"});
    g.outputs = {"y"};
    EXPECT_GE(fold(g, {{"x", random_tensor({2, 3, 4}, 3)}}), 4);
    ASSERT_EQ(op_types(g), (std::vector<std::string>{"Reshape", "Relu"}));
    EXPECT_EQ(g.nodes[0].inputs[0], "x");
    EXPECT_EQ(ir::to_int64s(g.at(g.nodes[0].inputs[1]).constant), (std::vector<int64_t>{1, 24, 1}));
}

TEST(FoldReshapeTranspose, OrderKeepingTransposeBecomesAReshape) {
    // [2,1,3,1,4] -> perm (1,0,3,2,4) moves only unit axes: a Reshape to [1,2,1,3,4].
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {2, 1, 3, 1, 4});
    transpose(g, "x", "t", {1, 0, 3, 2, 4});
    add_node(g, "Relu", {"t"}, {"y"});
    g.outputs = {"y"};
    EXPECT_EQ(fold(g, {{"x", random_tensor({2, 1, 3, 1, 4}, 4)}}), 1);
    ASSERT_EQ(op_types(g), (std::vector<std::string>{"Reshape", "Relu"}));
    EXPECT_EQ(ir::to_int64s(g.at(g.nodes[0].inputs[1]).constant), (std::vector<int64_t>{1, 2, 1, 3, 4}));
}

TEST(FoldReshapeTranspose, UnitViewTransposeUnitViewIsOneTranspose) {
    // ViT's q/k/v split: [S,B,3,E] -> Unsqueeze(0) -> T(3,1,2,0,4) -> Squeeze(3) = T(2,0,1,3) of [S,B,3,E].
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {5, 2, 3, 8});
    view(g, "Unsqueeze", "x", "u", {0});
    transpose(g, "u", "t", {3, 1, 2, 0, 4});
    view(g, "Squeeze", "t", "s", {-2});
    add_node(g, "Relu", {"s"}, {"y"});
    g.outputs = {"y"};
    EXPECT_EQ(fold(g, {{"x", random_tensor({5, 2, 3, 8}, 5)}}), 1);
    ASSERT_EQ(op_types(g), (std::vector<std::string>{"Transpose", "Relu"}));
    EXPECT_EQ(g.nodes[0].inputs[0], "x");
    EXPECT_EQ(g.nodes[0].attr_ints("perm"), (std::vector<int64_t>{2, 0, 1, 3}));

    // The same with Reshapes that add and drop the unit axes: here what is left is the identity, and goes.
    ir::Graph h;
    h.opsets[""] = 17;
    add_input(h, "x", {4, 6});
    view(h, "Reshape", "x", "u", {4, 1, 6});
    transpose(h, "u", "t", {1, 0, 2});
    view(h, "Reshape", "t", "s", {4, 6});
    add_node(h, "Relu", {"s"}, {"y"});
    h.outputs = {"y"};
    fold(h, {{"x", random_tensor({4, 6}, 6)}});
    EXPECT_EQ(op_types(h), (std::vector<std::string>{"Relu"}));

    // A Squeeze that drops an axis of x (not an inserted one) leaves the three alone.
    ir::Graph k;
    k.opsets[""] = 17;
    add_input(k, "x", {1, 4, 6});
    view(k, "Unsqueeze", "x", "u", {3});
    transpose(k, "u", "t", {2, 1, 3, 0});
    view(k, "Squeeze", "t", "s", {3});
    add_node(k, "Relu", {"s"}, {"y"});
    k.outputs = {"y"};
    fold(k, {{"x", random_tensor({1, 4, 6}, 7)}});
    EXPECT_EQ(count(k, "Transpose"), 1);
    EXPECT_EQ(count(k, "Squeeze"), 1);
}

TEST(FoldReshapeTranspose, LastTwoAxesTransposeFoldsIntoMatMul) {
    // y = a [2,3,4,5] x T(b [2,3,6,5]), z = T(c [2,3,4,5]) x y: operands read transposed, no Transposes left.
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "a", {2, 3, 4, 5});
    add_input(g, "b", {2, 3, 6, 5});
    add_input(g, "c", {2, 3, 4, 5});
    transpose(g, "b", "bt", {0, 1, 3, 2});
    add_node(g, "MatMul", {"a", "bt"}, {"y"});
    transpose(g, "c", "ct", {0, 1, 3, 2});
    add_node(g, "MatMul", {"ct", "y"}, {"z"});  // [2,3,5,4] x [2,3,4,6]
    g.outputs = {"z"};
    const std::map<std::string, ir::Tensor> in = {{"a", random_tensor({2, 3, 4, 5}, 8)},
                                                  {"b", random_tensor({2, 3, 6, 5}, 9)},
                                                  {"c", random_tensor({2, 3, 4, 5}, 10)}};
    EXPECT_EQ(fold(g, in, 1e-6), 2);
    ASSERT_EQ(op_types(g), (std::vector<std::string>{"MatMul", "MatMul"}));
    EXPECT_EQ(g.nodes[0].inputs, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(g.nodes[0].attr_int("rt_trans_b", 0), 1);
    EXPECT_EQ(g.nodes[0].attr_int("rt_trans_a", 0), 0);
    EXPECT_EQ(g.nodes[1].inputs, (std::vector<std::string>{"c", "y"}));
    EXPECT_EQ(g.nodes[1].attr_int("rt_trans_a", 0), 1);
    EXPECT_EQ(g.at("z").shape, (ir::Shape{2, 3, 5, 6}));

    // A matrix Transpose into a Gemm flips its transA.
    ir::Graph h;
    h.opsets[""] = 17;
    add_input(h, "a", {5, 4});
    add_constant(h, "w", random_tensor({6, 5}, 11));
    transpose(h, "a", "at", {1, 0});
    add_node(h, "Gemm", {"at", "w"}, {"y"}).attrs["transB"] = ir::int_attribute(1);
    h.outputs = {"y"};
    EXPECT_EQ(fold(h, {{"a", random_tensor({5, 4}, 12)}}, 1e-6), 1);
    ASSERT_EQ(op_types(h), (std::vector<std::string>{"Gemm"}));
    EXPECT_EQ(h.nodes[0].attr_int("transA", 0), 1);
    EXPECT_EQ(h.nodes[0].attr_int("transB", 0), 1);
}

TEST(FoldReshapeTranspose, TransposeMovesBelowAScalarMulIntoMatMul) {
    // q x (T(k) * s) / 2, s a [1] constant and 2 a scalar: k read transposed, the scaling on k itself.
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "q", {2, 2, 5, 4});
    add_input(g, "k", {2, 2, 5, 4});
    add_constant(g, "s", ir::Tensor::from_floats({0.7f}, {1}));
    add_constant(g, "two", ir::Tensor::from_floats({2.0f}, {}));
    transpose(g, "k", "kt", {0, 1, 3, 2});
    add_node(g, "Mul", {"kt", "s"}, {"ks"});
    add_node(g, "Div", {"ks", "two"}, {"kd"});
    add_node(g, "MatMul", {"q", "kd"}, {"y"});
    g.outputs = {"y"};
    EXPECT_EQ(fold(g, {{"q", random_tensor({2, 2, 5, 4}, 13)}, {"k", random_tensor({2, 2, 5, 4}, 14)}}, 1e-6), 3);
    ASSERT_EQ(op_types(g), (std::vector<std::string>{"Mul", "Div", "MatMul"}));
    EXPECT_EQ(g.nodes[0].inputs[0], "k");
    EXPECT_EQ(g.nodes[2].attr_int("rt_trans_b", 0), 1);
    EXPECT_EQ(g.at(g.nodes[1].outputs[0]).shape, (ir::Shape{2, 2, 5, 4}));
}

TEST(FoldReshapeTranspose, LeavesWhatItCannotFoldExactly) {
    const std::map<std::string, ir::Tensor> in = {{"q", random_tensor({2, 5, 4}, 15)},
                                                  {"k", random_tensor({2, 5, 4}, 16)}};
    auto q_and_k = [] {
        ir::Graph g;
        g.opsets[""] = 17;
        add_input(g, "q", {2, 5, 4});
        add_input(g, "k", {2, 5, 4});
        return g;
    };
    {
        // K^T read twice (the MatMul and a Relu): the Transpose stays, the MatMul reads it as it is.
        ir::Graph g = q_and_k();
        transpose(g, "k", "kt", {0, 2, 1});
        add_node(g, "MatMul", {"q", "kt"}, {"y"});
        add_node(g, "Relu", {"kt"}, {"r"});
        g.outputs = {"y", "r"};
        EXPECT_EQ(fold(g, in), 0);
        EXPECT_EQ(count(g, "Transpose"), 1);
        EXPECT_FALSE(g.nodes[1].has_attr("rt_trans_b"));
    }
    {
        // K^T is a graph output: it stays.
        ir::Graph g = q_and_k();
        transpose(g, "k", "kt", {0, 2, 1});
        add_node(g, "MatMul", {"q", "kt"}, {"y"});
        g.outputs = {"y", "kt"};
        EXPECT_EQ(fold(g, in), 0);
        EXPECT_EQ(count(g, "Transpose"), 1);
    }
    {
        // A view chain whose middle value is a graph output is not merged.
        ir::Graph g = q_and_k();
        view(g, "Reshape", "q", "a", {10, 4});
        view(g, "Reshape", "a", "b", {40});
        add_node(g, "Relu", {"b"}, {"y"});
        g.outputs = {"y", "a"};
        EXPECT_EQ(fold(g, in), 0);
        EXPECT_EQ(count(g, "Reshape"), 2);
    }
    {
        // Mul by a vector (not one element) between K^T and the MatMul: nothing moves.
        ir::Graph g = q_and_k();
        add_constant(g, "s", random_tensor({5}, 17));
        transpose(g, "k", "kt", {0, 2, 1});
        add_node(g, "Mul", {"kt", "s"}, {"ks"});
        add_node(g, "MatMul", {"q", "ks"}, {"y"});
        g.outputs = {"y"};
        EXPECT_EQ(fold(g, in), 0);
        EXPECT_EQ(op_types(g), (std::vector<std::string>{"Transpose", "Mul", "MatMul"}));
    }
    {
        // A Transpose that moves bytes into something other than a MatMul (a Relu, a scalar Mul leading nowhere).
        ir::Graph g = q_and_k();
        add_constant(g, "s", ir::Tensor::from_floats({0.5f}, {}));
        transpose(g, "q", "qt", {1, 0, 2});
        add_node(g, "Relu", {"qt"}, {"y"});
        transpose(g, "k", "kt", {0, 2, 1});
        add_node(g, "Mul", {"kt", "s"}, {"z"});
        g.outputs = {"y", "z"};
        EXPECT_EQ(fold(g, in), 0);
        EXPECT_EQ(op_types(g), (std::vector<std::string>{"Transpose", "Relu", "Transpose", "Mul"}));
    }
}

TEST(FoldReshapeTranspose, PerBatchDimsAreNeverUnitAndBecomeMinusOne) {
    // x [B,3,4] at B = 1: T(1,0,2) looks like it moves only a unit axis, but B is the batch.
    auto make = [] {
        ir::Graph g;
        g.opsets[""] = 17;
        add_input(g, "x", {1, 3, 4});
        transpose(g, "x", "t", {1, 0, 2});
        add_node(g, "Relu", {"t"}, {"y"});
        g.outputs = {"y"};
        return g;
    };
    ir::Graph fixed = make();
    EXPECT_EQ(fold(fixed, {{"x", random_tensor({1, 3, 4}, 18)}}), 1);  // a fixed batch of 1: a Reshape
    EXPECT_EQ(op_types(fixed), (std::vector<std::string>{"Reshape", "Relu"}));
    ir::Graph dynamic = make();
    const passes::SymbolicShapes shapes = shapes_at_two_batches(dynamic, 2);
    EXPECT_EQ(fold(dynamic, {{"x", random_tensor({1, 3, 4}, 18)}}, 0.0, &shapes), 0);
    EXPECT_EQ(op_types(dynamic), (std::vector<std::string>{"Transpose", "Relu"}));

    // x [B,4,6] -> Reshape [-1,24] -> Unsqueeze(1): one Reshape to [-1,1,24], right at batch 3 too.
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {2, 4, 6});
    view(g, "Reshape", "x", "a", {-1, 24});
    view(g, "Unsqueeze", "a", "b", {1});
    add_node(g, "Relu", {"b"}, {"y"});
    g.outputs = {"y"};
    const ir::Graph before = g;
    const passes::SymbolicShapes at_two = shapes_at_two_batches(g, 3);
    EXPECT_EQ(fold(g, {{"x", random_tensor({2, 4, 6}, 19)}}, 0.0, &at_two), 1);
    ASSERT_EQ(op_types(g), (std::vector<std::string>{"Reshape", "Relu"}));
    EXPECT_EQ(ir::to_int64s(g.at(g.nodes[0].inputs[1]).constant), (std::vector<int64_t>{-1, 1, 24}));
    expect_same(before, g, {{"x", random_tensor({3, 4, 6}, 20)}});
}

namespace {

// One ViT encoder attention block as today's torch exports it (vit_layer0.txt), small: x [B,S,E] with S = 5
// tokens, E = 8, 2 heads of 4. Reshapes that involve the batch use -1, so the block runs at any batch.
ir::Graph vit_attention(int64_t batch) {
    const int64_t s = 5, e = 8, h = 2, d = 4;
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {batch, s, e});
    add_constant(g, "w_qkv", random_tensor({e, 3 * e}, 21));
    add_constant(g, "b_qkv", random_tensor({3 * e}, 22));
    add_constant(g, "w_out", random_tensor({e, e}, 23));
    add_constant(g, "b_out", random_tensor({e}, 24));
    add_constant(g, "scale_q", ir::Tensor::from_floats({std::sqrt(1.0f / std::sqrt(float(d)))}, {1}));
    add_constant(g, "scale_k", ir::Tensor::from_floats({std::sqrt(1.0f / std::sqrt(float(d)))}, {1}));
    transpose(g, "x", "xt", {1, 0, 2});
    add_node(g, "MatMul", {"xt", "w_qkv"}, {"proj"});
    add_node(g, "Add", {"b_qkv", "proj"}, {"qkv"});
    view(g, "Reshape", "qkv", "qkv4", {s, -1, 3, e});
    view(g, "Unsqueeze", "qkv4", "qkv5", {0});
    transpose(g, "qkv5", "qkv5t", {3, 1, 2, 0, 4});
    view(g, "Squeeze", "qkv5t", "split", {-2});
    const char* names[] = {"q", "k", "v"};
    for (int i = 0; i < 3; ++i) {
        const std::string n = names[i];
        add_constant(g, n + "_index", ir::Tensor::from_int64s({i}, {}));
        add_node(g, "Gather", {"split", n + "_index"}, {n}).attrs["axis"] = ir::int_attribute(0);
        view(g, "Reshape", n, n + "_heads", {s, -1, d});
        transpose(g, n + "_heads", n + "_t", {1, 0, 2});
        view(g, "Reshape", n + "_t", n + "4", {-1, h, s, d});
    }
    transpose(g, "k4", "kT", {0, 1, 3, 2});
    add_node(g, "Mul", {"q4", "scale_q"}, {"qs"});
    add_node(g, "Mul", {"kT", "scale_k"}, {"ks"});
    add_node(g, "MatMul", {"qs", "ks"}, {"scores"});
    add_node(g, "Softmax", {"scores"}, {"p"}).attrs["axis"] = ir::int_attribute(-1);
    add_node(g, "MatMul", {"p", "v4"}, {"attn"});
    transpose(g, "attn", "attn_t", {2, 0, 1, 3});
    view(g, "Reshape", "attn_t", "rows", {-1, e});
    add_node(g, "Gemm", {"rows", "w_out", "b_out"}, {"out"});
    view(g, "Reshape", "out", "out3", {s, -1, e});
    transpose(g, "out3", "out_t", {1, 0, 2});
    add_node(g, "Add", {"out_t", "x"}, {"y"});
    g.outputs = {"y"};
    return g;
}

}  // namespace

TEST(FoldReshapeTranspose, VitAttentionBlockKeepsSevenOfEightTransposes) {
    ir::Graph g = vit_attention(2);
    ASSERT_EQ(count(g, "Transpose"), 8);
    const ir::Graph before = g;
    const passes::SymbolicShapes shapes = shapes_at_two_batches(g, 3);
    EXPECT_GE(fold(g, {{"x", random_tensor({2, 5, 8}, 25)}}, 1e-6, &shapes), 2);
    // Left: before the QKV projection, the q/k/v split (now rank 4), three per-head ones, after attention and
    // at the end. K^T is read transposed by the scores' MatMul, and Unsqueeze/Squeeze are gone.
    EXPECT_EQ(count(g, "Transpose"), 7);
    EXPECT_EQ(count(g, "Unsqueeze"), 0);
    EXPECT_EQ(count(g, "Squeeze"), 0);
    const ir::Node* scores = nullptr;
    for (const auto& n : g.nodes) {
        if (n.outputs[0] == "scores") scores = &n;
        if (n.op_type == "Transpose" && n.attr_ints("perm").size() == 5) ADD_FAILURE() << "a rank-5 Transpose is left";
    }
    ASSERT_NE(scores, nullptr);
    EXPECT_EQ(scores->attr_int("rt_trans_b", 0), 1);
    EXPECT_EQ(g.at(scores->inputs[1]).shape, (ir::Shape{2, 2, 5, 4}));
    // The folded graph is right at another batch too.
    expect_same(before, g, {{"x", random_tensor({3, 5, 8}, 26)}}, 1e-6);

    // At a fixed batch (no second batch to compare with), the same.
    ir::Graph fixed = vit_attention(2);
    fold(fixed, {{"x", random_tensor({2, 5, 8}, 27)}}, 1e-6);
    EXPECT_EQ(count(fixed, "Transpose"), 7);
}

TEST(FoldReshapeTranspose, CpuEngineOfAVitAttentionBlockWithADynamicBatch) {
    // The builder resolves the shape arithmetic at two batches for the pass: the q/k/v split folds although its
    // Reshape's shape comes from Shape/Concat, and K^T moves below the scale computed from q's shape.
    const OnnxMaker model = vit_attention_model();
    BuilderConfig config;
    config.min_batch = 1;
    config.opt_batch = 2;
    config.max_batch = 3;
    auto engine = model.build(config);
    ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
    int transposes = 0, squeezes = 0, attention = 0;
    for (const auto& layer : (*engine)->layers()) {
        transposes += layer.op_type == "Transpose";
        squeezes += layer.op_type == "Squeeze" || layer.op_type == "Unsqueeze";
        attention += layer.op_type == "Attention";
    }
    // K^T went into the fused attention (which reads K as it is); the split's Transposes folded into one.
    EXPECT_EQ(transposes, 7);
    EXPECT_EQ(squeezes, 0);
    EXPECT_EQ(attention, 1);
    const std::string bytes = model.bytes();
    auto imported = rtinfer::onnx::import_model_bytes(bytes.data(), bytes.size(), "vit_attention", "");
    ASSERT_TRUE(imported.has_value()) << imported.status().to_string();
    auto ctx = (*engine)->create_context();
    ASSERT_TRUE(ctx.has_value());
    for (int batch : {1, 2, 3}) {
        SCOPED_TRACE("batch " + std::to_string(batch));
        const ir::Tensor x = random_tensor({batch, 5, 8}, 50 + static_cast<unsigned>(batch));
        ir::Graph g = *imported;
        g.at("x").shape_known = true;
        const auto want = run_at(g, {{"x", x}});
        ASSERT_FALSE(want.empty());
        const ir::Tensor& y = want.at("y");
        std::vector<float> in(x.data<float>(), x.data<float>() + x.numel()), got(static_cast<size_t>(y.numel()));
        ASSERT_TRUE((*ctx)->set_batch(batch).is_ok());
        ASSERT_TRUE((*ctx)->set_tensor_address("x", in.data()).is_ok());
        ASSERT_TRUE((*ctx)->set_tensor_address("y", got.data()).is_ok());
        ASSERT_TRUE((*ctx)->enqueue().is_ok());
        double diff = 0, scale = 0;
        for (int64_t i = 0; i < y.numel(); ++i) {
            diff = std::max(diff, std::fabs(double(got[static_cast<size_t>(i)]) - double(y.data<float>()[i])));
            scale = std::max(scale, std::fabs(double(y.data<float>()[i])));
        }
        EXPECT_GT(scale, 0.1);
        EXPECT_LE(diff, 1e-5 * scale);
    }
}

TEST(FoldReshapeTranspose, TransposedOperandsWithoutShapes) {
    // Shapes unknown (as past data-dependent reshapes): the rewrites that need none still apply.
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "q", {2, 5, 4});
    add_input(g, "k", {2, 5, 4});
    transpose(g, "k", "a", {1, 0, 2});
    transpose(g, "a", "kt", {1, 2, 0});  // together (0,2,1): last two swapped
    add_node(g, "MatMul", {"q", "kt"}, {"y"});
    g.outputs = {"y"};
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    const ir::Graph before = g;
    const passes::SymbolicShapes none;
    int folded = 0;
    ASSERT_TRUE(passes::fold_reshape_transpose(g, &none, &folded).is_ok());
    EXPECT_EQ(folded, 2);
    ASSERT_EQ(op_types(g), (std::vector<std::string>{"MatMul"}));
    EXPECT_EQ(g.nodes[0].attr_int("rt_trans_b", 0), 1);
    expect_same(before, g, {{"q", random_tensor({2, 5, 4}, 28)}, {"k", random_tensor({2, 5, 4}, 29)}}, 1e-6);
}

TEST(ReferenceMatMul, TransposedOperandsMatchAHandTranspose) {
    // A stored [2,1,4,3] read as [2,1,3,4], B stored [3,5,4] read as [3,4,5]: batch dims broadcast to [2,3].
    struct Case {
        ir::Shape a, b;
        bool ta, tb;
    };
    const std::vector<Case> cases = {
        {{2, 1, 4, 3}, {3, 5, 4}, true, true},
        {{2, 1, 3, 4}, {3, 5, 4}, false, true},
        {{2, 1, 4, 3}, {3, 4, 5}, true, false},
        {{6, 4}, {5, 4}, false, true},     // one B matrix: the product folds A's rows
        {{2, 4, 3}, {4, 5}, true, false},  // one B matrix, A transposed: no folding
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(ir::shape_str(c.a) + " x " + ir::shape_str(c.b));
        ir::Graph hand;
        hand.opsets[""] = 17;
        add_input(hand, "a", c.a);
        add_input(hand, "b", c.b);
        auto swap_last = [](size_t rank) {
            std::vector<int64_t> p(rank);
            for (size_t i = 0; i < rank; ++i) p[i] = static_cast<int64_t>(i);
            std::swap(p[rank - 1], p[rank - 2]);
            return p;
        };
        if (c.ta) transpose(hand, "a", "at", swap_last(c.a.size()));
        if (c.tb) transpose(hand, "b", "bt", swap_last(c.b.size()));
        add_node(hand, "MatMul", {c.ta ? "at" : "a", c.tb ? "bt" : "b"}, {"y"});
        hand.outputs = {"y"};

        ir::Graph flagged;
        flagged.opsets[""] = 17;
        add_input(flagged, "a", c.a);
        add_input(flagged, "b", c.b);
        ir::Node& mm = add_node(flagged, "MatMul", {"a", "b"}, {"y"});
        if (c.ta) mm.attrs["rt_trans_a"] = ir::int_attribute(1);
        if (c.tb) mm.attrs["rt_trans_b"] = ir::int_attribute(1);
        flagged.outputs = {"y"};
        const std::map<std::string, ir::Tensor> in = {{"a", random_tensor(c.a, 30)}, {"b", random_tensor(c.b, 31)}};
        ir::Graph shaped = flagged;
        ASSERT_TRUE(ir::infer_shapes(shaped, ref::reference_registry()).is_ok());
        ir::Graph hand_shaped = hand;
        ASSERT_TRUE(ir::infer_shapes(hand_shaped, ref::reference_registry()).is_ok());
        EXPECT_EQ(shaped.at("y").shape, hand_shaped.at("y").shape);
        expect_same(hand, flagged, in, 1e-6);
    }
    // A transposed operand of rank 1 is an error naming the node.
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "a", {4});
    add_input(g, "b", {4, 5});
    add_node(g, "MatMul", {"a", "b"}, {"y"}, "mm").attrs["rt_trans_a"] = ir::int_attribute(1);
    Status s = ir::infer_shapes(g, ref::reference_registry());
    EXPECT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("mm"), std::string::npos) << s.to_string();
}
