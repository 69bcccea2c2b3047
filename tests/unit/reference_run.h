// Running a hand-made graph node by node on the reference kernels (what a CPU engine does), for the
// before/after tests of graph passes.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "core/kernels/ref/ref_backend.h"

namespace rtinfer::testing {

// Every value the graph computes from `inputs` (constants included); empty, with a test failure, when a node
// has no reference kernel or fails.
inline std::map<std::string, ir::Tensor> run_reference(const ir::Graph& g,
                                                       const std::map<std::string, ir::Tensor>& inputs) {
    std::map<std::string, ir::Tensor> values = inputs;
    for (const auto& [name, v] : g.values()) {
        if (v.is_constant()) values[name] = v.constant;
    }
    for (const ir::Node& node : g.nodes) {
        const ir::OpKernel* kernel = ref::reference_registry().find(node.domain, node.op_type);
        EXPECT_NE(kernel, nullptr) << node.describe();
        if (!kernel) return {};
        std::vector<const ir::Tensor*> ins;
        for (const auto& in : node.inputs) ins.push_back(in.empty() ? nullptr : &values.at(in));
        std::vector<ir::Tensor> outs;
        Status s = ref::evaluate_node(*kernel, node, g.opset(ir::canonical_domain(node.domain)), ins, outs);
        EXPECT_TRUE(s.is_ok()) << s.to_string();
        if (!s.is_ok()) return {};
        for (size_t i = 0; i < node.outputs.size(); ++i) values[node.outputs[i]] = outs[i];
    }
    return values;
}

}  // namespace rtinfer::testing
