// Conv followed by its only consumer, an activation, becomes one Conv carrying the activation as
// attributes (rt_fused_activation and its parameters). Backends apply it in the convolution's epilogue;
// the reference backend applies it after any kernel (core/kernels/ref/fused_activation.h).
#include <algorithm>
#include <unordered_map>

#include "core/ir/fused_activation.h"
#include "core/ir/op.h"
#include "core/passes/passes.h"

namespace rtinfer::passes {

namespace {

bool constant_scalar(const ir::Graph& g, const ir::Node& n, size_t i, float* v) {
    if (i >= n.inputs.size() || n.inputs[i].empty()) return false;
    const ir::Value* val = g.find(n.inputs[i]);
    if (!val || !val->is_constant() || val->constant.numel() != 1) return false;
    *v = static_cast<float>(ir::to_doubles(val->constant)[0]);
    return true;
}

bool is_graph_output(const ir::Graph& g, const std::string& name) {
    return std::find(g.outputs.begin(), g.outputs.end(), name) != g.outputs.end();
}

// The activation a node applies, if it is one we fuse; *p receives its parameters.
bool activation_of(const ir::Graph& g, const ir::Node& n, ir::FusedActivation* act, float* a, float* b) {
    if (!n.domain.empty()) return false;
    if (n.op_type == "Relu") {
        *act = ir::FusedActivation::kRelu;
    } else if (n.op_type == "Sigmoid") {
        *act = ir::FusedActivation::kSigmoid;
    } else if (n.op_type == "HardSwish") {
        *act = ir::FusedActivation::kHardSwish;
    } else if (n.op_type == "LeakyRelu") {
        *act = ir::FusedActivation::kLeakyRelu;
        *a = n.attr_float("alpha", 0.01f);
    } else if (n.op_type == "Clip") {
        *act = ir::FusedActivation::kClip;
        *a = -3.402823466e38f;
        *b = 3.402823466e38f;
        if (g.opset("") < 11) {
            *a = n.attr_float("min", *a);
            *b = n.attr_float("max", *b);
        } else {
            if (n.inputs.size() > 1 && !n.inputs[1].empty() && !constant_scalar(g, n, 1, a)) return false;
            if (n.inputs.size() > 2 && !n.inputs[2].empty() && !constant_scalar(g, n, 2, b)) return false;
        }
    } else {
        return false;
    }
    return true;
}

}  // namespace

Status fuse_conv_activation(ir::Graph& graph, int* fused) {
    int count = 0;
    auto uses = graph.use_counts();
    std::unordered_map<std::string, std::vector<size_t>> consumers;
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
        for (const auto& in : graph.nodes[i].inputs) {
            if (!in.empty()) consumers[in].push_back(i);
        }
    }
    std::vector<bool> drop(graph.nodes.size(), false);
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
        ir::Node& conv = graph.nodes[i];
        const bool onnx_conv = conv.op_type == "Conv" && conv.domain.empty();
        const bool nhwc_conv = conv.op_type == "NhwcConv" && conv.domain == ir::kRtinferDomain;
        if ((!onnx_conv && !nhwc_conv) || conv.has_attr("rt_fused_activation")) continue;
        const std::string c = conv.outputs[0];
        if (is_graph_output(graph, c)) continue;
        const auto& users = consumers[c];
        ir::FusedActivation act = ir::FusedActivation::kNone;
        float a = 0, b = 0;
        std::vector<size_t> absorbed;
        std::string result;
        if (users.size() == 1 && uses[c] == 1 && activation_of(graph, graph.nodes[users[0]], &act, &a, &b)) {
            absorbed = {users[0]};
            result = graph.nodes[users[0]].outputs[0];
        } else if (users.size() == 2 && uses[c] == 2) {
            // SiLU as exported: m = Mul(c, Sigmoid(c)) in either operand order.
            size_t sig = users[0], mul = users[1];
            if (graph.nodes[sig].op_type != "Sigmoid") std::swap(sig, mul);
            const ir::Node& s = graph.nodes[sig];
            const ir::Node& m = graph.nodes[mul];
            if (s.op_type == "Sigmoid" && m.op_type == "Mul" && s.domain.empty() && m.domain.empty() &&
                uses[s.outputs[0]] == 1 && !is_graph_output(graph, s.outputs[0]) &&
                ((m.inputs[0] == c && m.inputs[1] == s.outputs[0]) || (m.inputs[1] == c && m.inputs[0] == s.outputs[0]))) {
                act = ir::FusedActivation::kSilu;
                absorbed = {sig, mul};
                result = m.outputs[0];
            }
        }
        if (absorbed.empty()) continue;
        ir::set_fused_activation(conv, act, a, b);
        graph.erase_value(c);
        for (size_t k : absorbed) {
            for (const auto& out : graph.nodes[k].outputs) {
                if (!out.empty() && out != result) graph.erase_value(out);
            }
            drop[k] = true;
        }
        conv.outputs[0] = result;
        ++count;
    }
    std::vector<ir::Node> kept;
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
        if (!drop[i]) kept.push_back(std::move(graph.nodes[i]));
    }
    graph.nodes = std::move(kept);
    if (fused) *fused = count;
    return remove_dead_nodes(graph);
}

}  // namespace rtinfer::passes
