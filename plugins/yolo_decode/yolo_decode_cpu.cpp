#include "yolo_decode_cpu.h"

#include "yolo_decode_math.h"

namespace rtinfer_yolo {

void yolo_decode_cpu(const YoloDecodeParams& p, const YoloDecodeShape& shape, const YoloDecodeBuffers& io) {
    const int64_t A = shape.num_candidates, C = shape.num_classes;
    const YoloLevels levels = yolo_levels(p);
    for (int64_t n = 0; n < shape.batch; ++n) {
        float* boxes = io.boxes + n * A * 4;
        float* scores = io.scores + n * A * C;
        if (p.style == YoloStyle::kAnchorFree) {
            const float* head = io.head + n * (4 * p.reg_max + C) * A;
            const float* logits = head + 4 * p.reg_max * A;  // [C, A]
            for (int64_t a = 0; a < A; ++a) {
                decode_anchor_free(p, levels, head, A, a, boxes + a * 4);
                for (int64_t c = 0; c < C; ++c) scores[a * C + c] = activate(logits[c * A + a], p.apply_sigmoid);
            }
        } else {
            for (int64_t a = 0; a < A; ++a) {
                const float* row = io.head + (n * A + a) * (5 + C);
                decode_anchor_based(p, levels, row, a, boxes + a * 4);
                for (int64_t c = 0; c < C; ++c) scores[a * C + c] = anchor_based_score(p, row, c);
            }
        }
    }
}

}  // namespace rtinfer_yolo
