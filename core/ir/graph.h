// The graph IR: values (tensors) named by string, nodes in topological order, opset per domain.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ir/attribute.h"
#include "core/ir/tensor.h"

namespace rtinfer::plugins {
class PluginLayer;  // core/plugins: a plugin instance (the IR only carries it)
}

namespace rtinfer::ir {

// The domain of plugin layers: every kernel lookup for it finds the plugin kernel (core/plugins).
constexpr const char* kPluginDomain = "rtinfer.plugin";

// A tensor of the graph: a graph input, an initializer/constant, or a node output.
struct Value {
    std::string name;
    DType dtype = DType::kUndefined;
    Shape shape;               // valid when shape_known
    bool shape_known = false;  // false for data-dependent shapes (NonZero, ...) until run time
    Tensor constant;           // defined for initializers and folded constants
    bool is_constant() const { return constant.defined(); }
};

struct Node {
    std::string name;
    std::string op_type;
    std::string domain;                // "" is the default ONNX domain
    std::vector<std::string> inputs;   // value names; "" marks an omitted optional input
    std::vector<std::string> outputs;  // value names; "" marks an omitted optional output
    std::map<std::string, Attribute> attrs;
    // Set on plugin layers (domain "rtinfer.plugin"): the instance that infers and runs them, shared by
    // every copy of the graph. Engines store the instance's bytes in attrs and re-create it on load.
    std::shared_ptr<const plugins::PluginLayer> plugin;

    bool has_attr(const std::string& key) const { return attrs.count(key) != 0; }
    const Attribute* attr(const std::string& key) const;
    int64_t attr_int(const std::string& key, int64_t fallback) const;
    float attr_float(const std::string& key, float fallback) const;
    std::string attr_string(const std::string& key, const std::string& fallback) const;
    std::vector<int64_t> attr_ints(const std::string& key, const std::vector<int64_t>& fallback = {}) const;
    std::vector<float> attr_floats(const std::string& key, const std::vector<float>& fallback = {}) const;
    // "node 'conv1' (Conv)" — how errors name a node.
    std::string describe() const;
};

class Graph {
public:
    std::string name;
    std::vector<Node> nodes;           // topological order once topo_sort() succeeded
    std::vector<std::string> inputs;   // runtime inputs (no initializers)
    std::vector<std::string> outputs;
    std::map<std::string, int64_t> opsets;  // domain -> version

    Value& add_value(const std::string& name);  // returns the existing value if there is one
    Value* find(const std::string& name);
    const Value* find(const std::string& name) const;
    Value& at(const std::string& name) { return *find(name); }
    const Value& at(const std::string& name) const { return *find(name); }
    void erase_value(const std::string& name) { values_.erase(name); }
    const std::unordered_map<std::string, Value>& values() const { return values_; }
    std::unordered_map<std::string, Value>& values() { return values_; }

    int64_t opset(const std::string& domain) const;
    // Orders nodes so each comes after the producers of its inputs; fails on a cycle or a missing value.
    Status topo_sort();
    // Checks names are unique, every input is produced or constant or a graph input, outputs exist.
    Status validate() const;
    // A name not used yet, from a prefix.
    std::string unique_name(const std::string& prefix) const;
    // Index of the node producing each value.
    std::unordered_map<std::string, size_t> producers() const;
    // How many nodes (and graph outputs) read each value.
    std::unordered_map<std::string, int> use_counts() const;

private:
    std::unordered_map<std::string, Value> values_;
};

}  // namespace rtinfer::ir
