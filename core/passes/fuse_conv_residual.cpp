// A residual Add whose one operand is a channels-last convolution's only use becomes that convolution's
// fourth input Z: rtinfer.NhwcConv computes conv(X) + B + Z before its fused activation, so that
// Conv -> Add -> Relu (every ResNet block) is one kernel once fuse_conv_activation has taken the Relu.
#include <algorithm>

#include "core/ir/op.h"
#include "core/passes/passes.h"

namespace rtinfer::passes {

namespace {

bool is_graph_output(const ir::Graph& g, const std::string& name) {
    return std::find(g.outputs.begin(), g.outputs.end(), name) != g.outputs.end();
}

}  // namespace

Status fuse_conv_residual(ir::Graph& graph, int* fused) {
    int count = 0;
    auto uses = graph.use_counts();
    auto producer = graph.producers();
    std::vector<bool> drop(graph.nodes.size(), false);
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
        const ir::Node& add = graph.nodes[i];
        if (add.op_type != "Add" || !add.domain.empty() || add.inputs.size() != 2) continue;
        for (size_t side = 0; side < 2; ++side) {
            const std::string& c = add.inputs[side];
            const std::string& z = add.inputs[1 - side];
            auto it = producer.find(c);
            if (it == producer.end() || drop[it->second] || c == z) continue;
            ir::Node& conv = graph.nodes[it->second];
            if (conv.op_type != "NhwcConv" || conv.domain != ir::kRtinferDomain || conv.inputs.size() > 3 ||
                conv.has_attr("rt_fused_activation") || uses[c] != 1 || is_graph_output(graph, c)) {
                continue;
            }
            const ir::Value* cv = graph.find(c);
            const ir::Value* zv = graph.find(z);
            const ir::Value* yv = graph.find(add.outputs[0]);
            // Z must be the full output tensor (no broadcast) of the same type.
            if (!cv || !zv || !yv || zv->is_constant() || !zv->shape_known || zv->shape != cv->shape ||
                zv->dtype != cv->dtype || yv->shape != cv->shape) {
                continue;
            }
            conv.inputs.resize(3);  // an omitted bias stays "" in its slot
            conv.inputs.push_back(z);
            conv.outputs[0] = add.outputs[0];
            graph.erase_value(c);
            drop[i] = true;
            ++count;
            break;
        }
    }
    std::vector<ir::Node> kept;
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
        if (!drop[i]) kept.push_back(std::move(graph.nodes[i]));
    }
    graph.nodes = std::move(kept);
    if (fused) *fused = count;
    // Z may be computed after the convolution in the old order.
    return count > 0 ? graph.topo_sort() : Status();
}

}  // namespace rtinfer::passes
