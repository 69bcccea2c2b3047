// Linear layers as fuse_matmul_bias_activation leaves them, on CUDA against the CPU reference: rtinfer.MatMulBias
// (X of rank 2 to 4, bias in cuBLASLt's epilogue or, for a runtime bias, in the pass after) and Gemm with a
// bias, each with no activation, ReLU and GELU; float32 (TF32 off) within 1e-5 of max |ref|, float16 within 5e-3
// (cuBLASLt's GELU epilogue is the tanh approximation, within 5e-4 of the exact form). MatMul with transposed
// operands (rt_trans_a / rt_trans_b, left by fold_reshape_transpose) in every batching path. Then ViT blocks built
// as CUDA engines from ONNX: an MLP block (two MatMulBias layers) and an attention block (K^T read transposed, 7 of
// its 8 Transposes left), none on the CPU, the CPU engine's numbers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/ir/half.h"
#include "core/ir/op.h"
#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/cuda_op.h"
#include "core/kernels/ref/ref_backend.h"
#include "core/runtime/context_impl.h"
#include "rtinfer/builder.h"
#include "tests/gpu/cuda_libs.h"
#include "tests/gpu/gpu_test_util.h"
#include "tests/unit/plugin_test_util.h"
#include "tests/unit/vit_attention_model.h"

namespace {

using rtinfer::Status;
using rtinfer::cuda::CudaLibs;
using rtinfer::cuda::DeviceBuffer;
using rtinfer::cuda::DeviceTensor;
using rtinfer::ir::Attribute;
using rtinfer::ir::DType;
using rtinfer::ir::Node;
using rtinfer::ir::Shape;
using rtinfer::ir::Tensor;

constexpr int kRelu = 1, kGelu = 7;  // rt_fused_activation codes

struct Rng {
    uint64_t state = 0x9e3779b97f4a7c15ull;
    double uniform() {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<double>(state >> 11) / 9007199254740992.0;
    }
    double nonzero() { return (uniform() < 0.5 ? -1.0 : 1.0) * (0.1 + 0.9 * uniform()); }
};

Tensor random_tensor(const Shape& shape, Rng& rng) {
    Tensor t(DType::kFloat32, shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(rng.nonzero());
    return t;
}

Tensor to_half(const Tensor& t) {
    Tensor h(DType::kFloat16, t.shape());
    for (int64_t i = 0; i < t.numel(); ++i) h.data<uint16_t>()[i] = rtinfer::ir::float_to_half(t.data<float>()[i]);
    return h;
}

struct Input {
    Tensor value;  // float32
    bool constant = false;
};

// Runs the node on the reference and twice on CUDA (outputs poisoned with NaN bytes first); checks max |a - b|
// over max |ref| of both runs against tol. Constants reach the CUDA op as float32 (as in an fp16 engine).
void check(const Node& node, const std::vector<Input>& inputs, DType dtype, const std::string& what) {
    SCOPED_TRACE(what + (dtype == DType::kFloat16 ? " fp16" : " fp32"));
    const bool half = dtype == DType::kFloat16;
    std::vector<Tensor> ref_inputs;
    for (const Input& in : inputs) ref_inputs.push_back(half ? to_half(in.value) : in.value);
    std::vector<const Tensor*> ref_ptrs;
    for (const Tensor& t : ref_inputs) ref_ptrs.push_back(&t);
    const rtinfer::ir::OpKernel* kernel = rtinfer::ref::reference_registry().find(node.domain, node.op_type);
    ASSERT_NE(kernel, nullptr);
    std::vector<Tensor> expected;
    Status s = rtinfer::ref::evaluate_node(*kernel, node, 17, ref_ptrs, expected);
    ASSERT_TRUE(s.is_ok()) << s.to_string();

    std::vector<rtinfer::ir::InputInfo> infos;
    for (const Input& in : inputs) {
        rtinfer::ir::InputInfo info;
        info.shape = in.value.shape();
        info.dtype = in.constant ? DType::kFloat32 : dtype;
        info.value = in.constant ? &in.value : nullptr;
        infos.push_back(info);
    }
    std::vector<rtinfer::ir::OutputInfo> outs = {{expected[0].dtype(), expected[0].shape(), true}};
    const rtinfer::cuda::CudaKernel* ck = rtinfer::cuda::cuda_registry().find(node.domain, node.op_type);
    ASSERT_NE(ck, nullptr) << node.op_type;
    rtinfer::cuda::OpSetup setup{node, 17, infos, outs};
    const CudaLibs& libs = rtinfer::testing::test_cuda_libs();
    auto op = ck->create(setup, libs);
    ASSERT_TRUE(op.has_value()) << op.status().to_string();

    std::vector<DeviceBuffer> buffers;
    std::vector<DeviceTensor> d_in;
    for (size_t i = 0; i < inputs.size(); ++i) {
        DeviceTensor d;
        d.dtype = dtype;
        d.shape = inputs[i].value.shape();
        if (!inputs[i].constant) {
            auto b = DeviceBuffer::allocate(ref_inputs[i].nbytes());
            ASSERT_TRUE(b.has_value());
            ASSERT_EQ(cudaMemcpy(b->get(), ref_inputs[i].raw(), ref_inputs[i].nbytes(), cudaMemcpyHostToDevice),
                      cudaSuccess);
            d.data = b->get();
            buffers.push_back(std::move(*b));
        }
        d_in.push_back(d);
    }
    DeviceTensor y;
    y.dtype = expected[0].dtype();
    y.shape = expected[0].shape();
    auto yb = DeviceBuffer::allocate(expected[0].nbytes());
    ASSERT_TRUE(yb.has_value());
    y.data = yb->get();
    auto ws = DeviceBuffer::allocate((*op)->workspace_bytes());
    ASSERT_TRUE(ws.has_value());
    const std::vector<double> e = rtinfer::ir::to_doubles(expected[0]);
    double scale = 0;
    for (double v : e) scale = std::max(scale, std::fabs(v));
    ASSERT_GT(scale, 0.1);
    for (int run = 0; run < 2; ++run) {
        cudaMemset(y.data, 0xFF, y.nbytes());
        if (ws->get()) cudaMemset(ws->get(), 0xFF, ws->bytes());
        Status r = (*op)->enqueue(d_in, {y}, ws->get(), libs);
        ASSERT_TRUE(r.is_ok()) << r.to_string();
        ASSERT_EQ(cudaStreamSynchronize(libs.stream), cudaSuccess);
        Tensor got(expected[0].dtype(), expected[0].shape());
        ASSERT_EQ(cudaMemcpy(got.raw(), y.data, got.nbytes(), cudaMemcpyDeviceToHost), cudaSuccess);
        const std::vector<double> a = rtinfer::ir::to_doubles(got);
        double err = 0;
        size_t worst = 0;
        for (size_t j = 0; j < e.size(); ++j) {
            const double d = std::fabs(a[j] - e[j]);
            if (!(d <= err)) {
                err = std::isnan(d) ? INFINITY : d;
                worst = j;
            }
        }
        EXPECT_LE(err / scale, half ? 5e-3 : 1e-5)
            << "run " << run << " element " << worst << " got " << a[worst] << " expected " << e[worst];
    }
}

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
        for (int act : {0, kRelu, kGelu}) {
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
    for (int act : {0, kRelu, kGelu}) {
        for (DType t : kBoth) {
            Rng rng;
            const std::vector<Input> in = {{random_tensor({33, 48}, rng), false},
                                           {random_tensor({48, 40}, rng), true},
                                           {random_tensor({40}, rng), true}};
            check(fused_node("Gemm", "", act), in, t, "Gemm bias activation " + std::to_string(act));
        }
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

// Runs the context (CPU backend, batch `batch`) on x and returns y.
std::vector<float> run_cpu(rtinfer::ExecutionContext& ctx, int batch, std::vector<float> in) {
    std::vector<float> y(in.size(), -99.0f);
    EXPECT_TRUE(ctx.set_batch(batch).is_ok());
    EXPECT_TRUE(ctx.set_tensor_address("x", in.data()).is_ok());
    EXPECT_TRUE(ctx.set_tensor_address("y", y.data()).is_ok());
    EXPECT_TRUE(ctx.enqueue().is_ok());
    return y;
}

// Runs the CUDA context twice on x (y poisoned with NaN bytes first) and checks y against `want` within
// tol * max |want|; no layer may have run on the CPU.
void expect_cuda_run(rtinfer::ExecutionContext& ctx, int batch, const std::vector<float>& in,
                     const std::vector<float>& want, double tol) {
    double scale = 0;
    for (float v : want) scale = std::max(scale, std::fabs(double(v)));
    ASSERT_GT(scale, 0.1);
    ASSERT_TRUE(ctx.set_batch(batch).is_ok());
    const size_t count = in.size();
    DeviceBuffer d_x = std::move(DeviceBuffer::allocate(count * 4).value());
    DeviceBuffer d_y = std::move(DeviceBuffer::allocate(count * 4).value());
    ASSERT_EQ(cudaMemcpy(d_x.get(), in.data(), count * 4, cudaMemcpyHostToDevice), cudaSuccess);
    ASSERT_TRUE(ctx.set_tensor_address("x", d_x.get()).is_ok());
    ASSERT_TRUE(ctx.set_tensor_address("y", d_y.get()).is_ok());
    for (int run = 0; run < 2; ++run) {
        cudaMemset(d_y.get(), 0xFF, count * 4);
        ASSERT_TRUE(ctx.enqueue().is_ok());
        ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
        std::vector<float> got(count);
        ASSERT_EQ(cudaMemcpy(got.data(), d_y.get(), count * 4, cudaMemcpyDeviceToHost), cudaSuccess);
        double err = 0;
        for (size_t i = 0; i < count; ++i) {
            const double d = std::fabs(double(got[i]) - double(want[i]));
            err = std::isnan(d) ? INFINITY : std::max(err, d);
        }
        EXPECT_LE(err / scale, tol) << "run " << run;
    }
    EXPECT_TRUE(ctx.impl().fallback_nodes().empty()) << "a layer fell back to the CPU";  // prepared by the runs
}

int count_layers(const rtinfer::Engine& engine, const std::string& op) {
    int n = 0;
    for (const auto& layer : engine.layers()) n += layer.op_type == op;
    return n;
}

}  // namespace

TEST(CudaMatMulFusion, VitMlpEngineMatchesTheCpuEngine) {
    RT_REQUIRE_GPU();
    const rtinfer::testing::OnnxMaker model = vit_mlp_model();
    Rng rng;
    const Tensor x = random_tensor({1, 50, 64}, rng);
    const std::vector<float> in(x.data<float>(), x.data<float>() + x.numel());
    auto cpu = model.build();
    ASSERT_TRUE(cpu.has_value()) << cpu.status().to_string();
    auto cpu_ctx = (*cpu)->create_context();
    ASSERT_TRUE(cpu_ctx.has_value());
    const std::vector<float> want = run_cpu(**cpu_ctx, 1, in);
    for (bool fp16 : {false, true}) {
        SCOPED_TRACE(fp16 ? "fp16" : "fp32");
        rtinfer::BuilderConfig config;
        config.backend = rtinfer::Backend::kCuda;
        config.fp16 = fp16;
        auto engine = model.build(config);
        ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
        EXPECT_EQ(count_layers(**engine, "MatMulBias"), 2);
        auto ctx = (*engine)->create_context();
        ASSERT_TRUE(ctx.has_value()) << ctx.status().to_string();
        expect_cuda_run(**ctx, 1, in, want, fp16 ? 5e-3 : 1e-5);
    }
}

TEST(CudaMatMulFusion, VitAttentionEngineReadsKTransposed) {
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
        EXPECT_EQ(count_layers(**engine, "Transpose"), 7);
        auto ctx = (*engine)->create_context();
        ASSERT_TRUE(ctx.has_value()) << ctx.status().to_string();
        for (int batch : {2, 3}) {
            SCOPED_TRACE("batch " + std::to_string(batch));
            Rng rng;
            const Tensor x = random_tensor({batch, 5, 8}, rng);
            const std::vector<float> in(x.data<float>(), x.data<float>() + x.numel());
            expect_cuda_run(**ctx, batch, in, run_cpu(**cpu_ctx, batch, in), fp16 ? 5e-3 : 1e-5);
        }
    }
}
