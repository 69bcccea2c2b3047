// runtime::with_extra_outputs on a CUDA engine: the intermediate tensors it returns are the CPU engine's (float32,
// TF32 off, within 1e-5 of their max), written again by every run, also when the run is a replayed CUDA graph.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "core/kernels/cuda/cuda_check.h"
#include "core/runtime/extra_outputs.h"
#include "tests/gpu/gpu_test_util.h"
#include "tests/unit/plugin_test_util.h"

namespace {

using rtinfer::BuilderConfig;
using rtinfer::testing::OnnxMaker;

void add_weight(OnnxMaker& m, const std::string& name, int64_t rows, int64_t cols, float seed) {
    auto* t = m.g().add_initializer();
    t->set_name(name);
    t->set_data_type(::onnx::TensorProto::FLOAT);
    t->add_dims(rows);
    t->add_dims(cols);
    for (int64_t i = 0; i < rows * cols; ++i)
        t->add_float_data(std::sin(seed + 0.7f * static_cast<float>(i)) * 0.5f + 0.01f);
}

// y = MatMul(Tanh(MatMul(x, w1)), w2), x [2, 8]: layers that no pass fuses, so h1 and t1 exist in every engine.
OnnxMaker mlp() {
    OnnxMaker m;
    m.input("x", {2, 8});
    add_weight(m, "w1", 8, 16, 0.3f);
    add_weight(m, "w2", 16, 4, 1.1f);
    m.node("MatMul", {"x", "w1"}, {"h1"}, "mm1");
    m.node("Tanh", {"h1"}, {"t1"}, "th1");
    m.node("MatMul", {"t1", "w2"}, {"y"}, "mm2");
    m.output("y", {2, 4});
    return m;
}

const std::map<std::string, size_t> kSizes = {{"y", 8}, {"h1", 32}, {"t1", 32}};

}  // namespace

TEST(CudaExtraOutputs, IntermediateTensorsMatchTheCpuEngine) {
    RT_REQUIRE_GPU();
    std::vector<float> x(16);
    for (size_t i = 0; i < x.size(); ++i) x[i] = std::cos(0.9f * static_cast<float>(i)) + 0.05f;

    auto cpu = mlp().build();
    ASSERT_TRUE(cpu.has_value()) << cpu.status().to_string();
    auto cpu_extra = rtinfer::runtime::with_extra_outputs(**cpu, {"h1", "t1"});
    ASSERT_TRUE(cpu_extra.has_value()) << cpu_extra.status().to_string();
    auto cpu_ctx = (*cpu_extra)->create_context();
    ASSERT_TRUE(cpu_ctx.has_value()) << cpu_ctx.status().to_string();
    std::map<std::string, std::vector<float>> want;
    ASSERT_TRUE((*cpu_ctx)->set_tensor_address("x", x.data()).is_ok());
    for (const auto& [name, n] : kSizes) {
        want[name].assign(n, -99.0f);
        ASSERT_TRUE((*cpu_ctx)->set_tensor_address(name, want[name].data()).is_ok()) << name;
    }
    ASSERT_TRUE((*cpu_ctx)->enqueue().is_ok());

    BuilderConfig config;
    config.backend = rtinfer::Backend::kCuda;
    auto gpu = mlp().build(config);
    ASSERT_TRUE(gpu.has_value()) << gpu.status().to_string();
    auto gpu_extra = rtinfer::runtime::with_extra_outputs(**gpu, {"h1", "t1"});
    ASSERT_TRUE(gpu_extra.has_value()) << gpu_extra.status().to_string();
    auto ctx = (*gpu_extra)->create_context();
    ASSERT_TRUE(ctx.has_value()) << ctx.status().to_string();
    auto d_x = rtinfer::cuda::DeviceBuffer::allocate(x.size() * 4);
    ASSERT_TRUE(d_x.has_value());
    ASSERT_EQ(cudaMemcpy(d_x->get(), x.data(), x.size() * 4, cudaMemcpyHostToDevice), cudaSuccess);
    ASSERT_TRUE((*ctx)->set_tensor_address("x", d_x->get()).is_ok());
    std::map<std::string, rtinfer::cuda::DeviceBuffer> d_out;
    for (const auto& [name, n] : kSizes) {
        auto buffer = rtinfer::cuda::DeviceBuffer::allocate(n * 4);
        ASSERT_TRUE(buffer.has_value());
        d_out[name] = std::move(*buffer);
        ASSERT_TRUE((*ctx)->set_tensor_address(name, d_out[name].get()).is_ok()) << name;
    }
    for (int run = 0; run < 2; ++run) {
        for (auto& [name, buffer] : d_out) ASSERT_EQ(cudaMemset(buffer.get(), 0xFF, buffer.bytes()), cudaSuccess);
        ASSERT_TRUE((*ctx)->enqueue().is_ok());
        ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
        for (const auto& [name, n] : kSizes) {
            std::vector<float> got(n);
            ASSERT_EQ(cudaMemcpy(got.data(), d_out[name].get(), n * 4, cudaMemcpyDeviceToHost), cudaSuccess);
            double scale = 0, err = 0;
            for (size_t i = 0; i < n; ++i) {
                scale = std::max(scale, std::fabs(double(want[name][i])));
                const double d = std::fabs(double(got[i]) - double(want[name][i]));
                err = std::isnan(d) ? INFINITY : std::max(err, d);
            }
            ASSERT_GT(scale, 0.1) << name;
            EXPECT_LE(err / scale, 1e-5) << name << " run " << run;
        }
    }
}
