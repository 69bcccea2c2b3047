#include "core/ir/shape_inference.h"

namespace rtinfer::ir {

Expected<std::vector<OutputInfo>> infer_node(const Graph& graph, const Node& node, const OpRegistry& registry,
                                             bool* value_missing) {
    const OpKernel* kernel = registry.find(node.domain, node.op_type);
    if (!kernel) return Status(StatusCode::kUnsupported, node.describe() + ": no kernel implements this op");
    std::vector<InputInfo> inputs;
    inputs.reserve(node.inputs.size());
    for (const auto& name : node.inputs) {
        InputInfo info;
        if (!name.empty()) {
            const Value* v = graph.find(name);
            if (!v) return Status(StatusCode::kInvalidModel, node.describe() + ": input '" + name + "' does not exist");
            info.dtype = v->dtype;
            info.shape = v->shape;
            info.shape_known = v->shape_known;
            info.value = v->is_constant() ? &v->constant : nullptr;
        }
        inputs.push_back(std::move(info));
    }
    InferContext ctx(node, graph.opset(canonical_domain(node.domain)), std::move(inputs), node.outputs.size());
    Status s = kernel->infer(ctx);
    if (value_missing) *value_missing = ctx.value_missing();
    if (!s.is_ok()) return s;
    return ctx.outputs();
}

Status infer_shapes(Graph& graph, const OpRegistry& registry) {
    for (const auto& node : graph.nodes) {
        bool inputs_known = true;
        DType first_dtype = DType::kUndefined;
        for (const auto& name : node.inputs) {
            if (name.empty()) continue;
            const Value* v = graph.find(name);
            if (v && !v->shape_known) inputs_known = false;
            if (v && first_dtype == DType::kUndefined) first_dtype = v->dtype;
        }
        if (!inputs_known) {
            // Downstream of a data-dependent shape: only run time knows. Keep the type when it is clear.
            for (const auto& out : node.outputs) {
                if (out.empty()) continue;
                Value& v = graph.add_value(out);
                v.shape_known = false;
                if (v.dtype == DType::kUndefined) v.dtype = first_dtype;
            }
            if (!registry.find(node.domain, node.op_type)) {
                return Status(StatusCode::kUnsupported, node.describe() + ": no kernel implements this op");
            }
            continue;
        }
        bool value_missing = false;
        auto inferred = infer_node(graph, node, registry, &value_missing);
        if (!inferred.has_value() && value_missing) {
            for (const auto& out : node.outputs) {
                if (out.empty()) continue;
                Value& v = graph.add_value(out);
                v.shape_known = false;
                if (v.dtype == DType::kUndefined) v.dtype = first_dtype;
            }
            continue;
        }
        RT_ASSIGN_OR_RETURN(auto outs, std::move(inferred));
        for (size_t i = 0; i < node.outputs.size() && i < outs.size(); ++i) {
            if (node.outputs[i].empty()) continue;
            Value& v = graph.add_value(node.outputs[i]);
            v.dtype = outs[i].dtype;
            v.shape = outs[i].shape;
            v.shape_known = outs[i].shape_known;
        }
    }
    return Status();
}

}  // namespace rtinfer::ir
