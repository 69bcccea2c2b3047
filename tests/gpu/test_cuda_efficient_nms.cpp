// EfficientNMS_TRT's CUDA enqueue against its CPU enqueue (which the unit tier checks against an
// independent NMS): one plugin instance, the same inputs, and the outputs equal bit for bit — counts,
// classes, boxes and scores, padding rows included (outputs start poisoned). Cases: random boxes in both
// codings, class-aware and agnostic, sigmoid, boxes per class, ties, signed zeros, NaN/inf, empty inputs,
// everything suppressed, max_output_boxes clipping around the kernel's 256-candidate chunks, batches with
// empty images, a detector-sized input, a CUDA graph capture, and a CUDA engine built through the SDK.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
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

using rtinfer::testing::HostTensor;
using rtinfer::testing::PluginAttrs;
using rtinfer::testing::PluginUnderTest;

struct NmsConfig {
    int batch = 1, boxes = 10, classes = 3;
    bool per_class_boxes = false;
    float score_threshold = 0.2f;
    float iou_threshold = 0.5f;
    int max_output_boxes = 20;
    int background_class = -1;
    int score_activation = 0;
    int class_agnostic = 0;
    int box_coding = 0;

    std::string describe() const {
        return "batch " + std::to_string(batch) + " boxes " + std::to_string(boxes) + " classes " +
               std::to_string(classes) + (per_class_boxes ? " (boxes per class)" : "") + " K " +
               std::to_string(max_output_boxes) + " agnostic " + std::to_string(class_agnostic) + " coding " +
               std::to_string(box_coding) + " sigmoid " + std::to_string(score_activation) + " background " +
               std::to_string(background_class);
    }
    size_t box_rows() const { return static_cast<size_t>(batch) * boxes * (per_class_boxes ? classes : 1); }
    size_t score_count() const { return static_cast<size_t>(batch) * boxes * classes; }
};

struct NmsInputs {
    std::vector<float> boxes, scores;
};

PluginAttrs attrs_of(const NmsConfig& c) {
    PluginAttrs a;
    a.f("score_threshold", c.score_threshold)
        .f("iou_threshold", c.iou_threshold)
        .i("max_output_boxes", c.max_output_boxes)
        .i("background_class", c.background_class)
        .i("score_activation", c.score_activation)
        .i("class_agnostic", c.class_agnostic)
        .i("box_coding", c.box_coding)
        .s("plugin_version", "1");
    return a;
}

// Index and values of the first element where two float arrays differ in their bits, or "".
std::string first_difference(const std::vector<float>& got, const std::vector<float>& want) {
    if (got.size() != want.size()) return "sizes " + std::to_string(got.size()) + " vs " + std::to_string(want.size());
    for (size_t i = 0; i < got.size(); ++i) {
        if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) {
            return "element " + std::to_string(i) + ": cuda " + std::to_string(got[i]) + ", cpu " +
                   std::to_string(want[i]);
        }
    }
    return "";
}

// Runs both enqueues and expects the same outputs; *kept (if given) receives the detections of the batch.
void expect_cuda_matches_cpu(const NmsConfig& c, const NmsInputs& in, const std::string& what, int* kept = nullptr,
                             bool graph = false) {
    PluginUnderTest plugin(rtinfer::testing::nms_plugin_path(), "EfficientNMS_TRT", attrs_of(c));
    ASSERT_TRUE(plugin.error().empty()) << plugin.error();
    ASSERT_TRUE(plugin.has_cuda()) << "the NMS plugin was built without its CUDA enqueue";
    const int64_t n = c.batch, a = c.boxes, k = c.classes;
    std::vector<int64_t> box_dims = {n, a, 4};
    if (c.per_class_boxes) box_dims = {n, a, k, 4};
    const std::vector<HostTensor> inputs = {HostTensor::of(RT_PLUGIN_DTYPE_FLOAT32, box_dims, in.boxes),
                                            HostTensor::of(RT_PLUGIN_DTYPE_FLOAT32, {n, a, k}, in.scores)};
    const std::vector<HostTensor> cpu = plugin.run_cpu(inputs);
    ASSERT_EQ(cpu.size(), 4u) << what << ": " << plugin.error();
    const std::vector<HostTensor> gpu = plugin.run_cuda(inputs, graph);
    ASSERT_EQ(gpu.size(), 4u) << what << ": " << plugin.error();
    const auto num = gpu[0].values<int32_t>();
    ASSERT_EQ(num, cpu[0].values<int32_t>()) << what << ": num_detections";
    EXPECT_EQ(gpu[3].values<int32_t>(), cpu[3].values<int32_t>()) << what << ": detection_classes";
    EXPECT_EQ(first_difference(gpu[2].values<float>(), cpu[2].values<float>()), "") << what << ": detection_scores";
    EXPECT_EQ(first_difference(gpu[1].values<float>(), cpu[1].values<float>()), "") << what << ": detection_boxes";
    if (kept) {
        *kept = 0;
        for (int32_t v : num) *kept += v;
    }
}

// Boxes around `clusters` centres in a 0..640 image, so that many overlap (IoU spread over (0, 1)), in the
// case's coding; corner boxes give the other diagonal every third row.
std::vector<float> cluster_boxes(const NmsConfig& c, std::mt19937& rng, int clusters = 12) {
    std::uniform_real_distribution<float> centre(0.0f, 640.0f), jitter(-12.0f, 12.0f), size(16.0f, 60.0f);
    std::vector<std::pair<float, float>> at(static_cast<size_t>(clusters));
    for (auto& p : at) p = {centre(rng), centre(rng)};
    std::vector<float> out;
    for (size_t i = 0; i < c.box_rows(); ++i) {
        const auto& p = at[i % at.size()];
        const float x = p.first + jitter(rng), y = p.second + jitter(rng), w = size(rng), h = size(rng);
        if (c.box_coding == 1) {
            out.insert(out.end(), {x, y, w, h});
        } else if (i % 3 == 0) {
            out.insert(out.end(), {x + w / 2, y + h / 2, x - w / 2, y - h / 2});
        } else {
            out.insert(out.end(), {x - w / 2, y - h / 2, x + w / 2, y + h / 2});
        }
    }
    return out;
}

// Scores in (0, 1), or logits in (-4, 4) for the sigmoid.
std::vector<float> uniform_scores(const NmsConfig& c, std::mt19937& rng) {
    std::uniform_real_distribution<float> u(0.0f, 1.0f), z(-4.0f, 4.0f);
    std::vector<float> out(c.score_count());
    for (auto& s : out) s = c.score_activation ? z(rng) : u(rng);
    return out;
}

// What a detector head gives: most scores near zero, a few anchors confident in one or two classes.
std::vector<float> detector_scores(const NmsConfig& c, std::mt19937& rng) {
    std::uniform_real_distribution<float> low(0.0f, 0.05f), high(0.2f, 0.95f), u(0.0f, 1.0f);
    std::uniform_int_distribution<int> cls(0, c.classes - 1);
    std::vector<float> out(c.score_count());
    for (size_t anchor = 0; anchor < out.size() / static_cast<size_t>(c.classes); ++anchor) {
        float* s = &out[anchor * static_cast<size_t>(c.classes)];
        for (int k = 0; k < c.classes; ++k) s[k] = low(rng);
        if (u(rng) < 0.04f) s[cls(rng)] = high(rng);
        if (u(rng) < 0.01f) s[cls(rng)] = high(rng);
    }
    if (c.score_activation) {
        for (auto& s : out) s = std::log(s / (1.0f - s));  // the logits of those probabilities
    }
    return out;
}

// Row-major disjoint boxes on a grid (no two overlap).
std::vector<float> grid_boxes(size_t rows) {
    std::vector<float> out;
    for (size_t i = 0; i < rows; ++i) {
        const float x = static_cast<float>(i % 100) * 20.0f, y = static_cast<float>(i / 100) * 20.0f;
        out.insert(out.end(), {x, y, x + 10.0f, y + 10.0f});
    }
    return out;
}

}  // namespace

TEST(CudaEfficientNms, RandomBoxesMatchCpu) {
    RT_REQUIRE_GPU();
    int cases = 0;
    for (int agnostic : {0, 1}) {
        for (int coding : {0, 1}) {
            for (int sigmoid : {0, 1}) {
                for (bool per_class : {false, true}) {
                    NmsConfig c;
                    c.batch = 3;
                    c.boxes = 400;
                    c.classes = 6;
                    c.per_class_boxes = per_class;
                    c.class_agnostic = agnostic;
                    c.box_coding = coding;
                    c.score_activation = sigmoid;
                    c.score_threshold = 0.3f;
                    c.iou_threshold = 0.45f;
                    c.max_output_boxes = 60;
                    for (unsigned seed = 1; seed <= 2; ++seed) {
                        std::mt19937 rng(seed * 7919u + static_cast<unsigned>(cases));
                        NmsInputs in{cluster_boxes(c, rng), uniform_scores(c, rng)};
                        int kept = 0;
                        expect_cuda_matches_cpu(c, in, c.describe() + " seed " + std::to_string(seed), &kept);
                        EXPECT_GT(kept, 0) << c.describe();
                        ++cases;
                    }
                }
            }
        }
    }
    EXPECT_EQ(cases, 32);
}

TEST(CudaEfficientNms, DetectorSizedInputMatchesCpu) {
    RT_REQUIRE_GPU();
    for (int classes : {80, 6}) {
        for (float threshold : {0.25f, 0.001f}) {
            NmsConfig c;
            c.batch = 2;
            c.boxes = 8400;
            c.classes = classes;
            c.score_threshold = threshold;
            c.iou_threshold = 0.45f;
            c.max_output_boxes = threshold < 0.01f ? 300 : 100;
            c.score_activation = classes == 6;
            std::mt19937 rng(static_cast<unsigned>(classes * 1000 + threshold * 1000));
            NmsInputs in{cluster_boxes(c, rng, 200), detector_scores(c, rng)};
            int kept = 0;
            expect_cuda_matches_cpu(c, in, c.describe() + " threshold " + std::to_string(threshold), &kept);
            EXPECT_GT(kept, 0);
        }
    }
}

TEST(CudaEfficientNms, TiesMatchCpu) {
    RT_REQUIRE_GPU();
    // Few distinct scores and many repeated boxes: the order rests on the tie-break (box, then class).
    for (int agnostic : {0, 1}) {
        for (int sigmoid : {0, 1}) {
            NmsConfig c;
            c.batch = 2;
            c.boxes = 700;
            c.classes = 4;
            c.class_agnostic = agnostic;
            c.score_activation = sigmoid;
            c.score_threshold = 0.4f;
            c.max_output_boxes = 150;
            std::mt19937 rng(17u + static_cast<unsigned>(agnostic * 2 + sigmoid));
            std::uniform_int_distribution<int> pick(0, 2), spot(0, 39);
            const float values[3] = {sigmoid ? 0.0f : 0.3f, sigmoid ? 0.5f : 0.5f, sigmoid ? 1.0f : 0.7f};
            NmsInputs in;
            for (size_t i = 0; i < c.score_count(); ++i) in.scores.push_back(values[pick(rng)]);
            for (size_t i = 0; i < c.box_rows(); ++i) {
                const float x = static_cast<float>(spot(rng) % 8) * 30.0f,
                            y = static_cast<float>(spot(rng) / 8) * 30.0f;
                in.boxes.insert(in.boxes.end(), {x, y, x + 40.0f, y + 40.0f});  // neighbours overlap (IoU 1/7 or more)
            }
            int kept = 0;
            expect_cuda_matches_cpu(c, in, "ties, " + c.describe(), &kept);
            EXPECT_GT(kept, 0);
        }
    }
    // The unit tier's example: four disjoint boxes, every score 0.5: box 0 class 0, box 0 class 1, box 1 ...
    NmsConfig small;
    small.boxes = 4;
    small.classes = 2;
    small.max_output_boxes = 8;
    expect_cuda_matches_cpu(
        small, {{30, 30, 40, 40, 0, 0, 10, 10, 60, 60, 70, 70, 90, 90, 95, 95}, std::vector<float>(8, 0.5f)},
        "four disjoint boxes");
}

TEST(CudaEfficientNms, SignedZeroScoresAreTies) {
    RT_REQUIRE_GPU();
    NmsConfig c;
    c.boxes = 300;
    c.classes = 2;
    c.score_threshold = -1.0f;
    c.max_output_boxes = 400;
    NmsInputs in{grid_boxes(300), {}};
    for (size_t i = 0; i < c.score_count(); ++i) in.scores.push_back(i % 3 == 0 ? -0.0f : (i % 3 == 1 ? 0.0f : -0.5f));
    int kept = 0;
    expect_cuda_matches_cpu(c, in, "signed zeros", &kept);
    EXPECT_EQ(kept, 400);
}

TEST(CudaEfficientNms, EmptyInputs) {
    RT_REQUIRE_GPU();
    NmsConfig no_boxes;
    no_boxes.batch = 2;
    no_boxes.boxes = 0;
    int kept = -1;
    expect_cuda_matches_cpu(no_boxes, {}, "no boxes", &kept);
    EXPECT_EQ(kept, 0);
    NmsConfig no_classes;
    no_classes.batch = 2;
    no_classes.boxes = 5;
    no_classes.classes = 0;
    expect_cuda_matches_cpu(no_classes, {grid_boxes(10), {}}, "no classes", &kept);
    EXPECT_EQ(kept, 0);
    NmsConfig below;
    below.batch = 3;
    below.boxes = 500;
    below.classes = 3;
    below.score_threshold = 0.9f;
    expect_cuda_matches_cpu(below, {grid_boxes(1500), std::vector<float>(4500, 0.9f)}, "nothing above", &kept);
    EXPECT_EQ(kept, 0);
}

TEST(CudaEfficientNms, AllButOnePerClassSuppressed) {
    RT_REQUIRE_GPU();
    for (int agnostic : {0, 1}) {
        NmsConfig c;
        c.boxes = 1000;  // several chunks of candidates, all suppressed by the first kept box of their class
        c.classes = 3;
        c.class_agnostic = agnostic;
        c.score_threshold = 0.1f;
        std::vector<float> boxes;
        for (int i = 0; i < c.boxes; ++i) boxes.insert(boxes.end(), {10.0f, 10.0f, 50.0f, 50.0f});
        std::mt19937 rng(23);
        NmsInputs in{boxes, uniform_scores(c, rng)};
        int kept = 0;
        expect_cuda_matches_cpu(c, in, "identical boxes, " + c.describe(), &kept);
        EXPECT_EQ(kept, agnostic ? 1 : 3);
    }
}

TEST(CudaEfficientNms, MaxOutputBoxesClips) {
    RT_REQUIRE_GPU();
    // 2000 disjoint boxes, 2 classes, every score above the threshold: nothing is suppressed, so the
    // detections are exactly min(K, 4000) and the chunk boundaries (256) are crossed at will.
    for (int k : {1, 3, 255, 256, 257, 700, 5000}) {
        NmsConfig c;
        c.boxes = 2000;
        c.classes = 2;
        c.score_threshold = 0.05f;
        c.max_output_boxes = k;
        std::mt19937 rng(static_cast<unsigned>(k));
        std::uniform_real_distribution<float> u(0.1f, 1.0f);
        NmsInputs in{grid_boxes(2000), std::vector<float>(4000)};
        for (auto& s : in.scores) s = u(rng);
        int kept = 0;
        expect_cuda_matches_cpu(c, in, "K " + std::to_string(k), &kept);
        EXPECT_EQ(kept, std::min(k, 4000));
    }
}

TEST(CudaEfficientNms, BatchWithEmptyAndCrowdedImages) {
    RT_REQUIRE_GPU();
    NmsConfig c;
    c.batch = 5;
    c.boxes = 600;
    c.classes = 4;
    c.score_threshold = 0.3f;
    c.max_output_boxes = 50;
    for (int coding : {0, 1}) {
        c.box_coding = coding;
        std::mt19937 rng(31u + static_cast<unsigned>(coding));
        NmsInputs in{cluster_boxes(c, rng), uniform_scores(c, rng)};
        const size_t per_image = static_cast<size_t>(c.boxes) * c.classes;
        std::fill(in.scores.begin() + per_image, in.scores.begin() + 2 * per_image, 0.1f);      // image 1: none
        std::fill(in.scores.begin() + 3 * per_image, in.scores.begin() + 4 * per_image, 0.8f);  // image 3: all
        int kept = 0;
        expect_cuda_matches_cpu(c, in, "batch of 5, " + c.describe(), &kept);
        EXPECT_GT(kept, 0);
    }
}

TEST(CudaEfficientNms, BackgroundClassNanAndInfinity) {
    RT_REQUIRE_GPU();
    for (int sigmoid : {0, 1}) {
        NmsConfig c;
        c.batch = 2;
        c.boxes = 300;
        c.classes = 5;
        c.background_class = 2;
        c.score_activation = sigmoid;
        c.score_threshold = 0.5f;
        c.max_output_boxes = 80;
        std::mt19937 rng(41u + static_cast<unsigned>(sigmoid));
        NmsInputs in{cluster_boxes(c, rng), uniform_scores(c, rng)};
        const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
        for (size_t i = 0; i < in.scores.size(); i += 37) in.scores[i] = nan;
        for (size_t i = 5; i < in.scores.size(); i += 41) in.scores[i] = inf;
        for (size_t i = 9; i < in.scores.size(); i += 43) in.scores[i] = -inf;
        for (size_t i = 3; i < in.boxes.size(); i += 97) in.boxes[i] = nan;
        int kept = 0;
        expect_cuda_matches_cpu(c, in, "NaN and inf, " + c.describe(), &kept);
        EXPECT_GT(kept, 0);
    }
}

TEST(CudaEfficientNms, CapturedIntoACudaGraph) {
    RT_REQUIRE_GPU();
    NmsConfig c;
    c.batch = 2;
    c.boxes = 900;
    c.classes = 5;
    c.score_activation = 1;
    c.score_threshold = 0.4f;
    c.max_output_boxes = 100;
    std::mt19937 rng(53);
    NmsInputs in{cluster_boxes(c, rng), uniform_scores(c, rng)};
    int kept = 0;
    expect_cuda_matches_cpu(c, in, "graph replay", &kept, true);
    EXPECT_GT(kept, 0);
}

// --- through the SDK: a CUDA engine runs the plugin's CUDA enqueue ----------------------------------------

namespace {

class RecordingLogger : public rtinfer::Logger {
  public:
    void log(rtinfer::Severity, const char* message) noexcept override { messages.emplace_back(message); }
    std::vector<std::string> messages;
};

rtinfer::testing::OnnxMaker nms_model(const NmsConfig& c) {
    rtinfer::testing::OnnxMaker m;
    const int64_t n = c.batch, a = c.boxes, k = c.max_output_boxes;
    m.input("boxes", {n, a, 4});
    m.input("scores", {n, a, c.classes});
    auto* node = m.node("EfficientNMS_TRT", {"boxes", "scores"},
                        {"num_detections", "detection_boxes", "detection_scores", "detection_classes"}, "nms", "TRT");
    rtinfer::testing::OnnxMaker::attr_float(node, "score_threshold", c.score_threshold);
    rtinfer::testing::OnnxMaker::attr_float(node, "iou_threshold", c.iou_threshold);
    rtinfer::testing::OnnxMaker::attr_int(node, "max_output_boxes", c.max_output_boxes);
    rtinfer::testing::OnnxMaker::attr_int(node, "score_activation", c.score_activation);
    m.output("num_detections", {n, 1}, ::onnx::TensorProto::INT32);
    m.output("detection_boxes", {n, k, 4});
    m.output("detection_scores", {n, k});
    m.output("detection_classes", {n, k}, ::onnx::TensorProto::INT32);
    return m;
}

// Binds the model's tensors, in the order boxes, scores, num_detections, detection_boxes, detection_scores,
// detection_classes.
void bind_nms(rtinfer::ExecutionContext& ctx, const std::vector<void*>& buffers) {
    const char* names[] = {"boxes",           "scores",           "num_detections",
                           "detection_boxes", "detection_scores", "detection_classes"};
    for (size_t i = 0; i < buffers.size(); ++i) EXPECT_TRUE(ctx.set_tensor_address(names[i], buffers[i]).is_ok());
}

}  // namespace

TEST(CudaEfficientNms, CudaEngineRunsThePluginOnTheGpu) {
    RT_REQUIRE_GPU();
    NmsConfig c;
    c.batch = 2;
    c.boxes = 500;
    c.classes = 4;
    c.score_activation = 1;
    c.score_threshold = 0.45f;
    c.max_output_boxes = 40;
    std::mt19937 rng(61);
    NmsInputs in{cluster_boxes(c, rng), uniform_scores(c, rng)};
    const std::string bytes = nms_model(c).bytes();
    // The SDK finds its built-in plugins by itself; this covers test binaries run away from their build.
    ASSERT_TRUE(rtinfer::load_plugin_library(rtinfer::testing::nms_plugin_path()).is_ok());
    RecordingLogger logger;
    rtinfer::Builder builder(&logger);
    rtinfer::BuilderConfig config;
    config.backend = rtinfer::Backend::kCuda;
    auto engine = builder.build_from_memory(bytes.data(), bytes.size(), config, "nms.onnx");
    ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
    auto ctx = (*engine)->create_context();
    ASSERT_TRUE(ctx.has_value()) << ctx.status().to_string();
    EXPECT_TRUE((*ctx)->impl().fallback_nodes().empty()) << "the NMS layer fell back to the CPU";

    const size_t n = static_cast<size_t>(c.batch), k = static_cast<size_t>(c.max_output_boxes);
    rtinfer::testing::DeviceMemory d_boxes(in.boxes.size() * 4), d_scores(in.scores.size() * 4), d_num(n * 4),
        d_det_boxes(n * k * 16), d_det_scores(n * k * 4), d_det_classes(n * k * 4);
    ASSERT_EQ(cudaMemcpy(d_boxes.get(), in.boxes.data(), in.boxes.size() * 4, cudaMemcpyHostToDevice), cudaSuccess);
    ASSERT_EQ(cudaMemcpy(d_scores.get(), in.scores.data(), in.scores.size() * 4, cudaMemcpyHostToDevice), cudaSuccess);
    bind_nms(**ctx,
             {d_boxes.get(), d_scores.get(), d_num.get(), d_det_boxes.get(), d_det_scores.get(), d_det_classes.get()});
    for (int run = 0; run < 2; ++run) {  // the second run replays the captured CUDA graph
        ASSERT_TRUE((*ctx)->enqueue().is_ok());
        ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    }
    for (const auto& m : logger.messages) EXPECT_EQ(m.find("capture failed"), std::string::npos) << m;
    std::vector<int32_t> num(n), classes(n * k);
    std::vector<float> boxes(n * k * 4), scores(n * k);
    cudaMemcpy(num.data(), d_num.get(), n * 4, cudaMemcpyDeviceToHost);
    cudaMemcpy(boxes.data(), d_det_boxes.get(), n * k * 16, cudaMemcpyDeviceToHost);
    cudaMemcpy(scores.data(), d_det_scores.get(), n * k * 4, cudaMemcpyDeviceToHost);
    cudaMemcpy(classes.data(), d_det_classes.get(), n * k * 4, cudaMemcpyDeviceToHost);

    // The CPU engine of the same model gives the same detections.
    auto cpu_engine = builder.build_from_memory(bytes.data(), bytes.size(), rtinfer::BuilderConfig(), "nms.onnx");
    ASSERT_TRUE(cpu_engine.has_value()) << cpu_engine.status().to_string();
    auto cpu_ctx = (*cpu_engine)->create_context();
    ASSERT_TRUE(cpu_ctx.has_value());
    std::vector<int32_t> want_num(n), want_classes(n * k);
    std::vector<float> want_boxes(n * k * 4), want_scores(n * k);
    bind_nms(**cpu_ctx, {in.boxes.data(), in.scores.data(), want_num.data(), want_boxes.data(), want_scores.data(),
                         want_classes.data()});
    ASSERT_TRUE((*cpu_ctx)->enqueue().is_ok());
    EXPECT_EQ(num, want_num);
    EXPECT_GT(num[0] + num[1], 0);
    EXPECT_EQ(classes, want_classes);
    EXPECT_EQ(first_difference(boxes, want_boxes), "");
    EXPECT_EQ(first_difference(scores, want_scores), "");
}
