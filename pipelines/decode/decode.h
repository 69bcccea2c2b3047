// A network's outputs for one frame into results, as model.yml's output section says: classifier top-k,
// detections (YOLOv8, YOLOv5, SSD-style or EfficientNMS outputs; thresholds, NMS, labels) mapped back to the
// frame, or a per-pixel class mask. Plain CPU code shared by the rtinfer element and applications.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipelines/config/model_config.h"
#include "pipelines/preprocess/frame_preprocess.h"
#include "rtinfer/status.h"

namespace rtinfer::pipelines {

// One image's slice of an output tensor (the batch dim left out), float32, row-major.
struct TensorView {
    const float* data = nullptr;
    std::vector<int64_t> shape;
    int64_t numel() const;
};

struct Classification {
    int class_id = 0;
    float score = 0.0f;
    std::string label;  // "" when the config has no labels file
};

struct Detection {
    int class_id = 0;
    float confidence = 0.0f;
    float x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // frame pixels, clipped to the frame
    std::string label;
};

// The top_k classes scoring at least `threshold` (after a softmax when configured), best first.
Expected<std::vector<Classification>> decode_classifier(const config::ClassifierOutput& out, const TensorView& scores);

// Detections of one frame, best first, at most max_detections. `tensors` in the order the format takes
// them (DetectorOutput::tensor_count); boxes come in network input pixels (or 0..1 of the input with
// normalized_boxes) and are mapped to the frame with `placement`.
//   yolov8: [4 + C, A]: cx, cy, w, h, class scores
//   yolov5: [A, 5 + C]: cx, cy, w, h, objectness, class scores (confidence = objectness * class score)
//   ssd: boxes [A, 4] (x1 y1 x2 y2, or y1 x1 y2 x2 with box_order yxyx), scores [A, C]
//   efficient_nms: num_detections [1], boxes [K, 4], scores [K], classes [K] (NMS already done)
Expected<std::vector<Detection>> decode_detections(const config::DetectorOutput& out,
                                                   const std::vector<TensorView>& tensors, int input_width,
                                                   int input_height, const Placement& placement, int frame_width,
                                                   int frame_height);

// Greedy NMS over detections sorted best first: drops a detection overlapping a kept one (of the same class
// unless class_agnostic) by more than iou_threshold.
std::vector<Detection> non_max_suppression(std::vector<Detection> sorted, float iou_threshold, bool class_agnostic,
                                           int max_detections);

// The class of each pixel: argmax over C of logits [C, H, W] (row-major H x W result).
Expected<std::vector<int32_t>> decode_segmentation(const TensorView& logits);

}  // namespace rtinfer::pipelines
