#include "core/ir/graph.h"

#include <queue>
#include <unordered_set>

namespace rtinfer::ir {

const Attribute* Node::attr(const std::string& key) const {
    auto it = attrs.find(key);
    return it == attrs.end() ? nullptr : &it->second;
}

int64_t Node::attr_int(const std::string& key, int64_t fallback) const {
    const Attribute* a = attr(key);
    return a ? a->i : fallback;
}

float Node::attr_float(const std::string& key, float fallback) const {
    const Attribute* a = attr(key);
    return a ? a->f : fallback;
}

std::string Node::attr_string(const std::string& key, const std::string& fallback) const {
    const Attribute* a = attr(key);
    return a ? a->s : fallback;
}

std::vector<int64_t> Node::attr_ints(const std::string& key, const std::vector<int64_t>& fallback) const {
    const Attribute* a = attr(key);
    return a ? a->ints : fallback;
}

std::vector<float> Node::attr_floats(const std::string& key, const std::vector<float>& fallback) const {
    const Attribute* a = attr(key);
    return a ? a->floats : fallback;
}

std::string Node::describe() const {
    // A plugin layer's domain is rtinfer's own; its op type is the plugin's name.
    std::string op = domain.empty() ? op_type : domain == kPluginDomain ? "plugin " + op_type : domain + "::" + op_type;
    return "node '" + name + "' (" + op + ")";
}

Value& Graph::add_value(const std::string& name) {
    Value& v = values_[name];
    v.name = name;
    return v;
}

Value* Graph::find(const std::string& name) {
    auto it = values_.find(name);
    return it == values_.end() ? nullptr : &it->second;
}

const Value* Graph::find(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? nullptr : &it->second;
}

int64_t Graph::opset(const std::string& domain) const {
    auto it = opsets.find(domain);
    return it == opsets.end() ? 0 : it->second;
}

std::unordered_map<std::string, size_t> Graph::producers() const {
    std::unordered_map<std::string, size_t> map;
    for (size_t i = 0; i < nodes.size(); ++i) {
        for (const auto& out : nodes[i].outputs) {
            if (!out.empty()) map[out] = i;
        }
    }
    return map;
}

std::unordered_map<std::string, int> Graph::use_counts() const {
    std::unordered_map<std::string, int> uses;
    for (const auto& node : nodes) {
        for (const auto& in : node.inputs) {
            if (!in.empty()) ++uses[in];
        }
    }
    for (const auto& out : outputs) ++uses[out];
    return uses;
}

Status Graph::topo_sort() {
    const auto producer = producers();
    const size_t n = nodes.size();
    std::vector<int> pending(n, 0);
    std::vector<std::vector<size_t>> consumers(n);
    for (size_t i = 0; i < n; ++i) {
        for (const auto& in : nodes[i].inputs) {
            if (in.empty()) continue;
            auto it = producer.find(in);
            if (it == producer.end()) {
                const Value* v = find(in);
                if (!v) return Status(StatusCode::kInvalidModel, nodes[i].describe() + ": input '" + in + "' is not produced by any node, nor a graph input or initializer");
                continue;
            }
            ++pending[i];
            consumers[it->second].push_back(i);
        }
    }
    // Kahn's algorithm, keeping the original order among ready nodes so results are deterministic.
    std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;
    for (size_t i = 0; i < n; ++i) {
        if (pending[i] == 0) ready.push(i);
    }
    std::vector<Node> sorted;
    sorted.reserve(n);
    while (!ready.empty()) {
        size_t i = ready.top();
        ready.pop();
        sorted.push_back(std::move(nodes[i]));
        for (size_t c : consumers[i]) {
            if (--pending[c] == 0) ready.push(c);
        }
    }
    if (sorted.size() != n) {
        for (size_t i = 0; i < n; ++i) {
            if (pending[i] > 0) return Status(StatusCode::kInvalidModel, nodes[i].describe() + ": the graph has a cycle through this node");
        }
    }
    nodes = std::move(sorted);
    return Status();
}

Status Graph::validate() const {
    std::unordered_set<std::string> defined;
    for (const auto& in : inputs) {
        if (!find(in)) return Status(StatusCode::kInvalidModel, "graph input '" + in + "' has no value");
        defined.insert(in);
    }
    for (const auto& [name, v] : values_) {
        if (v.is_constant()) defined.insert(name);
    }
    std::unordered_set<std::string> node_names;
    for (const auto& node : nodes) {
        if (!node.name.empty() && !node_names.insert(node.name).second) {
            return Status(StatusCode::kInvalidModel, node.describe() + ": node name is used twice");
        }
        for (const auto& in : node.inputs) {
            if (!in.empty() && !defined.count(in)) {
                return Status(StatusCode::kInvalidModel, node.describe() + ": input '" + in + "' is used before it is produced");
            }
        }
        for (const auto& out : node.outputs) {
            if (out.empty()) continue;
            if (!find(out)) return Status(StatusCode::kInvalidModel, node.describe() + ": output '" + out + "' has no value");
            if (!defined.insert(out).second) {
                return Status(StatusCode::kInvalidModel, node.describe() + ": output '" + out + "' is produced twice");
            }
        }
    }
    for (const auto& out : outputs) {
        if (!defined.count(out)) return Status(StatusCode::kInvalidModel, "graph output '" + out + "' is never produced");
    }
    return Status();
}

std::string Graph::unique_name(const std::string& prefix) const {
    if (!find(prefix)) return prefix;
    for (int i = 1;; ++i) {
        std::string candidate = prefix + "_" + std::to_string(i);
        if (!find(candidate)) return candidate;
    }
}

}  // namespace rtinfer::ir
