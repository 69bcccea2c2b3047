#include "pipelines/config/model_config.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <new>
#include <sstream>
#include <system_error>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include "pipelines/config/yaml_section.h"

namespace fs = std::filesystem;

namespace rtinfer::config {
namespace {

// Both are far above any real file; the bounds keep a wrong path (a video, a model) from being read whole.
constexpr size_t kMaxConfigBytes = 1 << 20;
constexpr size_t kMaxLabelsBytes = 16 << 20;
constexpr int kMaxImageSide = 16384;
constexpr int kMaxBatch = 1024;
constexpr int kMaxCount = 100000;  // top_k, max_detections

const std::vector<std::string> kTopKeys = {"model", "input", "output", "interval"};
const std::vector<std::string> kModelKeys = {"onnx",         "engine",  "precision", "batch",
                                             "engine_cache", "plugins", "backend",   "calibration_cache"};
const std::vector<std::string> kInputKeys = {"tensor",    "color", "width", "height", "resize",
                                             "pad_value", "scale", "mean",  "std",    "layout"};
const std::vector<std::string> kOutputKeys = {"classifier", "detector", "segmentation", "raw"};
const std::vector<std::string> kClassifierKeys = {"tensor", "top_k", "threshold", "softmax", "labels"};
const std::vector<std::string> kDetectorKeys = {
    "format",         "tensors",   "confidence_threshold", "iou_threshold",    "max_detections",
    "class_agnostic", "box_order", "normalized_boxes",     "background_class", "labels"};
const std::vector<std::string> kSegmentationKeys = {"tensor", "labels"};
const std::vector<std::string> kRawKeys = {"tensors"};

const std::vector<SchemaSection>& schema() {
    static const std::vector<SchemaSection> sections = {
        {"", kTopKeys},
        {"model", kModelKeys},
        {"input", kInputKeys},
        {"output", kOutputKeys},
        {"output.classifier", kClassifierKeys},
        {"output.detector", kDetectorKeys},
        {"output.segmentation", kSegmentationKeys},
        {"output.raw", kRawKeys},
    };
    return sections;
}

// Spellings in enum order.
const std::vector<std::string> kPrecisionNames = {"fp32", "fp16", "int8"};
const std::vector<std::string> kColorNames = {"RGB", "BGR", "GRAY"};
const std::vector<std::string> kResizeNames = {"stretch", "letterbox"};
const std::vector<std::string> kLayoutNames = {"NCHW", "NHWC"};
const std::vector<std::string> kTaskNames = {"raw", "classifier", "detector", "segmentation"};
const std::vector<std::string> kFormatNames = {"yolov8", "yolov5", "ssd", "efficient_nms"};
const std::vector<std::string> kBoxOrderNames = {"xyxy", "yxyx"};
const std::vector<std::string> kBackendNames = {"auto", "cuda", "cpu", "gpu"};  // gpu: another name for cuda

const char* name_of(const std::vector<std::string>& names, int index) {
    return index >= 0 && index < static_cast<int>(names.size()) ? names[index].c_str() : "unknown";
}

// Reads a choice key into an enum whose values are the indices of `names`.
template <class Enum>
Status read_enum(const Section& s, const std::string& key, const std::vector<std::string>& names, Enum* out) {
    int index = static_cast<int>(*out);
    RT_RETURN_IF_ERROR(s.read_choice(key, names, &index));
    *out = static_cast<Enum>(index);
    return Status::ok();
}

// A key that must not be given in this combination: the error points at the key.
Status refuse(const Section& s, const std::string& key, const std::string& why) {
    return s.has(key) ? s.key_error(key, why) : Status::ok();
}

Status read_labels(const Section& s, Labels* out) {
    RT_RETURN_IF_ERROR(s.read_path("labels", PathKind::kFile, &out->path));
    if (out->path.empty()) return Status::ok();
    std::error_code ec;
    const auto size = fs::file_size(out->path, ec);
    if (!ec && size > kMaxLabelsBytes) {
        return s.error("labels", "'" + out->path + "' is " + std::to_string(size) +
                                     " bytes; a labels file is at most " + std::to_string(kMaxLabelsBytes >> 20) +
                                     " MiB");
    }
    std::ifstream file(out->path, std::ios::binary);
    if (!file) return s.error("labels", "cannot read '" + out->path + "'", StatusCode::kIoError);
    std::string line;
    while (std::getline(file, line)) {
        if (out->names.empty() && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
        out->names.push_back(line);
    }
    // A blank line inside the file keeps its index (a class without a name); blank lines at the end are not
    // classes.
    while (!out->names.empty() && out->names.back().empty()) out->names.pop_back();
    if (out->names.empty()) return s.error("labels", "'" + out->path + "' holds no labels (one name per line)");
    return Status::ok();
}

Status read_model(const Section& top, ModelSection* m) {
    RT_ASSIGN_OR_RETURN(const Section s, top.section("model", kModelKeys));
    if (!top.has("model")) return s.error_here("missing; name the model with 'onnx: FILE' or 'engine: FILE' in it");
    if (!s.has("onnx") && !s.has("engine")) return s.error_here("needs 'onnx: FILE' or 'engine: FILE'");
    if (s.has("onnx") && s.has("engine")) return s.key_error("engine", "give either 'onnx' or 'engine', not both");
    RT_RETURN_IF_ERROR(s.read_path("onnx", PathKind::kFile, &m->onnx));
    RT_RETURN_IF_ERROR(s.read_path("engine", PathKind::kFile, &m->engine));
    if (!m->engine.empty()) {
        const std::string why = "applies only when building from 'onnx'; a prebuilt engine has it fixed";
        RT_RETURN_IF_ERROR(refuse(s, "precision", why));
        RT_RETURN_IF_ERROR(refuse(s, "engine_cache", why));
        RT_RETURN_IF_ERROR(refuse(s, "calibration_cache", why));
    }
    RT_RETURN_IF_ERROR(read_enum(s, "precision", kPrecisionNames, &m->precision));
    // INT8 takes its activation ranges from a calibration cache made beforehand (rtexec build --int8 --calib DIR
    // --calib-cache FILE), as DeepStream takes an int8-calib-file: a pipeline never calibrates at start-up.
    RT_RETURN_IF_ERROR(s.read_path("calibration_cache", PathKind::kFile, &m->calibration_cache));
    if (m->precision == Precision::kInt8 && !m->onnx.empty() && m->calibration_cache.empty() && s.has("precision")) {
        return s.key_error("precision", "int8 needs 'calibration_cache: FILE', the activation ranges that "
                                        "'rtexec build --int8 --calib DIR --calib-cache FILE' writes");
    }
    if (m->precision != Precision::kInt8 && s.has("calibration_cache"))
        RT_RETURN_IF_ERROR(refuse(s, "calibration_cache", "applies only with 'precision: int8'"));
    RT_RETURN_IF_ERROR(s.read_int("batch", 1, kMaxBatch, &m->batch));
    if (!m->onnx.empty()) {
        const std::string folder = fs::path(m->onnx).parent_path().string();
        m->engine_cache = folder.empty() ? "." : folder;
    }
    RT_RETURN_IF_ERROR(s.read_path("engine_cache", PathKind::kDirectory, &m->engine_cache));
    RT_RETURN_IF_ERROR(s.read_path_list("plugins", &m->plugins));
    int backend = 0;
    RT_RETURN_IF_ERROR(s.read_choice("backend", kBackendNames, &backend));
    if (backend == 1 || backend == 3) m->backend = Backend::kCuda;
    if (backend == 2) m->backend = Backend::kCpu;
    return Status::ok();
}

// mean or std: one value per channel of the colour order.
Status read_channel_values(const Section& s, const std::string& key, FloatBound bound, const InputSection& in,
                           std::vector<float>* out) {
    RT_RETURN_IF_ERROR(s.read_float_list(key, bound, out));
    if (static_cast<int>(out->size()) == in.channels()) return Status::ok();
    return s.error(key, "needs " + std::to_string(in.channels()) + (in.channels() == 1 ? " value" : " values") +
                            ", one per channel of " + color_order_name(in.color) + ", got " +
                            std::to_string(out->size()));
}

Status read_input(const Section& top, InputSection* in) {
    RT_ASSIGN_OR_RETURN(const Section s, top.section("input", kInputKeys));
    RT_RETURN_IF_ERROR(s.read_string("tensor", &in->tensor));
    RT_RETURN_IF_ERROR(read_enum(s, "color", kColorNames, &in->color));
    RT_RETURN_IF_ERROR(s.read_int("width", 1, kMaxImageSide, &in->width));
    RT_RETURN_IF_ERROR(s.read_int("height", 1, kMaxImageSide, &in->height));
    if (s.has("width") != s.has("height")) {
        return s.key_error(s.has("width") ? "width" : "height",
                           "give both width and height, or neither for the model's input size");
    }
    RT_RETURN_IF_ERROR(read_enum(s, "resize", kResizeNames, &in->resize));
    if (in->resize != ResizeMode::kLetterbox)
        RT_RETURN_IF_ERROR(refuse(s, "pad_value", "applies only with 'resize: letterbox'"));
    RT_RETURN_IF_ERROR(s.read_int("pad_value", 0, 255, &in->pad_value));
    RT_RETURN_IF_ERROR(s.read_float("scale", FloatBound::kPositive, &in->scale));
    in->mean.assign(in->channels(), 0.0f);
    in->std.assign(in->channels(), 1.0f);
    RT_RETURN_IF_ERROR(read_channel_values(s, "mean", FloatBound::kFinite, *in, &in->mean));
    RT_RETURN_IF_ERROR(read_channel_values(s, "std", FloatBound::kPositive, *in, &in->std));
    return read_enum(s, "layout", kLayoutNames, &in->layout);
}

Status read_classifier(const Section& s, ClassifierOutput* c) {
    RT_RETURN_IF_ERROR(s.read_string("tensor", &c->tensor));
    RT_RETURN_IF_ERROR(s.read_int("top_k", 1, kMaxCount, &c->top_k));
    RT_RETURN_IF_ERROR(s.read_float("threshold", FloatBound::kFraction, &c->threshold));
    RT_RETURN_IF_ERROR(s.read_bool("softmax", &c->softmax));
    RT_RETURN_IF_ERROR(read_labels(s, &c->labels));
    if (!c->labels.names.empty() && c->top_k > static_cast<int>(c->labels.names.size())) {
        return s.error("top_k", "is " + std::to_string(c->top_k) + ", more than the " +
                                    std::to_string(c->labels.names.size()) + " classes of the labels file");
    }
    return Status::ok();
}

Status read_detector(const Section& s, DetectorOutput* d) {
    if (!s.has("format")) return s.error_here("needs 'format': one of yolov8, yolov5, ssd, efficient_nms");
    RT_RETURN_IF_ERROR(read_enum(s, "format", kFormatNames, &d->format));
    const bool ssd = d->format == DetectorFormat::kSsd;
    if (d->format == DetectorFormat::kEfficientNms) {
        const std::string why = "not used with format efficient_nms: the model's EfficientNMS_TRT node does the NMS";
        RT_RETURN_IF_ERROR(refuse(s, "iou_threshold", why));
        RT_RETURN_IF_ERROR(refuse(s, "class_agnostic", why));
    }
    if (!ssd) {
        RT_RETURN_IF_ERROR(refuse(s, "box_order", "applies only to format ssd"));
        RT_RETURN_IF_ERROR(refuse(s, "background_class", "applies only to format ssd"));
    }
    if (d->format == DetectorFormat::kYolov8 || d->format == DetectorFormat::kYolov5) {
        RT_RETURN_IF_ERROR(refuse(s, "normalized_boxes",
                                  "applies only to formats ssd and efficient_nms; YOLO boxes are in input pixels"));
    }
    d->normalized_boxes = ssd;
    d->background_class = ssd ? 0 : -1;

    RT_RETURN_IF_ERROR(s.read_string_list("tensors", &d->tensors));
    const int expected = DetectorOutput::tensor_count(d->format);
    if (s.has("tensors") && static_cast<int>(d->tensors.size()) != expected) {
        static const char* const kOrder[] = {"(output)", "(output)", "(boxes, scores)",
                                             "(num_detections, boxes, scores, classes)"};
        return s.error("tensors", "format " + std::string(detector_format_name(d->format)) + " reads " +
                                      std::to_string(expected) + (expected == 1 ? " tensor " : " tensors ") +
                                      kOrder[static_cast<int>(d->format)] + ", got " +
                                      std::to_string(d->tensors.size()));
    }
    RT_RETURN_IF_ERROR(s.read_float("confidence_threshold", FloatBound::kFraction, &d->confidence_threshold));
    RT_RETURN_IF_ERROR(s.read_float("iou_threshold", FloatBound::kFraction, &d->iou_threshold));
    RT_RETURN_IF_ERROR(s.read_int("max_detections", 1, kMaxCount, &d->max_detections));
    RT_RETURN_IF_ERROR(s.read_bool("class_agnostic", &d->class_agnostic));
    RT_RETURN_IF_ERROR(read_enum(s, "box_order", kBoxOrderNames, &d->box_order));
    RT_RETURN_IF_ERROR(s.read_bool("normalized_boxes", &d->normalized_boxes));
    RT_RETURN_IF_ERROR(s.read_int("background_class", -1, INT32_MAX, &d->background_class));
    RT_RETURN_IF_ERROR(read_labels(s, &d->labels));
    if (!d->labels.names.empty() && d->background_class >= static_cast<int>(d->labels.names.size())) {
        return s.error("background_class", "background class " + std::to_string(d->background_class) +
                                               " is not one of the " + std::to_string(d->labels.names.size()) +
                                               " classes of the labels file");
    }
    return Status::ok();
}

Status read_output(const Section& top, OutputSection* out) {
    RT_ASSIGN_OR_RETURN(const Section s, top.section("output", kOutputKeys));
    const std::vector<std::string> present = s.present_keys();
    if (present.empty()) return Status::ok();  // tensors only
    if (present.size() > 1) {
        return s.key_error(present[1], "an output is one of classifier, detector, segmentation or raw, and '" +
                                           present[0] + "' is given already");
    }
    const std::string& task = present[0];
    if (task == "classifier") {
        out->task = Task::kClassifier;
        RT_ASSIGN_OR_RETURN(const Section c, s.section(task, kClassifierKeys));
        return read_classifier(c, &out->classifier);
    }
    if (task == "detector") {
        out->task = Task::kDetector;
        RT_ASSIGN_OR_RETURN(const Section d, s.section(task, kDetectorKeys));
        return read_detector(d, &out->detector);
    }
    if (task == "segmentation") {
        out->task = Task::kSegmentation;
        RT_ASSIGN_OR_RETURN(const Section g, s.section(task, kSegmentationKeys));
        RT_RETURN_IF_ERROR(g.read_string("tensor", &out->segmentation.tensor));
        return read_labels(g, &out->segmentation.labels);
    }
    out->task = Task::kRaw;
    RT_ASSIGN_OR_RETURN(const Section r, s.section(task, kRawKeys));
    return r.read_string_list("tensors", &out->raw.tensors);
}

// The 0-based line and column of byte `pos` of `text`.
YAML::Mark mark_of(const std::string& text, size_t pos) {
    YAML::Mark mark;
    for (size_t i = 0; i < pos; ++i) {
        if (text[i] == '\n') {
            ++mark.line;
            mark.column = 0;
        } else {
            ++mark.column;
        }
    }
    return mark;
}

// Where each YAML document of a stream starts; nothing else is kept.
class DocumentStarts : public YAML::EventHandler {
public:
    std::vector<YAML::Mark> starts;

    void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

// yaml-cpp 0.7's LoadAll loops forever, allocating, on a token that no rule consumes (a ',' outside a flow
// list: jbeder/yaml-cpp#1040, fixed after 0.8.0). So the documents are counted here in a bounded loop
// over the parser's events, a document that starts where the previous one did is that stuck token, and
// only then is the one document built (YAML::Load reads a single document). Throws YAML::Exception.
Status check_one_document(const std::string& text, const Source& source) {
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    DocumentStarts docs;
    while (docs.starts.size() < 3 && parser.HandleNextDocument(docs)) {
        const size_t n = docs.starts.size();
        if (n >= 2 && docs.starts[n - 1].pos == docs.starts[n - 2].pos) {
            const YAML::Mark& at = docs.starts[n - 1];
            const char c = at.pos >= 0 && static_cast<size_t>(at.pos) < text.size() ? text[at.pos] : '?';
            return error_at(source, at, "YAML syntax", std::string("unexpected '") + c + "'");
        }
    }
    if (docs.starts.size() < 2) return Status::ok();
    return error_at(source, docs.starts[1], "", "a second YAML document starts here; a model.yml holds one");
}

// The position of the first tab in the indentation of lines up to `last_line` (0-based), or npos. yaml-cpp
// reports such a tab as an unrelated error somewhere after it.
size_t indentation_tab(const std::string& text, int last_line) {
    int line = 0;
    bool indent = true;
    for (size_t i = 0; i < text.size() && line <= last_line; ++i) {
        if (text[i] == '\n') {
            ++line;
            indent = true;
        } else if (indent && text[i] == '\t') {
            return i;
        } else if (text[i] != ' ') {
            indent = false;
        }
    }
    return std::string::npos;
}

Expected<ModelConfig> parse(const std::string& text, const Source& source) {
    if (text.size() > kMaxConfigBytes) {
        return error_at(source, YAML::Mark(), "",
                        "the file is " + std::to_string(text.size()) + " bytes; a model.yml is at most 1 MiB");
    }
    const size_t nul = text.find('\0');
    if (nul != std::string::npos)
        return error_at(source, mark_of(text, nul), "", "not a YAML text file (it holds a NUL byte)");
    YAML::Node doc;
    try {
        RT_RETURN_IF_ERROR(check_one_document(text, source));
        doc = YAML::Load(text);
    } catch (const YAML::DeepRecursion& e) {
        // yaml-cpp 0.7 gives this one the message "bad file".
        return error_at(source, e.mark, "YAML syntax",
                        "nested too deeply (" + std::to_string(e.depth()) + " levels)");
    } catch (const YAML::Exception& e) {
        const size_t tab = indentation_tab(text, e.mark.line);
        if (tab != std::string::npos)
            return error_at(source, mark_of(text, tab), "YAML syntax",
                            "a tab in the indentation; YAML indents with spaces");
        return error_at(source, e.mark, "YAML syntax", e.msg);
    }
    if (doc.IsNull())
        return error_at(source, YAML::Mark(), "", "the file is empty; it needs at least a 'model' section");

    ModelConfig config;
    config.source = source.name;
    RT_ASSIGN_OR_RETURN(const Section top, Section::open(source, doc, doc.Mark(), "", kTopKeys));
    RT_RETURN_IF_ERROR(read_model(top, &config.model));
    RT_RETURN_IF_ERROR(read_input(top, &config.input));
    RT_RETURN_IF_ERROR(read_output(top, &config.output));
    RT_RETURN_IF_ERROR(top.read_int("interval", 1, INT32_MAX, &config.interval));
    return config;
}

}  // namespace

const char* precision_name(Precision precision) { return name_of(kPrecisionNames, static_cast<int>(precision)); }
const char* color_order_name(ColorOrder color) { return name_of(kColorNames, static_cast<int>(color)); }
const char* resize_mode_name(ResizeMode resize) { return name_of(kResizeNames, static_cast<int>(resize)); }
const char* layout_name(Layout layout) { return name_of(kLayoutNames, static_cast<int>(layout)); }
const char* task_name(Task task) { return name_of(kTaskNames, static_cast<int>(task)); }
const char* detector_format_name(DetectorFormat format) { return name_of(kFormatNames, static_cast<int>(format)); }
const char* box_order_name(BoxOrder order) { return name_of(kBoxOrderNames, static_cast<int>(order)); }

int DetectorOutput::tensor_count(DetectorFormat format) {
    switch (format) {
        case DetectorFormat::kYolov8:
        case DetectorFormat::kYolov5: return 1;
        case DetectorFormat::kSsd: return 2;
        case DetectorFormat::kEfficientNms: return 4;
    }
    return 0;
}

Expected<ModelConfig> parse_model_config(const std::string& text, const std::string& name,
                                         const std::string& base_dir) {
    const Source source{name.empty() ? "<model.yml>" : name, base_dir, &schema()};
    // yaml-cpp reports errors by throwing; none may cross this API.
    try {
        return parse(text, source);
    } catch (const std::bad_alloc&) {
        return make_error(StatusCode::kOutOfMemory, source.name + ": out of memory while reading");
    } catch (const std::exception& e) {
        return make_error(StatusCode::kInvalidArgument, source.name + ": " + e.what());
    }
}

Expected<ModelConfig> load_model_config(const std::string& path) {
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (!fs::exists(st)) return make_error(StatusCode::kNotFound, path + ": no such file");
    if (!fs::is_regular_file(st)) return make_error(StatusCode::kInvalidArgument, path + ": not a regular file");
    const auto size = fs::file_size(path, ec);
    if (!ec && size > kMaxConfigBytes) {
        return make_error(StatusCode::kInvalidArgument,
                          path + ": the file is " + std::to_string(size) + " bytes; a model.yml is at most 1 MiB");
    }
    std::ifstream file(path, std::ios::binary);
    std::string text;
    if (file) text.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    if (!file && !file.eof()) {
        return make_error(StatusCode::kIoError, path + ": cannot read: " + std::strerror(errno));
    }
    return parse_model_config(text, path, fs::path(path).parent_path().string());
}

}  // namespace rtinfer::config
