#include <algorithm>

#include "core/passes/passes.h"

namespace rtinfer::passes {

namespace {

bool is_graph_output(const ir::Graph& graph, const std::string& name) {
    return std::find(graph.outputs.begin(), graph.outputs.end(), name) != graph.outputs.end();
}

// Identity, or a Dropout whose mask nobody reads (inference: the output is the input).
bool is_passthrough(const ir::Node& node) {
    if (!node.domain.empty() || node.inputs.empty() || node.inputs[0].empty()) return false;
    if (node.op_type == "Identity") return true;
    if (node.op_type != "Dropout") return false;
    // training_mode as a third input makes Dropout random; only fold when it is absent.
    if (node.inputs.size() >= 3 && !node.inputs[2].empty()) return false;
    return node.outputs.size() < 2 || node.outputs[1].empty();
}

}  // namespace

Status remove_identity(ir::Graph& graph, int* removed) {
    int count = 0;
    auto producers = graph.producers();
    auto uses = graph.use_counts();
    std::vector<bool> drop(graph.nodes.size(), false);
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
        const ir::Node& node = graph.nodes[i];
        if (!is_passthrough(node)) continue;
        const std::string x = node.inputs[0];
        const std::string y = node.outputs[0];
        if (!is_graph_output(graph, y)) {
            replace_uses(graph, y, x);
            uses[x] += uses[y] - 1;
        } else {
            // y must keep its name: rename the producer's output instead, when x is used nowhere else.
            auto p = producers.find(x);
            if (p == producers.end() || is_graph_output(graph, x) || uses[x] != 1) continue;
            for (auto& out : graph.nodes[p->second].outputs) {
                if (out == x) out = y;
            }
            graph.erase_value(x);
            producers[y] = p->second;
        }
        drop[i] = true;
        ++count;
    }
    std::vector<ir::Node> kept;
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
        if (drop[i]) {
            for (const auto& out : graph.nodes[i].outputs) {
                if (!out.empty() && !is_graph_output(graph, out)) graph.erase_value(out);
            }
        } else {
            kept.push_back(std::move(graph.nodes[i]));
        }
    }
    graph.nodes = std::move(kept);
    if (removed) *removed = count;
    return Status();
}

}  // namespace rtinfer::passes
