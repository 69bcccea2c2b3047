// Greedy NMS in one pass over the candidates of a batch item, highest score first. Processing all classes
// in one score order and comparing a candidate only with kept boxes of its class (or all kept boxes when
// class-agnostic) gives the same result as NMS per class followed by a merge of the top scores, and lets
// the pass stop as soon as max_output_boxes are kept.
#include "efficient_nms_cpu.h"

#include <algorithm>
#include <cstring>

#include "nms_math.h"

namespace rtinfer_nms {

namespace {

struct Candidate {
    float score;
    int32_t box;
    int32_t cls;
};

}  // namespace

size_t efficient_nms_cpu_workspace(const EfficientNmsParams& params, const EfficientNmsShape& shape) {
    const size_t candidates = static_cast<size_t>(shape.num_boxes) * static_cast<size_t>(shape.num_classes);
    return candidates * sizeof(Candidate) + static_cast<size_t>(params.max_output_boxes) * sizeof(Corners);
}

void efficient_nms_cpu(const EfficientNmsParams& p, const EfficientNmsShape& shape, const EfficientNmsBuffers& io,
                       void* workspace) {
    const int64_t A = shape.num_boxes, C = shape.num_classes, K = p.max_output_boxes;
    auto* candidates = static_cast<Candidate*>(workspace);
    auto* kept_boxes = reinterpret_cast<Corners*>(candidates + A * C);
    for (int64_t n = 0; n < shape.batch; ++n) {
        const float* scores = io.scores + n * A * C;
        const float* boxes = io.boxes + n * A * (shape.boxes_per_class ? C : 1) * 4;
        int64_t count = 0;
        for (int64_t a = 0; a < A; ++a) {
            for (int64_t c = 0; c < C; ++c) {
                if (c == p.background_class) continue;
                float s = 0.0f;
                if (!passes_threshold(scores[a * C + c], p.score_activation, p.score_threshold, &s)) continue;
                candidates[count++] = {s, static_cast<int32_t>(a), static_cast<int32_t>(c)};
            }
        }
        // Highest score first; ties go to the lower box index, then the lower class: a deterministic order.
        std::sort(candidates, candidates + count, [](const Candidate& x, const Candidate& y) {
            if (x.score != y.score) return x.score > y.score;
            if (x.box != y.box) return x.box < y.box;
            return x.cls < y.cls;
        });
        float* out_boxes = io.detection_boxes + n * K * 4;
        float* out_scores = io.detection_scores + n * K;
        int32_t* out_classes = io.detection_classes + n * K;
        int32_t kept = 0;
        for (int64_t i = 0; i < count && kept < K; ++i) {
            const Candidate& cand = candidates[i];
            const int64_t row = shape.boxes_per_class ? cand.box * C + cand.cls : cand.box;
            const Corners box = decode_box(boxes + row * 4, p.box_coding);
            bool suppressed = false;
            for (int32_t k = 0; k < kept && !suppressed; ++k) {
                if (!p.class_agnostic && out_classes[k] != cand.cls) continue;
                suppressed = box_iou(kept_boxes[k], box) > p.iou_threshold;
            }
            if (suppressed) continue;
            kept_boxes[kept] = box;
            out_boxes[kept * 4 + 0] = box.x1;
            out_boxes[kept * 4 + 1] = box.y1;
            out_boxes[kept * 4 + 2] = box.x2;
            out_boxes[kept * 4 + 3] = box.y2;
            out_scores[kept] = cand.score;
            out_classes[kept] = cand.cls;
            ++kept;
        }
        io.num_detections[n] = kept;
        std::memset(out_boxes + kept * 4, 0, static_cast<size_t>(K - kept) * 4 * sizeof(float));
        std::memset(out_scores + kept, 0, static_cast<size_t>(K - kept) * sizeof(float));
        std::memset(out_classes + kept, 0, static_cast<size_t>(K - kept) * sizeof(int32_t));
    }
}

}  // namespace rtinfer_nms
