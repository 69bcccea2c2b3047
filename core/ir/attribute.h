// Node attributes, as ONNX has them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/ir/tensor.h"

namespace rtinfer::ir {

class Graph;

struct Attribute {
    enum class Kind { kInt, kFloat, kString, kInts, kFloats, kStrings, kTensor, kGraph };
    Kind kind = Kind::kInt;
    int64_t i = 0;
    float f = 0.0f;
    std::string s;
    std::vector<int64_t> ints;
    std::vector<float> floats;
    std::vector<std::string> strings;
    Tensor t;
    std::shared_ptr<Graph> g;
};

inline Attribute int_attribute(int64_t v) {
    Attribute a;
    a.kind = Attribute::Kind::kInt;
    a.i = v;
    return a;
}

inline Attribute ints_attribute(std::vector<int64_t> v) {
    Attribute a;
    a.kind = Attribute::Kind::kInts;
    a.ints = std::move(v);
    return a;
}

inline Attribute float_attribute(float v) {
    Attribute a;
    a.kind = Attribute::Kind::kFloat;
    a.f = v;
    return a;
}

inline Attribute floats_attribute(std::vector<float> v) {
    Attribute a;
    a.kind = Attribute::Kind::kFloats;
    a.floats = std::move(v);
    return a;
}

}  // namespace rtinfer::ir
