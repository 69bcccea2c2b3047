#include <cmath>

#include "core/passes/passes.h"

namespace rtinfer::passes {

namespace {

const ir::Tensor* constant_f32(const ir::Graph& graph, const ir::Node& node, size_t i) {
    if (i >= node.inputs.size() || node.inputs[i].empty()) return nullptr;
    const ir::Value* v = graph.find(node.inputs[i]);
    if (!v || !v->is_constant() || v->constant.dtype() != ir::DType::kFloat32) return nullptr;
    return &v->constant;
}

}  // namespace

Status fuse_conv_bn(ir::Graph& graph, int* fused) {
    int count = 0;
    auto uses = graph.use_counts();
    auto producers = graph.producers();
    std::vector<bool> drop(graph.nodes.size(), false);
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
        const ir::Node& bn = graph.nodes[i];
        if (bn.op_type != "BatchNormalization" || !bn.domain.empty() || bn.inputs.size() < 5) continue;
        if (bn.attr_int("training_mode", 0) != 0) continue;
        bool extra_outputs = false;
        for (size_t k = 1; k < bn.outputs.size(); ++k) extra_outputs |= !bn.outputs[k].empty();
        if (extra_outputs) continue;
        auto p = producers.find(bn.inputs[0]);
        if (p == producers.end() || uses[bn.inputs[0]] != 1) continue;
        ir::Node& conv = graph.nodes[p->second];
        if (conv.op_type != "Conv" || !conv.domain.empty()) continue;
        const ir::Tensor* w = constant_f32(graph, conv, 1);
        const ir::Tensor* scale = constant_f32(graph, bn, 1);
        const ir::Tensor* shift = constant_f32(graph, bn, 2);
        const ir::Tensor* mean = constant_f32(graph, bn, 3);
        const ir::Tensor* var = constant_f32(graph, bn, 4);
        if (!w || !scale || !shift || !mean || !var || w->rank() < 3) continue;
        const int64_t cout = w->dim(0);
        if (scale->numel() != cout || shift->numel() != cout || mean->numel() != cout || var->numel() != cout) continue;
        const ir::Tensor* bias = conv.inputs.size() > 2 && !conv.inputs[2].empty() ? constant_f32(graph, conv, 2) : nullptr;
        if (conv.inputs.size() > 2 && !conv.inputs[2].empty() && (!bias || bias->numel() != cout)) continue;

        const float eps = bn.attr_float("epsilon", 1e-5f);
        ir::Tensor new_w = w->clone();
        ir::Tensor new_b(ir::DType::kFloat32, {cout});
        const int64_t per_channel = w->numel() / cout;
        for (int64_t c = 0; c < cout; ++c) {
            const double k = scale->data<float>()[c] / std::sqrt(double(var->data<float>()[c]) + eps);
            float* wc = new_w.data<float>() + c * per_channel;
            for (int64_t j = 0; j < per_channel; ++j) wc[j] = static_cast<float>(wc[j] * k);
            const double b0 = bias ? bias->data<float>()[c] : 0.0;
            new_b.data<float>()[c] = static_cast<float>((b0 - mean->data<float>()[c]) * k + shift->data<float>()[c]);
        }
        const std::string w_name = graph.unique_name(conv.name + ".fused_weight");
        const std::string b_name = graph.unique_name(conv.name + ".fused_bias");
        ir::Value& wv = graph.add_value(w_name);
        wv.dtype = ir::DType::kFloat32;
        wv.shape = new_w.shape();
        wv.shape_known = true;
        wv.constant = new_w;
        ir::Value& bv = graph.add_value(b_name);
        bv.dtype = ir::DType::kFloat32;
        bv.shape = {cout};
        bv.shape_known = true;
        bv.constant = new_b;
        conv.inputs.resize(3);
        conv.inputs[1] = w_name;
        conv.inputs[2] = b_name;
        // The conv now produces the BN's output directly.
        graph.erase_value(conv.outputs[0]);
        conv.outputs[0] = bn.outputs[0];
        drop[i] = true;
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
