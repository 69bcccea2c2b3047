// Small hand-made graphs for the unit tests.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "core/ir/graph.h"

namespace rtinfer::testing {

inline ir::Value& add_input(ir::Graph& g, const std::string& name, ir::Shape shape, DataType t = DataType::kFloat32) {
    ir::Value& v = g.add_value(name);
    v.dtype = t;
    v.shape = std::move(shape);
    v.shape_known = true;
    g.inputs.push_back(name);
    return v;
}

inline ir::Value& add_constant(ir::Graph& g, const std::string& name, const ir::Tensor& t) {
    ir::Value& v = g.add_value(name);
    v.dtype = t.dtype();
    v.shape = t.shape();
    v.shape_known = true;
    v.constant = t;
    return v;
}

inline ir::Node& add_node(ir::Graph& g, const std::string& op, std::vector<std::string> ins,
                          std::vector<std::string> outs, const std::string& name = "") {
    ir::Node n;
    n.op_type = op;
    n.name = name.empty() ? op + "_" + std::to_string(g.nodes.size()) : name;
    n.inputs = std::move(ins);
    n.outputs = std::move(outs);
    for (const auto& o : n.outputs) {
        if (!o.empty()) g.add_value(o);
    }
    g.nodes.push_back(std::move(n));
    return g.nodes.back();
}

inline ir::Tensor random_tensor(ir::Shape shape, unsigned seed) {
    ir::Tensor t(DataType::kFloat32, std::move(shape));
    for (int64_t i = 0; i < t.numel(); ++i) {
        seed = seed * 1664525u + 1013904223u;
        t.data<float>()[i] = static_cast<float>((seed >> 8) % 2001) / 1000.0f - 1.0005f;  // never exactly 0
    }
    return t;
}

// A float32 scalar of shape [].
inline ir::Tensor scalar(float v) {
    return ir::Tensor::from_floats({v}, {});
}

// Random values in [0.1, 1.1] (for Log, Sqrt, fractional powers).
inline ir::Tensor positive_tensor(ir::Shape shape, unsigned seed) {
    ir::Tensor t = random_tensor(std::move(shape), seed);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = std::fabs(t.data<float>()[i]) + 0.1f;
    return t;
}

// t converted to dtype (itself when it has that type already).
inline ir::Tensor cast_to(const ir::Tensor& t, DataType dtype) {
    return t.dtype() == dtype ? t : ir::cast_tensor(t, dtype).value();
}

inline ir::Attribute attr_f(float v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kFloat;
    a.f = v;
    return a;
}

inline ir::Attribute attr_s(const std::string& v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kString;
    a.s = v;
    return a;
}

// The nodes' op types in graph order.
inline std::vector<std::string> op_types(const ir::Graph& g) {
    std::vector<std::string> ops;
    for (const auto& n : g.nodes) ops.push_back(n.op_type);
    return ops;
}

}  // namespace rtinfer::testing
