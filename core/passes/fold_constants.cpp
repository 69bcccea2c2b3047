#include "core/passes/passes.h"

#include <algorithm>

namespace rtinfer::passes {

namespace {

bool shape_is_static(const ir::Graph& graph, const std::string& name, const FoldOptions& options) {
    const ir::Value* v = graph.find(name);
    return v && v->shape_known && !options.batch_dependent.count(name) &&
           (v->is_constant() || std::all_of(v->shape.begin(), v->shape.end(), [](int64_t d) { return d >= 0; }));
}

bool is_random(const std::string& op) { return op.rfind("Random", 0) == 0 || op == "Bernoulli" || op == "Multinomial"; }

}  // namespace

Status fold_constants(ir::Graph& graph, const NodeEvaluator& evaluate, const FoldOptions& options, int* folded) {
    int count = 0;
    std::vector<ir::Node> kept;
    kept.reserve(graph.nodes.size());
    for (auto& node : graph.nodes) {
        bool foldable = !node.domain.size() && !is_random(node.op_type) && !node.outputs.empty();
        std::vector<const ir::Tensor*> inputs;
        ir::Tensor shape_tensor;
        if (foldable && (node.op_type == "Shape" || node.op_type == "Size") && !node.inputs.empty()) {
            // Shape/Size only need the input's shape, which is known when it does not depend on the batch.
            foldable = shape_is_static(graph, node.inputs[0], options);
            if (foldable) {
                const ir::Value& in = graph.at(node.inputs[0]);
                shape_tensor = in.is_constant() ? in.constant : ir::Tensor(in.dtype, in.shape);
                inputs.push_back(&shape_tensor);
            }
        } else if (foldable) {
            for (const auto& name : node.inputs) {
                if (name.empty()) {
                    inputs.push_back(nullptr);
                    continue;
                }
                const ir::Value* v = graph.find(name);
                if (!v || !v->is_constant()) {
                    foldable = false;
                    break;
                }
                inputs.push_back(&v->constant);
            }
        }
        if (foldable) {
            std::vector<ir::Tensor> outputs;
            Status s = evaluate(node, inputs, outputs);
            bool small = s.is_ok();
            for (const auto& t : outputs) small = small && t.numel() <= options.max_folded_elements;
            if (small) {
                for (size_t i = 0; i < node.outputs.size(); ++i) {
                    if (node.outputs[i].empty() || i >= outputs.size() || !outputs[i].defined()) continue;
                    ir::Value& v = graph.add_value(node.outputs[i]);
                    v.constant = outputs[i];
                    v.dtype = outputs[i].dtype();
                    v.shape = outputs[i].shape();
                    v.shape_known = true;
                }
                ++count;
                continue;
            }
            // A node that fails on constant inputs is left for the build to report with its context.
        }
        kept.push_back(std::move(node));
    }
    graph.nodes = std::move(kept);
    if (folded) *folded = count;
    return Status();
}

}  // namespace rtinfer::passes
