// convert_to_nhwc: the graph before and after, and the same numbers from both on the reference backend.
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
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInts;
    a.ints = std::move(v);
    return a;
}

int count_ops(const ir::Graph& g, const std::string& op) {
    int n = 0;
    for (const auto& node : g.nodes) n += node.op_type == op;
    return n;
}

// x -> Conv 3x3 -> Relu -> MaxPool 3x3/2 (asymmetric pads) -> Conv 1x1 -> Add(residual: 1x1/2 conv of x)
//   -> Mul(per-channel constant) -> GlobalAveragePool -> Flatten: one channels-last region from the input to
//   the pool.
ir::Graph residual_block() {
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {2, 4, 6, 6});
    add_constant(g, "w1", random_tensor({8, 4, 3, 3}, 1));
    add_constant(g, "b1", random_tensor({8}, 2));
    add_constant(g, "w2", random_tensor({8, 8, 1, 1}, 3));
    add_constant(g, "w3", random_tensor({8, 4, 1, 1}, 4));
    add_constant(g, "scale", random_tensor({8, 1, 1}, 5));
    ir::Node& c1 = add_node(g, "Conv", {"x", "w1", "b1"}, {"c1"}, "conv1");
    c1.attrs["pads"] = ints({1, 1, 1, 1});
    add_node(g, "Relu", {"c1"}, {"r1"}, "relu1");
    ir::Node& pool = add_node(g, "MaxPool", {"r1"}, {"p1"}, "pool1");
    pool.attrs["kernel_shape"] = ints({3, 3});
    pool.attrs["strides"] = ints({2, 2});
    pool.attrs["pads"] = ints({0, 0, 1, 1});
    add_node(g, "Conv", {"p1", "w2"}, {"c2"}, "conv2");
    ir::Node& skip = add_node(g, "Conv", {"x", "w3"}, {"skip"}, "conv_skip");
    skip.attrs["strides"] = ints({2, 2});
    add_node(g, "Add", {"c2", "skip"}, {"sum"}, "add");
    add_node(g, "Mul", {"sum", "scale"}, {"scaled"}, "mul");
    add_node(g, "GlobalAveragePool", {"scaled"}, {"pooled"}, "gap");
    add_node(g, "Flatten", {"pooled"}, {"y"}, "flatten");
    g.outputs = {"y"};
    return g;
}

}  // namespace

TEST(Passes, ConvertToNhwcLeavesOneReformatAtEachEdgeOfTheRegion) {
    ir::Graph g = residual_block();
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    const ir::Tensor x = random_tensor({2, 4, 6, 6}, 9);
    const auto before = run_reference(g, {{"x", x}});
    ASSERT_FALSE(before.empty());

    int converted = 0, reformats = 0;
    ASSERT_TRUE(passes::convert_to_nhwc(g, false, &converted, &reformats).is_ok());
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    ASSERT_TRUE(g.validate().is_ok());
    EXPECT_EQ(converted, 5);  // three convolutions and the two pools
    EXPECT_EQ(count_ops(g, "NhwcConv"), 3);
    EXPECT_EQ(count_ops(g, "NhwcMaxPool"), 1);
    EXPECT_EQ(count_ops(g, "MaxPool"), 0);
    EXPECT_EQ(count_ops(g, "NhwcGlobalAveragePool"), 1);
    EXPECT_EQ(count_ops(g, "Conv"), 0);
    // One Transpose into channels-last at the input (shared by conv1 and the skip conv), one out after the pool.
    EXPECT_EQ(count_ops(g, "Transpose"), 2);
    EXPECT_EQ(reformats, 2);
    EXPECT_EQ(g.find("w1"), nullptr);  // the OIHW weights are replaced by their OHWI copies
    for (const auto& n : g.nodes) {
        if (n.op_type == "NhwcConv") {
            EXPECT_EQ(g.at(n.inputs[1]).shape[3], 4 + 4 * (n.name == "conv2"));  // OHWI
        }
    }
    EXPECT_EQ(g.at("y").shape, (ir::Shape{2, 8}));

    const auto after = run_reference(g, {{"x", x}});
    ASSERT_FALSE(after.empty());
    const ir::Tensor& a = before.at("y");
    const ir::Tensor& b = after.at("y");
    ASSERT_EQ(a.shape(), b.shape());
    for (int64_t i = 0; i < a.numel(); ++i) EXPECT_NEAR(a.data<float>()[i], b.data<float>()[i], 1e-5) << i;
}

TEST(Passes, ConvertToNhwcHalfOnlySkipsFloat32AndAsymmetricPads) {
    ir::Graph g = residual_block();
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    int converted = -1;
    ASSERT_TRUE(passes::convert_to_nhwc(g, true, &converted).is_ok());
    EXPECT_EQ(converted, 0);
    EXPECT_EQ(count_ops(g, "Transpose"), 0);

    ir::Graph h = residual_block();
    h.nodes[0].attrs["pads"] = ints({2, 2, 0, 0});  // conv1: asymmetric (same size), stays NCHW
    ASSERT_TRUE(ir::infer_shapes(h, ref::reference_registry()).is_ok());
    ASSERT_TRUE(passes::convert_to_nhwc(h, false, &converted).is_ok());
    EXPECT_EQ(converted, 4);
    EXPECT_EQ(count_ops(h, "Conv"), 1);
    ASSERT_TRUE(ir::infer_shapes(h, ref::reference_registry()).is_ok());
    EXPECT_TRUE(h.validate().is_ok());
}

TEST(Passes, FuseConvResidualTakesTheAddAndThenTheRelu) {
    ir::Graph g = residual_block();
    // Relu after the residual Add: conv2 -> Add(skip) -> Relu becomes one NhwcConv with Z and a fused ReLU.
    for (auto& n : g.nodes) {
        if (n.name == "mul") {
            n.op_type = "Relu";
            n.inputs = {"sum"};
        }
    }
    g.erase_value("scale");
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    const ir::Tensor x = random_tensor({2, 4, 6, 6}, 11);
    const auto before = run_reference(g, {{"x", x}});
    ASSERT_FALSE(before.empty());

    ASSERT_TRUE(passes::convert_to_nhwc(g, false).is_ok());
    int residual = 0, activations = 0;
    ASSERT_TRUE(passes::fuse_conv_residual(g, &residual).is_ok());
    EXPECT_EQ(residual, 1);
    EXPECT_EQ(count_ops(g, "Add"), 0);
    ASSERT_TRUE(passes::fuse_conv_activation(g, &activations).is_ok());
    EXPECT_EQ(activations, 2);  // relu1, now right after conv1 in channels-last, and the Relu after the Add
    EXPECT_EQ(count_ops(g, "Relu"), 0);
    int with_z = 0;
    for (const auto& n : g.nodes) {
        if (n.op_type != "NhwcConv" || n.inputs.size() != 4) continue;
        ++with_z;
        EXPECT_TRUE(n.has_attr("rt_fused_activation")) << n.name;
    }
    EXPECT_EQ(with_z, 1);
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    ASSERT_TRUE(g.validate().is_ok());
    const auto after = run_reference(g, {{"x", x}});
    ASSERT_FALSE(after.empty());
    const ir::Tensor& a = before.at("y");
    const ir::Tensor& b = after.at("y");
    ASSERT_EQ(a.shape(), b.shape());
    for (int64_t i = 0; i < a.numel(); ++i) EXPECT_NEAR(a.data<float>()[i], b.data<float>()[i], 1e-5) << i;
}

namespace {

// x -> Conv 1x1 (expand 4 -> 12) -> act -> depthwise Conv 3x3 (group 12) -> y, and a second depthwise conv
// reading x's expansion when `shared`.
ir::Graph expand_depthwise(const char* act, bool shared) {
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {2, 4, 5, 5});
    add_constant(g, "we", random_tensor({12, 4, 1, 1}, 21));
    add_constant(g, "be", random_tensor({12}, 22));
    add_constant(g, "wd", random_tensor({12, 1, 3, 3}, 23));
    add_node(g, "Conv", {"x", "we", "be"}, {"e"}, "expand");
    if (std::string(act) == "Clip") {
        add_constant(g, "lo", random_tensor({}, 24));
        g.at("lo").constant.data<float>()[0] = 0.0f;
        add_constant(g, "hi", random_tensor({}, 25));
        g.at("hi").constant.data<float>()[0] = 0.5f;
        add_node(g, "Clip", {"e", "lo", "hi"}, {"a"}, "act");
    } else {
        add_node(g, act, {"e"}, {"a"}, "act");
    }
    ir::Node& dw = add_node(g, "Conv", {"a", "wd"}, {"y"}, "depthwise");
    dw.attrs["group"] = ir::Attribute{};
    dw.attrs["group"].kind = ir::Attribute::Kind::kInt;
    dw.attrs["group"].i = 12;
    dw.attrs["pads"] = ints({1, 1, 1, 1});
    g.outputs = {"y"};
    if (shared) {
        ir::Node copy = dw;
        copy.name = "depthwise2";
        copy.outputs = {"y2"};
        g.nodes.push_back(copy);
        g.outputs.push_back("y2");
    }
    return g;
}

int run_input_activation_passes(ir::Graph& g) {
    EXPECT_TRUE(passes::fuse_conv_activation(g).is_ok());
    EXPECT_TRUE(passes::convert_to_nhwc(g, false).is_ok());
    EXPECT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    int moved = -1;
    EXPECT_TRUE(passes::fuse_input_activation(g, &moved).is_ok());
    EXPECT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    EXPECT_TRUE(g.validate().is_ok());
    return moved;
}

}  // namespace

TEST(Passes, FuseInputActivationMovesClipAndSiluIntoTheDepthwiseConv) {
    for (const char* act : {"Clip", "Sigmoid"}) {
        ir::Graph g = expand_depthwise(act, false);
        ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
        const ir::Tensor x = random_tensor({2, 4, 5, 5}, 31);
        const auto before = run_reference(g, {{"x", x}});
        ASSERT_FALSE(before.empty());
        EXPECT_EQ(run_input_activation_passes(g), 1) << act;
        for (const auto& n : g.nodes) {
            if (n.name == "expand") {
                EXPECT_FALSE(n.has_attr("rt_fused_activation")) << act;
            }
            if (n.name == "depthwise") {
                EXPECT_EQ(n.attr_int("rt_input_activation", 0), std::string(act) == "Clip" ? 2 : 3) << act;
                if (std::string(act) == "Clip") {
                    EXPECT_FLOAT_EQ(n.attr_float("rt_input_clip_max", 0.0f), 0.5f);
                }
            }
        }
        const auto after = run_reference(g, {{"x", x}});
        ASSERT_FALSE(after.empty());
        const ir::Tensor& a = before.at("y");
        const ir::Tensor& b = after.at("y");
        ASSERT_EQ(a.shape(), b.shape());
        for (int64_t i = 0; i < a.numel(); ++i) EXPECT_NEAR(a.data<float>()[i], b.data<float>()[i], 1e-5) << act << i;
    }
}

TEST(Passes, FuseInputActivationLeavesReluAndSharedOutputsAlone) {
    ir::Graph relu = expand_depthwise("Relu", false);
    ASSERT_TRUE(ir::infer_shapes(relu, ref::reference_registry()).is_ok());
    EXPECT_EQ(run_input_activation_passes(relu), 0);  // cuDNN and cuBLASLt fuse ReLU already

    ir::Graph shared = expand_depthwise("Sigmoid", true);
    ASSERT_TRUE(ir::infer_shapes(shared, ref::reference_registry()).is_ok());
    EXPECT_EQ(run_input_activation_passes(shared), 0);  // two readers: the activation stays in the producer
    for (const auto& n : shared.nodes) {
        if (n.name == "expand") {
            EXPECT_TRUE(n.has_attr("rt_fused_activation"));
        }
    }
}

TEST(Passes, ConvertToNhwcPadsFloat16StemChannelsToEight) {
    ir::Graph g = residual_block();
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    ASSERT_TRUE(passes::convert_to_fp16(g).is_ok());
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    int converted = 0;
    ASSERT_TRUE(passes::convert_to_nhwc(g, true, &converted).is_ok());
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    ASSERT_TRUE(g.validate().is_ok());
    EXPECT_EQ(converted, 5);
    // conv1 and the skip conv read x (4 channels): one shared Pad to 8 channels, their weights padded too.
    EXPECT_EQ(count_ops(g, "Pad"), 1);
    int padded = 0;
    for (const auto& n : g.nodes) {
        if (n.op_type != "NhwcConv") continue;
        const ir::Value& w = g.at(n.inputs[1]);
        const ir::Value& x = g.at(n.inputs[0]);
        EXPECT_EQ(w.shape[3], x.shape[3]) << n.name;
        if (n.name == "conv1" || n.name == "conv_skip") {
            EXPECT_EQ(w.shape[3], 8) << n.name;
            // The added input channels have zero weights.
            const auto* h = w.constant.data<uint16_t>();
            for (int64_t i = 0; i < w.constant.numel(); ++i) {
                if (i % 8 >= 4) {
                    EXPECT_EQ(h[i], 0) << n.name << " " << i;
                }
            }
            ++padded;
        }
    }
    EXPECT_EQ(padded, 2);

    // The entry reformat Cast -> Transpose -> Pad becomes one NchwToNhwc.
    const int casts = count_ops(g, "Cast");
    int fused = 0;
    ASSERT_TRUE(passes::fuse_input_reformat(g, &fused).is_ok());
    EXPECT_EQ(fused, 1);
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    ASSERT_TRUE(g.validate().is_ok());
    EXPECT_EQ(count_ops(g, "Pad"), 0);
    EXPECT_EQ(count_ops(g, "Cast"), casts - 1);
    ASSERT_EQ(count_ops(g, "NchwToNhwc"), 1);
    for (const auto& n : g.nodes) {
        if (n.op_type != "NchwToNhwc") continue;
        EXPECT_EQ(n.inputs[0], "x");
        EXPECT_EQ(n.attr_int("channels", 0), 8);
        EXPECT_EQ(n.attr_int("to_half", 0), 1);
        EXPECT_EQ(g.at(n.outputs[0]).dtype, DataType::kFloat16);
        EXPECT_EQ(g.at(n.outputs[0]).shape, (ir::Shape{2, 6, 6, 8}));
    }
}

TEST(Passes, NchwToNhwcReferencePermutesAndZeroPads) {
    ir::Node node;
    node.name = "reformat";
    node.op_type = "NchwToNhwc";
    node.domain = ir::kRtinferDomain;
    node.inputs = {"x"};
    node.outputs = {"y"};
    node.attrs["channels"] = ir::Attribute{};
    node.attrs["channels"].kind = ir::Attribute::Kind::kInt;
    node.attrs["channels"].i = 4;
    const ir::Tensor x = random_tensor({2, 3, 2, 5}, 41);
    const ir::OpKernel* k = ref::reference_registry().find(ir::kRtinferDomain, "NchwToNhwc");
    ASSERT_NE(k, nullptr);
    std::vector<ir::Tensor> out;
    ASSERT_TRUE(ref::evaluate_node(*k, node, 17, {&x}, out).is_ok());
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].shape(), (ir::Shape{2, 2, 5, 4}));
    for (int64_t n = 0; n < 2; ++n) {
        for (int64_t h = 0; h < 2; ++h) {
            for (int64_t w = 0; w < 5; ++w) {
                for (int64_t c = 0; c < 4; ++c) {
                    const float want = c < 3 ? x.data<float>()[((n * 3 + c) * 2 + h) * 5 + w] : 0.0f;
                    EXPECT_EQ(out[0].data<float>()[((n * 2 + h) * 5 + w) * 4 + c], want);
                }
            }
        }
    }
}

// The channels-last ops are internal, but an ONNX file may name them (domain rtinfer): bad attributes and
// shapes are errors that name the node, not crashes.
TEST(Passes, ChannelsLastOpsRejectBadShapesAndAttributes) {
    const ir::Tensor x = random_tensor({1, 3, 2, 2}, 51);
    std::vector<ir::Tensor> out;
    ir::Node reformat;
    reformat.name = "bad_reformat";
    reformat.op_type = "NchwToNhwc";
    reformat.domain = ir::kRtinferDomain;
    reformat.inputs = {"x"};
    reformat.outputs = {"y"};
    reformat.attrs["channels"] = ir::Attribute{};
    reformat.attrs["channels"].kind = ir::Attribute::Kind::kInt;
    reformat.attrs["channels"].i = 2;  // below X's 3 channels
    const ir::OpKernel* k = ref::reference_registry().find(ir::kRtinferDomain, "NchwToNhwc");
    ASSERT_NE(k, nullptr);
    Status s = ref::evaluate_node(*k, reformat, 17, {&x}, out);
    EXPECT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("bad_reformat"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("channels 2 is below X's 3"), std::string::npos) << s.message();

    ir::Node pool;
    pool.name = "bad_pool";
    pool.op_type = "NhwcMaxPool";
    pool.domain = ir::kRtinferDomain;
    pool.inputs = {"x"};
    pool.outputs = {"y"};
    pool.attrs["kernel_shape"] = ints({3, 3, 3});
    const ir::OpKernel* p = ref::reference_registry().find(ir::kRtinferDomain, "NhwcMaxPool");
    ASSERT_NE(p, nullptr);
    s = ref::evaluate_node(*p, pool, 17, {&x}, out);
    EXPECT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("bad_pool"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("kernel_shape must have 2 entries"), std::string::npos) << s.message();
}

// INT8: per-tensor Q/DQ pairs in front of the convolutions are pointwise, so the channels-last region passes
// through them: still one reformat at each edge, and the same numbers.
TEST(Passes, ConvertToNhwcRunsPerTensorQdqPairsChannelsLast) {
    ir::Graph g = residual_block();
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    auto summary = quant::insert_qdq(g, {{"x", 1.0f}, {"p1", 2.0f}});
    ASSERT_TRUE(summary.has_value());
    ASSERT_EQ(summary->quantized, 3);  // conv1 and conv_skip share x's pair; conv2 reads p1
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    const ir::Tensor x = random_tensor({2, 4, 6, 6}, 9);
    const auto before = run_reference(g, {{"x", x}});
    ASSERT_FALSE(before.empty());

    int converted = 0, reformats = 0;
    ASSERT_TRUE(passes::convert_to_nhwc(g, false, &converted, &reformats).is_ok());
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    ASSERT_TRUE(g.validate().is_ok());
    EXPECT_EQ(count_ops(g, "NhwcConv"), 3);
    EXPECT_EQ(count_ops(g, "QuantizeLinear"), 2);
    EXPECT_EQ(count_ops(g, "Transpose"), 2) << "Q/DQ pairs must not end the channels-last region";
    const auto after = run_reference(g, {{"x", x}});
    ASSERT_FALSE(after.empty());
    const ir::Tensor& a = before.at("y");
    const ir::Tensor& b = after.at("y");
    ASSERT_EQ(a.shape(), b.shape());
    for (int64_t i = 0; i < a.numel(); ++i) EXPECT_NEAR(a.data<float>()[i], b.data<float>()[i], 1e-5) << i;
}
