// Running a hand-made graph node by node on the reference kernels (what a CPU engine does), for the
// before/after tests of graph passes.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
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

// max |a - b| over max |a| (any float types); huge, with a test failure, when the shapes differ, and huge when b
// has a NaN that a has not.
inline double max_rel_error(const ir::Tensor& a, const ir::Tensor& b) {
    EXPECT_EQ(a.shape(), b.shape());
    if (a.shape() != b.shape()) return 1e30;
    const std::vector<double> x = ir::to_doubles(a), y = ir::to_doubles(b);
    double diff = 0, ref = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        const double d = std::fabs(x[i] - y[i]);
        diff = std::isnan(d) && !std::isnan(x[i]) ? 1e30 : std::max(diff, std::isnan(d) ? 0.0 : d);
        ref = std::max(ref, std::fabs(x[i]));
    }
    EXPECT_GT(ref, 0.0);
    return diff / ref;
}

}  // namespace rtinfer::testing
