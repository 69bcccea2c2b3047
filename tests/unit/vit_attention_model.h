// One ViT encoder attention block as torch exports torchvision's vit_b_16 today, as an ONNX model with a dynamic
// batch: x [N, 5, 8] -> y [N, 5, 8], 2 heads of 4. As in the export, the q/k/v split's Reshape takes its shape
// from Shape/Slice/Concat and the scale sqrt(1 / sqrt(head dim)) is computed from the shape of q, so that with a
// dynamic batch the build knows neither until the shape arithmetic is folded at a batch. 8 Transposes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/unit/graph_builders.h"
#include "tests/unit/plugin_test_util.h"

namespace rtinfer::testing {

inline OnnxMaker vit_attention_model() {
    const int64_t s = 5, e = 8, h = 2, d = 4;
    OnnxMaker m;
    m.input("x", {-1, s, e});
    m.output("y", {-1, s, e});
    auto floats = [&](const std::string& name, const ir::Shape& dims, unsigned seed) {
        auto* t = m.g().add_initializer();
        t->set_name(name);
        t->set_data_type(::onnx::TensorProto::FLOAT);
        for (int64_t v : dims) t->add_dims(v);
        const ir::Tensor r = random_tensor(dims, seed);
        for (int64_t i = 0; i < r.numel(); ++i) t->add_float_data(0.5f * r.data<float>()[i]);
    };
    auto int64s = [&](const std::string& name, const std::vector<int64_t>& values, bool scalar = false) {
        auto* t = m.g().add_initializer();
        t->set_name(name);
        t->set_data_type(::onnx::TensorProto::INT64);
        if (!scalar) t->add_dims(static_cast<int64_t>(values.size()));
        for (int64_t v : values) t->add_int64_data(v);
    };
    auto perm = [&](const std::string& x, const std::string& y, const std::vector<int64_t>& p) {
        OnnxMaker::attr_ints(m.node("Transpose", {x}, {y}, "transpose_" + y), "perm", p);
    };
    floats("w_qkv", {e, 3 * e}, 41);
    floats("b_qkv", {3 * e}, 42);
    floats("w_out", {e, e}, 43);
    floats("b_out", {e}, 44);
    auto* one = m.g().add_initializer();
    one->set_name("one");
    one->set_data_type(::onnx::TensorProto::FLOAT);
    one->add_dims(1);
    one->add_float_data(1.0f);
    int64s("zero", {0});
    int64s("two", {2});
    int64s("last", {-1});
    int64s("end", {INT64_MAX});
    int64s("three_e", {3, e});
    int64s("axis0", {0});
    int64s("axis_minus2", {-2});
    int64s("heads_shape", {s, -1, d});
    int64s("batch_heads_shape", {-1, h, s, d});
    int64s("rows_shape", {-1, e});
    int64s("tokens_shape", {s, -1, e});

    perm("x", "xt", {1, 0, 2});
    m.node("MatMul", {"xt", "w_qkv"}, {"proj"}, "qkv_proj");
    m.node("Add", {"b_qkv", "proj"}, {"qkv"}, "qkv_bias");
    m.node("Shape", {"qkv"}, {"qkv_shape"}, "qkv_shape");
    m.node("Slice", {"qkv_shape", "zero", "two"}, {"lead"}, "lead");
    OnnxMaker::attr_int(m.node("Concat", {"lead", "three_e"}, {"split_shape"}, "split_shape"), "axis", 0);
    m.node("Reshape", {"qkv", "split_shape"}, {"qkv4"}, "split_reshape");
    m.node("Unsqueeze", {"qkv4", "axis0"}, {"qkv5"}, "split_unsqueeze");
    perm("qkv5", "qkv5t", {3, 1, 2, 0, 4});
    m.node("Squeeze", {"qkv5t", "axis_minus2"}, {"split"}, "split_squeeze");
    const char* names[] = {"q", "k", "v"};
    for (int i = 0; i < 3; ++i) {
        const std::string n = names[i];
        int64s(n + "_index", {i}, true);
        OnnxMaker::attr_int(m.node("Gather", {"split", n + "_index"}, {n}, "gather_" + n), "axis", 0);
        m.node("Reshape", {n, "heads_shape"}, {n + "_heads"}, "reshape_" + n + "_heads");
        perm(n + "_heads", n + "_t", {1, 0, 2});
        m.node("Reshape", {n + "_t", "batch_heads_shape"}, {n + "4"}, "reshape_" + n + "4");
    }
    m.node("Shape", {"q4"}, {"q_shape"}, "q_shape");
    m.node("Slice", {"q_shape", "last", "end"}, {"head_dim"}, "head_dim");
    OnnxMaker::attr_int(m.node("Cast", {"head_dim"}, {"head_dim_f"}, "head_dim_f"), "to", ::onnx::TensorProto::FLOAT);
    m.node("Sqrt", {"head_dim_f"}, {"sqrt_d"}, "sqrt_d");
    m.node("Div", {"one", "sqrt_d"}, {"inv_sqrt_d"}, "inv_sqrt_d");
    m.node("Sqrt", {"inv_sqrt_d"}, {"scale"}, "scale");
    perm("k4", "kT", {0, 1, 3, 2});
    m.node("Mul", {"q4", "scale"}, {"qs"}, "scale_q");
    m.node("Mul", {"kT", "scale"}, {"ks"}, "scale_k");
    m.node("MatMul", {"qs", "ks"}, {"scores"}, "scores");
    OnnxMaker::attr_int(m.node("Softmax", {"scores"}, {"p"}, "softmax"), "axis", -1);
    m.node("MatMul", {"p", "v4"}, {"attn"}, "attn");
    perm("attn", "attn_t", {2, 0, 1, 3});
    m.node("Reshape", {"attn_t", "rows_shape"}, {"rows"}, "rows");
    m.node("Gemm", {"rows", "w_out", "b_out"}, {"out"}, "out_proj");
    m.node("Reshape", {"out", "tokens_shape"}, {"out3"}, "out3");
    perm("out3", "out_t", {1, 0, 2});
    m.node("Add", {"out_t", "x"}, {"y"}, "residual");
    return m;
}

}  // namespace rtinfer::testing
