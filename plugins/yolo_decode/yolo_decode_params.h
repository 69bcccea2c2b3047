// The parameters of one YoloDecode layer and the buffers of one run: plain structs (fixed-size arrays, so
// that CUDA kernels take them by value) shared by the CPU and CUDA implementations.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rtinfer_yolo {

constexpr int kMaxLevels = 8;
constexpr int kMaxAnchorsPerLevel = 16;
constexpr int kMaxRegMax = 64;

enum class YoloStyle : int32_t {
    kAnchorFree = 0,   // "yolov8": input [N, 4 * reg_max + C, A], distances by DFL from cell centres
    kAnchorBased = 1,  // "yolov5": input [N, A, 5 + C], xywh offsets against anchor boxes, objectness
};

// From the node's attributes; stored in the engine (yolo_decode_plugin.cpp serializes it).
struct YoloDecodeParams {
    YoloStyle style = YoloStyle::kAnchorFree;
    int32_t num_levels = 0;
    float strides[kMaxLevels] = {};  // pixels per grid cell of each level
    int32_t grid_h[kMaxLevels] = {};
    int32_t grid_w[kMaxLevels] = {};
    int32_t reg_max = 16;           // anchor-free: bins per box side (1: the head gives the distances directly)
    int32_t anchors_per_level = 0;  // anchor-based
    float anchors[kMaxLevels][kMaxAnchorsPerLevel][2] = {};  // anchor-based: (w, h) in pixels
    bool apply_sigmoid = true;  // the head gives logits (class scores; anchor-based: every value but DFL bins)
};

// Where each level's candidates start in A (level_start[num_levels] == A), from the params.
struct YoloLevels {
    int64_t level_start[kMaxLevels + 1] = {};
};

inline YoloLevels yolo_levels(const YoloDecodeParams& p) {
    YoloLevels l;
    const int64_t per_cell = p.style == YoloStyle::kAnchorBased ? p.anchors_per_level : 1;
    for (int i = 0; i < p.num_levels; ++i) {
        l.level_start[i + 1] = l.level_start[i] + per_cell * int64_t{p.grid_h[i]} * p.grid_w[i];
    }
    return l;
}

// The sizes of one run, from the input shape.
struct YoloDecodeShape {
    int64_t batch = 0;
    int64_t num_candidates = 0;  // A
    int64_t num_classes = 0;     // C
};

struct YoloDecodeBuffers {
    const float* head = nullptr;  // anchor-free [N, 4 * reg_max + C, A]; anchor-based [N, A, 5 + C]
    float* boxes = nullptr;       // [N, A, 4], corners x1 y1 x2 y2 in pixels
    float* scores = nullptr;      // [N, A, C]
};

}  // namespace rtinfer_yolo
