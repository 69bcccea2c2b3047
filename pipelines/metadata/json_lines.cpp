#include "pipelines/metadata/json_lines.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace rtinfer::pipelines {

namespace {

// The shortest text that reads back as the same float: fixed notation for ordinary magnitudes, the
// exponent form for tiny or huge ones; null for NaN and infinities (JSON has no such numbers).
std::string number(float v) {
    if (!std::isfinite(v)) return "null";
    char buf[64];
    const float mag = std::fabs(v);
    const bool fixed = mag == 0.0f || (mag >= 1e-4f && mag < 1e15f);
    for (int digits = fixed ? 0 : 1; digits <= 16; ++digits) {
        std::snprintf(buf, sizeof(buf), fixed ? "%.*f" : "%.*g", digits, static_cast<double>(v));
        if (std::strtof(buf, nullptr) == v) return buf;
    }
    std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(v));
    return buf;
}

}  // namespace

std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof(buf), "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out + "\"";
}

std::string to_json_line(const FrameResults& r) {
    std::string s = "{\"stream\":" + std::to_string(r.stream) + ",\"frame\":" + std::to_string(r.frame) +
                    ",\"pts_ns\":" + (r.pts_ns >= 0 ? std::to_string(r.pts_ns) : std::string("null")) +
                    ",\"width\":" + std::to_string(r.width) + ",\"height\":" + std::to_string(r.height) +
                    ",\"objects\":[";
    for (size_t i = 0; i < r.objects.size(); ++i) {
        const Detection& d = r.objects[i];
        s += (i ? ",{" : "{") + std::string("\"class_id\":") + std::to_string(d.class_id) +
             ",\"label\":" + json_string(d.label) + ",\"confidence\":" + number(d.confidence) + ",\"box\":[" +
             number(d.x1) + "," + number(d.y1) + "," + number(d.x2) + "," + number(d.y2) + "]}";
    }
    s += "],\"classes\":[";
    for (size_t i = 0; i < r.classes.size(); ++i) {
        const Classification& c = r.classes[i];
        s += (i ? ",{" : "{") + std::string("\"class_id\":") + std::to_string(c.class_id) +
             ",\"label\":" + json_string(c.label) + ",\"score\":" + number(c.score) + "}";
    }
    return s + "]}";
}

}  // namespace rtinfer::pipelines
