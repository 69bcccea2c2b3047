// Linear layers as fuse_matmul_bias_activation leaves them, on CUDA against the CPU reference: rtinfer.MatMulBias
// (X of rank 2 to 4, bias in cuBLASLt's epilogue or, for a runtime bias, in the pass after) and Gemm with a
// bias, each with no activation, ReLU and GELU in both forms; float32 (TF32 off) within 1e-5 of max |ref|, float16
// within 5e-3 (cuBLASLt's GELU epilogue is the tanh approximation, within 5e-4 of the exact form; the tanh form
// takes the epilogue in float32 too, which create_lt_matmul is asked directly). MatMul with transposed operands
// (rt_trans_a / rt_trans_b, left by fold_reshape_transpose) in every batching path. Then ViT blocks built as CUDA
// engines from ONNX: an MLP block (two MatMulBias layers) and an attention block, none on the CPU, the CPU
// engine's numbers.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/ir/op.h"
#include "core/kernels/cuda/nn/lt_matmul.h"
#include "rtinfer/builder.h"
#include "tests/gpu/cuda_op_check.h"
#include "tests/gpu/engine_check.h"
#include "tests/gpu/gpu_test_util.h"
#include "tests/unit/plugin_test_util.h"
#include "tests/unit/vit_attention_model.h"

namespace {

using rtinfer::ir::Attribute;
using rtinfer::ir::DType;
using rtinfer::ir::Node;
using rtinfer::ir::Shape;
using rtinfer::ir::Tensor;

using rtinfer::testing::check;
using rtinfer::testing::Input;
using rtinfer::testing::random_tensor;
using rtinfer::testing::Rng;

constexpr int kRelu = 1, kGelu = 7, kGeluTanh = 8;  // rt_fused_activation codes

Node fused_node(const std::string& op, const std::string& domain, int act) {
    Node n;
    n.name = "fused_" + op;
    n.op_type = op;
    n.domain = domain;
    n.inputs = {"x", "w", "b"};
    n.outputs = {"y"};
    if (act) {
        Attribute a;
        a.kind = Attribute::Kind::kInt;
        a.i = act;
        n.attrs["rt_fused_activation"] = a;
    }
    return n;
}

const DType kBoth[] = {DType::kFloat32, DType::kFloat16};

}  // namespace

TEST(CudaMatMulFusion, MatMulBiasWithActivations) {
    RT_REQUIRE_GPU();
    struct Case {
        std::string name;
        Shape x;
        int64_t n;
        bool bias_constant = true;
    };
    const std::vector<Case> cases = {
        {"rank 3 tokens", {2, 7, 24}, 40},
        {"rank 4", {2, 3, 5, 16}, 8},
        {"rank 2", {9, 32}, 24},
        {"odd sizes", {1, 13, 7}, 5},
        {"runtime bias", {2, 6, 16}, 12, false},
    };
    for (const Case& c : cases) {
        for (int act : {0, kRelu, kGelu, kGeluTanh}) {
            for (DType t : kBoth) {
                Rng rng;
                const std::vector<Input> in = {{random_tensor(c.x, rng), false},
                                               {random_tensor({c.x.back(), c.n}, rng), true},
                                               {random_tensor({c.n}, rng), c.bias_constant}};
                check(fused_node("MatMulBias", rtinfer::ir::kRtinferDomain, act), in, t,
                      "MatMulBias " + c.name + " activation " + std::to_string(act));
            }
        }
    }
}

TEST(CudaMatMulFusion, GemmBiasWithActivations) {
    RT_REQUIRE_GPU();
    for (int act : {0, kRelu, kGelu, kGeluTanh}) {
        for (DType t : kBoth) {
            Rng rng;
            const std::vector<Input> in = {{random_tensor({33, 48}, rng), false},
                                           {random_tensor({48, 40}, rng), true},
                                           {random_tensor({40}, rng), true}};
            check(fused_node("Gemm", "", act), in, t, "Gemm bias activation " + std::to_string(act));
        }
    }
}

TEST(CudaMatMulFusion, GeluTanhTakesTheEpilogueInFloat32) {
    RT_REQUIRE_GPU();
    namespace nn = rtinfer::cuda::nn;
    const rtinfer::cuda::CudaLibs& libs = rtinfer::testing::test_cuda_libs();
    nn::MatmulShape s;
    s.m = 64;
    s.n = 48;
    s.k = 32;
    s.lda = s.k;
    s.ldb = s.n;
    s.ldc = s.n;
    struct Case {
        DType dtype;
        int act;
        bool epilogue;
    };
    // The erf form stays out of the float32 epilogue: cuBLASLt's GELU is the tanh form.
    for (const Case& c : {Case{DType::kFloat32, nn::kActGeluTanh, true}, Case{DType::kFloat16, nn::kActGeluTanh, true},
                          Case{DType::kFloat16, nn::kActGelu, true}, Case{DType::kFloat32, nn::kActGelu, false}}) {
        s.dtype = c.dtype;
        nn::Activation act;
        act.kind = c.act;
        bool in_epilogue = !c.epilogue;
        auto mm = nn::create_lt_matmul(libs, s, act, &in_epilogue);
        ASSERT_TRUE(mm.has_value()) << mm.status().to_string();
        EXPECT_EQ(in_epilogue, c.epilogue)
            << "activation " << c.act << (c.dtype == DType::kFloat16 ? " fp16" : " fp32");
    }
}

TEST(CudaMatMulFusion, MatMulWithTransposedOperands) {
    RT_REQUIRE_GPU();
    struct Case {
        std::string name;
        Shape a, b;  // as stored
        bool ta, tb;
    };
    const std::vector<Case> cases = {
        {"attention scores [B,H,S,D] x [B,H,S,D]^T", {2, 3, 17, 24}, {2, 3, 17, 24}, false, true},
        {"A^T, strided batches", {2, 3, 24, 17}, {2, 3, 24, 8}, true, false},
        {"both transposed", {4, 16, 9}, {4, 12, 16}, true, true},
        {"broadcast batch dims, one product per matrix", {2, 1, 8, 13}, {3, 6, 8}, true, true},
        {"matrices, B^T (one product)", {33, 48}, {40, 48}, false, true},
        {"A^T with one B matrix (stride 0)", {3, 20, 7}, {20, 11}, true, false},
        {"odd sizes", {2, 5, 7, 3}, {2, 5, 9, 3}, false, true},
    };
    for (const Case& c : cases) {
        for (DType t : kBoth) {
            Rng rng;
            Node n;
            n.name = "matmul_transposed";
            n.op_type = "MatMul";
            n.inputs = {"a", "b"};
            n.outputs = {"y"};
            Attribute one;
            one.kind = Attribute::Kind::kInt;
            one.i = 1;
            if (c.ta) n.attrs["rt_trans_a"] = one;
            if (c.tb) n.attrs["rt_trans_b"] = one;
            check(n, {{random_tensor(c.a, rng), false}, {random_tensor(c.b, rng), false}}, t, c.name);
        }
    }
}

namespace {

// x [1, 50, 64] -> MatMul + Add -> GELU (the Erf form torch exports) -> MatMul + Add -> y [1, 50, 64].
rtinfer::testing::OnnxMaker vit_mlp_model() {
    rtinfer::testing::OnnxMaker m;
    m.input("x", {1, 50, 64});
    m.output("y", {1, 50, 64});
    Rng rng;
    auto init = [&](const std::string& name, const std::vector<int64_t>& dims, float fixed = 0.0f) {
        auto* t = m.g().add_initializer();
        t->set_name(name);
        t->set_data_type(::onnx::TensorProto::FLOAT);
        int64_t count = 1;
        for (int64_t d : dims) {
            t->add_dims(d);
            count *= d;
        }
        // Weights scaled by 1/4 keep the activations near the range of real layers.
        for (int64_t i = 0; i < count; ++i) t->add_float_data(dims.empty() ? fixed : 0.25f * float(rng.nonzero()));
    };
    init("w1", {64, 128});
    init("b1", {128});
    init("w2", {128, 64});
    init("b2", {64});
    init("sqrt2", {}, 1.4142135f);
    init("one", {}, 1.0f);
    init("half", {}, 0.5f);
    m.node("MatMul", {"x", "w1"}, {"h"}, "fc1");
    m.node("Add", {"h", "b1"}, {"hb"}, "fc1_bias");
    m.node("Div", {"hb", "sqrt2"}, {"d"}, "gelu_div");
    m.node("Erf", {"d"}, {"e"}, "gelu_erf");
    m.node("Add", {"e", "one"}, {"p"}, "gelu_add");
    m.node("Mul", {"hb", "p"}, {"q"}, "gelu_mul");
    m.node("Mul", {"q", "half"}, {"a"}, "gelu_half");
    m.node("MatMul", {"a", "w2"}, {"o"}, "fc2");
    m.node("Add", {"o", "b2"}, {"y"}, "fc2_bias");
    return m;
}

}  // namespace

TEST(CudaMatMulFusion, VitMlpEngineMatchesTheCpuEngine) {
    RT_REQUIRE_GPU();
    const rtinfer::testing::OnnxMaker model = vit_mlp_model();
    Rng rng;
    const Tensor x = random_tensor({1, 50, 64}, rng);
    const size_t count = static_cast<size_t>(x.numel());
    const rtinfer::testing::EngineInputs inputs = {{"x", std::vector<float>(x.data<float>(), x.data<float>() + count)}};
    std::vector<float> want(count);
    rtinfer::BuilderConfig config;
    rtinfer::testing::run_cpu_engine(model, config, inputs, &want);
    if (HasFatalFailure()) return;
    for (bool fp16 : {false, true}) {
        config.fp16 = fp16;
        rtinfer::testing::check_cuda_engine(model, config, inputs, want, "MatMulBias", 2);
    }
}

TEST(CudaMatMulFusion, VitAttentionEngineMatchesTheCpuEngine) {
    RT_REQUIRE_GPU();
    const rtinfer::testing::OnnxMaker model = rtinfer::testing::vit_attention_model();
    rtinfer::BuilderConfig cpu_config;
    cpu_config.min_batch = 1;
    cpu_config.opt_batch = 2;
    cpu_config.max_batch = 3;
    auto cpu = model.build(cpu_config);
    ASSERT_TRUE(cpu.has_value()) << cpu.status().to_string();
    auto cpu_ctx = (*cpu)->create_context();
    ASSERT_TRUE(cpu_ctx.has_value());
    for (bool fp16 : {false, true}) {
        SCOPED_TRACE(fp16 ? "fp16" : "fp32");
        rtinfer::BuilderConfig config = cpu_config;
        config.backend = rtinfer::Backend::kCuda;
        config.fp16 = fp16;
        auto engine = model.build(config);
        ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
        // The scores MatMul, Softmax and the second MatMul are one Attention layer (which takes K^T).
        EXPECT_EQ(rtinfer::testing::count_layers(**engine, "Attention"), 1);
        auto ctx = (*engine)->create_context();
        ASSERT_TRUE(ctx.has_value()) << ctx.status().to_string();
        for (int batch : {2, 3}) {
            SCOPED_TRACE("batch " + std::to_string(batch));
            Rng rng;
            const Tensor x = random_tensor({batch, 5, 8}, rng);
            const rtinfer::testing::EngineInputs inputs = {
                {"x", std::vector<float>(x.data<float>(), x.data<float>() + x.numel())}};
            ASSERT_TRUE((*cpu_ctx)->set_batch(batch).is_ok());
            ASSERT_TRUE((*ctx)->set_batch(batch).is_ok());
            const std::vector<float> want = rtinfer::testing::run_cpu_context(**cpu_ctx, inputs, inputs[0].second.size());
            rtinfer::testing::expect_cuda_run(**ctx, inputs, want, fp16 ? 5e-3 : 1e-5);
        }
    }
}
