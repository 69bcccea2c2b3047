// An ONNX model of attention as torch exports scaled_dot_product_attention with a dynamic batch: q, k, v
// [N, heads, seq, head_dim] -> y. Q and K^T are each multiplied by sqrt(1 / sqrt(head_dim)), which the graph
// computes from Shape(q) at run time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/unit/plugin_test_util.h"

namespace rtinfer::testing {

inline OnnxMaker sdpa_model(int64_t heads, int64_t seq, int64_t head_dim) {
    OnnxMaker m;
    for (const char* name : {"q", "k", "v"}) m.input(name, {-1, heads, seq, head_dim});
    m.output("y", {-1, heads, seq, head_dim});
    auto init = [&](const std::string& name, int type, int64_t value) {
        auto* t = m.g().add_initializer();
        t->set_name(name);
        t->set_data_type(type);
        t->add_dims(1);
        if (type == ::onnx::TensorProto::FLOAT) {
            t->add_float_data(static_cast<float>(value));
        } else {
            t->add_int64_data(value);
        }
    };
    init("minus1", ::onnx::TensorProto::INT64, -1);
    init("big", ::onnx::TensorProto::INT64, INT64_MAX);
    init("one", ::onnx::TensorProto::FLOAT, 1);
    m.node("Shape", {"q"}, {"shape"}, "shape");
    m.node("Slice", {"shape", "minus1", "big"}, {"dim"}, "slice");
    OnnxMaker::attr_int(m.node("Cast", {"dim"}, {"dim_f"}, "cast"), "to", ::onnx::TensorProto::FLOAT);
    m.node("Sqrt", {"dim_f"}, {"root"}, "sqrt");
    m.node("Div", {"one", "root"}, {"scale"}, "div");
    m.node("Sqrt", {"scale"}, {"scale_q"}, "sqrt_q");
    m.node("Sqrt", {"scale"}, {"scale_k"}, "sqrt_k");
    OnnxMaker::attr_ints(m.node("Transpose", {"k"}, {"kt"}, "kt"), "perm", {0, 1, 3, 2});
    m.node("Mul", {"q", "scale_q"}, {"qs"}, "mul_q");
    m.node("Mul", {"kt", "scale_k"}, {"kts"}, "mul_k");
    m.node("MatMul", {"qs", "kts"}, {"scores"}, "scores");
    OnnxMaker::attr_int(m.node("Softmax", {"scores"}, {"p"}, "softmax"), "axis", -1);
    m.node("MatMul", {"p", "v"}, {"y"}, "attention");
    return m;
}

}  // namespace rtinfer::testing
