#include "core/plugins/resolve.h"

#include <cstring>

#include "core/plugins/plugin_layer.h"
#include "rtinfer/engine.h"

namespace rtinfer {
namespace plugins {

namespace {

ir::Attribute string_attr(const std::string& s) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kString;
    a.s = s;
    return a;
}

Status map_node(ir::Node& node, const PluginCreator& creator) {
    RT_ASSIGN_OR_RETURN(std::shared_ptr<const PluginLayer> layer, PluginLayer::create(creator, node));
    Expected<std::vector<uint8_t>> bytes = layer->serialize();
    if (!bytes) return bytes.status().with_context(node.describe());
    ir::Attribute data;
    data.kind = ir::Attribute::Kind::kTensor;
    data.t = ir::Tensor(DataType::kUInt8, {static_cast<int64_t>(bytes->size())});
    if (!bytes->empty()) std::memcpy(data.t.raw(), bytes->data(), bytes->size());
    node.attrs.clear();
    node.attrs[kVersionAttr] = string_attr(creator.version);
    node.attrs[kNamespaceAttr] = string_attr(creator.plugin_namespace);
    node.attrs[kDataAttr] = std::move(data);
    node.domain = kPluginDomain;
    node.plugin = std::move(layer);
    return Status();
}

// Whether some node could map to a plugin: one in a non-default domain or one no built-in kernel takes.
bool may_need_plugins(const ir::Graph& graph, const ir::OpRegistry& builtins) {
    for (const auto& node : graph.nodes) {
        if (is_plugin_node(node)) continue;
        if (!ir::canonical_domain(node.domain).empty() || !builtins.find(node.domain, node.op_type)) return true;
    }
    return false;
}

}  // namespace

Status map_plugin_nodes(ir::Graph& graph, const PluginRegistry& registry, const ir::OpRegistry& builtins,
                        std::vector<MappingFailure>* failures) {
    for (auto& node : graph.nodes) {
        if (is_plugin_node(node)) continue;
        const bool has_builtin = builtins.find(node.domain, node.op_type) != nullptr;
        std::optional<PluginCreator> creator = registry.match(node.domain, node.op_type, has_builtin);
        if (!creator) continue;
        Status s = map_node(node, *creator);
        if (s.is_ok()) continue;
        if (!failures) return s;
        failures->push_back({node.name, s});
    }
    return Status();
}

Status map_plugin_nodes(ir::Graph& graph, const std::vector<std::string>& libraries, const ir::OpRegistry& builtins,
                        std::vector<MappingFailure>* failures) {
    if (libraries.empty() && !may_need_plugins(graph, builtins)) return Status();
    RT_ASSIGN_OR_RETURN(PluginRegistry * registry, process_registry());
    for (const auto& lib : libraries) RT_RETURN_IF_ERROR(registry->load_library(lib));
    return map_plugin_nodes(graph, *registry, builtins, failures);
}

Status attach_engine_plugins(ir::Graph& graph, const PluginRegistry& registry) {
    for (auto& node : graph.nodes) {
        if (!is_plugin_node(node)) continue;
        const std::string layer = "layer '" + node.name + "'";
        const ir::Attribute* data = node.attr(kDataAttr);
        const ir::Attribute* version = node.attr(kVersionAttr);
        const ir::Attribute* ns = node.attr(kNamespaceAttr);
        if (!data || data->kind != ir::Attribute::Kind::kTensor || data->t.dtype() != DataType::kUInt8 ||
            data->t.rank() != 1 || !version || version->kind != ir::Attribute::Kind::kString || !ns ||
            ns->kind != ir::Attribute::Kind::kString) {
            return Status(StatusCode::kInvalidEngine, layer + " (plugin '" + node.op_type + "') lacks its plugin record");
        }
        const std::string wanted = "plugin '" + node.op_type + "' (version " + version->s +
                                   (ns->s.empty() ? "" : ", namespace '" + ns->s + "'") + ")";
        std::optional<PluginCreator> creator = registry.find(node.op_type, ns->s);
        if (!creator) {
            return Status(StatusCode::kNotFound,
                          layer + " needs " + wanted + ", which is not loaded; load its library with rtexec --plugins, "
                                                       "RTINFER_PLUGIN_PATH or rtinfer::load_plugin_library()");
        }
        if (creator->version != version->s) {
            return Status(StatusCode::kInvalidEngine, layer + " needs " + wanted + ", but the loaded one is " +
                                                          creator->describe() + "; rebuild the engine");
        }
        RT_ASSIGN_OR_RETURN(node.plugin, PluginLayer::deserialize(*creator, node.name, data->t.raw(), data->t.nbytes()));
    }
    return Status();
}

Status attach_engine_plugins(ir::Graph& graph) {
    bool any = false;
    for (const auto& node : graph.nodes) any = any || is_plugin_node(node);
    if (!any) return Status();
    RT_ASSIGN_OR_RETURN(PluginRegistry * registry, process_registry());
    return attach_engine_plugins(graph, *registry);
}

}  // namespace plugins

Status load_plugin_library(const std::string& path) {
    RT_ASSIGN_OR_RETURN(plugins::PluginRegistry * registry, plugins::process_registry());
    return registry->load_library(path);
}

}  // namespace rtinfer
