// model.yml: what the rtinfer GStreamer element (and any application) needs to know to run a model on
// video frames: which model and how to build it, how to turn a frame into the input tensor, how to read
// the outputs, and how often to infer. docs/model-yml.md is the reference of every key.
//
// The file is untrusted input: it is validated here, once. Unknown keys, wrong types, values out of range
// and missing files are errors of the form "model.yml:LINE:COLUMN: key.path: what is wrong" (the first
// error found). Past this boundary a ModelConfig can be trusted: enums are valid, numbers are in range,
// the files it names existed when it was read, and the lists have the lengths the schema says.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "rtinfer/status.h"
#include "rtinfer/types.h"

namespace rtinfer::config {

enum class Precision { kFp32, kFp16, kInt8 };
enum class ColorOrder { kRgb, kBgr, kGray };
enum class ResizeMode { kStretch, kLetterbox };
enum class Layout { kNchw, kNhwc };
enum class Task { kRaw, kClassifier, kDetector, kSegmentation };
enum class DetectorFormat { kYolov8, kYolov5, kSsd, kEfficientNms };
enum class BoxOrder { kXyxy, kYxyx };

// The spelling used in model.yml, e.g. "fp16", "RGB", "letterbox", "efficient_nms".
const char* precision_name(Precision precision);
const char* color_order_name(ColorOrder color);
const char* resize_mode_name(ResizeMode resize);
const char* layout_name(Layout layout);
const char* task_name(Task task);
const char* detector_format_name(DetectorFormat format);
const char* box_order_name(BoxOrder order);

// Paths below are resolved: a relative path in the file is taken against the file's folder.
struct ModelSection {
    std::string onnx;    // the ONNX model to build an engine from; "" when `engine` is given
    std::string engine;  // a prebuilt engine file; "" when `onnx` is given
    Precision precision = Precision::kFp16;
    int batch = 1;  // frames per inference; the engine's maximum batch
    // Where engines built from `onnx` are kept; the ONNX file's folder unless set. "" with `engine`.
    std::string engine_cache;
    std::vector<std::string> plugins;  // plugin libraries loaded before building or loading
    std::optional<Backend> backend;    // nullopt ("auto"): CUDA where a GPU is present, otherwise the CPU
    std::string calibration_cache;     // precision int8: the activation ranges (a calibration cache file)
};

// A frame becomes the input tensor as  value = (pixel * scale - mean[c]) / std[c],  pixel in 0..255.
struct InputSection {
    std::string tensor;  // "" = the model's only input
    ColorOrder color = ColorOrder::kRgb;
    int width = 0;  // 0 (with height 0) = the model's input size
    int height = 0;
    ResizeMode resize = ResizeMode::kStretch;
    int pad_value = 114;  // letterbox fill, 0..255
    float scale = 1.0f / 255.0f;
    std::vector<float> mean = {0.0f, 0.0f, 0.0f};  // one per channel of `color`
    std::vector<float> std = {1.0f, 1.0f, 1.0f};   // one per channel, each > 0
    Layout layout = Layout::kNchw;

    int channels() const { return color == ColorOrder::kGray ? 1 : 3; }
};

// A labels file: one name per line, the line index is the class index.
struct Labels {
    std::string path;  // "" = none given
    std::vector<std::string> names;
};

struct ClassifierOutput {
    std::string tensor;  // "" = the model's only output
    int top_k = 1;
    float threshold = 0.0f;  // classes scoring below it are not reported
    bool softmax = false;    // apply a softmax to the output first (for models that end in logits)
    Labels labels;
};

struct DetectorOutput {
    DetectorFormat format = DetectorFormat::kYolov8;
    // Output tensors in the order the format takes them; empty = the model's outputs in order.
    std::vector<std::string> tensors;
    float confidence_threshold = 0.25f;
    float iou_threshold = 0.45f;  // NMS; not used by kEfficientNms (the model does its NMS)
    int max_detections = 100;
    bool class_agnostic = false;           // one NMS over all classes
    BoxOrder box_order = BoxOrder::kXyxy;  // kSsd only
    bool normalized_boxes = false;         // boxes in 0..1 of the input size (kSsd: true unless set)
    int background_class = -1;             // a class that is never reported; -1 = none (kSsd: 0 unless set)
    Labels labels;

    // Tensors the format reads: 1 for the YOLO formats, 2 for SSD (boxes, scores), 4 for EfficientNMS.
    static int tensor_count(DetectorFormat format);
};

struct SegmentationOutput {
    std::string tensor;  // "" = the model's only output
    Labels labels;
};

struct RawOutput {
    std::vector<std::string> tensors;  // empty = every output
};

// Only the member named by `task` is meaningful.
struct OutputSection {
    Task task = Task::kRaw;
    ClassifierOutput classifier;
    DetectorOutput detector;
    SegmentationOutput segmentation;
    RawOutput raw;
};

struct ModelConfig {
    std::string source;  // the file name the config was read from, for later messages
    ModelSection model;
    InputSection input;
    OutputSection output;
    int interval = 1;  // infer every Nth frame (1 = every frame)
};

// Reads and validates a model.yml file; relative paths in it are resolved against its folder.
// Errors: kNotFound for the file itself or a file it names, kIoError when it cannot be read,
// kInvalidArgument for everything else; the message is "file:line:column: key.path: what is wrong".
Expected<ModelConfig> load_model_config(const std::string& path);

// The same for text already in memory: `name` is the file name used in messages, `base_dir` the folder
// relative paths are resolved against ("" = the current directory).
Expected<ModelConfig> parse_model_config(const std::string& text, const std::string& name,
                                         const std::string& base_dir);

}  // namespace rtinfer::config
