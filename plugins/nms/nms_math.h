// The arithmetic EfficientNMS decides with, shared by the CPU and CUDA implementations so that both take
// the same decisions bit for bit: box decoding, IoU, the sigmoid and the candidate order.
//
// Exactness: every function here is a fixed sequence of IEEE float operations (min/max written as the
// same comparisons std::min/std::max make). The plugin is compiled without floating-point contraction
// (-ffp-contract=off for C++, --fmad=false for CUDA), so no multiply-add is fused on either side and both
// round identically. The sigmoid is evaluated in double and rounded to float once: the host's and the
// device's exp() differ by at most an ulp of a double, which changes the float result only when it lies
// within about 2^-29 of a rounding boundary.
#pragma once

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "efficient_nms_params.h"

#if defined(__CUDACC__)
#define RT_NMS_HD __host__ __device__ __forceinline__
#else
#define RT_NMS_HD inline
#endif

namespace rtinfer_nms {

struct Corners {
    float x1, y1, x2, y2;
};

// std::min / std::max, spelt out so that host and device pick the same operand.
RT_NMS_HD float min_of(float a, float b) {
    return b < a ? b : a;
}
RT_NMS_HD float max_of(float a, float b) {
    return a < b ? b : a;
}

// The box as x1 y1 x2 y2 in its given order (what the output holds).
RT_NMS_HD Corners decode_box(const float* b, BoxCoding coding) {
    if (coding == BoxCoding::kCenterSize) {
        const float hw = b[2] * 0.5f, hh = b[3] * 0.5f;
        return {b[0] - hw, b[1] - hh, b[0] + hw, b[1] + hh};
    }
    return {b[0], b[1], b[2], b[3]};
}

// Either diagonal pair of corners is accepted, as TensorRT does. `kept` is the box kept earlier.
RT_NMS_HD float box_iou(const Corners& kept, const Corners& b) {
    const float ax1 = min_of(kept.x1, kept.x2), ax2 = max_of(kept.x1, kept.x2);
    const float ay1 = min_of(kept.y1, kept.y2), ay2 = max_of(kept.y1, kept.y2);
    const float bx1 = min_of(b.x1, b.x2), bx2 = max_of(b.x1, b.x2);
    const float by1 = min_of(b.y1, b.y2), by2 = max_of(b.y1, b.y2);
    const float iw = min_of(ax2, bx2) - max_of(ax1, bx1);
    const float ih = min_of(ay2, by2) - max_of(ay1, by1);
    if (iw <= 0.0f || ih <= 0.0f) return 0.0f;
    const float inter = iw * ih;
    const float area_a = (ax2 - ax1) * (ay2 - ay1);
    const float area_b = (bx2 - bx1) * (by2 - by1);
    const float uni = area_a + area_b - inter;
    return uni > 0.0f ? inter / uni : 0.0f;
}

RT_NMS_HD float sigmoid(float x) {
    return static_cast<float>(1.0 / (1.0 + exp(-static_cast<double>(x))));
}

// The score a candidate is ranked by: the input score, or its sigmoid.
RT_NMS_HD float activated_score(float raw, bool activation) {
    return activation ? sigmoid(raw) : raw;
}

// Whether a candidate's score passes the threshold (score > threshold; NaN never does), and the score.
// With the sigmoid, a float estimate (off by less than 1e-6) first rules out the scores far below the
// threshold, so that the double evaluation runs only near and above it; the decision is the exact one.
RT_NMS_HD bool passes_threshold(float raw, bool activation, float threshold, float* score) {
    if (activation) {
        const float estimate = 1.0f / (1.0f + expf(-raw));
        if (!(estimate > threshold - 1e-5f)) return false;
    }
    *score = activated_score(raw, activation);
    return *score > threshold;
}

// The candidate order: higher score first; equal scores (+0 and -0 are equal) go to the lower box index,
// then the lower class, i.e. the lower flat index box * num_classes + class. The CUDA sort packs this
// order into one unsigned key: the score's bits, made to sort descending, above the flat index.
RT_NMS_HD uint32_t descending_score_bits(float score) {
    uint32_t u = 0;
    if (score != 0.0f) memcpy(&u, &score, sizeof(u));  // -0 ranks as +0
    const uint32_t ascending = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    return ~ascending;
}

}  // namespace rtinfer_nms
