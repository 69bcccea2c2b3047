// A convolution's fused activation moves into its only consumer when that is a depthwise channels-last
// convolution, which applies it to its inputs as it loads them (rt_input_activation). The producer then ends
// in its bias, which cuBLASLt's epilogue adds, instead of a separate pass over its (expanded, large) output:
// the expand -> depthwise pairs of MobileNet and EfficientNet blocks. ReLU stays where it is, since cuDNN and
// cuBLASLt fuse it already. Only the direct CUDA depthwise kernel reads input activations, so the pass runs
// for CUDA engines, after fuse_conv_activation, and only when RTINFER_INPUT_ACTIVATION=1: measured on whole
// networks it is a loss so far (the kernel applies the activation once per tap it loads, which SiLU makes
// expensive, and loses the cuDNN depthwise path); see the builder.
#include <algorithm>

#include "core/ir/fused_activation.h"
#include "core/ir/op.h"
#include "core/passes/passes.h"

namespace rtinfer::passes {

namespace {

bool is_nhwc_conv(const ir::Node& n) {
    return n.op_type == "NhwcConv" && n.domain == ir::kRtinferDomain;
}

// One filter per channel: W OHWI [C, KH, KW, 1] with group == C, filters up to 16 x 16.
bool is_depthwise(const ir::Graph& g, const ir::Node& n) {
    if (!is_nhwc_conv(n) || n.inputs.size() < 2) return false;
    const ir::Value* x = g.find(n.inputs[0]);
    const ir::Value* w = g.find(n.inputs[1]);
    if (!x || !w || !x->shape_known || !w->is_constant() || x->shape.size() != 4 || w->shape.size() != 4) return false;
    const int64_t group = n.attr_int("group", 1);
    return group > 1 && group == x->shape[3] && w->shape[0] == group && w->shape[3] == 1 && w->shape[1] <= 16 &&
           w->shape[2] <= 16;
}

}  // namespace

Status fuse_input_activation(ir::Graph& graph, int* moved) {
    int count = 0;
    const auto uses = graph.use_counts();
    const auto producers = graph.producers();
    for (ir::Node& consumer : graph.nodes) {
        if (!is_depthwise(graph, consumer) || consumer.has_attr("rt_input_activation")) continue;
        const std::string& x = consumer.inputs[0];
        auto p = producers.find(x);
        auto u = uses.find(x);
        if (p == producers.end() || u == uses.end() || u->second != 1) continue;
        if (std::find(graph.outputs.begin(), graph.outputs.end(), x) != graph.outputs.end()) continue;
        ir::Node& producer = graph.nodes[p->second];
        const ir::FusedActivation act = ir::fused_activation(producer).act;
        if (!is_nhwc_conv(producer) || act == ir::FusedActivation::kNone || act == ir::FusedActivation::kRelu) continue;
        ir::move_activation_to_input(producer, consumer);
        ++count;
    }
    if (moved) *moved = count;
    return Status();
}

}  // namespace rtinfer::passes
