// The metadata output format: one JSON object per frame and line, for rtmetasink and applications:
//   {"stream":0,"frame":12,"pts_ns":400000000,"width":1920,"height":1080,
//    "objects":[{"class_id":2,"label":"car","confidence":0.91,"box":[x1,y1,x2,y2]}],
//    "classes":[{"class_id":7,"label":"cat","score":0.88}]}
// Boxes are frame pixels. Keys are always present ("objects"/"classes" may be empty lists); strings are
// escaped as JSON requires; numbers are finite (a NaN or infinity is written as null).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipelines/decode/decode.h"

namespace rtinfer::pipelines {

struct FrameResults {
    int stream = 0;
    int64_t frame = 0;
    int64_t pts_ns = -1;  // -1: none
    int width = 0;
    int height = 0;
    std::vector<Detection> objects;
    std::vector<Classification> classes;
};

// One line, without the trailing newline.
std::string to_json_line(const FrameResults& results);

// `text` as a JSON string literal, quotes included.
std::string json_string(const std::string& text);

}  // namespace rtinfer::pipelines
