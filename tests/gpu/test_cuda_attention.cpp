// rtinfer.Attention on CUDA against the reference kernel on random non-zero data, float32 (within 1e-5 of max |ref|)
// and float16 (within 5e-3; tensor cores): ViT-like [2, 3, 197, 64], a single query and key, tails of 300 tokens,
// Sq != Sk, Dv != D, head dims 128, 40 and 20 (zero-padded; 20 is read without vector loads), more leading dims.
// The scale makes the scores' spread about 1.5, so that the softmax is neither flat nor one-hot. Then a
// dynamic-batch ONNX export of torch's scaled_dot_product_attention built as CUDA engines: one Attention layer,
// none on the CPU, the CPU engine's numbers. DISABLED_VitLayersTiming times the ViT-B/16 shapes at batch 32.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

#include "core/ir/op.h"
#include "core/kernels/cuda/cuda_check.h"
#include "tests/gpu/cuda_op_check.h"
#include "tests/gpu/engine_check.h"
#include "tests/gpu/gpu_test_util.h"
#include "tests/unit/attention_model.h"

namespace {

using rtinfer::cuda::DeviceBuffer;
using rtinfer::ir::DType;
using rtinfer::ir::Node;
using rtinfer::ir::Shape;
using rtinfer::ir::Tensor;
using rtinfer::testing::check;
using rtinfer::testing::Input;
using rtinfer::testing::random_tensor;
using rtinfer::testing::Rng;

// Inputs uniform in +-[0.1, 1] give q.k a spread of about sqrt(D / 9); this scale makes the scores' about 1.5.
float spread_scale(int64_t d) {
    return 4.5f / std::sqrt(static_cast<float>(d));
}

Node attention_node(float scale) {
    Node n;
    n.name = "attention";
    n.op_type = "Attention";
    n.domain = rtinfer::ir::kRtinferDomain;
    n.inputs = {"q", "k", "v"};
    n.outputs = {"y"};
    rtinfer::ir::Attribute a;
    a.kind = rtinfer::ir::Attribute::Kind::kFloat;
    a.f = scale;
    n.attrs["scale"] = a;
    return n;
}

struct Case {
    Shape lead;  // leading dims
    int64_t sq, sk, d, dv;
};

const rtinfer::cuda::CudaKernel* attention_kernel() {
    return rtinfer::cuda::cuda_registry().find(rtinfer::ir::kRtinferDomain, "Attention");
}

std::string describe(const Case& c) {
    std::string s = "[";
    for (int64_t x : c.lead) s += std::to_string(x) + ",";
    return s + "] Sq " + std::to_string(c.sq) + " Sk " + std::to_string(c.sk) + " D " + std::to_string(c.d) + " Dv " +
           std::to_string(c.dv);
}

Shape with(const Shape& lead, int64_t a, int64_t b) {
    Shape s = lead;
    s.push_back(a);
    s.push_back(b);
    return s;
}

}  // namespace

TEST(CudaAttention, MatchesTheReference) {
    RT_REQUIRE_GPU();
    const Case cases[] = {
        {{2, 3}, 197, 197, 64, 64},  // ViT-B/16 shaped
        {{1, 1}, 1, 1, 64, 64},      // one query, one key
        {{2, 2}, 300, 300, 32, 32},  // tails in both directions, D below the tile
        {{2, 2}, 100, 37, 64, 64},   // Sq != Sk
        {{1, 3}, 45, 70, 64, 32},    // Dv != D
        {{1, 2}, 33, 50, 32, 80},    // Dv above 64 with D below
        {{1, 4}, 150, 150, 128, 128},
        {{2, 1}, 70, 90, 40, 24},    // head dims not a multiple of 16
        {{1, 2}, 17, 29, 20, 12},    // ... nor of 8: no vector loads
        {{2, 2, 3}, 50, 61, 64, 64},  // more leading dims
        {{}, 77, 65, 64, 48},         // none
    };
    for (const Case& c : cases) {
        for (DType t : {DType::kFloat32, DType::kFloat16}) {
            Rng rng;
            const std::vector<Input> in = {{random_tensor(with(c.lead, c.sq, c.d), rng), false},
                                           {random_tensor(with(c.lead, c.sk, c.d), rng), false},
                                           {random_tensor(with(c.lead, c.sk, c.dv), rng), false}};
            check(attention_node(spread_scale(c.d)), in, t, describe(c));
        }
    }
}

TEST(CudaAttention, DeclinesWhatItCannotRun) {
    RT_REQUIRE_GPU();
    const rtinfer::cuda::CudaKernel* kernel = attention_kernel();
    ASSERT_NE(kernel, nullptr);
    const Node node = attention_node(0.125f);
    auto setup_for = [&](int64_t d, int64_t dv, DType t) {
        std::vector<rtinfer::ir::InputInfo> ins(3);
        ins[0] = {t, {2, 10, d}, true, nullptr};
        ins[1] = {t, {2, 12, d}, true, nullptr};
        ins[2] = {t, {2, 12, dv}, true, nullptr};
        return ins;
    };
    for (const auto& [d, dv, t, what] : std::vector<std::tuple<int64_t, int64_t, DType, std::string>>{
             {160, 64, DType::kFloat16, "D 160"},
             {64, 256, DType::kFloat32, "Dv 256"},
             {64, 64, DType::kFloat64, "float64"}}) {
        const std::vector<rtinfer::ir::OutputInfo> outs = {{t, {2, 10, dv}, true}};
        const rtinfer::cuda::OpSetup setup{node, 1, setup_for(d, dv, t), outs};
        auto op = kernel->create(setup, rtinfer::testing::test_cuda_libs());
        ASSERT_FALSE(op.has_value()) << what;
        EXPECT_EQ(op.status().code(), rtinfer::StatusCode::kUnsupported) << what;
        EXPECT_NE(op.status().message().find("node 'attention'"), std::string::npos) << op.status().message();
    }
}

TEST(CudaAttention, SdpaExportEnginesMatchTheCpuEngine) {
    RT_REQUIRE_GPU();
    const int64_t heads = 3, seq = 197, dim = 64, batch = 2;
    const rtinfer::testing::OnnxMaker model = rtinfer::testing::sdpa_model(heads, seq, dim);
    Rng rng;
    rtinfer::testing::EngineInputs inputs;
    for (const char* name : {"q", "k", "v"}) {
        const Tensor t = random_tensor({batch, heads, seq, dim}, rng);
        inputs.emplace_back(name, std::vector<float>(t.data<float>(), t.data<float>() + t.numel()));
    }
    // Q times 4: the model's own scale 1/8 then spreads the scores by about 1.3.
    for (float& x : inputs[0].second) x *= 4.0f;
    std::vector<float> want(inputs[0].second.size());
    rtinfer::BuilderConfig config;
    config.max_batch = batch;
    rtinfer::testing::run_cpu_engine(model, config, inputs, &want);
    if (HasFatalFailure()) return;
    for (bool fp16 : {false, true}) {
        config.fp16 = fp16;
        rtinfer::testing::check_cuda_engine(model, config, inputs, want, "Attention", 1);
    }
}

// The attention of ViT-B/16's 12 layers at batch 32 (B*H = 384, S = 197, D = 64), float16 and float32; prints the
// time of the 12. Run with --gtest_also_run_disabled_tests --gtest_filter='CudaAttention.DISABLED_*'.
TEST(CudaAttention, DISABLED_VitLayersTiming) {
    RT_REQUIRE_GPU();
    const Shape shape = {32, 12, 197, 64};
    const rtinfer::cuda::CudaKernel* kernel = attention_kernel();
    ASSERT_NE(kernel, nullptr);
    const auto& libs = rtinfer::testing::test_cuda_libs();
    for (DType t : {DType::kFloat16, DType::kFloat32}) {
        std::vector<rtinfer::ir::InputInfo> ins(3, rtinfer::ir::InputInfo{t, shape, true, nullptr});
        const std::vector<rtinfer::ir::OutputInfo> outs = {{t, shape, true}};
        const Node node = attention_node(0.125f);
        auto op = kernel->create(rtinfer::cuda::OpSetup{node, 1, ins, outs}, libs);
        ASSERT_TRUE(op.has_value()) << op.status().to_string();
        const size_t bytes = static_cast<size_t>(rtinfer::ir::shape_numel(shape)) * (t == DType::kFloat16 ? 2 : 4);
        std::vector<DeviceBuffer> buffers;
        std::vector<rtinfer::cuda::DeviceTensor> d(4);
        for (auto& x : d) {
            buffers.push_back(std::move(DeviceBuffer::allocate(bytes).value()));
            ASSERT_EQ(cudaMemset(buffers.back().get(), 0x1f, bytes), cudaSuccess);  // small finite values
            x = {buffers.back().get(), t, shape};
        }
        const std::vector<rtinfer::cuda::DeviceTensor> in(d.begin(), d.begin() + 3), out = {d[3]};
        rtinfer::cuda::Event start, stop;
        ASSERT_TRUE(start.create().is_ok() && stop.create().is_ok());
        for (int i = 0; i < 12; ++i) ASSERT_TRUE((*op)->enqueue(in, out, nullptr, libs).is_ok());
        const int reps = 20;
        cudaEventRecord(start.get(), libs.stream);
        for (int i = 0; i < 12 * reps; ++i) ASSERT_TRUE((*op)->enqueue(in, out, nullptr, libs).is_ok());
        cudaEventRecord(stop.get(), libs.stream);
        ASSERT_EQ(cudaEventSynchronize(stop.get()), cudaSuccess);
        float ms = 0;
        cudaEventElapsedTime(&ms, start.get(), stop.get());
        std::printf("attention %s, 12 layers of [32, 12, 197, 64]: %.3f ms\n", t == DType::kFloat16 ? "fp16" : "fp32",
                    ms / reps);
    }
}
