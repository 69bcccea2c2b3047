#include "pipelines/decode/decode.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace rtinfer::pipelines {

int64_t TensorView::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

namespace {

std::string shape_text(const std::vector<int64_t>& s) {
    std::string t = "[";
    for (size_t i = 0; i < s.size(); ++i) t += (i ? "," : "") + std::to_string(s[i]);
    return t + "]";
}

Status bad_shape(const std::string& what, const TensorView& t, const std::string& want) {
    return Status(StatusCode::kInvalidArgument,
                  what + ": output of shape " + shape_text(t.shape) + ", expected " + want);
}

std::string label_of(const config::Labels& labels, int id) {
    return id >= 0 && static_cast<size_t>(id) < labels.names.size() ? labels.names[static_cast<size_t>(id)] : "";
}

float iou(const Detection& a, const Detection& b) {
    const float iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1), ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
    if (iw <= 0 || ih <= 0) return 0.0f;
    const float inter = iw * ih;
    const float uni = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
    return uni > 0 ? inter / uni : 0.0f;
}

// A detection from a box in input pixels (or normalized) and a class.
Detection make(const config::DetectorOutput& out, float x1, float y1, float x2, float y2, int class_id, float conf,
               int input_width, int input_height) {
    if (out.normalized_boxes) {
        x1 *= input_width, x2 *= input_width;
        y1 *= input_height, y2 *= input_height;
    }
    Detection d;
    d.class_id = class_id;
    d.confidence = conf;
    d.x1 = std::min(x1, x2), d.x2 = std::max(x1, x2);
    d.y1 = std::min(y1, y2), d.y2 = std::max(y1, y2);
    return d;
}

}  // namespace

Expected<std::vector<Classification>> decode_classifier(const config::ClassifierOutput& out, const TensorView& scores) {
    const int64_t n = scores.numel();
    if (n <= 0 || !scores.data) return bad_shape("classifier", scores, "one score per class");
    std::vector<float> s(scores.data, scores.data + n);
    if (out.softmax) {
        const float top = *std::max_element(s.begin(), s.end());
        double sum = 0.0;
        for (float& v : s) sum += (v = std::exp(v - top));
        for (float& v : s) v = static_cast<float>(v / sum);
    }
    std::vector<int> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    const size_t k = std::min<size_t>(static_cast<size_t>(out.top_k), order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<long>(k), order.end(),
                      [&](int a, int b) { return s[a] > s[b] || (s[a] == s[b] && a < b); });
    std::vector<Classification> result;
    for (size_t i = 0; i < k; ++i) {
        const int c = order[i];
        if (s[c] < out.threshold) break;
        result.push_back({c, s[c], label_of(out.labels, c)});
    }
    return result;
}

std::vector<Detection> non_max_suppression(std::vector<Detection> sorted, float iou_threshold, bool class_agnostic,
                                           int max_detections) {
    std::vector<Detection> kept;
    for (const Detection& d : sorted) {
        if (static_cast<int>(kept.size()) >= max_detections) break;
        bool suppressed = false;
        for (const Detection& k : kept) {
            if ((class_agnostic || k.class_id == d.class_id) && iou(k, d) > iou_threshold) {
                suppressed = true;
                break;
            }
        }
        if (!suppressed) kept.push_back(d);
    }
    return kept;
}

Expected<std::vector<Detection>> decode_detections(const config::DetectorOutput& out,
                                                   const std::vector<TensorView>& tensors, int input_width,
                                                   int input_height, const Placement& placement, int frame_width,
                                                   int frame_height) {
    const char* format = config::detector_format_name(out.format);
    const size_t want = static_cast<size_t>(config::DetectorOutput::tensor_count(out.format));
    if (tensors.size() != want) {
        return Status(StatusCode::kInvalidArgument, std::string("detector (") + format +
                                                        "): " + std::to_string(tensors.size()) +
                                                        " output tensors, the format takes " + std::to_string(want));
    }
    std::vector<Detection> found;
    bool nms = true;
    switch (out.format) {
        case config::DetectorFormat::kYolov8: {
            const TensorView& t = tensors[0];
            if (t.shape.size() != 2 || t.shape[0] < 5)
                return bad_shape("detector (yolov8)", t, "[4 + classes, anchors]");
            const int64_t classes = t.shape[0] - 4, anchors = t.shape[1];
            for (int64_t a = 0; a < anchors; ++a) {
                int best = 0;
                for (int64_t c = 1; c < classes; ++c) {
                    if (t.data[(4 + c) * anchors + a] > t.data[(4 + best) * anchors + a]) best = static_cast<int>(c);
                }
                const float conf = t.data[(4 + best) * anchors + a];
                if (conf < out.confidence_threshold || best == out.background_class) continue;
                const float cx = t.data[a], cy = t.data[anchors + a], w = t.data[2 * anchors + a],
                            h = t.data[3 * anchors + a];
                found.push_back(
                    make(out, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, best, conf, input_width, input_height));
            }
            break;
        }
        case config::DetectorFormat::kYolov5: {
            const TensorView& t = tensors[0];
            if (t.shape.size() != 2 || t.shape[1] < 6)
                return bad_shape("detector (yolov5)", t, "[anchors, 5 + classes]");
            const int64_t stride = t.shape[1], classes = stride - 5;
            for (int64_t a = 0; a < t.shape[0]; ++a) {
                const float* row = t.data + a * stride;
                int best = 0;
                for (int64_t c = 1; c < classes; ++c) {
                    if (row[5 + c] > row[5 + best]) best = static_cast<int>(c);
                }
                const float conf = row[4] * row[5 + best];
                if (conf < out.confidence_threshold || best == out.background_class) continue;
                found.push_back(make(out, row[0] - row[2] / 2, row[1] - row[3] / 2, row[0] + row[2] / 2,
                                     row[1] + row[3] / 2, best, conf, input_width, input_height));
            }
            break;
        }
        case config::DetectorFormat::kSsd: {
            const TensorView& b = tensors[0];
            const TensorView& s = tensors[1];
            if (b.shape.size() != 2 || b.shape[1] != 4) return bad_shape("detector (ssd) boxes", b, "[anchors, 4]");
            if (s.shape.size() != 2 || s.shape[0] != b.shape[0]) {
                return bad_shape("detector (ssd) scores", s, "[" + std::to_string(b.shape[0]) + ", classes]");
            }
            const bool yx = out.box_order == config::BoxOrder::kYxyx;
            for (int64_t a = 0; a < b.shape[0]; ++a) {
                const float* box = b.data + a * 4;
                for (int64_t c = 0; c < s.shape[1]; ++c) {
                    const float conf = s.data[a * s.shape[1] + c];
                    if (conf < out.confidence_threshold || c == out.background_class) continue;
                    found.push_back(yx ? make(out, box[1], box[0], box[3], box[2], static_cast<int>(c), conf,
                                              input_width, input_height)
                                       : make(out, box[0], box[1], box[2], box[3], static_cast<int>(c), conf,
                                              input_width, input_height));
                }
            }
            break;
        }
        case config::DetectorFormat::kEfficientNms: {
            const TensorView &num = tensors[0], &b = tensors[1], &s = tensors[2], &c = tensors[3];
            const int64_t k = s.numel();
            if (num.numel() != 1) return bad_shape("detector (efficient_nms) num_detections", num, "[1]");
            if (b.numel() != 4 * k || c.numel() != k) {
                return bad_shape("detector (efficient_nms) boxes", b,
                                 "[" + std::to_string(k) + ", 4] beside its scores");
            }
            const int64_t n = std::min<int64_t>(k, static_cast<int64_t>(num.data[0]));
            for (int64_t i = 0; i < n; ++i) {
                const int cls = static_cast<int>(std::lround(c.data[i]));
                if (s.data[i] < out.confidence_threshold || cls == out.background_class) continue;
                found.push_back(make(out, b.data[4 * i], b.data[4 * i + 1], b.data[4 * i + 2], b.data[4 * i + 3], cls,
                                     s.data[i], input_width, input_height));
            }
            nms = false;
            break;
        }
    }
    std::stable_sort(found.begin(), found.end(),
                     [](const Detection& a, const Detection& b) { return a.confidence > b.confidence; });
    if (nms) {
        found = non_max_suppression(std::move(found), out.iou_threshold, out.class_agnostic, out.max_detections);
    } else if (static_cast<int>(found.size()) > out.max_detections) {
        found.resize(static_cast<size_t>(out.max_detections));
    }
    const float fw = static_cast<float>(frame_width), fh = static_cast<float>(frame_height);
    for (Detection& d : found) {
        d.x1 = std::clamp(placement.to_frame_x(d.x1), 0.0f, fw);
        d.x2 = std::clamp(placement.to_frame_x(d.x2), 0.0f, fw);
        d.y1 = std::clamp(placement.to_frame_y(d.y1), 0.0f, fh);
        d.y2 = std::clamp(placement.to_frame_y(d.y2), 0.0f, fh);
        d.label = label_of(out.labels, d.class_id);
    }
    return found;
}

Expected<std::vector<int32_t>> decode_segmentation(const TensorView& logits) {
    if (logits.shape.size() != 3 || logits.shape[0] < 1 || !logits.data) {
        return bad_shape("segmentation", logits, "[classes, height, width]");
    }
    const int64_t classes = logits.shape[0], plane = logits.shape[1] * logits.shape[2];
    std::vector<int32_t> mask(static_cast<size_t>(plane), 0);
    for (int64_t i = 0; i < plane; ++i) {
        int32_t best = 0;
        for (int64_t c = 1; c < classes; ++c) {
            if (logits.data[c * plane + i] > logits.data[best * plane + i]) best = static_cast<int32_t>(c);
        }
        mask[static_cast<size_t>(i)] = best;
    }
    return mask;
}

}  // namespace rtinfer::pipelines
