// Type and shape inference over a whole graph with the kernels' infer functions.
#pragma once

#include "core/ir/graph.h"
#include "core/ir/op.h"

namespace rtinfer::ir {

// Runs infer for one node on the graph's current value types/shapes/constants. When infer needs an input's
// value that only run time knows, *value_missing is set and the error returned.
Expected<std::vector<OutputInfo>> infer_node(const Graph& graph, const Node& node, const OpRegistry& registry,
                                             bool* value_missing = nullptr);

// Fills dtype and shape of every node output in topological order. Graph inputs must carry concrete
// shapes. Outputs downstream of a data-dependent shape are left shape_known = false.
// Fails on the first node without a kernel or whose infer fails; the Status names the node.
Status infer_shapes(Graph& graph, const OpRegistry& registry);

}  // namespace rtinfer::ir
