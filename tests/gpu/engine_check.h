// ONNX models built as CUDA engines against the CPU engine: the fused layers are there, none falls back to the
// CPU, and two runs (the output poisoned with NaN bytes first) give the CPU engine's output "y" within 1e-5 of its
// max |y| in float32 (TF32 off) and 5e-3 in float16.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/kernels/cuda/cuda_check.h"
#include "core/runtime/context_impl.h"
#include "rtinfer/builder.h"
#include "tests/unit/plugin_test_util.h"

namespace rtinfer::testing {

// Float32 graph inputs by name.
using EngineInputs = std::vector<std::pair<std::string, std::vector<float>>>;

// Runs a context (CPU backend, its batch already set) on `inputs` and returns its output "y" of `count` floats.
inline std::vector<float> run_cpu_context(ExecutionContext& ctx, const EngineInputs& inputs, size_t count) {
    std::vector<float> y(count, -99.0f);
    for (const auto& [name, values] : inputs) {
        EXPECT_TRUE(ctx.set_tensor_address(name, const_cast<float*>(values.data())).is_ok()) << name;
    }
    EXPECT_TRUE(ctx.set_tensor_address("y", y.data()).is_ok());
    EXPECT_TRUE(ctx.enqueue().is_ok());
    return y;
}

// The CPU engine's output "y" (y->size() floats, given) for `inputs`.
inline void run_cpu_engine(const OnnxMaker& model, const BuilderConfig& config, const EngineInputs& inputs,
                           std::vector<float>* y) {
    auto engine = model.build(config);
    ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
    auto ctx = (*engine)->create_context();
    ASSERT_TRUE(ctx.has_value()) << ctx.status().to_string();
    *y = run_cpu_context(**ctx, inputs, y->size());
}

// Runs a CUDA context (its batch already set) twice on `inputs` (the output poisoned with NaN bytes first)
// against `want` within tol * max |want|; no layer may fall back to the CPU.
inline void expect_cuda_run(ExecutionContext& ctx, const EngineInputs& inputs, const std::vector<float>& want,
                            double tol) {
    double scale = 0;
    for (float v : want) scale = std::max(scale, std::fabs(double(v)));
    ASSERT_GT(scale, 0.1);
    std::vector<cuda::DeviceBuffer> buffers;
    for (const auto& [name, values] : inputs) {
        buffers.push_back(std::move(cuda::DeviceBuffer::allocate(values.size() * 4).value()));
        ASSERT_EQ(cudaMemcpy(buffers.back().get(), values.data(), values.size() * 4, cudaMemcpyHostToDevice),
                  cudaSuccess);
        ASSERT_TRUE(ctx.set_tensor_address(name, buffers.back().get()).is_ok()) << name;
    }
    const size_t count = want.size();
    cuda::DeviceBuffer d_y = std::move(cuda::DeviceBuffer::allocate(count * 4).value());
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
    EXPECT_TRUE(ctx.impl().fallback_nodes().empty()) << "a layer fell back to the CPU";
}

// The same on a new context of the engine.
inline void expect_cuda_engine_matches(const Engine& engine, const EngineInputs& inputs, const std::vector<float>& want,
                                       double tol) {
    auto ctx = engine.create_context();
    ASSERT_TRUE(ctx.has_value()) << ctx.status().to_string();
    expect_cuda_run(**ctx, inputs, want, tol);
}

inline int count_layers(const Engine& engine, const std::string& op_type) {
    int n = 0;
    for (const auto& layer : engine.layers()) n += layer.op_type == op_type;
    return n;
}

// Builds the model for CUDA (config.fp16 picks the precision) and checks it against `want` (see the top of the
// file); `fused` layers of type `op_type` must be in it.
inline void check_cuda_engine(const OnnxMaker& model, BuilderConfig config, const EngineInputs& inputs,
                              const std::vector<float>& want, const std::string& op_type, int fused) {
    SCOPED_TRACE(config.fp16 ? "fp16" : "fp32");
    config.backend = Backend::kCuda;
    auto engine = model.build(config);
    ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
    EXPECT_EQ(count_layers(**engine, op_type), fused);
    expect_cuda_engine_matches(**engine, inputs, want, config.fp16 ? 5e-3 : 1e-5);
}

}  // namespace rtinfer::testing
