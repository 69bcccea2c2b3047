// Small hand-made graphs for the unit tests.
#pragma once

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

}  // namespace rtinfer::testing
