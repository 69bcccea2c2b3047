// The decoding arithmetic, shared by the CPU and CUDA implementations (host and device functions). The two
// agree to a few float ulps: only expf differs between the host's libm and CUDA's.
#pragma once

#include <math.h>
#include <stdint.h>

#include "yolo_decode_params.h"

#if defined(__CUDACC__)
#define RT_YOLO_HD __host__ __device__ __forceinline__
#else
#define RT_YOLO_HD inline
#endif

namespace rtinfer_yolo {

RT_YOLO_HD float sigmoid(float x) {
    return 1.0f / (1.0f + expf(-x));
}

RT_YOLO_HD float activate(float v, bool apply_sigmoid) {
    return apply_sigmoid ? sigmoid(v) : v;
}

// A candidate's place: its level, anchor (anchor-based) and grid cell.
struct Cell {
    int level;
    int anchor;
    int64_t x, y;
};

RT_YOLO_HD Cell cell_of(const YoloDecodeParams& p, const YoloLevels& levels, int64_t a) {
    int l = 0;
    while (l + 1 < p.num_levels && a >= levels.level_start[l + 1]) ++l;
    int64_t local = a - levels.level_start[l];
    const int64_t w = p.grid_w[l], cells = w * p.grid_h[l];
    Cell c{l, 0, 0, 0};
    if (p.style == YoloStyle::kAnchorBased) {
        c.anchor = static_cast<int>(local / cells);  // YOLOv5's order: level, anchor, row, column
        local -= c.anchor * cells;
    }
    c.y = local / w;
    c.x = local - c.y * w;
    return c;
}

// One side's distance in grid cells: the expectation of the bin index under softmax(bins) (the DFL
// integral); bins are `step` floats apart. With one bin the value is the distance itself.
RT_YOLO_HD float dfl_distance(const float* bins, int64_t step, int reg_max) {
    if (reg_max == 1) return bins[0];
    float top = bins[0];
    for (int i = 1; i < reg_max; ++i) top = fmaxf(top, bins[i * step]);
    float sum = 0.0f, weighted = 0.0f;
    for (int i = 0; i < reg_max; ++i) {
        const float e = expf(bins[i * step] - top);
        sum += e;
        weighted += e * static_cast<float>(i);
    }
    return weighted / sum;
}

// Anchor-free (YOLOv8): head is one image's [4 * reg_max + C, A] block; distances left, top, right, bottom
// from the cell centre, times the stride.
RT_YOLO_HD void decode_anchor_free(const YoloDecodeParams& p, const YoloLevels& levels, const float* head, int64_t A,
                                   int64_t a, float* box) {
    const Cell c = cell_of(p, levels, a);
    const float s = p.strides[c.level];
    const float cx = static_cast<float>(c.x) + 0.5f, cy = static_cast<float>(c.y) + 0.5f;
    float d[4];
    for (int side = 0; side < 4; ++side) d[side] = dfl_distance(head + side * p.reg_max * A + a, A, p.reg_max);
    box[0] = (cx - d[0]) * s;
    box[1] = (cy - d[1]) * s;
    box[2] = (cx + d[2]) * s;
    box[3] = (cy + d[3]) * s;
}

// Anchor-based (YOLOv5 v6+): row is one candidate's 5 + C values (tx ty tw th objectness classes...).
// centre = (2 sig(t) - 0.5 + cell) * stride, size = (2 sig(t))^2 * anchor.
RT_YOLO_HD void decode_anchor_based(const YoloDecodeParams& p, const YoloLevels& levels, const float* row, int64_t a,
                                    float* box) {
    const Cell c = cell_of(p, levels, a);
    const float s = p.strides[c.level];
    const float tx = activate(row[0], p.apply_sigmoid), ty = activate(row[1], p.apply_sigmoid);
    const float tw = activate(row[2], p.apply_sigmoid) * 2.0f, th = activate(row[3], p.apply_sigmoid) * 2.0f;
    const float cx = (tx * 2.0f - 0.5f + static_cast<float>(c.x)) * s;
    const float cy = (ty * 2.0f - 0.5f + static_cast<float>(c.y)) * s;
    const float w = tw * tw * p.anchors[c.level][c.anchor][0], h = th * th * p.anchors[c.level][c.anchor][1];
    box[0] = cx - w * 0.5f;
    box[1] = cy - h * 0.5f;
    box[2] = cx + w * 0.5f;
    box[3] = cy + h * 0.5f;
}

// Anchor-based class score: objectness times the class probability.
RT_YOLO_HD float anchor_based_score(const YoloDecodeParams& p, const float* row, int64_t cls) {
    return activate(row[4], p.apply_sigmoid) * activate(row[5 + cls], p.apply_sigmoid);
}

}  // namespace rtinfer_yolo
