// Plugin layers in a graph: mapping ONNX nodes to plugins at build time, re-creating the instances of a
// loaded engine's plugin layers.
#pragma once

#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "core/ir/op.h"
#include "core/plugins/plugin_registry.h"

namespace rtinfer::plugins {

struct MappingFailure {
    std::string node_name;
    Status status;
};

// Makes every node of the main graph that maps to a plugin (rule in rtinfer/plugin.h) a plugin layer: its
// instance is created from the node's attributes and attached, its domain becomes kPluginDomain, and its
// attributes are replaced by the plugin's version, namespace and serialized bytes. `builtins` tells which
// ops rtinfer runs itself. With `failures`, a node whose plugin refuses it is recorded there and left as it
// was; without, the first such error is returned. Errors name the node and the plugin.
Status map_plugin_nodes(ir::Graph& graph, const PluginRegistry& registry, const ir::OpRegistry& builtins,
                        std::vector<MappingFailure>* failures = nullptr);

// The same with the process registry, after loading `libraries` into it. Touches the registry (and so loads
// RTINFER_PLUGIN_PATH and the built-in plugins) only when a node may need a plugin or libraries are given.
Status map_plugin_nodes(ir::Graph& graph, const std::vector<std::string>& libraries, const ir::OpRegistry& builtins,
                        std::vector<MappingFailure>* failures = nullptr);

// Re-creates the instance of every plugin layer of an engine's graph from its stored bytes. A plugin that
// is not loaded, or loaded in another version, fails naming the plugin and the layer.
Status attach_engine_plugins(ir::Graph& graph, const PluginRegistry& registry);
// The same with the process registry (touched only when the graph has plugin layers).
Status attach_engine_plugins(ir::Graph& graph);

}  // namespace rtinfer::plugins
