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

namespace {

// The type of output i when the input shapes are unknown: what ONNX fixes per op, else the data's type.
DType output_type_without_shapes(const Node& node, size_t i, DType first) {
    static const char* const kInt64[] = {"Shape", "Size", "NonZero", "ArgMax", "ArgMin", "NonMaxSuppression"};
    static const char* const kBool[] = {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not",
                                        "And", "Or", "Xor", "IsNaN", "IsInf"};
    if (!node.domain.empty()) return first;
    for (const char* op : kInt64) {
        if (node.op_type == op) return DType::kInt64;
    }
    for (const char* op : kBool) {
        if (node.op_type == op) return DType::kBool;
    }
    if ((node.op_type == "TopK" || node.op_type == "Unique") && i > 0) return DType::kInt64;
    if (node.op_type == "Cast") {
        switch (node.attr_int("to", 0)) {
            case 1: return DType::kFloat32;
            case 2: return DType::kUInt8;
            case 3: return DType::kInt8;
            case 6: return DType::kInt32;
            case 7: return DType::kInt64;
            case 9: return DType::kBool;
            case 10: return DType::kFloat16;
            case 11: return DType::kFloat64;
            default: return DType::kUndefined;
        }
    }
    if (node.op_type == "ConstantOfShape") {
        const Attribute* a = node.attr("value");
        return a ? a->t.dtype() : DType::kFloat32;
    }
    return first;
}

}  // namespace

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
            // Downstream of a data-dependent shape: only run time knows the shapes. Types still matter
            // (a Shape gives int64 whatever it reads), and infer cannot be asked without shapes.
            for (size_t i = 0; i < node.outputs.size(); ++i) {
                if (node.outputs[i].empty()) continue;
                Value& v = graph.add_value(node.outputs[i]);
                v.shape_known = false;
                if (v.dtype == DType::kUndefined) v.dtype = output_type_without_shapes(node, i, first_dtype);
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
