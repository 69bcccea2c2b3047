#include <unordered_set>

#include "core/passes/passes.h"

namespace rtinfer::passes {

Status remove_dead_nodes(ir::Graph& graph, int* removed) {
    // Walk backwards from the graph outputs: a node is live if any of its outputs is needed.
    std::unordered_set<std::string> needed(graph.outputs.begin(), graph.outputs.end());
    std::vector<bool> live(graph.nodes.size(), false);
    for (size_t i = graph.nodes.size(); i-- > 0;) {
        const ir::Node& node = graph.nodes[i];
        for (const auto& out : node.outputs) {
            if (!out.empty() && needed.count(out)) live[i] = true;
        }
        if (!live[i]) continue;
        for (const auto& in : node.inputs) {
            if (!in.empty()) needed.insert(in);
        }
    }
    std::vector<ir::Node> kept;
    int count = 0;
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
        if (live[i]) {
            kept.push_back(std::move(graph.nodes[i]));
        } else {
            for (const auto& out : graph.nodes[i].outputs) {
                if (!out.empty()) graph.erase_value(out);
            }
            ++count;
        }
    }
    graph.nodes = std::move(kept);
    // Constants (initializers, folded values) that nothing reads any more.
    std::vector<std::string> unused;
    for (const auto& [name, v] : graph.values()) {
        if (v.is_constant() && !needed.count(name)) unused.push_back(name);
    }
    for (const auto& name : unused) graph.erase_value(name);
    if (removed) *removed = count;
    return Status();
}

}  // namespace rtinfer::passes
