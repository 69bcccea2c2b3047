// ModelProto / GraphProto / NodeProto -> ir::Graph.
#include "core/onnx/importer.h"

#include <unordered_map>
#include <unordered_set>

#include "core/onnx/import_internal.h"

namespace rtinfer::onnx {
namespace detail {

namespace {

Status invalid(const std::string& message) { return Status(StatusCode::kInvalidModel, message); }

// Type and shape of a graph input or output. `what` names it in errors ("graph input 'x'").
Status apply_value_info(const ::onnx::ValueInfoProto& info, ir::Value& value, const std::string& what,
                        bool type_required) {
    const ::onnx::TypeProto& type = info.type();
    switch (type.value_case()) {
        case ::onnx::TypeProto::kTensorType: break;
        case ::onnx::TypeProto::kSequenceType:
            return Status(StatusCode::kUnsupported, what + " is a sequence; rtinfer supports tensors only");
        case ::onnx::TypeProto::kMapType:
            return Status(StatusCode::kUnsupported, what + " is a map; rtinfer supports tensors only");
        case ::onnx::TypeProto::kOptionalType:
            return Status(StatusCode::kUnsupported, what + " is an optional; rtinfer supports tensors only");
        case ::onnx::TypeProto::kSparseTensorType:
            return Status(StatusCode::kUnsupported, what + " is a sparse tensor; rtinfer supports dense tensors only");
        case ::onnx::TypeProto::VALUE_NOT_SET:
            if (type_required) return invalid(what + " has no type");
            return Status();
    }
    const ::onnx::TypeProto::Tensor& tensor = type.tensor_type();
    if (tensor.elem_type() == ::onnx::TensorProto::UNDEFINED) {
        if (type_required) return invalid(what + " has no element type");
    } else {
        const ir::DType dtype = dtype_from_onnx(tensor.elem_type());
        if (dtype == ir::DType::kUndefined) {
            return Status(StatusCode::kUnsupported, what + " has element type " + onnx_type_name(tensor.elem_type()) +
                                                        ", which rtinfer does not support");
        }
        value.dtype = dtype;
    }
    if (!tensor.has_shape()) return Status();
    ir::Shape shape;
    for (const auto& dim : tensor.shape().dim()) {
        if (dim.has_dim_value()) {
            if (dim.dim_value() < 0) {
                return invalid(what + " has negative dimension " + std::to_string(dim.dim_value()) + " at axis " +
                               std::to_string(shape.size()));
            }
            shape.push_back(dim.dim_value());
        } else {
            shape.push_back(-1);  // symbolic (dim_param) or unknown
        }
    }
    value.shape = std::move(shape);
    value.shape_known = true;
    return Status();
}

class GraphImporter {
public:
    GraphImporter(::onnx::GraphProto& proto, const ImportContext& ctx, bool is_subgraph)
        : proto_(proto), ctx_(ctx), is_subgraph_(is_subgraph) {}

    Expected<ImportedGraph> run() {
        result_.graph.name = proto_.name();
        result_.graph.opsets = ctx_.opsets;
        RT_RETURN_IF_ERROR(read_initializers());
        RT_RETURN_IF_ERROR(read_inputs());
        for (int i = 0; i < proto_.node_size(); ++i) RT_RETURN_IF_ERROR(read_node(i, *proto_.mutable_node(i)));
        RT_RETURN_IF_ERROR(read_outputs());
        RT_RETURN_IF_ERROR(resolve_outer_names());
        RT_RETURN_IF_ERROR(sort());
        return std::move(result_);
    }

private:
    ir::Graph& graph() { return result_.graph; }

    Status read_initializers() {
        if (proto_.sparse_initializer_size() > 0) {
            const std::string& name = proto_.sparse_initializer(0).values().name();
            return Status(StatusCode::kUnsupported,
                          "sparse initializer '" + name + "': sparse tensors are not supported");
        }
        for (int i = 0; i < proto_.initializer_size(); ++i) {
            ::onnx::TensorProto& p = *proto_.mutable_initializer(i);
            const std::string name = p.name();
            if (name.empty()) return invalid("initializer #" + std::to_string(i) + " has no name");
            if (!defined_.insert(name).second) return invalid("initializer '" + name + "' is defined twice");
            Expected<ir::Tensor> t = read_tensor(p, ctx_.base_dir);
            if (!t) return t.status().with_context("initializer '" + name + "'");
            ir::Value& v = graph().add_value(name);
            v.dtype = t->dtype();
            v.shape = t->shape();
            v.shape_known = true;
            v.constant = std::move(t).value();
        }
        return Status();
    }

    Status read_inputs() {
        for (const auto& info : proto_.input()) {
            const std::string& name = info.name();
            if (name.empty()) return invalid("a graph input has no name");
            // Before IR version 4 every initializer was also listed as an input; it is not a runtime input.
            if (graph().find(name) && graph().at(name).is_constant()) continue;
            if (!defined_.insert(name).second) return invalid("graph input '" + name + "' is listed twice");
            ir::Value& v = graph().add_value(name);
            // Loop and Scan bodies may leave their inputs' types to the enclosing node.
            RT_RETURN_IF_ERROR(apply_value_info(info, v, "graph input '" + name + "'", !is_subgraph_));
            graph().inputs.push_back(name);
        }
        return Status();
    }

    std::string node_name(const ::onnx::NodeProto& p, int index) {
        std::string name = p.name().empty() ? p.op_type() + "_" + std::to_string(index) : p.name();
        if (node_names_.count(name)) {
            const std::string base = name;
            for (int k = 1; node_names_.count(name); ++k) name = base + "_" + std::to_string(k);
        }
        node_names_.insert(name);
        return name;
    }

    Status read_node(int index, ::onnx::NodeProto& p) {
        if (p.op_type().empty()) {
            return invalid("node #" + std::to_string(index) + (p.name().empty() ? "" : " '" + p.name() + "'") +
                           " has no op_type");
        }
        ir::Node node;
        node.name = node_name(p, index);
        node.op_type = p.op_type();
        node.domain = p.domain() == "ai.onnx" ? std::string() : p.domain();
        if (node.domain.empty() && !ctx_.opsets.count("")) {
            return invalid(node.describe() + ": the model imports no ai.onnx opset");
        }
        std::set<std::string> nested;
        for (int i = 0; i < p.attribute_size(); ++i) {
            ::onnx::AttributeProto& ap = *p.mutable_attribute(i);
            const std::string key = ap.name();
            if (key.empty()) return invalid(node.describe() + ": attribute #" + std::to_string(i) + " has no name");
            if (node.attrs.count(key)) return invalid(node.describe() + ": attribute '" + key + "' is given twice");
            Expected<ir::Attribute> a = read_attribute(ap, ctx_, nested);
            if (!a) return a.status().with_context("attribute '" + key + "'").with_context(node.describe());
            node.attrs.emplace(key, std::move(a).value());
        }
        node.inputs.assign(p.input().begin(), p.input().end());
        node.outputs.assign(p.output().begin(), p.output().end());
        for (const std::string& out : node.outputs) {
            if (out.empty()) continue;
            if (!defined_.insert(out).second) {
                return invalid(node.describe() + ": output '" + out +
                               "' is already defined (by a graph input, an initializer or another node)");
            }
            graph().add_value(out);
        }
        nested_names_.push_back(std::move(nested));
        graph().nodes.push_back(std::move(node));
        return Status();
    }

    Status read_outputs() {
        for (const auto& info : proto_.output()) {
            const std::string& name = info.name();
            if (name.empty()) return invalid("a graph output has no name");
            const std::string what = "graph output '" + name + "'";
            if (!defined_.count(name)) {
                // A subgraph may return a value of an enclosing graph as it is.
                if (!is_subgraph_) return invalid(what + " is not produced by any node, input or initializer");
                result_.outer_names.insert(name);
            }
            // The type is checked in every case but recorded only on values this graph computes.
            ir::Value unused;
            ir::Value* v = graph().find(name);
            const bool record = v != nullptr && !v->is_constant();
            RT_RETURN_IF_ERROR(apply_value_info(info, record ? *v : unused, what, false));
            graph().outputs.push_back(name);
        }
        return Status();
    }

    // Names read by nodes (directly or inside their subgraphs) and defined nowhere in this graph belong to
    // an enclosing graph; the main graph has none to offer.
    Status resolve_outer_names() {
        for (size_t i = 0; i < graph().nodes.size(); ++i) {
            const ir::Node& node = graph().nodes[i];
            for (const std::string& name : nested_names_[i]) {
                if (defined_.count(name)) continue;
                if (!is_subgraph_) {
                    return invalid(node.describe() + ": a subgraph reads '" + name +
                                   "', which no enclosing graph defines");
                }
                result_.outer_names.insert(name);
            }
            if (!is_subgraph_) continue;  // topo_sort names the node of an undefined input
            for (const std::string& name : node.inputs) {
                if (!name.empty() && !defined_.count(name)) result_.outer_names.insert(name);
            }
        }
        return Status();
    }

    // topo_sort sees only node inputs, so a node whose subgraph reads a value of this graph gets that value
    // as an extra input for the sort; names of enclosing graphs get placeholder values. Both are removed after.
    Status sort() {
        ir::Graph& g = graph();
        std::unordered_map<std::string, size_t> input_counts;
        for (size_t i = 0; i < g.nodes.size(); ++i) {
            ir::Node& node = g.nodes[i];
            input_counts[node.name] = node.inputs.size();
            for (const std::string& name : nested_names_[i]) {
                if (defined_.count(name)) node.inputs.push_back(name);
            }
        }
        std::vector<std::string> placeholders;
        for (const std::string& name : result_.outer_names) {
            if (!g.find(name)) {
                g.add_value(name);
                placeholders.push_back(name);
            }
        }
        Status status = g.topo_sort();
        for (const std::string& name : placeholders) g.erase_value(name);
        for (ir::Node& node : g.nodes) node.inputs.resize(input_counts[node.name]);
        return status;
    }

    ::onnx::GraphProto& proto_;
    const ImportContext& ctx_;
    bool is_subgraph_;
    ImportedGraph result_;
    std::unordered_set<std::string> defined_;     // inputs, initializers and node outputs of this graph
    std::unordered_set<std::string> node_names_;
    std::vector<std::set<std::string>> nested_names_;  // per node: names its subgraphs read from outside
};

Expected<ir::Graph> import_model(::onnx::ModelProto& model, const std::string& base_dir) {
    if (!model.has_graph()) return invalid("not a valid ONNX model (it has no graph)");
    if (model.ir_version() < 3) {
        return Status(StatusCode::kUnsupported, "IR version " + std::to_string(model.ir_version()) +
                                                    " is not supported (rtinfer reads IR version 3 and newer)");
    }
    ImportContext ctx;
    ctx.base_dir = base_dir;
    RT_ASSIGN_OR_RETURN(ctx.opsets, read_opset_imports(model));
    RT_ASSIGN_OR_RETURN(ImportedGraph imported, import_graph(*model.mutable_graph(), ctx, false));
    RT_RETURN_IF_ERROR(upgrade_legacy_opset(imported.graph));
    return std::move(imported.graph);
}

}  // namespace

Expected<ImportedGraph> import_graph(::onnx::GraphProto& proto, const ImportContext& ctx, bool is_subgraph) {
    return GraphImporter(proto, ctx, is_subgraph).run();
}

}  // namespace detail

Expected<ir::Graph> import_model_file(const std::string& path) {
    ::onnx::ModelProto model;
    Status status = detail::parse_proto_file(path, "ONNX model", model);
    if (!status.is_ok()) return status.with_context(path);
    Expected<ir::Graph> graph = detail::import_model(model, detail::folder_of(path));
    if (!graph) return graph.status().with_context(path);
    return graph;
}

Expected<ir::Graph> import_model_bytes(const void* data, size_t size, const std::string& name,
                                       const std::string& base_dir) {
    ::onnx::ModelProto model;
    Status status = detail::parse_proto_bytes(data, size, "ONNX model", model);
    if (!status.is_ok()) return status.with_context(name);
    Expected<ir::Graph> graph = detail::import_model(model, base_dir);
    if (!graph) return graph.status().with_context(name);
    return graph;
}

}  // namespace rtinfer::onnx
