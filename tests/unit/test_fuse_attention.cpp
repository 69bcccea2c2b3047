// fuse_attention: the graph before and after for the ways attention is exported (torch's scaled_dot_product_attention
// with sqrt(1/sqrt(D)) on Q and K^T, no scale, Div, the scale before the Transpose or on the scores), the same
// numbers from both on the reference backend, and the patterns it must leave alone; the reference Attention kernel
// against a direct computation; fold_constants on Shapes of batch-dependent values; and a dynamic-batch CPU engine
// whose attention scale the export computes from Shape(q).
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "core/ir/half.h"
#include "core/ir/op.h"
#include "core/ir/shape_inference.h"
#include "core/kernels/ref/ref_backend.h"
#include "core/passes/passes.h"
#include "tests/unit/attention_model.h"
#include "tests/unit/graph_builders.h"
#include "tests/unit/plugin_test_util.h"
#include "tests/unit/reference_run.h"

using namespace rtinfer;
using namespace rtinfer::testing;

namespace {

ir::Tensor scalar(float v) {
    return ir::Tensor::from_floats({v}, {});
}

ir::Attribute ints_attr(const std::vector<int64_t>& v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInts;
    a.ints = v;
    return a;
}

ir::Attribute int_attr(int64_t v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInt;
    a.i = v;
    return a;
}

ir::Node* find_op(ir::Graph& g, const std::string& op) {
    for (auto& n : g.nodes) {
        if (n.op_type == op) return &n;
    }
    return nullptr;
}

// max |a - b| / max |a|, both float32
double rel_error(const std::vector<double>& a, const std::vector<double>& b) {
    EXPECT_EQ(a.size(), b.size());
    if (a.size() != b.size()) return 1e30;
    double diff = 0, ref = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, std::fabs(a[i] - b[i]));
        ref = std::max(ref, std::fabs(a[i]));
    }
    EXPECT_GT(ref, 0.0);
    return diff / ref;
}

// Where the export puts the scale.
enum class Scale { kNone, kBoth, kDivBoth, kBeforeTranspose, kOnScores };

struct Dims {
    int64_t b = 2, h = 3, sq = 6, sk = 6, d = 8, dv = 8;
};

// Attention as exported over Q [b, h, sq, d], K [b, h, sk, d], V [b, h, sk, dv]: K^T by a Transpose, MatMul,
// Softmax on the last axis, MatMul; output "y". kBoth is torch's scaled_dot_product_attention: Q and K^T each
// times sqrt(1/sqrt(d)).
ir::Graph attention_graph(Scale scale, const Dims& s = Dims()) {
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "q", {s.b, s.h, s.sq, s.d});
    add_input(g, "k", {s.b, s.h, s.sk, s.d});
    add_input(g, "v", {s.b, s.h, s.sk, s.dv});
    const float root = std::sqrt(std::sqrt(static_cast<float>(s.d)));
    add_constant(g, "c", scalar(scale == Scale::kDivBoth ? root : 1.0f / root));
    const std::string op = scale == Scale::kDivBoth ? "Div" : "Mul";
    std::string q = "q", k = "k", kt = "kt", scores = "scores";
    if (scale == Scale::kBeforeTranspose) {
        add_node(g, "Mul", {"c", "k"}, {"k_scaled"});
        k = "k_scaled";
    }
    add_node(g, "Transpose", {k}, {"kt"}).attrs["perm"] = ints_attr({0, 1, 3, 2});
    if (scale == Scale::kBoth || scale == Scale::kDivBoth || scale == Scale::kBeforeTranspose) {
        add_node(g, op, {"q", "c"}, {"q_scaled"});
        q = "q_scaled";
    }
    if (scale == Scale::kBoth || scale == Scale::kDivBoth) {
        add_node(g, op, {"kt", "c"}, {"kt_scaled"});
        kt = "kt_scaled";
    }
    add_node(g, "MatMul", {q, kt}, {"scores"});
    if (scale == Scale::kOnScores) {
        add_constant(g, "root_d", scalar(std::sqrt(static_cast<float>(s.d))));
        add_node(g, "Div", {"scores", "root_d"}, {"scores_scaled"});
        scores = "scores_scaled";
    }
    add_node(g, "Softmax", {scores}, {"p"}).attrs["axis"] = int_attr(-1);
    add_node(g, "MatMul", {"p", "v"}, {"y"}, "attention_out");
    g.outputs = {"y"};
    return g;
}

// Random float32 values for the graph's inputs.
std::map<std::string, ir::Tensor> attention_inputs(const ir::Graph& g) {
    std::map<std::string, ir::Tensor> out;
    unsigned seed = 21;
    for (const auto& name : g.inputs) out[name] = random_tensor(g.at(name).shape, seed++);
    return out;
}

// Runs the pass on g and checks y before and after on random data; returns the fused count.
int fuse_and_compare(ir::Graph& g) {
    EXPECT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    const auto inputs = attention_inputs(g);
    const auto before = run_reference(g, inputs);
    EXPECT_FALSE(before.empty());
    int fused = -1;
    Status st = passes::fuse_attention(g, &fused);
    EXPECT_TRUE(st.is_ok()) << st.to_string();
    EXPECT_TRUE(g.validate().is_ok());
    EXPECT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    const auto after = run_reference(g, inputs);
    EXPECT_FALSE(after.empty());
    if (before.empty() || after.empty()) return fused;
    EXPECT_LE(rel_error(ir::to_doubles(before.at("y")), ir::to_doubles(after.at("y"))), 1e-5);
    return fused;
}

// softmax(q k^T * scale) v on [batch, s, d] arrays, in double.
std::vector<double> direct_attention(const ir::Tensor& q, const ir::Tensor& k, const ir::Tensor& v, double scale) {
    const std::vector<double> qd = ir::to_doubles(q), kd = ir::to_doubles(k), vd = ir::to_doubles(v);
    const size_t r = q.shape().size();
    const int64_t sq = q.shape()[r - 2], d = q.shape()[r - 1], sk = k.shape()[r - 2], dv = v.shape()[r - 1];
    const int64_t batch = q.numel() / (sq * d);
    std::vector<double> y(static_cast<size_t>(batch * sq * dv), 0.0);
    for (int64_t b = 0; b < batch; ++b) {
        for (int64_t i = 0; i < sq; ++i) {
            std::vector<double> s(static_cast<size_t>(sk));
            for (int64_t j = 0; j < sk; ++j) {
                for (int64_t c = 0; c < d; ++c) s[j] += qd[(b * sq + i) * d + c] * kd[(b * sk + j) * d + c];
                s[j] *= scale;
            }
            const double m = *std::max_element(s.begin(), s.end());
            double sum = 0;
            for (double& x : s) sum += (x = std::exp(x - m));
            for (int64_t j = 0; j < sk; ++j) {
                for (int64_t c = 0; c < dv; ++c) y[(b * sq + i) * dv + c] += s[j] / sum * vd[(b * sk + j) * dv + c];
            }
        }
    }
    return y;
}

ir::Node attention_node(float scale) {
    ir::Node n;
    n.name = "att";
    n.op_type = "Attention";
    n.domain = ir::kRtinferDomain;
    n.inputs = {"q", "k", "v"};
    n.outputs = {"y"};
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kFloat;
    a.f = scale;
    n.attrs["scale"] = a;
    return n;
}

}  // namespace

TEST(FuseAttention, TorchSdpaExportBecomesOneAttention) {
    ir::Graph g = attention_graph(Scale::kBoth);
    EXPECT_EQ(op_types(g), (std::vector<std::string>{"Transpose", "Mul", "Mul", "MatMul", "Softmax", "MatMul"}));
    EXPECT_EQ(fuse_and_compare(g), 1);
    ASSERT_EQ(op_types(g), (std::vector<std::string>{"Attention"}));
    const ir::Node& n = g.nodes[0];
    EXPECT_EQ(n.domain, ir::kRtinferDomain);
    EXPECT_EQ(n.name, "attention_out");
    EXPECT_EQ(n.inputs, (std::vector<std::string>{"q", "k", "v"}));
    EXPECT_EQ(n.outputs, (std::vector<std::string>{"y"}));
    EXPECT_NEAR(n.attr_float("scale", 0.0f), 1.0 / std::sqrt(8.0), 1e-6);
    // The scale constant and the intermediate values are gone.
    for (const char* gone : {"c", "kt", "q_scaled", "kt_scaled", "scores", "p"}) {
        EXPECT_EQ(g.find(gone), nullptr) << gone;
    }
}

TEST(FuseAttention, EveryScaleFormFuses) {
    const struct {
        Scale scale;
        double expected;
        const char* what;
    } cases[] = {{Scale::kNone, 1.0, "no scale"},
                 {Scale::kDivBoth, 1.0 / std::sqrt(8.0), "Div on Q and K^T"},
                 {Scale::kBeforeTranspose, 1.0 / std::sqrt(8.0), "Mul on K before the Transpose"},
                 {Scale::kOnScores, 1.0 / std::sqrt(8.0), "Div of the scores"}};
    for (const auto& c : cases) {
        ir::Graph g = attention_graph(c.scale);
        EXPECT_EQ(fuse_and_compare(g), 1) << c.what;
        ASSERT_EQ(op_types(g), (std::vector<std::string>{"Attention"})) << c.what;
        EXPECT_NEAR(g.nodes[0].attr_float("scale", 0.0f), c.expected, 1e-6) << c.what;
    }
}

TEST(FuseAttention, CrossAttentionShapesFuse) {
    // Sq != Sk, Dv != D, a single head of a single batch entry, a ViT-like 197 tokens.
    for (const Dims& s : {Dims{2, 3, 5, 7, 8, 4}, Dims{1, 1, 197, 197, 64, 64}, Dims{1, 2, 1, 9, 16, 24}}) {
        ir::Graph g = attention_graph(Scale::kBoth, s);
        EXPECT_EQ(fuse_and_compare(g), 1) << s.sq << "x" << s.sk;
        EXPECT_EQ(op_types(g), (std::vector<std::string>{"Attention"}));
    }
}

TEST(FuseAttention, LeavesOtherPatternsAlone) {
    const auto unchanged = [](ir::Graph g, const std::string& what) {
        ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok()) << what;
        const auto before = op_types(g);
        int fused = -1;
        ASSERT_TRUE(passes::fuse_attention(g, &fused).is_ok()) << what;
        EXPECT_EQ(fused, 0) << what;
        EXPECT_EQ(op_types(g), before) << what;
    };
    {
        ir::Graph g = attention_graph(Scale::kBoth);
        find_op(g, "Softmax")->attrs["axis"] = int_attr(2);
        unchanged(g, "softmax over the queries");
    }
    {
        ir::Graph g = attention_graph(Scale::kBoth);
        g.outputs.push_back("p");
        unchanged(g, "probabilities also a graph output");
    }
    {
        ir::Graph g = attention_graph(Scale::kBoth);
        add_node(g, "Relu", {"scores"}, {"scores_relu"});
        g.outputs.push_back("scores_relu");
        unchanged(g, "scores read by another node");
    }
    {
        ir::Graph g = attention_graph(Scale::kBoth);
        add_constant(g, "c_keys", random_tensor({6}, 5));
        for (auto& n : g.nodes) {
            if (n.op_type == "Mul" && n.inputs[0] == "kt") n.inputs[1] = "c_keys";
        }
        unchanged(g, "a per-key Mul of K^T");
    }
    {
        // Batch and head swapped as well as the last two axes: the MatMul still takes it (b == h), with other
        // numbers.
        ir::Graph g = attention_graph(Scale::kNone, Dims{2, 2, 6, 6, 8, 8});
        find_op(g, "Transpose")->attrs["perm"] = ints_attr({1, 0, 3, 2});
        unchanged(g, "a Transpose that also swaps batch and head");
    }
    {
        // Without perm the Transpose reverses all four axes: K [8, 6, 2, 2] gives K^T [2, 2, 6, 8].
        ir::Graph g = attention_graph(Scale::kNone, Dims{2, 2, 6, 8, 6, 8});
        find_op(g, "Transpose")->attrs.erase("perm");
        g.at("k").shape = {8, 6, 2, 2};
        unchanged(g, "a Transpose without perm of a rank-4 K");
    }
    {
        ir::Graph g = attention_graph(Scale::kBoth, Dims{1, 2, 4, 4, 160, 8});
        unchanged(g, "head dim 160");
    }
}

TEST(FuseAttention, NonScalarFactorOfQStaysOutside) {
    // Q times a per-channel constant: that Mul computes Q; only K^T's scalar joins the scale.
    ir::Graph g = attention_graph(Scale::kBoth);
    add_constant(g, "c_row", random_tensor({8}, 5));
    for (auto& n : g.nodes) {
        if (n.op_type == "Mul" && n.inputs[0] == "q") n.inputs[1] = "c_row";
    }
    EXPECT_EQ(fuse_and_compare(g), 1);
    ASSERT_EQ(op_types(g), (std::vector<std::string>{"Mul", "Attention"}));
    EXPECT_EQ(g.nodes[1].inputs, (std::vector<std::string>{"q_scaled", "k", "v"}));
    EXPECT_NEAR(g.nodes[1].attr_float("scale", 0.0f), 1.0 / std::sqrt(std::sqrt(8.0)), 1e-6);
}

TEST(FuseAttention, MatricesWithoutLeadingDimsFuse) {
    // Q [6, 8], K [6, 8], V [6, 8]: a Transpose without perm of a matrix swaps its two axes.
    ir::Graph g;
    g.opsets[""] = 17;
    for (const char* in : {"q", "k", "v"}) add_input(g, in, {6, 8});
    add_node(g, "Transpose", {"k"}, {"kt"});
    add_node(g, "MatMul", {"q", "kt"}, {"scores"});
    add_node(g, "Softmax", {"scores"}, {"p"});
    add_node(g, "MatMul", {"p", "v"}, {"y"});
    g.outputs = {"y"};
    EXPECT_EQ(fuse_and_compare(g), 1);
    EXPECT_EQ(op_types(g), (std::vector<std::string>{"Attention"}));
}

TEST(FuseAttention, FusedFloat16GraphKeepsItsType) {
    // A graph already in float16 (inputs and the scale constant): the Attention takes float16 Q, K and V.
    ir::Graph g = attention_graph(Scale::kBoth);
    for (const char* in : {"q", "k", "v"}) g.at(in).dtype = DataType::kFloat16;
    auto half_c = ir::cast_tensor(g.at("c").constant, DataType::kFloat16);
    ASSERT_TRUE(half_c.has_value());
    g.at("c").constant = *half_c;
    g.at("c").dtype = DataType::kFloat16;
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    int fused = 0;
    ASSERT_TRUE(passes::fuse_attention(g, &fused).is_ok());
    EXPECT_EQ(fused, 1);
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    EXPECT_EQ(g.at("y").dtype, DataType::kFloat16);
    std::map<std::string, ir::Tensor> inputs;
    for (const auto& [name, t] : attention_inputs(g)) {
        auto h = ir::cast_tensor(t, DataType::kFloat16);
        ASSERT_TRUE(h.has_value());
        inputs[name] = *h;
    }
    const auto out = run_reference(g, inputs);
    ASSERT_FALSE(out.empty());
    EXPECT_LE(rel_error(direct_attention(inputs.at("q"), inputs.at("k"), inputs.at("v"), 1.0 / std::sqrt(8.0)),
                        ir::to_doubles(out.at("y"))),
              2e-3);
}

TEST(AttentionKernel, ReferenceMatchesADirectComputation) {
    // Leading dims [2, 3], Sq 5, Sk 7, D 4, Dv 3; the scores scaled up so that the softmax is far from flat.
    const ir::Tensor q = random_tensor({2, 3, 5, 4}, 31), k = random_tensor({2, 3, 7, 4}, 32);
    const ir::Tensor v = random_tensor({2, 3, 7, 3}, 33);
    const ir::Node node = attention_node(2.5f);
    const ir::OpKernel* kernel = ref::reference_registry().find(ir::kRtinferDomain, "Attention");
    ASSERT_NE(kernel, nullptr);
    std::vector<ir::Tensor> out;
    Status s = ref::evaluate_node(*kernel, node, 1, {&q, &k, &v}, out);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].shape(), (ir::Shape{2, 3, 5, 3}));
    EXPECT_EQ(out[0].dtype(), DataType::kFloat32);
    EXPECT_LE(rel_error(direct_attention(q, k, v, 2.5), ir::to_doubles(out[0])), 1e-6);

    // A hand-computed case: one query, two keys with scores 0 and ln 3 -> weights 1/4 and 3/4.
    const ir::Tensor q1 = ir::Tensor::from_floats({1.0f}, {1, 1});
    const ir::Tensor k1 = ir::Tensor::from_floats({0.0f, std::log(3.0f)}, {2, 1});
    const ir::Tensor v1 = ir::Tensor::from_floats({4.0f, -8.0f, 8.0f, 4.0f}, {2, 2});
    out.clear();
    ASSERT_TRUE(ref::evaluate_node(*kernel, attention_node(1.0f), 1, {&q1, &k1, &v1}, out).is_ok());
    ASSERT_EQ(out[0].shape(), (ir::Shape{1, 2}));
    EXPECT_NEAR(out[0].data<float>()[0], 7.0f, 1e-5);
    EXPECT_NEAR(out[0].data<float>()[1], 1.0f, 1e-5);
}

TEST(AttentionKernel, ReferenceRejectsMismatchedShapes) {
    const ir::OpKernel* kernel = ref::reference_registry().find(ir::kRtinferDomain, "Attention");
    ASSERT_NE(kernel, nullptr);
    const ir::Tensor q = random_tensor({2, 5, 4}, 1), k = random_tensor({2, 7, 4}, 2), v = random_tensor({2, 7, 3}, 3);
    const ir::Tensor k_wide = random_tensor({2, 7, 5}, 4), v_short = random_tensor({2, 6, 3}, 5);
    const ir::Tensor k_batch = random_tensor({3, 7, 4}, 6);
    std::vector<ir::Tensor> out;
    for (const auto& [ins, what] : std::vector<std::pair<std::vector<const ir::Tensor*>, std::string>>{
             {{&q, &k_wide, &v}, "D differs"}, {{&q, &k, &v_short}, "Sk differs"}, {{&q, &k_batch, &v}, "batch"}}) {
        Status s = ref::evaluate_node(*kernel, attention_node(1.0f), 1, ins, out);
        EXPECT_FALSE(s.is_ok()) << what;
        EXPECT_NE(s.message().find("node 'att'"), std::string::npos) << s.message();
    }
    ir::Node no_scale = attention_node(1.0f);
    no_scale.attrs.clear();
    Status s = ref::evaluate_node(*kernel, no_scale, 1, {&q, &k, &v}, out);
    EXPECT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("scale"), std::string::npos) << s.message();
}

TEST(FoldConstants, ShapesOfBatchDependentValuesFoldWhereTheyReadStaticDims) {
    // x [N, 12, 197, 64] with N the batch: Shape(x)[-1:] and Shape(x, start=1) are constant, Shape(x)[0] is not.
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {2, 12, 197, 64});
    add_constant(g, "minus1", ir::Tensor::from_int64s({-1}, {1}));
    add_constant(g, "big", ir::Tensor::from_int64s({INT64_MAX}, {1}));
    add_constant(g, "zero", ir::Tensor::from_int64s({0}, {}));
    add_node(g, "Shape", {"x"}, {"shape"});
    add_node(g, "Slice", {"shape", "minus1", "big"}, {"head_dim"});
    add_node(g, "Gather", {"shape", "zero"}, {"batch"}).attrs["axis"] = int_attr(0);
    add_node(g, "Shape", {"x"}, {"tail"}).attrs["start"] = int_attr(1);
    g.outputs = {"head_dim", "batch", "tail"};
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    passes::FoldOptions options;
    options.batch_dependent = {"x"};
    options.static_dims["x"] = {-1, 12, 197, 64};
    auto evaluate = [](const ir::Node& node, const std::vector<const ir::Tensor*>& ins, std::vector<ir::Tensor>& outs) {
        return ref::evaluate_node(*ref::reference_registry().find(node.domain, node.op_type), node, 17, ins, outs);
    };
    int folded = 0;
    ASSERT_TRUE(passes::fold_constants(g, evaluate, options, &folded).is_ok());
    EXPECT_EQ(folded, 2);
    EXPECT_EQ(op_types(g), (std::vector<std::string>{"Shape", "Gather"}));
    ASSERT_TRUE(g.at("head_dim").is_constant());
    EXPECT_EQ(ir::to_int64s(g.at("head_dim").constant), (std::vector<int64_t>{64}));
    ASSERT_TRUE(g.at("tail").is_constant());
    EXPECT_EQ(ir::to_int64s(g.at("tail").constant), (std::vector<int64_t>{12, 197, 64}));
    EXPECT_FALSE(g.at("batch").is_constant());
}

TEST(FuseAttention, DynamicBatchCpuEngineRunsOneAttention) {
    // torch's export with a dynamic batch: the scale is sqrt(1 / sqrt(Shape(q)[-1])), computed at run time in the
    // ONNX graph. The build folds it (the head dim does not depend on the batch) and fuses the attention.
    const int64_t h = 2, s = 5, d = 16;
    const OnnxMaker m = sdpa_model(h, s, d);
    BuilderConfig config;
    config.max_batch = 3;
    auto engine = m.build(config);
    ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
    const auto layers = (*engine)->layers();
    ASSERT_EQ(layers.size(), 1u);
    EXPECT_EQ(layers[0].op_type, "Attention");
    auto ctx = (*engine)->create_context();
    ASSERT_TRUE(ctx.has_value()) << ctx.status().to_string();
    for (int batch : {3, 1}) {
        ASSERT_TRUE((*ctx)->set_batch(batch).is_ok());
        const ir::Tensor q = random_tensor({batch, h, s, d}, 41), k = random_tensor({batch, h, s, d}, 42);
        const ir::Tensor v = random_tensor({batch, h, s, d}, 43);
        std::vector<float> y(static_cast<size_t>(v.numel()), -99.0f);
        ASSERT_TRUE((*ctx)->set_tensor_address("q", const_cast<void*>(q.raw())).is_ok());
        ASSERT_TRUE((*ctx)->set_tensor_address("k", const_cast<void*>(k.raw())).is_ok());
        ASSERT_TRUE((*ctx)->set_tensor_address("v", const_cast<void*>(v.raw())).is_ok());
        ASSERT_TRUE((*ctx)->set_tensor_address("y", y.data()).is_ok());
        ASSERT_TRUE((*ctx)->enqueue().is_ok());
        EXPECT_LE(rel_error(direct_attention(q, k, v, 0.25), std::vector<double>(y.begin(), y.end())), 1e-5)
            << "batch " << batch;
    }
}
