// NonMaxSuppression (opset 10, 11): greedy per-class suppression by IoU, as ONNX Runtime does it.
// The output size depends on the data, so it is allocated at compute time.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/kernels/ref/misc/kernels.h"
#include "core/kernels/ref/misc/misc_util.h"

namespace rtinfer::ref {
namespace {

Status infer(ir::InferContext& ctx) {
    if (ctx.num_inputs() < 2 || !ctx.has_input(0) || !ctx.has_input(1)) return ctx.error("needs boxes and scores");
    if (!misc::is_float_type(ctx.input_dtype(0)) || !misc::is_float_type(ctx.input_dtype(1))) {
        return ctx.unsupported("boxes and scores must be floating point");
    }
    const ir::Shape& boxes = ctx.input_shape(0);
    const ir::Shape& scores = ctx.input_shape(1);
    if (boxes.size() != 3 || boxes[2] != 4)
        return ctx.error("boxes must be [batch, spatial, 4], got " + ir::shape_str(boxes));
    if (scores.size() != 3) return ctx.error("scores must be [batch, classes, spatial], got " + ir::shape_str(scores));
    if (boxes[0] != scores[0] || boxes[1] != scores[2]) {
        return ctx.error("boxes " + ir::shape_str(boxes) + " and scores " + ir::shape_str(scores) + " do not agree");
    }
    const int64_t center = ctx.node().attr_int("center_point_box", 0);
    if (center != 0 && center != 1) return ctx.error("center_point_box must be 0 or 1");
    ctx.set_output_unknown(0, ir::DType::kInt64, 2);
    return Status();
}

struct Box {
    float y1, x1, y2, x2;  // min corner, max corner
};

Box make_box(const float* b, bool center) {
    if (center) {  // [x_center, y_center, width, height]
        const float hw = b[2] / 2.0f, hh = b[3] / 2.0f;
        return {b[1] - hh, b[0] - hw, b[1] + hh, b[0] + hw};
    }
    // [y1, x1, y2, x2] with either diagonal pair of corners
    return {std::min(b[0], b[2]), std::min(b[1], b[3]), std::max(b[0], b[2]), std::max(b[1], b[3])};
}

bool suppresses(const Box& a, const Box& b, float iou_threshold) {
    const float iy1 = std::max(a.y1, b.y1), ix1 = std::max(a.x1, b.x1);
    const float iy2 = std::min(a.y2, b.y2), ix2 = std::min(a.x2, b.x2);
    const float inter = std::max(0.0f, iy2 - iy1) * std::max(0.0f, ix2 - ix1);
    if (inter <= 0.0f) return false;
    const float area_a = (a.y2 - a.y1) * (a.x2 - a.x1);
    const float area_b = (b.y2 - b.y1) * (b.x2 - b.x1);
    const float uni = area_a + area_b - inter;
    if (area_a <= 0.0f || area_b <= 0.0f || uni <= 0.0f) return false;
    return inter / uni > iou_threshold;
}

Status compute(ir::ComputeContext& ctx) {
    RT_ASSIGN_OR_RETURN(ir::Tensor boxes_t, ir::cast_tensor(ctx.input(0), ir::DType::kFloat32));
    RT_ASSIGN_OR_RETURN(ir::Tensor scores_t, ir::cast_tensor(ctx.input(1), ir::DType::kFloat32));
    int64_t max_out = 0;
    if (ctx.has_input(2) && ctx.input(2).numel() > 0) max_out = ir::to_int64s(ctx.input(2))[0];
    float iou_threshold = 0.0f;
    if (ctx.has_input(3) && ctx.input(3).numel() > 0)
        iou_threshold = static_cast<float>(misc::first_value(ctx.input(3)));
    const bool has_score_threshold = ctx.has_input(4) && ctx.input(4).numel() > 0;
    const float score_threshold = has_score_threshold ? static_cast<float>(misc::first_value(ctx.input(4))) : 0.0f;
    if (iou_threshold < 0.0f || iou_threshold > 1.0f) return ctx.error("iou_threshold must be in [0, 1]");
    const bool center = ctx.node().attr_int("center_point_box", 0) == 1;

    const int64_t batches = scores_t.dim(0), classes = scores_t.dim(1), spatial = scores_t.dim(2);
    const float* boxes = boxes_t.data<float>();
    const float* scores = scores_t.data<float>();
    std::vector<int64_t> selected;
    std::vector<Box> all(static_cast<size_t>(spatial));
    std::vector<int64_t> order;
    std::vector<int64_t> kept;
    for (int64_t b = 0; b < batches && max_out > 0; ++b) {
        for (int64_t i = 0; i < spatial; ++i)
            all[static_cast<size_t>(i)] = make_box(boxes + (b * spatial + i) * 4, center);
        for (int64_t c = 0; c < classes; ++c) {
            const float* s = scores + (b * classes + c) * spatial;
            order.clear();
            for (int64_t i = 0; i < spatial; ++i) {
                if (!has_score_threshold || s[i] > score_threshold) order.push_back(i);
            }
            // Highest score first; equal scores keep the lower box index first.
            std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return s[x] > s[y]; });
            kept.clear();
            for (int64_t i : order) {
                if (static_cast<int64_t>(kept.size()) >= max_out) break;
                bool drop = false;
                for (int64_t k : kept) {
                    if (suppresses(all[static_cast<size_t>(k)], all[static_cast<size_t>(i)], iou_threshold)) {
                        drop = true;
                        break;
                    }
                }
                if (drop) continue;
                kept.push_back(i);
                selected.insert(selected.end(), {b, c, i});
            }
        }
    }
    ir::Tensor& out = ctx.allocate_output(0, ir::DType::kInt64, {static_cast<int64_t>(selected.size() / 3), 3});
    std::copy(selected.begin(), selected.end(), out.data<int64_t>());
    return Status();
}

}  // namespace

const ir::OpKernel kNonMaxSuppressionKernel = {"NonMaxSuppression", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
