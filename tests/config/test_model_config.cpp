// model.yml: the shipped examples, the defaults, path resolution and labels files.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tests/config/config_test_util.h"

namespace fs = std::filesystem;
using namespace rtinfer::config;
using config_test::read_text;
using config_test::TempDir;

namespace {

const std::string kExamplesDir = RTINFER_SOURCE_DIR "/pipelines/config/examples";
const std::string kCocoLabels = "person\nbicycle\ncar\n";
const std::string kVocLabels = "background\naeroplane\nbicycle\nbird\n";

// An example, the files it names (created next to it, with this content), and what it must parse to.
struct Example {
    std::string file;
    std::map<std::string, std::string> files;
    std::function<void(const ModelConfig&, const TempDir&)> check;
};

const std::vector<Example>& examples() {
    static const std::vector<Example> all = {
        {"classifier.yml",
         {{"resnet18.onnx", "onnx"}, {"imagenet_labels.txt", "tench\ngoldfish\ngreat white shark\n"
                                                             "tiger shark\nhammerhead\nelectric ray\n"}},
         [](const ModelConfig& c, const TempDir& dir) {
             EXPECT_EQ(c.model.onnx, dir.file("resnet18.onnx"));
             EXPECT_EQ(c.model.engine, "");
             EXPECT_EQ(c.model.precision, Precision::kFp16);
             EXPECT_EQ(c.model.batch, 1);
             EXPECT_EQ(c.model.engine_cache, dir.path());
             EXPECT_EQ(c.input.width, 224);
             EXPECT_EQ(c.input.height, 224);
             EXPECT_EQ(c.input.resize, ResizeMode::kStretch);
             EXPECT_FLOAT_EQ(c.input.scale, 1.0f / 255.0f);
             EXPECT_EQ(c.input.mean, (std::vector<float>{0.485f, 0.456f, 0.406f}));
             EXPECT_EQ(c.input.std, (std::vector<float>{0.229f, 0.224f, 0.225f}));
             EXPECT_EQ(c.input.layout, Layout::kNchw);
             ASSERT_EQ(c.output.task, Task::kClassifier);
             EXPECT_EQ(c.output.classifier.top_k, 5);
             EXPECT_TRUE(c.output.classifier.softmax);
             EXPECT_FLOAT_EQ(c.output.classifier.threshold, 0.1f);
             EXPECT_EQ(c.output.classifier.labels.path, dir.file("imagenet_labels.txt"));
             ASSERT_EQ(c.output.classifier.labels.names.size(), 6u);
             EXPECT_EQ(c.output.classifier.labels.names[2], "great white shark");
             EXPECT_EQ(c.interval, 1);
         }},
        {"yolov8.yml",
         {{"models/yolov8n.onnx", "onnx"}, {"coco_labels.txt", kCocoLabels}},
         [](const ModelConfig& c, const TempDir& dir) {
             EXPECT_EQ(c.model.onnx, dir.file("models/yolov8n.onnx"));
             EXPECT_EQ(c.model.batch, 4);
             EXPECT_EQ(c.model.engine_cache, dir.file("engines"));  // need not exist yet
             EXPECT_FALSE(c.model.backend.has_value());
             EXPECT_EQ(c.input.resize, ResizeMode::kLetterbox);
             EXPECT_EQ(c.input.pad_value, 114);
             EXPECT_EQ(c.input.mean, (std::vector<float>{0.0f, 0.0f, 0.0f}));
             ASSERT_EQ(c.output.task, Task::kDetector);
             const DetectorOutput& d = c.output.detector;
             EXPECT_EQ(d.format, DetectorFormat::kYolov8);
             EXPECT_TRUE(d.tensors.empty());
             EXPECT_FLOAT_EQ(d.confidence_threshold, 0.25f);
             EXPECT_FLOAT_EQ(d.iou_threshold, 0.45f);
             EXPECT_EQ(d.max_detections, 300);
             EXPECT_FALSE(d.class_agnostic);
             EXPECT_FALSE(d.normalized_boxes);
             EXPECT_EQ(d.background_class, -1);
             EXPECT_EQ(d.labels.names, (std::vector<std::string>{"person", "bicycle", "car"}));
             EXPECT_EQ(c.interval, 2);
         }},
        {"yolov5.yml",
         {{"yolov5s.onnx", "onnx"}, {"coco_labels.txt", kCocoLabels}},
         [](const ModelConfig& c, const TempDir&) {
             EXPECT_EQ(c.input.width, 640);
             EXPECT_EQ(c.input.height, 384);
             ASSERT_EQ(c.output.task, Task::kDetector);
             const DetectorOutput& d = c.output.detector;
             EXPECT_EQ(d.format, DetectorFormat::kYolov5);
             EXPECT_EQ(d.tensors, (std::vector<std::string>{"output0"}));
             EXPECT_FLOAT_EQ(d.confidence_threshold, 0.4f);
             EXPECT_FLOAT_EQ(d.iou_threshold, 0.5f);
             EXPECT_TRUE(d.class_agnostic);
             EXPECT_EQ(d.max_detections, 100);
             EXPECT_EQ(c.interval, 1);
         }},
        {"ssd.yml",
         {{"ssd_mobilenet_v2.onnx", "onnx"}, {"voc_labels.txt", kVocLabels}},
         [](const ModelConfig& c, const TempDir&) {
             EXPECT_FLOAT_EQ(c.input.scale, 1.0f);
             EXPECT_EQ(c.input.mean, (std::vector<float>{127.5f, 127.5f, 127.5f}));
             EXPECT_EQ(c.input.std, (std::vector<float>{127.5f, 127.5f, 127.5f}));
             ASSERT_EQ(c.output.task, Task::kDetector);
             const DetectorOutput& d = c.output.detector;
             EXPECT_EQ(d.format, DetectorFormat::kSsd);
             EXPECT_EQ(d.tensors, (std::vector<std::string>{"boxes", "scores"}));
             EXPECT_EQ(d.box_order, BoxOrder::kYxyx);
             EXPECT_TRUE(d.normalized_boxes);
             EXPECT_EQ(d.background_class, 0);
             EXPECT_FLOAT_EQ(d.confidence_threshold, 0.5f);
             EXPECT_FLOAT_EQ(d.iou_threshold, 0.6f);
             EXPECT_EQ(d.max_detections, 50);
             EXPECT_EQ(d.labels.names.front(), "background");
         }},
        {"efficient_nms.yml",
         {{"yolov8n_nms.engine", "engine"}, {"coco_labels.txt", kCocoLabels}},
         [](const ModelConfig& c, const TempDir& dir) {
             EXPECT_EQ(c.model.onnx, "");
             EXPECT_EQ(c.model.engine, dir.file("yolov8n_nms.engine"));
             EXPECT_EQ(c.model.engine_cache, "");
             ASSERT_TRUE(c.model.backend.has_value());
             EXPECT_EQ(*c.model.backend, rtinfer::Backend::kCuda);
             ASSERT_EQ(c.output.task, Task::kDetector);
             const DetectorOutput& d = c.output.detector;
             EXPECT_EQ(d.format, DetectorFormat::kEfficientNms);
             EXPECT_EQ(d.tensors, (std::vector<std::string>{"num_dets", "det_boxes", "det_scores", "det_classes"}));
             EXPECT_FLOAT_EQ(d.confidence_threshold, 0.3f);
             EXPECT_FALSE(d.normalized_boxes);
             EXPECT_EQ(d.background_class, -1);
         }},
        {"segmentation.yml",
         {{"deeplabv3_resnet50.onnx", "onnx"}, {"voc_labels.txt", kVocLabels}},
         [](const ModelConfig& c, const TempDir&) {
             EXPECT_EQ(c.model.engine_cache, "/var/cache/rtinfer");  // absolute paths stay as they are
             EXPECT_FLOAT_EQ(c.input.scale, 1.0f / 255.0f);
             ASSERT_EQ(c.output.task, Task::kSegmentation);
             EXPECT_EQ(c.output.segmentation.tensor, "out");
             EXPECT_EQ(c.output.segmentation.labels.names.size(), 4u);
             EXPECT_EQ(c.interval, 5);
         }},
        {"raw.yml",
         {{"features.onnx", "onnx"}, {"plugins/libmy_ops.so", "elf"}},
         [](const ModelConfig& c, const TempDir& dir) {
             EXPECT_EQ(c.model.precision, Precision::kFp32);
             EXPECT_EQ(c.model.plugins, (std::vector<std::string>{dir.file("plugins/libmy_ops.so")}));
             ASSERT_TRUE(c.model.backend.has_value());
             EXPECT_EQ(*c.model.backend, rtinfer::Backend::kCpu);
             EXPECT_EQ(c.input.tensor, "image");
             EXPECT_EQ(c.input.color, ColorOrder::kGray);
             EXPECT_EQ(c.input.channels(), 1);
             EXPECT_EQ(c.input.mean, (std::vector<float>{128.0f}));
             EXPECT_EQ(c.input.std, (std::vector<float>{64.0f}));
             EXPECT_EQ(c.input.layout, Layout::kNhwc);
             ASSERT_EQ(c.output.task, Task::kRaw);
             EXPECT_EQ(c.output.raw.tensors, (std::vector<std::string>{"features"}));
         }},
    };
    return all;
}

}  // namespace

TEST(ModelConfigExamples, EachParsesToItsValues) {
    for (const Example& ex : examples()) {
        SCOPED_TRACE(ex.file);
        TempDir dir;
        for (const auto& [name, content] : ex.files) dir.write(name, content);
        const std::string yml = dir.write(ex.file, read_text(kExamplesDir + "/" + ex.file));
        auto config = load_model_config(yml);
        ASSERT_TRUE(config.has_value()) << config.status().message();
        EXPECT_EQ(config->source, yml);
        ex.check(*config, dir);
    }
}

TEST(ModelConfigExamples, EveryShippedExampleIsTested) {
    std::vector<std::string> shipped;
    for (const auto& entry : fs::directory_iterator(kExamplesDir)) shipped.push_back(entry.path().filename());
    std::vector<std::string> tested;
    for (const Example& ex : examples()) tested.push_back(ex.file);
    std::sort(shipped.begin(), shipped.end());
    std::sort(tested.begin(), tested.end());
    EXPECT_EQ(shipped, tested);
}

// docs/model-yml.md shows each example whole; this keeps the page and the files the same.
TEST(ModelConfigExamples, TheDocsShowEachExampleAsShipped) {
    const std::string docs = read_text(RTINFER_SOURCE_DIR "/docs/model-yml.md");
    ASSERT_FALSE(docs.empty());
    for (const Example& ex : examples()) {
        const std::string block = "```yaml\n" + read_text(kExamplesDir + "/" + ex.file) + "```\n";
        EXPECT_NE(docs.find(block), std::string::npos) << ex.file << " is not in docs/model-yml.md as shipped";
    }
}

TEST(ModelConfig, DefaultsForEverythingButTheModel) {
    TempDir dir;
    dir.write("m.onnx", "onnx");
    auto c = parse_model_config("model:\n  onnx: m.onnx\n", "m.yml", dir.path());
    ASSERT_TRUE(c.has_value()) << c.status().message();
    EXPECT_EQ(c->source, "m.yml");
    EXPECT_EQ(c->model.onnx, dir.file("m.onnx"));
    EXPECT_EQ(c->model.precision, Precision::kFp16);
    EXPECT_EQ(c->model.batch, 1);
    EXPECT_EQ(c->model.engine_cache, dir.path());
    EXPECT_TRUE(c->model.plugins.empty());
    EXPECT_FALSE(c->model.backend.has_value());
    EXPECT_EQ(c->input.tensor, "");
    EXPECT_EQ(c->input.color, ColorOrder::kRgb);
    EXPECT_EQ(c->input.width, 0);
    EXPECT_EQ(c->input.height, 0);
    EXPECT_EQ(c->input.resize, ResizeMode::kStretch);
    EXPECT_EQ(c->input.pad_value, 114);
    EXPECT_FLOAT_EQ(c->input.scale, 1.0f / 255.0f);
    EXPECT_EQ(c->input.mean, (std::vector<float>{0.0f, 0.0f, 0.0f}));
    EXPECT_EQ(c->input.std, (std::vector<float>{1.0f, 1.0f, 1.0f}));
    EXPECT_EQ(c->input.layout, Layout::kNchw);
    EXPECT_EQ(c->output.task, Task::kRaw);
    EXPECT_TRUE(c->output.raw.tensors.empty());
    EXPECT_EQ(c->interval, 1);
}

TEST(ModelConfig, EmptySectionsTakeTheDefaults) {
    TempDir dir;
    dir.write("m.onnx", "onnx");
    // Sections whose keys are all commented out are null in YAML.
    auto c = parse_model_config("model:\n  onnx: m.onnx\ninput:\n  # color: BGR\noutput:\n  classifier:\n",
                                "m.yml", dir.path());
    ASSERT_TRUE(c.has_value()) << c.status().message();
    EXPECT_EQ(c->input.color, ColorOrder::kRgb);
    ASSERT_EQ(c->output.task, Task::kClassifier);
    EXPECT_EQ(c->output.classifier.top_k, 1);
    EXPECT_FLOAT_EQ(c->output.classifier.threshold, 0.0f);
    EXPECT_FALSE(c->output.classifier.softmax);
    EXPECT_TRUE(c->output.classifier.labels.names.empty());
}

TEST(ModelConfig, DetectorDefaultsFollowTheFormat) {
    TempDir dir;
    dir.write("m.onnx", "onnx");
    auto ssd = parse_model_config("model: {onnx: m.onnx}\noutput: {detector: {format: ssd}}\n", "m.yml", dir.path());
    ASSERT_TRUE(ssd.has_value()) << ssd.status().message();
    EXPECT_TRUE(ssd->output.detector.normalized_boxes);
    EXPECT_EQ(ssd->output.detector.background_class, 0);
    EXPECT_EQ(ssd->output.detector.box_order, BoxOrder::kXyxy);
    auto ssd_set = parse_model_config(
        "model: {onnx: m.onnx}\noutput: {detector: {format: ssd, normalized_boxes: false, background_class: -1}}\n",
        "m.yml", dir.path());
    ASSERT_TRUE(ssd_set.has_value()) << ssd_set.status().message();
    EXPECT_FALSE(ssd_set->output.detector.normalized_boxes);
    EXPECT_EQ(ssd_set->output.detector.background_class, -1);
    auto nms = parse_model_config("model: {onnx: m.onnx}\noutput: {detector: {format: efficient_nms}}\n", "m.yml",
                                  dir.path());
    ASSERT_TRUE(nms.has_value()) << nms.status().message();
    EXPECT_FALSE(nms->output.detector.normalized_boxes);
    EXPECT_EQ(nms->output.detector.max_detections, 100);
    EXPECT_EQ(DetectorOutput::tensor_count(DetectorFormat::kYolov8), 1);
    EXPECT_EQ(DetectorOutput::tensor_count(DetectorFormat::kSsd), 2);
    EXPECT_EQ(DetectorOutput::tensor_count(DetectorFormat::kEfficientNms), 4);
}

TEST(ModelConfig, ChoicesIgnoreLetterCaseAndBooleansTakeYamlSpellings) {
    TempDir dir;
    dir.write("m.onnx", "onnx");
    auto c = parse_model_config(
        "model: {onnx: m.onnx, precision: FP32, backend: CPU}\n"
        "input: {color: bgr, layout: nhwc, resize: Letterbox, mean: [1, 2, 3]}\n"
        "output: {detector: {format: YOLOv5, class_agnostic: yes}}\n",
        "m.yml", dir.path());
    ASSERT_TRUE(c.has_value()) << c.status().message();
    EXPECT_EQ(c->model.precision, Precision::kFp32);
    EXPECT_EQ(*c->model.backend, rtinfer::Backend::kCpu);
    EXPECT_EQ(c->input.color, ColorOrder::kBgr);
    EXPECT_EQ(c->input.layout, Layout::kNhwc);
    EXPECT_EQ(c->input.resize, ResizeMode::kLetterbox);
    EXPECT_EQ(c->output.detector.format, DetectorFormat::kYolov5);
    EXPECT_TRUE(c->output.detector.class_agnostic);
    // "gpu" is another name for the CUDA backend.
    auto gpu = parse_model_config("model: {onnx: m.onnx, backend: gpu}\n", "m.yml", dir.path());
    ASSERT_TRUE(gpu.has_value()) << gpu.status().message();
    EXPECT_EQ(*gpu->model.backend, rtinfer::Backend::kCuda);
}

TEST(ModelConfig, NamesAreTheSpellingsOfTheFile) {
    EXPECT_STREQ(precision_name(Precision::kInt8), "int8");
    EXPECT_STREQ(color_order_name(ColorOrder::kGray), "GRAY");
    EXPECT_STREQ(resize_mode_name(ResizeMode::kLetterbox), "letterbox");
    EXPECT_STREQ(layout_name(Layout::kNhwc), "NHWC");
    EXPECT_STREQ(task_name(Task::kSegmentation), "segmentation");
    EXPECT_STREQ(detector_format_name(DetectorFormat::kEfficientNms), "efficient_nms");
    EXPECT_STREQ(box_order_name(BoxOrder::kYxyx), "yxyx");
}

// Relative paths follow the config file, not the working directory of the process.
TEST(ModelConfig, RelativePathsResolveAgainstTheFilesFolder) {
    TempDir dir;
    dir.write("models/net.onnx", "onnx");
    dir.write("labels/coco.txt", kCocoLabels);
    dir.write("plugins/libops.so", "elf");
    const std::string yml = dir.write("configs/net.yml",
                                      "model:\n  onnx: ../models/net.onnx\n  engine_cache: ../cache\n"
                                      "  plugins: [../plugins/libops.so]\n"
                                      "output:\n  detector:\n    format: yolov8\n    labels: ../labels/coco.txt\n");
    auto c = load_model_config(yml);
    ASSERT_TRUE(c.has_value()) << c.status().message();
    EXPECT_EQ(c->model.onnx, dir.file("models/net.onnx"));
    EXPECT_EQ(c->model.engine_cache, dir.file("cache"));
    EXPECT_EQ(c->model.plugins, (std::vector<std::string>{dir.file("plugins/libops.so")}));
    EXPECT_EQ(c->output.detector.labels.path, dir.file("labels/coco.txt"));
    // The engine cache defaults to the ONNX file's folder.
    dir.write("configs/plain.yml", "model:\n  onnx: ../models/net.onnx\n");
    auto plain = load_model_config(dir.file("configs/plain.yml"));
    ASSERT_TRUE(plain.has_value()) << plain.status().message();
    EXPECT_EQ(plain->model.engine_cache, dir.file("models"));
}

TEST(ModelConfig, Int8TakesACalibrationCacheResolvedLikeEveryPath) {
    TempDir dir;
    dir.write("models/net.onnx", "onnx");
    dir.write("models/net.calib", "# rtinfer calibration cache\n");
    const std::string yml = dir.write("configs/net.yml",
                                      "model:\n  onnx: ../models/net.onnx\n  precision: int8\n"
                                      "  calibration_cache: ../models/net.calib\n");
    auto c = load_model_config(yml);
    ASSERT_TRUE(c.has_value()) << c.status().message();
    EXPECT_EQ(c->model.precision, Precision::kInt8);
    EXPECT_EQ(c->model.calibration_cache, dir.file("models/net.calib"));
}

TEST(ModelConfig, LabelsFilesMayHaveCrlfABomAndBlankLines) {
    TempDir dir;
    dir.write("m.onnx", "onnx");
    dir.write("labels.txt", "\xEF\xBB\xBF" "cat\r\ndog  \r\n\r\nbird\r\n\r\n\n");
    auto c = parse_model_config("model: {onnx: m.onnx}\noutput: {segmentation: {labels: labels.txt}}\n", "m.yml",
                                dir.path());
    ASSERT_TRUE(c.has_value()) << c.status().message();
    // The blank line inside keeps its index; the blank lines at the end are not classes.
    EXPECT_EQ(c->output.segmentation.labels.names, (std::vector<std::string>{"cat", "dog", "", "bird"}));
}

TEST(ModelConfig, LoadNamesAMissingOrUnreadableConfig) {
    TempDir dir;
    auto missing = load_model_config(dir.file("none.yml"));
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.status().code(), rtinfer::StatusCode::kNotFound);
    EXPECT_EQ(missing.status().message(), dir.file("none.yml") + ": no such file");
    auto folder = load_model_config(dir.path());
    ASSERT_FALSE(folder.has_value());
    EXPECT_EQ(folder.status().message(), dir.path() + ": not a regular file");
}
