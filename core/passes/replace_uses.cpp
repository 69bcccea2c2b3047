#include "core/passes/passes.h"

namespace rtinfer::passes {

void replace_uses(ir::Graph& graph, const std::string& from, const std::string& to) {
    for (auto& node : graph.nodes) {
        for (auto& in : node.inputs) {
            if (in == from) in = to;
        }
    }
}

}  // namespace rtinfer::passes
