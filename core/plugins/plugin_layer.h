// A plugin instance as one layer of a graph: the rt_plugin a creator made, wrapped so that rtinfer talks
// to it with Status values and its own types. Immutable once made and shared by every copy of the graph
// and every execution context (the ABI lets several threads call one instance).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "core/ir/op.h"
#include "core/plugins/plugin_library.h"

namespace rtinfer::plugins {

// The domain plugin layers are given once mapped, so that every kernel lookup finds the plugin kernel.
// The op type stays the plugin's name; its own namespace is kept in the kNamespaceAttr attribute.
constexpr const char* kPluginDomain = ir::kPluginDomain;
constexpr const char* kVersionAttr = "rt_plugin_version";
constexpr const char* kNamespaceAttr = "rt_plugin_namespace";
constexpr const char* kDataAttr = "rt_plugin_data";  // the instance's serialized bytes (uint8 tensor)

bool is_plugin_node(const ir::Node& node);

// rtinfer's types <-> the ABI's. kUnsupported for a rank above RT_PLUGIN_MAX_RANK.
Expected<rt_plugin_tensor_desc> to_plugin_desc(DataType dtype, const ir::Shape& shape);
DataType from_plugin_dtype(int32_t dtype);

class PluginLayer {
public:
    // An instance for `node` from its ONNX attributes, which are checked against the creator's fields
    // first. Errors name the node, the attribute and the plugin.
    static Expected<std::shared_ptr<const PluginLayer>> create(const PluginCreator& creator, const ir::Node& node);
    // An instance from the bytes an engine stored for layer `layer`.
    static Expected<std::shared_ptr<const PluginLayer>> deserialize(const PluginCreator& creator,
                                                                    const std::string& layer, const void* data,
                                                                    size_t size);
    ~PluginLayer();
    PluginLayer(const PluginLayer&) = delete;
    PluginLayer& operator=(const PluginLayer&) = delete;

    const PluginCreator& creator() const { return creator_; }
    int num_outputs() const { return num_outputs_; }
    bool has_cpu() const { return api_->enqueue_cpu != nullptr; }
    bool has_cuda() const { return api_->enqueue_cuda != nullptr; }

    // Output types and shapes from the inputs', then whether the plugin runs with all of them.
    Status infer(const std::vector<ir::InputInfo>& inputs, std::vector<rt_plugin_tensor_desc>& in_descs,
                 std::vector<rt_plugin_tensor_desc>& out_descs) const;
    size_t workspace_size(const std::vector<rt_plugin_tensor_desc>& in_descs,
                          const std::vector<rt_plugin_tensor_desc>& out_descs) const;
    Expected<std::vector<uint8_t>> serialize() const;
    // Runs the layer; io->stream null selects the CPU path. Errors carry the plugin's message.
    Status enqueue(const rt_plugin_io& io, bool cuda) const;

private:
    PluginLayer(PluginCreator creator, rt_plugin* api, std::string layer);
    static Expected<std::shared_ptr<const PluginLayer>> adopt(const PluginCreator& creator, rt_plugin* api,
                                                              const std::string& layer, const std::string& message,
                                                              StatusCode invalid_code);
    std::string who() const;

    PluginCreator creator_;  // holds the library open while the instance lives
    rt_plugin* api_;
    std::string layer_;
    int num_outputs_ = 0;
};

// Turns a plugin's result code and message into a Status ("prefix: message").
Status plugin_status(int32_t code, const char* message, StatusCode invalid_code, const std::string& prefix);

// The reference-backend kernel every plugin layer runs through (CPU enqueue); registered for kPluginDomain.
const ir::OpKernel& plugin_reference_kernel();

}  // namespace rtinfer::plugins
