// A CUDA engine with a data-dependent shape: the static part runs on the GPU, NonMaxSuppression on the
// GPU into a bounded buffer, what reads its result on the CPU; outputs equal the CPU engine's, run after run.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/kernels/cuda/cuda_check.h"
#include "core/runtime/context_impl.h"
#include "rtinfer/builder.h"
#include "tests/gpu/gpu_test_util.h"
#include "tests/unit/plugin_test_util.h"

namespace {

using rtinfer::cuda::DeviceBuffer;
using rtinfer::testing::OnnxMaker;

constexpr int64_t kBoxes = 64;
constexpr int64_t kClasses = 2;

// boxes [1, 64, 4], scores [1, 2, 64] -> prob = Sigmoid(scores) (static output)
//   -> NonMaxSuppression -> selected [K, 3] -> its box column -> picked = boxes[ids] [K, 4].
OnnxMaker nms_model() {
    OnnxMaker m;
    m.model.mutable_opset_import(0)->set_version(13);
    m.input("boxes", {1, kBoxes, 4});
    m.input("scores", {1, kClasses, kBoxes});
    m.output("prob", {1, kClasses, kBoxes});
    m.output("selected", {-1, 3}, ::onnx::TensorProto::INT64);
    m.output("picked", {-1, 4});
    auto int64s = [&](const std::string& name, const std::vector<int64_t>& dims, const std::vector<int64_t>& v) {
        auto* t = m.g().add_initializer();
        t->set_name(name);
        t->set_data_type(::onnx::TensorProto::INT64);
        for (int64_t d : dims) t->add_dims(d);
        for (int64_t x : v) t->add_int64_data(x);
    };
    auto floats = [&](const std::string& name, float v) {
        auto* t = m.g().add_initializer();
        t->set_name(name);
        t->set_data_type(::onnx::TensorProto::FLOAT);
        t->add_dims(1);
        t->add_float_data(v);
    };
    int64s("max_out", {1}, {64});  // no clipping: how many boxes survive depends on the frame
    floats("iou", 0.4f);
    floats("threshold", 0.55f);
    int64s("column", {}, {2});
    int64s("flat_shape", {2}, {kBoxes, 4});
    m.node("Sigmoid", {"scores"}, {"prob"}, "sigmoid");
    m.node("NonMaxSuppression", {"boxes", "prob", "max_out", "iou", "threshold"}, {"selected"}, "nms");
    OnnxMaker::attr_int(m.node("Gather", {"selected", "column"}, {"ids"}, "box_ids"), "axis", 1);
    m.node("Reshape", {"boxes", "flat_shape"}, {"flat"}, "flatten_boxes");
    OnnxMaker::attr_int(m.node("Gather", {"flat", "ids"}, {"picked"}, "pick"), "axis", 0);
    return m;
}

struct Frame {
    std::vector<float> boxes, scores;
};

Frame random_frame(std::mt19937& gen) {
    std::uniform_real_distribution<float> pos(0.0f, 1.0f), size(0.1f, 0.3f);
    std::normal_distribution<float> logit(0.0f, 1.5f);
    Frame f;
    for (int64_t i = 0; i < kBoxes; ++i) {
        const float y = pos(gen), x = pos(gen), h = size(gen), w = size(gen);
        f.boxes.insert(f.boxes.end(), {y, x, y + h, x + w});
    }
    for (int64_t i = 0; i < kClasses * kBoxes; ++i) f.scores.push_back(logit(gen) + 0.01f);
    return f;
}

struct Result {
    std::vector<float> prob, picked;
    std::vector<int64_t> selected;
};

template <typename T>
std::vector<T> host_output(rtinfer::ExecutionContext& ctx, const std::string& name) {
    auto desc = ctx.tensor_desc(name);
    EXPECT_TRUE(desc.has_value());
    int64_t count = 1;
    for (int64_t d : desc->dims) count *= d;
    auto data = ctx.output_data(name);
    EXPECT_TRUE(data.has_value()) << data.status().to_string();
    if (!data.has_value() || count <= 0) return {};
    const T* p = static_cast<const T*>(*data);
    return std::vector<T>(p, p + count);
}

Result run_cpu(rtinfer::Engine& engine, Frame& f) {
    auto ctx = engine.create_context();
    EXPECT_TRUE(ctx.has_value());
    Result r;
    r.prob.assign(f.scores.size(), -1.0f);
    EXPECT_TRUE((*ctx)->set_tensor_address("boxes", f.boxes.data()).is_ok());
    EXPECT_TRUE((*ctx)->set_tensor_address("scores", f.scores.data()).is_ok());
    EXPECT_TRUE((*ctx)->set_tensor_address("prob", r.prob.data()).is_ok());
    EXPECT_TRUE((*ctx)->enqueue().is_ok());
    r.selected = host_output<int64_t>(**ctx, "selected");
    r.picked = host_output<float>(**ctx, "picked");
    return r;
}

}  // namespace

TEST(CudaDynamicShapes, NmsModelRunsItsStaticPartOnTheGpuAndMatchesTheCpu) {
    RT_REQUIRE_GPU();
    const OnnxMaker model = nms_model();
    auto cpu = model.build();
    ASSERT_TRUE(cpu.has_value()) << cpu.status().to_string();
    rtinfer::BuilderConfig config;
    config.backend = rtinfer::Backend::kCuda;
    auto gpu = model.build(config);
    ASSERT_TRUE(gpu.has_value()) << gpu.status().to_string();
    auto ctx = (*gpu)->create_context();
    ASSERT_TRUE(ctx.has_value()) << ctx.status().to_string();

    // Only what reads the data-dependent result runs on the CPU.
    const std::vector<std::string> fallbacks = (*ctx)->impl().fallback_nodes();
    auto falls_back = [&](const std::string& name) {
        return std::any_of(fallbacks.begin(), fallbacks.end(),
                           [&](const std::string& f) { return f.rfind(name + " ", 0) == 0; });
    };
    EXPECT_FALSE(falls_back("sigmoid"));
    EXPECT_FALSE(falls_back("nms")) << "NonMaxSuppression should run on the GPU";
    EXPECT_TRUE(falls_back("box_ids"));
    EXPECT_TRUE(falls_back("pick"));

    const size_t box_bytes = kBoxes * 4 * sizeof(float), score_bytes = kClasses * kBoxes * sizeof(float);
    DeviceBuffer d_boxes = std::move(DeviceBuffer::allocate(box_bytes).value());
    DeviceBuffer d_scores = std::move(DeviceBuffer::allocate(score_bytes).value());
    DeviceBuffer d_prob = std::move(DeviceBuffer::allocate(score_bytes).value());
    ASSERT_TRUE((*ctx)->set_tensor_address("boxes", d_boxes.get()).is_ok());
    ASSERT_TRUE((*ctx)->set_tensor_address("scores", d_scores.get()).is_ok());
    ASSERT_TRUE((*ctx)->set_tensor_address("prob", d_prob.get()).is_ok());

    std::mt19937 gen(7);
    std::vector<size_t> counts;
    for (int run = 0; run < 3; ++run) {
        SCOPED_TRACE("run " + std::to_string(run));
        Frame f = random_frame(gen);
        const Result want = run_cpu(**cpu, f);
        ASSERT_FALSE(want.selected.empty());
        ASSERT_EQ(cudaMemcpy(d_boxes.get(), f.boxes.data(), box_bytes, cudaMemcpyHostToDevice), cudaSuccess);
        ASSERT_EQ(cudaMemcpy(d_scores.get(), f.scores.data(), score_bytes, cudaMemcpyHostToDevice), cudaSuccess);
        ASSERT_EQ(cudaMemset(d_prob.get(), 0xFF, score_bytes), cudaSuccess);
        const rtinfer::Status s = (*ctx)->enqueue();
        ASSERT_TRUE(s.is_ok()) << s.to_string();
        ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
        std::vector<float> prob(f.scores.size());
        ASSERT_EQ(cudaMemcpy(prob.data(), d_prob.get(), score_bytes, cudaMemcpyDeviceToHost), cudaSuccess);
        for (size_t i = 0; i < prob.size(); ++i) ASSERT_NEAR(prob[i], want.prob[i], 1e-6) << i;
        EXPECT_EQ(host_output<int64_t>(**ctx, "selected"), want.selected);
        EXPECT_EQ(host_output<float>(**ctx, "picked"), want.picked);
        counts.push_back(want.selected.size() / 3);
    }
    // The runs differ in how many boxes they keep, so the shapes really came from each run.
    std::sort(counts.begin(), counts.end());
    EXPECT_NE(counts.front(), counts.back());
}
