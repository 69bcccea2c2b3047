// YoloDecode's CUDA enqueue against its CPU enqueue (which the unit tier checks against an independent
// decoder): one plugin instance, the same random head, outputs poisoned beforehand. The two differ only
// where expf does (host libm vs CUDA), so boxes agree within 1e-3 pixels (plus 1e-6 relative) and scores
// within 1e-6. Cases: YOLOv8 heads (reg_max 16 and 1, grids from image_size and grid_sizes, with and
// without sigmoid, class counts around the 32-wide transpose tiles), YOLOv5 heads (anchors, with and
// without sigmoid), batches of 1 to 5, a CUDA graph capture, and YoloDecode -> EfficientNMS_TRT as one CUDA
// engine, whose detections must be exactly what the NMS gives on the decoder's GPU outputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/runtime/context_impl.h"
#include "rtinfer/builder.h"
#include "tests/gpu/builtin_plugin_path.h"
#include "tests/gpu/gpu_test_util.h"
#include "tests/gpu/plugin_abi_runner.h"
#include "tests/unit/plugin_test_util.h"

namespace {

using rtinfer::testing::DeviceMemory;
using rtinfer::testing::HostTensor;
using rtinfer::testing::OnnxMaker;
using rtinfer::testing::PluginAttrs;
using rtinfer::testing::PluginUnderTest;

const std::vector<float> kV5Anchors = {10, 13, 16, 30, 33, 23, 30, 61, 62, 45, 59, 119, 116, 90, 156, 198, 373, 326};

struct Head {
    std::string style = "yolov8";
    int batch = 2;
    int classes = 80;
    int reg_max = 16;
    std::vector<int64_t> strides = {8, 16, 32};
    std::vector<int64_t> image_size = {640, 640};
    std::vector<int64_t> grid_sizes;  // instead of image_size when not empty
    int apply_sigmoid = 1;

    bool v8() const { return style == "yolov8"; }
    int64_t candidates() const {
        int64_t a = 0;
        for (size_t l = 0; l < strides.size(); ++l) {
            if (!grid_sizes.empty()) {
                a += grid_sizes[2 * l] * grid_sizes[2 * l + 1];
            } else {
                a += ((image_size[0] + strides[l] - 1) / strides[l]) * ((image_size[1] + strides[l] - 1) / strides[l]);
            }
        }
        return v8() ? a : a * static_cast<int64_t>(kV5Anchors.size() / 6);
    }
    std::vector<int64_t> dims() const {
        if (v8()) return {batch, 4 * reg_max + classes, candidates()};
        return {batch, candidates(), 5 + classes};
    }
    std::string describe() const {
        return style + " batch " + std::to_string(batch) + " classes " + std::to_string(classes) + " A " +
               std::to_string(candidates()) + " reg_max " + std::to_string(reg_max) + " sigmoid " +
               std::to_string(apply_sigmoid);
    }
    PluginAttrs attrs() const {
        PluginAttrs a;
        a.s("style", style).ints("strides", strides).i("apply_sigmoid", apply_sigmoid);
        if (grid_sizes.empty()) {
            a.ints("image_size", image_size);
        } else {
            a.ints("grid_sizes", grid_sizes);
        }
        if (v8()) a.i("reg_max", reg_max);
        if (!v8()) a.floats("anchors", kV5Anchors);
        return a;
    }
    std::vector<float> random(unsigned seed) const {
        std::mt19937 rng(seed);
        std::normal_distribution<float> logit(0.0f, 3.0f);
        std::uniform_real_distribution<float> prob(0.0f, 1.0f);
        const auto d = dims();
        std::vector<float> values(static_cast<size_t>(d[0] * d[1] * d[2]));
        for (auto& v : values) v = !v8() && apply_sigmoid == 0 ? prob(rng) : logit(rng);
        return values;
    }
};

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double abs_tol, double rel_tol,
                  const std::string& what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_NEAR(got[i], want[i], abs_tol + rel_tol * std::fabs(want[i])) << what << " element " << i;
    }
}

void expect_cuda_matches_cpu(const Head& h, bool graph = false) {
    PluginUnderTest plugin(rtinfer::testing::yolo_plugin_path(), "YoloDecode", h.attrs());
    ASSERT_TRUE(plugin.error().empty()) << h.describe() << ": " << plugin.error();
    ASSERT_TRUE(plugin.has_cuda()) << "the YoloDecode plugin was built without its CUDA enqueue";
    const std::vector<HostTensor> inputs = {HostTensor::of(RT_PLUGIN_DTYPE_FLOAT32, h.dims(), h.random(7))};
    const std::vector<HostTensor> cpu = plugin.run_cpu(inputs);
    ASSERT_EQ(cpu.size(), 2u) << h.describe() << ": " << plugin.error();
    const std::vector<HostTensor> gpu = plugin.run_cuda(inputs, graph);
    ASSERT_EQ(gpu.size(), 2u) << h.describe() << ": " << plugin.error();
    expect_close(gpu[0].values<float>(), cpu[0].values<float>(), 1e-3, 1e-6, h.describe() + " boxes");
    expect_close(gpu[1].values<float>(), cpu[1].values<float>(), 1e-6, 0.0, h.describe() + " scores");
}

}  // namespace

TEST(CudaYoloDecode, AnchorFreeMatchesCpu) {
    RT_REQUIRE_GPU();
    Head h;  // YOLOv8 at 640 x 640: 8400 candidates, 80 classes
    expect_cuda_matches_cpu(h);
    h.batch = 5;
    h.classes = 33;  // one full and one partial transpose tile of classes
    h.image_size = {480, 352};
    expect_cuda_matches_cpu(h);
}

TEST(CudaYoloDecode, AnchorFreeRegMaxOneGridSizesNoSigmoid) {
    RT_REQUIRE_GPU();
    Head h;
    h.batch = 1;
    h.classes = 1;
    h.reg_max = 1;
    h.apply_sigmoid = 0;
    h.strides = {8, 16};
    h.grid_sizes = {13, 7, 5, 3};  // 106 candidates: not a multiple of 32
    expect_cuda_matches_cpu(h);
    h.reg_max = 7;
    h.classes = 6;
    expect_cuda_matches_cpu(h);
}

TEST(CudaYoloDecode, AnchorBasedMatchesCpu) {
    RT_REQUIRE_GPU();
    Head h;
    h.style = "yolov5";  // 25200 candidates at 640 x 640
    expect_cuda_matches_cpu(h);
    h.apply_sigmoid = 0;
    h.classes = 3;
    h.batch = 3;
    h.image_size = {320, 256};
    expect_cuda_matches_cpu(h);
}

TEST(CudaYoloDecode, CapturedIntoACudaGraph) {
    RT_REQUIRE_GPU();
    Head h;
    h.classes = 20;
    expect_cuda_matches_cpu(h, true);
    h.style = "yolov5";
    expect_cuda_matches_cpu(h, true);
}

// --- YoloDecode -> EfficientNMS_TRT as one CUDA engine -------------------------------------------------

namespace {

void add_decode(OnnxMaker& m, const Head& h, const std::vector<std::string>& outputs) {
    auto* node = m.node("YoloDecode", {"head"}, outputs, "decode", "rtinfer");
    OnnxMaker::attr_string(node, "style", h.style);
    OnnxMaker::attr_ints(node, "strides", h.strides);
    OnnxMaker::attr_ints(node, "image_size", h.image_size);
}

constexpr int64_t kDetections = 100;

OnnxMaker chained_model(const Head& h) {
    OnnxMaker m;
    m.input("head", h.dims());
    add_decode(m, h, {"boxes", "scores"});
    auto* nms = m.node("EfficientNMS_TRT", {"boxes", "scores"},
                       {"num_detections", "detection_boxes", "detection_scores", "detection_classes"}, "nms", "TRT");
    OnnxMaker::attr_float(nms, "score_threshold", 0.25f);
    OnnxMaker::attr_float(nms, "iou_threshold", 0.45f);
    OnnxMaker::attr_int(nms, "max_output_boxes", kDetections);
    const int64_t n = h.batch, k = kDetections;
    m.output("num_detections", {n, 1}, ::onnx::TensorProto::INT32);
    m.output("detection_boxes", {n, k, 4});
    m.output("detection_scores", {n, k});
    m.output("detection_classes", {n, k}, ::onnx::TensorProto::INT32);
    return m;
}

OnnxMaker decode_model(const Head& h) {
    OnnxMaker m;
    m.input("head", h.dims());
    add_decode(m, h, {"boxes", "scores"});
    m.output("boxes", {h.batch, h.candidates(), 4});
    m.output("scores", {h.batch, h.candidates(), h.classes});
    return m;
}

std::unique_ptr<rtinfer::Engine> build_cuda(const OnnxMaker& m) {
    rtinfer::BuilderConfig config;
    config.backend = rtinfer::Backend::kCuda;
    auto engine = m.build(config);
    EXPECT_TRUE(engine.has_value()) << engine.status().to_string();
    return engine.has_value() ? std::move(engine).value() : nullptr;
}

// Runs a CUDA engine on host data: uploads `inputs`, returns the named outputs' bytes.
std::vector<std::vector<uint8_t>> run_cuda(const rtinfer::Engine& engine,
                                           const std::vector<std::pair<std::string, std::vector<float>>>& inputs,
                                           const std::vector<std::pair<std::string, size_t>>& outputs) {
    auto ctx = engine.create_context();
    EXPECT_TRUE(ctx.has_value()) << ctx.status().to_string();
    if (!ctx) return {};
    EXPECT_TRUE((*ctx)->impl().fallback_nodes().empty()) << "a plugin layer fell back to the CPU";
    std::vector<DeviceMemory> memory;
    for (const auto& [name, values] : inputs) {
        memory.emplace_back(values.size() * sizeof(float));
        cudaMemcpy(memory.back().get(), values.data(), values.size() * sizeof(float), cudaMemcpyHostToDevice);
        (*ctx)->set_tensor_address(name, memory.back().get());
    }
    for (const auto& [name, bytes] : outputs) {
        memory.emplace_back(bytes);
        cudaMemset(memory.back().get(), 0xFF, bytes);
        (*ctx)->set_tensor_address(name, memory.back().get());
    }
    EXPECT_TRUE((*ctx)->enqueue().is_ok());
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    std::vector<std::vector<uint8_t>> out;
    for (size_t i = 0; i < outputs.size(); ++i) {
        out.emplace_back(outputs[i].second);
        cudaMemcpy(out.back().data(), memory[inputs.size() + i].get(), outputs[i].second, cudaMemcpyDeviceToHost);
    }
    return out;
}

template <typename T>
std::vector<T> as(const std::vector<uint8_t>& bytes) {
    std::vector<T> v(bytes.size() / sizeof(T));
    std::memcpy(v.data(), bytes.data(), bytes.size());
    return v;
}

}  // namespace

TEST(CudaYoloDecode, ChainedIntoEfficientNmsOnTheGpu) {
    RT_REQUIRE_GPU();
    Head h;
    h.classes = 10;
    const auto head = h.random(11);
    // The SDK finds its built-in plugins by itself; this covers test binaries run away from their build.
    ASSERT_TRUE(rtinfer::load_plugin_library(rtinfer::testing::nms_plugin_path()).is_ok());
    ASSERT_TRUE(rtinfer::load_plugin_library(rtinfer::testing::yolo_plugin_path()).is_ok());
    auto chained = build_cuda(chained_model(h));
    auto decoder = build_cuda(decode_model(h));
    ASSERT_TRUE(chained && decoder);
    const size_t n = static_cast<size_t>(h.batch), a = static_cast<size_t>(h.candidates()), k = kDetections;
    const auto detections = run_cuda(*chained, {{"head", head}},
                                     {{"num_detections", n * 4},
                                      {"detection_boxes", n * k * 16},
                                      {"detection_scores", n * k * 4},
                                      {"detection_classes", n * k * 4}});
    const auto decoded =
        run_cuda(*decoder, {{"head", head}}, {{"boxes", n * a * 16}, {"scores", n * a * h.classes * sizeof(float)}});
    ASSERT_EQ(detections.size(), 4u);
    ASSERT_EQ(decoded.size(), 2u);

    // The NMS plugin's CPU enqueue on the decoder's GPU outputs: the chain must give exactly that.
    PluginAttrs nms_attrs;
    nms_attrs.f("score_threshold", 0.25f).f("iou_threshold", 0.45f).i("max_output_boxes", kDetections);
    PluginUnderTest nms(rtinfer::testing::nms_plugin_path(), "EfficientNMS_TRT", nms_attrs);
    ASSERT_TRUE(nms.error().empty()) << nms.error();
    const int64_t N = h.batch, A = h.candidates(), C = h.classes;
    const auto want = nms.run_cpu({HostTensor::of(RT_PLUGIN_DTYPE_FLOAT32, {N, A, 4}, as<float>(decoded[0])),
                                   HostTensor::of(RT_PLUGIN_DTYPE_FLOAT32, {N, A, C}, as<float>(decoded[1]))});
    ASSERT_EQ(want.size(), 4u) << nms.error();
    for (size_t i = 0; i < 4; ++i) EXPECT_EQ(detections[i], want[i].bytes) << "output " << i;
    const auto num = as<int32_t>(detections[0]);
    EXPECT_GT(num[0], 0);
}
