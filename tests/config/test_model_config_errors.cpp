// model.yml errors: every class of mistake gives "file:line:column: key.path: what is wrong", located at
// the key or value at fault (lines and columns counted from 1, as editors show them).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/config/config_test_util.h"

using namespace rtinfer::config;
using config_test::TempDir;
using rtinfer::StatusCode;

namespace {

// A config, and the exact error it must give.
struct Case {
    std::string yaml;
    std::string message;
};

class ModelConfigErrors : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_FALSE(dir_.path().empty());
        dir_.write("m.onnx", "onnx");
        dir_.write("e.engine", "engine");
        dir_.write("labels.txt", "cat\ndog\nbird\n");
        dir_.write("empty.txt", "\n\n");
        dir_.write("libp.so", "elf");
        dir_.write("models/keep", "");
    }

    // The error of `yaml`, read as "m.yml" in the test folder.
    rtinfer::Status error_of(const std::string& yaml) {
        auto c = parse_model_config(yaml, "m.yml", dir_.path());
        EXPECT_FALSE(c.has_value()) << "parsed without error:\n" << yaml;
        return c.status();
    }

    void expect_errors(const std::vector<Case>& cases, StatusCode code = StatusCode::kInvalidArgument) {
        for (const Case& c : cases) {
            const rtinfer::Status st = error_of(c.yaml);
            EXPECT_EQ(st.message(), c.message) << "for:\n" << c.yaml;
            EXPECT_EQ(st.code(), code) << st.message();
        }
    }

    // "'given' (resolved)" as messages show a path.
    std::string shown(const std::string& given) const { return "'" + given + "' (" + dir_.file(given) + ")"; }

    TempDir dir_;
};

const std::string kModel = "model:\n  onnx: m.onnx\n";  // lines 1-2 of most cases

}  // namespace

TEST_F(ModelConfigErrors, UnknownKeysAtEveryLevelWithAHint) {
    expect_errors({
        {"modle:\n  onnx: m.onnx\n", "m.yml:1:1: modle: unknown key; did you mean 'model'?"},
        {kModel + "  bacth: 2\n", "m.yml:3:3: model.bacth: unknown key; did you mean 'batch'?"},
        {kModel + "input:\n  colour: BGR\n", "m.yml:4:3: input.colour: unknown key; did you mean 'color'?"},
        {kModel + "output:\n  detectr:\n    format: yolov8\n",
         "m.yml:4:3: output.detectr: unknown key; did you mean 'detector'?"},
        {kModel + "output:\n  detector:\n    format: yolov8\n    confidence: 0.5\n",
         "m.yml:6:5: output.detector.confidence: unknown key; did you mean 'confidence_threshold'?"},
        {kModel + "output:\n  raw:\n    tensor: [a]\n",
         "m.yml:5:5: output.raw.tensor: unknown key; did you mean 'tensors'?"},
        {kModel + "batch: 4\n", "m.yml:3:1: batch: unknown key here; it belongs in 'model'"},
        {kModel + "  gpu_id: 0\n",
         "m.yml:3:3: model.gpu_id: unknown key; the keys of 'model' are onnx, engine, precision, batch, "
         "engine_cache, plugins, backend, calibration_cache"},
        {kModel + "name: cars\n",
         "m.yml:3:1: name: unknown key; the keys of the top level are model, input, output, interval"},
    });
}

TEST_F(ModelConfigErrors, RepeatedKeys) {
    expect_errors({
        {kModel + "  batch: 2\n  batch: 4\n", "m.yml:4:3: model.batch: given twice (first on line 3)"},
        {kModel + "interval: 2\nmodel:\n  onnx: m.onnx\n", "m.yml:4:1: model: given twice (first on line 1)"},
    });
}

TEST_F(ModelConfigErrors, WrongTypes) {
    expect_errors({
        {kModel + "  batch: four\n", "m.yml:3:10: model.batch: must be an integer, got 'four'"},
        {kModel + "  batch: 2.5\n", "m.yml:3:10: model.batch: must be an integer, got '2.5'"},
        {kModel + "  batch: \"4\"\n", "m.yml:3:10: model.batch: must be an integer, got the quoted string \"4\""},
        {kModel + "interval: [1]\n", "m.yml:3:11: interval: must be an integer, got a list"},
        {kModel + "input:\n  mean: 0.5\n", "m.yml:4:9: input.mean: must be a list like [a, b], got '0.5'"},
        {kModel + "input:\n  std: [1, x, 1]\n", "m.yml:4:12: input.std[1]: must be a number greater than 0, got 'x'"},
        {kModel + "input:\n  tensor: [a, b]\n", "m.yml:4:11: input.tensor: must be a name, got a list"},
        {kModel + "input: RGB\n", "m.yml:3:8: input: must be a mapping of keys ('key: value' lines), got 'RGB'"},
        {"model: m.onnx\n", "m.yml:1:8: model: must be a mapping of keys ('key: value' lines), got 'm.onnx'"},
        {"model:\n  onnx:\n", "m.yml:2:3: model.onnx: has no value; give a path or leave the key out"},
        {"model:\n  onnx: [m.onnx]\n", "m.yml:2:9: model.onnx: must be a path, got a list"},
        {kModel + "  plugins: libp.so\n", "m.yml:3:12: model.plugins: must be a list like [a, b], got 'libp.so'"},
        {kModel + "output:\n  classifier:\n    softmax: maybe\n",
         "m.yml:5:14: output.classifier.softmax: must be true or false, got 'maybe'"},
        {kModel + "output:\n  classifier:\n    threshold: high\n",
         "m.yml:5:16: output.classifier.threshold: must be a number from 0 to 1, got 'high'"},
        {kModel + "output:\n  detector: yolov8\n",
         "m.yml:4:13: output.detector: must be a mapping of keys ('key: value' lines), got 'yolov8'"},
        {kModel + "output:\n  raw:\n    tensors: [a, ~]\n",
         "m.yml:5:18: output.raw.tensors[1]: has no value; give a name"},
    });
}

TEST_F(ModelConfigErrors, ValuesOutsideTheirChoices) {
    expect_errors({
        {kModel + "  precision: fp61\n",
         "m.yml:3:14: model.precision: must be one of fp32, fp16, int8, got 'fp61'; did you mean 'fp16'?"},
        {kModel + "  backend: tpu\n",
         "m.yml:3:12: model.backend: must be one of auto, cuda, cpu, gpu, got 'tpu'; did you mean 'cpu'?"},
        {kModel + "input:\n  color: RGBA\n",
         "m.yml:4:10: input.color: must be one of RGB, BGR, GRAY, got 'RGBA'; did you mean 'RGB'?"},
        {kModel + "input:\n  resize: crop\n",
         "m.yml:4:11: input.resize: must be one of stretch, letterbox, got 'crop'"},
        {kModel + "input:\n  layout: CHW\n",
         "m.yml:4:11: input.layout: must be one of NCHW, NHWC, got 'CHW'; did you mean 'NCHW'?"},
        {kModel + "output:\n  detector:\n    format: yolov7\n",
         "m.yml:5:13: output.detector.format: must be one of yolov8, yolov5, ssd, efficient_nms, got 'yolov7'; "
         "did you mean 'yolov8'?"},
        {kModel + "output:\n  detector:\n    format: ssd\n    box_order: xywh\n",
         "m.yml:6:16: output.detector.box_order: must be one of xyxy, yxyx, got 'xywh'"},
    });
}

TEST_F(ModelConfigErrors, ValuesOutOfRange) {
    expect_errors({
        {kModel + "  batch: 0\n", "m.yml:3:10: model.batch: must be from 1 to 1024, got 0"},
        {kModel + "interval: 0\n", "m.yml:3:11: interval: must be at least 1, got 0"},
        {kModel + "interval: -3\n", "m.yml:3:11: interval: must be at least 1, got -3"},
        {kModel + "input:\n  width: 0\n  height: 480\n", "m.yml:4:10: input.width: must be from 1 to 16384, got 0"},
        {kModel + "input:\n  resize: letterbox\n  pad_value: 256\n",
         "m.yml:5:14: input.pad_value: must be from 0 to 255, got 256"},
        {kModel + "input:\n  scale: 0\n", "m.yml:4:10: input.scale: must be a number greater than 0, got 0"},
        {kModel + "input:\n  scale: .nan\n", "m.yml:4:10: input.scale: must be a number greater than 0, got '.nan'"},
        {kModel + "input:\n  std: [1, 0, 1]\n", "m.yml:4:12: input.std[1]: must be a number greater than 0, got 0"},
        {kModel + "input:\n  std: [1, 1e-60, 1]\n",  // positive, but zero as a float
         "m.yml:4:12: input.std[1]: must be a number greater than 0, got 1e-60"},
        {kModel + "input:\n  std: [0.2, 0.2, -0.2]\n",
         "m.yml:4:19: input.std[2]: must be a number greater than 0, got -0.2"},
        {kModel + "output:\n  detector:\n    format: yolov8\n    confidence_threshold: 1.5\n",
         "m.yml:6:27: output.detector.confidence_threshold: must be a number from 0 to 1, got 1.5"},
        {kModel + "output:\n  detector:\n    format: yolov8\n    iou_threshold: -0.1\n",
         "m.yml:6:20: output.detector.iou_threshold: must be a number from 0 to 1, got -0.1"},
        {kModel + "output:\n  detector:\n    format: yolov8\n    max_detections: 0\n",
         "m.yml:6:21: output.detector.max_detections: must be from 1 to 100000, got 0"},
        {kModel + "output:\n  classifier:\n    top_k: 5\n    labels: labels.txt\n",
         "m.yml:5:12: output.classifier.top_k: is 5, more than the 3 classes of the labels file"},
        {kModel + "output:\n  detector:\n    format: ssd\n    background_class: 3\n    labels: labels.txt\n",
         "m.yml:6:23: output.detector.background_class: background class 3 is not one of the 3 classes of the "
         "labels file"},
        {kModel + "output:\n  detector:\n    format: ssd\n    background_class: -2\n",
         "m.yml:6:23: output.detector.background_class: must be at least -1, got -2"},
    });
}

TEST_F(ModelConfigErrors, MeanAndStdNeedOneValuePerChannel) {
    expect_errors({
        {kModel + "input:\n  color: GRAY\n  mean: [0.5, 0.5, 0.5]\n",
         "m.yml:5:9: input.mean: needs 1 value, one per channel of GRAY, got 3"},
        {kModel + "input:\n  std: [0.2, 0.2]\n", "m.yml:4:8: input.std: needs 3 values, one per channel of RGB, got 2"},
        {kModel + "input:\n  color: BGR\n  mean: []\n",
         "m.yml:5:9: input.mean: needs 3 values, one per channel of BGR, got 0"},
    });
}

TEST_F(ModelConfigErrors, MissingFiles) {
    expect_errors(
        {
            {"model:\n  onnx: missing.onnx\n", "m.yml:2:9: model.onnx: no such file: " + shown("missing.onnx")},
            {"model:\n  engine: models/x.engine\n",
             "m.yml:2:11: model.engine: no such file: " + shown("models/x.engine")},
            {kModel + "  plugins: [libp.so, libq.so]\n",
             "m.yml:3:22: model.plugins[1]: no such file: " + shown("libq.so")},
            {kModel + "output:\n  classifier:\n    labels: imagenet.txt\n",
             "m.yml:5:13: output.classifier.labels: no such file: " + shown("imagenet.txt")},
            {kModel + "output:\n  segmentation:\n    labels: voc.txt\n",
             "m.yml:5:13: output.segmentation.labels: no such file: " + shown("voc.txt")},
            {"model:\n  onnx: models\n", "m.yml:2:9: model.onnx: not a regular file: " + shown("models")},
            {"model:\n  onnx: " + dir_.file("none.onnx") + "\n",
             "m.yml:2:9: model.onnx: no such file: '" + dir_.file("none.onnx") + "'"},
        },
        StatusCode::kNotFound);
    expect_errors({
        {kModel + "  engine_cache: libp.so\n", "m.yml:3:17: model.engine_cache: not a folder: " + shown("libp.so")},
        {kModel + "output:\n  detector:\n    format: yolov8\n    labels: empty.txt\n",
         "m.yml:6:13: output.detector.labels: '" + dir_.file("empty.txt") + "' holds no labels (one name per line)"},
    });
}

TEST_F(ModelConfigErrors, KeysMissingOrThatDoNotApply) {
    expect_errors({
        {"input:\n  color: RGB\n",
         "m.yml:1:1: model: missing; name the model with 'onnx: FILE' or 'engine: FILE' in it"},
        {"interval: 2\nmodel:\n  batch: 2\n", "m.yml:2:1: model: needs 'onnx: FILE' or 'engine: FILE'"},
        {kModel + "  engine: e.engine\n", "m.yml:3:3: model.engine: give either 'onnx' or 'engine', not both"},
        {"model:\n  engine: e.engine\n  precision: int8\n",
         "m.yml:3:3: model.precision: applies only when building from 'onnx'; a prebuilt engine has it fixed"},
        {kModel + "  precision: int8\n",
         "m.yml:3:3: model.precision: int8 needs 'calibration_cache: FILE', the activation ranges that 'rtexec build "
         "--int8 --calib DIR --calib-cache FILE' writes"},
        {kModel + "  calibration_cache: labels.txt\n",
         "m.yml:3:3: model.calibration_cache: applies only with 'precision: int8'"},
        {"model:\n  engine: e.engine\n  calibration_cache: labels.txt\n",
         "m.yml:3:3: model.calibration_cache: applies only when building from 'onnx'; a prebuilt engine has it fixed"},
        {kModel + "input:\n  width: 640\n",
         "m.yml:4:3: input.width: give both width and height, or neither for the model's input size"},
        {kModel + "input:\n  pad_value: 0\n", "m.yml:4:3: input.pad_value: applies only with 'resize: letterbox'"},
        {kModel + "output:\n  detector:\n    labels: labels.txt\n",
         "m.yml:4:3: output.detector: needs 'format': one of yolov8, yolov5, ssd, efficient_nms"},
        {kModel + "output:\n  detector:\n    format: efficient_nms\n    iou_threshold: 0.5\n",
         "m.yml:6:5: output.detector.iou_threshold: not used with format efficient_nms: the model's EfficientNMS_TRT "
         "node does the NMS"},
        {kModel + "output:\n  detector:\n    format: yolov8\n    box_order: yxyx\n",
         "m.yml:6:5: output.detector.box_order: applies only to format ssd"},
        {kModel + "output:\n  detector:\n    format: yolov5\n    normalized_boxes: true\n",
         "m.yml:6:5: output.detector.normalized_boxes: applies only to formats ssd and efficient_nms; YOLO boxes are "
         "in input pixels"},
        {kModel + "output:\n  detector:\n    format: ssd\n    tensors: [boxes, scores, extra]\n",
         "m.yml:6:14: output.detector.tensors: format ssd reads 2 tensors (boxes, scores), got 3"},
        {kModel + "output:\n  classifier:\n    top_k: 1\n  raw:\n",
         "m.yml:6:3: output.raw: an output is one of classifier, detector, segmentation or raw, and 'classifier' is "
         "given already"},
    });
}

TEST_F(ModelConfigErrors, NotYaml) {
    expect_errors({
        {"model:\n  onnx: [m.onnx\n", "m.yml:3:1: YAML syntax: end of sequence flow not found"},
        {"model:\n  onnx: m.onnx\n batch: 2\n", "m.yml:3:2: YAML syntax: end of map not found"},
        {"model:\n\tonnx: m.onnx\n", "m.yml:2:1: YAML syntax: a tab in the indentation; YAML indents with spaces"},
        {"model:\n  onnx: m.onnx\n  \t batch: 2\n",
         "m.yml:3:3: YAML syntax: a tab in the indentation; YAML indents with spaces"},
        {"hello world\n", "m.yml:1:1: top level: must be a mapping of keys ('key: value' lines), got 'hello world'"},
        // yaml-cpp 0.7's own document loop never ends on these (it allocates until memory runs out).
        {", model\n", "m.yml:1:1: YAML syntax: unexpected ','"},
        {"\n  ,\n", "m.yml:2:3: YAML syntax: unexpected ','"},
        {"model: " + std::string(3000, '['), "m.yml:1:1: YAML syntax: nested too deeply (500 levels)"},
        {"- model\n- input\n", "m.yml:1:1: top level: must be a mapping of keys ('key: value' lines), got a list"},
        {std::string("model:\n  on\0nx: m.onnx\n", 21),
         "m.yml:2:5: top level: not a YAML text file (it holds a NUL byte)"},
    });
}

TEST_F(ModelConfigErrors, AFileThatIsNotYamlNamesItsPath) {
    // The start of an ONNX file: protobuf bytes, which hold NULs.
    const std::string path = dir_.write("model.onnx.yml", std::string("\x08\x07\x12\x07pytorch\x1a\x00\x3a", 13));
    auto c = load_model_config(path);
    ASSERT_FALSE(c.has_value());
    EXPECT_EQ(c.status().message(), path + ":1:13: top level: not a YAML text file (it holds a NUL byte)");
}

TEST_F(ModelConfigErrors, EmptyFile) {
    const std::string empty = "m.yml:1:1: top level: the file is empty; it needs at least a 'model' section";
    expect_errors({{"", empty}, {"\n  \n", empty}, {"# model:\n#   onnx: m.onnx\n", empty}});
    const std::string path = dir_.write("empty.yml", "");
    auto c = load_model_config(path);
    ASSERT_FALSE(c.has_value());
    EXPECT_EQ(c.status().message(), path + ":1:1: top level: the file is empty; it needs at least a 'model' section");
}

TEST_F(ModelConfigErrors, OneDocumentPerFile) {
    expect_errors({
        {kModel + "---\n" + kModel, "m.yml:3:1: top level: a second YAML document starts here; a model.yml holds one"},
    });
}

TEST_F(ModelConfigErrors, NoNameGivenReadsAsModelYml) {
    auto c = parse_model_config("model:\n  batch: 2\n", "", dir_.path());
    ASSERT_FALSE(c.has_value());
    EXPECT_EQ(c.status().message(), "<model.yml>:1:1: model: needs 'onnx: FILE' or 'engine: FILE'");
}
