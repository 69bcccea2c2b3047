// NonMaxSuppression's CUDA kernel against the CPU reference: the same rows in the same order, for float32
// inputs and for float16 ones (the reference then runs on the same half values as float32). The op is
// created as the runtime does for a data-dependent output (shape {-1, -1}, bound_shapes(), enqueue(),
// read_shapes()). The bound-sized output and the workspace are poisoned before each of two runs, so that
// unwritten rows and state carried over from a run fail.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/cuda_op.h"
#include "core/kernels/ref/ref_backend.h"
#include "tests/gpu/cuda_libs.h"
#include "tests/gpu/gpu_test_util.h"

namespace rtinfer {
namespace {

using ir::DType;
using ir::Tensor;

constexpr int64_t kOpset = 11;

// One node's inputs; an undefined tensor is an omitted input.
struct Nms {
    Tensor boxes;   // [batch, spatial, 4]
    Tensor scores;  // [batch, classes, spatial]
    Tensor max_out;
    Tensor iou_threshold;
    Tensor score_threshold;
    int64_t center_point_box = 0;
    bool max_out_constant = true;

    std::vector<const Tensor*> inputs() const { return {&boxes, &scores, &max_out, &iou_threshold, &score_threshold}; }
};

Tensor one_i64(int64_t v) {
    return Tensor::from_int64s({v}, {1});
}
Tensor one_f32(float v) {
    return Tensor::from_floats({v}, {1});
}
Tensor cast(const Tensor& t, DType to) {
    auto c = ir::cast_tensor(t, to);
    EXPECT_TRUE(c.has_value()) << c.status().to_string();
    return c ? *c : Tensor();
}

ir::Node make_node(const Nms& c) {
    ir::Node node;
    node.name = "nms_under_test";
    node.op_type = "NonMaxSuppression";
    const std::vector<const Tensor*> in = c.inputs();
    for (size_t i = 0; i < in.size(); ++i) node.inputs.push_back(in[i]->defined() ? "in" + std::to_string(i) : "");
    node.outputs = {"selected_indices"};
    if (c.center_point_box) {
        ir::Attribute a;
        a.kind = ir::Attribute::Kind::kInt;
        a.i = c.center_point_box;
        node.attrs["center_point_box"] = a;
    }
    return node;
}

// The reference's rows, on float32 copies of the boxes and scores.
std::vector<int64_t> reference_rows(const Nms& c, const ir::Node& node) {
    const Tensor boxes = cast(c.boxes, DType::kFloat32);
    const Tensor scores = cast(c.scores, DType::kFloat32);
    std::vector<const Tensor*> in = c.inputs();
    in[0] = &boxes;
    in[1] = &scores;
    for (auto& p : in) p = p->defined() ? p : nullptr;
    const ir::OpKernel* kernel = ref::reference_registry().find("", "NonMaxSuppression");
    EXPECT_NE(kernel, nullptr);
    std::vector<Tensor> out;
    const Status s = kernel ? ref::evaluate_node(*kernel, node, kOpset, in, out) : Status();
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    if (!s.is_ok() || out.empty()) return {};
    EXPECT_EQ(out[0].dtype(), DType::kInt64);
    return ir::to_int64s(out[0]);
}

struct GpuRuns {
    int64_t bound_rows = -1;
    std::vector<std::vector<int64_t>> rows;  // per run: n * 3 values
    int timed = 0;                           // when > 0: this many more runs, timed (enqueue + read_shapes)
    std::vector<double> ms;                  // their times
};

// Creates the CUDA op as the runtime would, then enqueues it twice.
Status run_cuda(const Nms& c, const ir::Node& node, GpuRuns& out) {
    const cuda::CudaKernel* kernel = cuda::cuda_registry().find("", "NonMaxSuppression");
    if (!kernel) return Status(StatusCode::kNotFound, "no CUDA kernel for NonMaxSuppression");
    const std::vector<const Tensor*> in = c.inputs();
    std::vector<ir::InputInfo> infos(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        if (!in[i]->defined()) continue;
        const bool constant = i >= 2 && (i != 2 || c.max_out_constant);
        infos[i] = ir::InputInfo{in[i]->dtype(), in[i]->shape(), true, constant ? in[i] : nullptr};
    }
    const cuda::OpSetup setup{node, kOpset, infos, {ir::OutputInfo{DType::kInt64, {-1, -1}, false}}};
    const cuda::CudaLibs& libs = testing::test_cuda_libs();
    RT_ASSIGN_OR_RETURN(std::unique_ptr<cuda::CudaOp> op, kernel->create(setup, libs));

    const std::vector<ir::Shape> bounds = op->bound_shapes();
    if (bounds.size() != 1 || bounds[0].size() != 2 || bounds[0][1] != 3 || bounds[0][0] < 0) {
        return Status(StatusCode::kInternal, "bound_shapes() is not one [rows, 3] shape");
    }
    out.bound_rows = bounds[0][0];

    std::vector<cuda::DeviceBuffer> keep;
    std::vector<cuda::DeviceTensor> d_in(in.size());
    for (size_t i = 0; i < 2; ++i) {  // the other inputs are constants the op holds
        RT_ASSIGN_OR_RETURN(cuda::DeviceBuffer b, cuda::DeviceBuffer::allocate(std::max<size_t>(in[i]->nbytes(), 1)));
        RT_CUDA_CHECK(cudaMemcpy(b.get(), in[i]->raw(), in[i]->nbytes(), cudaMemcpyHostToDevice));
        d_in[i] = cuda::DeviceTensor{b.get(), in[i]->dtype(), in[i]->shape()};
        keep.push_back(std::move(b));
    }
    const size_t out_bytes = static_cast<size_t>(out.bound_rows) * 3 * sizeof(int64_t);
    RT_ASSIGN_OR_RETURN(cuda::DeviceBuffer rows, cuda::DeviceBuffer::allocate(std::max<size_t>(out_bytes, 1)));
    const std::vector<cuda::DeviceTensor> d_out = {cuda::DeviceTensor{rows.get(), DType::kInt64, bounds[0]}};
    RT_ASSIGN_OR_RETURN(cuda::DeviceBuffer ws, cuda::DeviceBuffer::allocate(op->workspace_bytes()));

    for (int run = 0; run < 2; ++run) {
        RT_CUDA_CHECK(cudaMemset(rows.get(), 0xFF, rows.bytes()));
        if (ws.get()) RT_CUDA_CHECK(cudaMemset(ws.get(), 0xFF, ws.bytes()));
        RT_RETURN_IF_ERROR(op->enqueue(d_in, d_out, ws.get(), libs));
        RT_ASSIGN_OR_RETURN(std::vector<ir::Shape> shapes, op->read_shapes(libs.stream));
        if (shapes.size() != 1 || shapes[0].size() != 2 || shapes[0][1] != 3 || shapes[0][0] < 0 ||
            shapes[0][0] > out.bound_rows) {
            return Status(StatusCode::kInternal,
                          "read_shapes() gave " + (shapes.empty() ? std::string("nothing") : ir::shape_str(shapes[0])) +
                              " for a bound of " + std::to_string(out.bound_rows) + " rows");
        }
        std::vector<int64_t> got(static_cast<size_t>(shapes[0][0]) * 3);
        RT_CUDA_CHECK(cudaMemcpy(got.data(), rows.get(), got.size() * sizeof(int64_t), cudaMemcpyDeviceToHost));
        out.rows.push_back(std::move(got));
    }
    for (int run = 0; run < out.timed; ++run) {
        const auto t0 = std::chrono::steady_clock::now();
        RT_RETURN_IF_ERROR(op->enqueue(d_in, d_out, ws.get(), libs));
        RT_RETURN_IF_ERROR(op->read_shapes(libs.stream).status());
        out.ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    return Status();
}

std::string row_str(const std::vector<int64_t>& v, size_t row) {
    if (row * 3 + 2 >= v.size()) return "none";
    return "[" + std::to_string(v[row * 3]) + ", " + std::to_string(v[row * 3 + 1]) + ", " +
           std::to_string(v[row * 3 + 2]) + "]";
}

// Expects the CUDA rows to equal the reference's (both runs) and the bound to be batch * classes *
// min(spatial, max_out). Returns the number of rows, for the cases' own expectations (-1 on failure).
int64_t expect_same_rows(const Nms& c, const std::string& what) {
    const ir::Node node = make_node(c);
    const std::vector<int64_t> want = reference_rows(c, node);
    GpuRuns got;
    const Status s = run_cuda(c, node, got);
    EXPECT_TRUE(s.is_ok()) << what << ": " << s.to_string();
    if (!s.is_ok()) return -1;
    const int64_t spatial = c.boxes.dim(1);
    const int64_t max_out = c.max_out.defined() && c.max_out.numel() > 0 ? ir::to_int64s(c.max_out)[0] : 0;
    EXPECT_EQ(got.bound_rows, c.scores.dim(0) * c.scores.dim(1) * std::clamp<int64_t>(max_out, 0, spatial)) << what;
    for (size_t run = 0; run < got.rows.size(); ++run) {
        const std::vector<int64_t>& rows = got.rows[run];
        EXPECT_EQ(rows.size() / 3, want.size() / 3) << what << " (run " << run << "): row count";
        const auto diff = std::mismatch(want.begin(), want.end(), rows.begin(), rows.end());
        if (diff.first != want.end() || diff.second != rows.end()) {
            const size_t row = static_cast<size_t>(diff.first - want.begin()) / 3;
            ADD_FAILURE() << what << " (run " << run << "): row " << row << " is " << row_str(rows, row) << ", want "
                          << row_str(want, row);
        }
    }
    return static_cast<int64_t>(want.size() / 3);
}

// Boxes scattered over [0, extent]^2 with sides in [4, 40]; corners come with either diagonal first, or as
// [x_center, y_center, width, height] when `center`.
Tensor random_boxes(int64_t batch, int64_t spatial, float extent, bool center, std::mt19937& rng) {
    std::uniform_real_distribution<float> pos(0.0f, extent);
    std::uniform_real_distribution<float> side(4.0f, 40.0f);
    Tensor t(DType::kFloat32, {batch, spatial, 4});
    float* p = t.data<float>();
    for (int64_t i = 0; i < batch * spatial; ++i, p += 4) {
        const float cy = pos(rng), cx = pos(rng), h = side(rng), w = side(rng);
        if (center) {
            p[0] = cx;
            p[1] = cy;
            p[2] = w;
            p[3] = h;
            continue;
        }
        const bool flip_y = rng() % 2, flip_x = rng() % 2;
        p[flip_y ? 2 : 0] = cy - h / 2;
        p[flip_y ? 0 : 2] = cy + h / 2;
        p[flip_x ? 3 : 1] = cx - w / 2;
        p[flip_x ? 1 : 3] = cx + w / 2;
    }
    return t;
}

// Scores in [lo, hi]; with `levels` > 0 only that many distinct values, so that many tie.
Tensor random_scores(int64_t batch, int64_t classes, int64_t spatial, float lo, float hi, std::mt19937& rng,
                     int levels = 0) {
    std::uniform_real_distribution<float> u(lo, hi);
    Tensor t(DType::kFloat32, {batch, classes, spatial});
    for (int64_t i = 0; i < t.numel(); ++i) {
        t.data<float>()[i] = levels > 0 ? lo + (hi - lo) * static_cast<float>(rng() % levels) / levels : u(rng);
    }
    return t;
}

// Boxes of side 8 on a grid of pitch 10 (none overlap); box i + copy_from, when i >= copy_from, repeats box
// i - copy_from shifted by one, so the two overlap with IoU 7/9.
Tensor grid_boxes(int64_t spatial, int64_t copy_from) {
    Tensor t(DType::kFloat32, {1, spatial, 4});
    for (int64_t i = 0; i < spatial; ++i) {
        const int64_t cell = i < copy_from ? i : i - copy_from;
        const float y = static_cast<float>(cell / 64) * 10.0f, x = static_cast<float>(cell % 64) * 10.0f;
        const float shift = i < copy_from ? 0.0f : 1.0f;
        float* p = t.data<float>() + i * 4;
        p[0] = y;
        p[1] = x + shift;
        p[2] = y + 8.0f;
        p[3] = x + shift + 8.0f;
    }
    return t;
}

// A case with max_output_boxes_per_class and the thresholds given (nullopt: left out).
Nms make_case(Tensor boxes, Tensor scores, int64_t max_out, std::optional<float> iou, std::optional<float> score) {
    Nms c;
    c.boxes = std::move(boxes);
    c.scores = std::move(scores);
    c.max_out = one_i64(max_out);
    if (iou) c.iou_threshold = one_f32(*iou);
    if (score) c.score_threshold = one_f32(*score);
    return c;
}

// Random boxes and scores. Each case's row count must lie in [min_rows, max_rows], chosen so that both the
// thresholds and the suppression decide something.
struct RandomCase {
    const char* what;
    int64_t batch, classes, spatial;
    float extent;    // boxes over [0, extent]^2
    float score_lo;  // scores in [score_lo, 1]
    int levels;      // > 0: only that many distinct scores (ties)
    bool center;     // center_point_box 1
    bool half;       // float16 boxes and scores
    int64_t max_out;
    std::optional<float> iou, score;
    int64_t min_rows, max_rows;
};

const RandomCase kRandomCases[] = {
    {"several classes and images", 3, 4, 300, 60.0f, 0.01f, 0, false, false, 150, 0.4f, 0.3f, 3 * 4 * 10,
     3 * 4 * 150 - 1},
    {"tied scores", 2, 3, 500, 150.0f, 0.2f, 4, false, false, 500, 0.5f, 0.1f, 100, 2 * 3 * 500 - 1},
    {"center_point_box 1", 2, 2, 400, 160.0f, 0.01f, 0, true, false, 1000, 0.3f, 0.2f, 100, 2 * 2 * 400 - 1},
    {"negative scores, no score_threshold", 2, 3, 256, 120.0f, -1.0f, 0, false, false, 300, 0.6f, std::nullopt, 100,
     2 * 3 * 256 - 1},
    {"no thresholds (iou 0)", 2, 3, 256, 120.0f, 0.01f, 0, false, false, 300, std::nullopt, std::nullopt, 6,
     2 * 3 * 256 - 1},
    {"float16", 2, 3, 600, 200.0f, 0.01f, 0, false, true, 1000, 0.45f, 0.25f, 100, 2 * 3 * 600 - 1},
    // The detection case: about 2520 of 8400 candidates pass the threshold per image and class.
    {"8 x 8400 x 4", 8, 4, 8400, 200.0f, 0.001f, 0, false, false, 8400, 0.45f, 0.7f, 8 * 4 * 300, 8 * 4 * 2520},
    {"8 x 8400 x 4, at most 300", 8, 4, 8400, 200.0f, 0.001f, 0, false, false, 300, 0.45f, 0.7f, 8 * 4 * 300,
     8 * 4 * 300},
};

TEST(CudaNms, RandomBoxesAndScores) {
    RT_REQUIRE_GPU();
    uint32_t seed = 7;
    for (const RandomCase& rc : kRandomCases) {
        std::mt19937 rng(seed++);
        Tensor boxes = random_boxes(rc.batch, rc.spatial, rc.extent, rc.center, rng);
        Tensor scores = random_scores(rc.batch, rc.classes, rc.spatial, rc.score_lo, 1.0f, rng, rc.levels);
        if (rc.half) {
            boxes = cast(boxes, DType::kFloat16);
            scores = cast(scores, DType::kFloat16);
        }
        Nms c = make_case(boxes, scores, rc.max_out, rc.iou, rc.score);
        c.center_point_box = rc.center ? 1 : 0;
        const int64_t rows = expect_same_rows(c, rc.what);
        EXPECT_GE(rows, rc.min_rows) << rc.what;
        EXPECT_LE(rows, rc.max_rows) << rc.what;
    }
}

TEST(CudaNms, EmptyResults) {
    RT_REQUIRE_GPU();
    std::mt19937 rng(13);
    Tensor boxes = random_boxes(2, 64, 100.0f, false, rng);
    Nms c = make_case(boxes, random_scores(2, 3, 64, 0.1f, 0.4f, rng), 10, 0.5f, 0.5f);
    EXPECT_EQ(expect_same_rows(c, "all below score_threshold"), 0);

    c.score_threshold = one_f32(0.0f);  // max_output_boxes_per_class omitted, then 0: nothing is selected
    c.max_out = Tensor();
    EXPECT_EQ(expect_same_rows(c, "max_output_boxes_per_class omitted"), 0);
    c.max_out = one_i64(0);
    EXPECT_EQ(expect_same_rows(c, "max_output_boxes_per_class 0"), 0);

    c = make_case(Tensor(DType::kFloat32, {2, 0, 4}), Tensor(DType::kFloat32, {2, 3, 0}), 10, 0.5f, 0.0f);
    EXPECT_EQ(expect_same_rows(c, "no boxes"), 0);
}

TEST(CudaNms, IdenticalBoxesLeaveOnePerClass) {
    RT_REQUIRE_GPU();
    std::mt19937 rng(17);
    Tensor boxes(DType::kFloat32, {2, 100, 4});
    const float box[4] = {3.5f, -2.0f, 30.25f, 17.0f};
    for (int64_t i = 0; i < boxes.numel(); ++i) boxes.data<float>()[i] = box[i % 4];
    const Nms c = make_case(boxes, random_scores(2, 3, 100, 0.05f, 1.0f, rng), 100, 0.5f, std::nullopt);
    EXPECT_EQ(expect_same_rows(c, "identical boxes"), 2 * 3);
}

// On a grid of disjoint boxes nothing is suppressed: max_output_boxes_per_class alone decides. With shifted
// copies of the first 1800, more boxes stay kept in one segment than the kernel caches in shared memory, so
// later candidates are checked against kept boxes it reads back from the input.
TEST(CudaNms, GridsOfBoxes) {
    RT_REQUIRE_GPU();
    std::mt19937 rng(19);
    const Nms clipped = make_case(grid_boxes(200, 200), random_scores(1, 5, 200, 0.05f, 1.0f, rng), 7, 0.5f, 0.0f);
    EXPECT_EQ(expect_same_rows(clipped, "max_output_boxes_per_class 7"), 5 * 7);
    const Nms many =
        make_case(grid_boxes(3000, 1800), random_scores(1, 1, 3000, 0.05f, 1.0f, rng), 5000, 0.5f, std::nullopt);
    EXPECT_EQ(expect_same_rows(many, "1800 kept in one segment"), 1800);
}

TEST(CudaNms, NonConstantInputsAreLeftToTheReference) {
    RT_REQUIRE_GPU();
    std::mt19937 rng(43);
    Tensor boxes = random_boxes(1, 16, 50.0f, false, rng);
    Nms c = make_case(boxes, random_scores(1, 2, 16, 0.1f, 1.0f, rng), 4, std::nullopt, std::nullopt);
    c.max_out_constant = false;
    GpuRuns got;
    const Status s = run_cuda(c, make_node(c), got);
    EXPECT_EQ(s.code(), StatusCode::kUnsupported) << s.to_string();
    EXPECT_NE(s.message().find("nms_under_test"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("max_output_boxes_per_class"), std::string::npos) << s.message();

    c.max_out_constant = true;
    c.iou_threshold = one_f32(1.5f);  // the reference refuses it too
    const Status bad = run_cuda(c, make_node(c), got);
    EXPECT_EQ(bad.code(), StatusCode::kInvalidModel) << bad.to_string();
}

}  // namespace
// Latency of a detector's NMS, 8 images x 8400 candidates, 80 or 1 classes (score threshold 0.25, IoU 0.45,
// 100 boxes per class), from enqueue to the row count on the host; the rows must still equal the reference.
// A program-like test, off by default: --gtest_also_run_disabled_tests --gtest_filter='CudaNms.DISABLED_*'.
TEST(CudaNms, DISABLED_DetectorSizedLatency) {
    RT_REQUIRE_GPU();
    std::printf("%8s %8s %10s %10s %10s %10s\n", "classes", "rows", "p50_ms", "p90_ms", "min_ms", "cpu_ms");
    for (int64_t classes : {80, 1}) {
        std::mt19937 rng(static_cast<unsigned>(classes));
        Nms c = make_case(random_boxes(8, 8400, 640.0f, false, rng), random_scores(8, classes, 8400, 0.0f, 0.5f, rng),
                          100, 0.45f, 0.25f);
        const ir::Node node = make_node(c);
        const auto t0 = std::chrono::steady_clock::now();
        const std::vector<int64_t> want = reference_rows(c, node);
        const double cpu_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        GpuRuns runs;
        runs.timed = 200;
        const Status s = run_cuda(c, node, runs);
        ASSERT_TRUE(s.is_ok()) << s.to_string();
        for (const auto& rows : runs.rows) EXPECT_EQ(rows, want);
        std::sort(runs.ms.begin(), runs.ms.end());
        std::printf("%8lld %8zu %10.3f %10.3f %10.3f %10.1f\n", static_cast<long long>(classes), want.size() / 3,
                    runs.ms[runs.ms.size() / 2], runs.ms[runs.ms.size() * 9 / 10], runs.ms.front(), cpu_ms);
    }
}

}  // namespace rtinfer
