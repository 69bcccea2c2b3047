// Engines of one float32 input and one float32 output in the GPU tests: the CPU engine's output (what a CUDA
// engine must match) and a CUDA engine run on device buffers against it.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/kernels/cuda/cuda_check.h"
#include "core/runtime/context_impl.h"
#include "rtinfer/engine.h"

namespace rtinfer::testing {

// y = engine(x) on a CPU engine; empty, with a test failure, on an error.
inline std::vector<float> run_cpu_engine(const Engine& engine, const std::string& x_name, std::vector<float> x,
                                         const std::string& y_name, size_t y_count) {
    std::vector<float> y(y_count, -99.0f);
    auto ctx = engine.create_context();
    EXPECT_TRUE(ctx.has_value()) << ctx.status().to_string();
    if (!ctx.has_value()) return {};
    const bool ok = (*ctx)->set_tensor_address(x_name, x.data()).is_ok() &&
                    (*ctx)->set_tensor_address(y_name, y.data()).is_ok() && (*ctx)->enqueue().is_ok();
    EXPECT_TRUE(ok) << "the CPU engine failed";
    return ok ? y : std::vector<float>();
}

// Runs a CUDA engine twice on x, NaN bytes in y before each run, and checks max |y - want| <= tol * max |want|
// after both; no layer may fall back to the CPU.
inline void expect_cuda_engine_matches(const Engine& engine, const std::string& x_name, const std::vector<float>& x,
                                       const std::string& y_name, const std::vector<float>& want, double tol) {
    ASSERT_FALSE(want.empty());
    double scale = 0;
    for (float v : want) scale = std::max(scale, std::fabs(double(v)));
    ASSERT_GT(scale, 0.1);
    auto ctx = engine.create_context();
    ASSERT_TRUE(ctx.has_value()) << ctx.status().to_string();
    EXPECT_TRUE((*ctx)->impl().fallback_nodes().empty()) << "a layer fell back to the CPU";
    auto d_x = cuda::DeviceBuffer::allocate(x.size() * 4);
    auto d_y = cuda::DeviceBuffer::allocate(want.size() * 4);
    ASSERT_TRUE(d_x.has_value() && d_y.has_value());
    ASSERT_EQ(cudaMemcpy(d_x->get(), x.data(), x.size() * 4, cudaMemcpyHostToDevice), cudaSuccess);
    ASSERT_TRUE((*ctx)->set_tensor_address(x_name, d_x->get()).is_ok());
    ASSERT_TRUE((*ctx)->set_tensor_address(y_name, d_y->get()).is_ok());
    for (int run = 0; run < 2; ++run) {
        ASSERT_EQ(cudaMemset(d_y->get(), 0xFF, want.size() * 4), cudaSuccess);
        ASSERT_TRUE((*ctx)->enqueue().is_ok());
        ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
        std::vector<float> got(want.size());
        ASSERT_EQ(cudaMemcpy(got.data(), d_y->get(), got.size() * 4, cudaMemcpyDeviceToHost), cudaSuccess);
        double err = 0;
        for (size_t i = 0; i < got.size(); ++i) {
            const double d = std::fabs(double(got[i]) - double(want[i]));
            err = std::isnan(d) ? INFINITY : std::max(err, d);
        }
        EXPECT_LE(err / scale, tol) << "run " << run;
    }
}

}  // namespace rtinfer::testing
