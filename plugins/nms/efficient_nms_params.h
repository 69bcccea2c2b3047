// The parameters of one EfficientNMS layer and the buffers of one run: plain structs shared by the CPU
// implementation and a future CUDA one, free of any rtinfer type.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rtinfer_nms {

enum class BoxCoding : int32_t { kCorners = 0, kCenterSize = 1 };

// From the node's attributes; stored in the engine (efficient_nms_plugin.cpp serializes it).
struct EfficientNmsParams {
    float score_threshold = 0.0f;  // candidates need score > threshold (after the activation, if any)
    float iou_threshold = 0.5f;    // a box is suppressed by a kept one when their IoU > threshold
    int32_t max_output_boxes = 100;
    int32_t background_class = -1;  // -1: none
    bool score_activation = false;   // sigmoid on the scores
    bool class_agnostic = false;     // one NMS over all classes instead of one per class
    BoxCoding box_coding = BoxCoding::kCorners;
};

// The sizes of one run, from the input shapes.
struct EfficientNmsShape {
    int64_t batch = 0;
    int64_t num_boxes = 0;    // anchors
    int64_t num_classes = 0;
    bool boxes_per_class = false;  // boxes are [batch, num_boxes, num_classes, 4] rather than [batch, num_boxes, 4]
};

// Row-major float32 inputs and the four outputs (max_output_boxes = K rows per batch item).
struct EfficientNmsBuffers {
    const float* boxes = nullptr;     // [batch, num_boxes, 4] or [batch, num_boxes, num_classes, 4]
    const float* scores = nullptr;    // [batch, num_boxes, num_classes]
    int32_t* num_detections = nullptr;  // [batch, 1]
    float* detection_boxes = nullptr;   // [batch, K, 4], corners x1 y1 x2 y2
    float* detection_scores = nullptr;  // [batch, K]
    int32_t* detection_classes = nullptr;  // [batch, K]
};

}  // namespace rtinfer_nms
