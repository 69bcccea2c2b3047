// Connected elementwise nodes become one rtinfer.PointwiseChain (core/ir/pointwise_chain.h), so that a chain
// such as Mul -> Add -> Sigmoid -> Mul reads its inputs once and writes one tensor instead of a round trip
// through memory per node. A group grows from its last node (the sink) up through producers whose output
// only group members read and that is no graph output; every member's output has the sink's shape and dtype
// (float32 or float16), so intermediate values live in registers and nothing is computed twice. Other
// operands are the node's inputs, read broadcast to that shape; constants of one element become immediates
// and Clip's constant bounds parameters. Nodes with rt_* fusion attributes, Cast, Where and anything that is
// not plainly elementwise stay as they are.
#include <algorithm>
#include <limits>
#include <optional>
#include <set>
#include <unordered_map>

#include "core/ir/op.h"
#include "core/ir/pointwise_chain.h"
#include "core/ir/shape_util.h"
#include "core/passes/passes.h"

namespace rtinfer::passes {

namespace {

using ir::PointwiseOp;

// One operand of a step, before slots are assigned.
struct Operand {
    enum Kind { kNone, kValue, kImmediate, kPrevious } kind = kNone;  // kPrevious: the node's step before
    std::string name;
    float value = 0.0f;
};

struct Term {
    PointwiseOp op = PointwiseOp::kRelu;
    Operand a, b;
    float p0 = 0.0f, p1 = 0.0f;
};

bool is_float(DataType t) {
    return t == DataType::kFloat32 || t == DataType::kFloat16;
}

bool has_fusion_attribute(const ir::Node& n) {
    for (const auto& [key, attr] : n.attrs) {
        if (key.compare(0, 3, "rt_") == 0) return true;
    }
    return false;
}

// A one-element numeric constant whose value a float holds exactly (Pow's exponent may be an integer).
std::optional<float> scalar_constant(const ir::Value& v) {
    if (!v.is_constant() || v.constant.numel() != 1 || v.dtype == DataType::kBool) return std::nullopt;
    const double d = ir::to_doubles(v.constant)[0];
    if (static_cast<double>(static_cast<float>(d)) != d) return std::nullopt;
    return static_cast<float>(d);
}

// Operand `name` of a node whose output has type `dtype`: a run-time value or constant of that type, or an
// immediate.
std::optional<Operand> operand(const ir::Graph& g, const std::string& name, DataType dtype, bool immediates = true) {
    const ir::Value* v = name.empty() ? nullptr : g.find(name);
    if (!v || !v->shape_known) return std::nullopt;
    Operand op;
    if (auto c = immediates ? scalar_constant(*v) : std::nullopt) {
        op.kind = Operand::kImmediate;
        op.value = *c;
        return op;
    }
    if (v->dtype != dtype) return std::nullopt;
    op.kind = Operand::kValue;
    op.name = name;
    return op;
}

// Clip's bound input i (from opset 11): absent or empty leaves `bound`; otherwise a constant scalar.
bool clip_bound(const ir::Graph& g, const ir::Node& n, size_t i, float* bound) {
    if (i >= n.inputs.size() || n.inputs[i].empty()) return true;
    const ir::Value* v = g.find(n.inputs[i]);
    if (!v || !v->is_constant()) return false;
    if (v->constant.numel() == 0) return true;
    auto c = scalar_constant(*v);
    if (!c) return false;
    *bound = *c;
    return true;
}

// The step an ONNX op becomes (Sum adds).
std::optional<PointwiseOp> pointwise_op(const std::string& op) {
    static const std::unordered_map<std::string, PointwiseOp> ops = {
        {"Relu", PointwiseOp::kRelu},
        {"Sigmoid", PointwiseOp::kSigmoid},
        {"Tanh", PointwiseOp::kTanh},
        {"Exp", PointwiseOp::kExp},
        {"Log", PointwiseOp::kLog},
        {"Sqrt", PointwiseOp::kSqrt},
        {"Abs", PointwiseOp::kAbs},
        {"Neg", PointwiseOp::kNeg},
        {"Erf", PointwiseOp::kErf},
        {"Reciprocal", PointwiseOp::kReciprocal},
        {"Clip", PointwiseOp::kClip},
        {"LeakyRelu", PointwiseOp::kLeakyRelu},
        {"HardSigmoid", PointwiseOp::kHardSigmoid},
        {"HardSwish", PointwiseOp::kHardSwish},
        {"Gelu", PointwiseOp::kGelu},
        {"Softplus", PointwiseOp::kSoftplus},
        {"Elu", PointwiseOp::kElu},
        {"Selu", PointwiseOp::kSelu},
        {"Softsign", PointwiseOp::kSoftsign},
        {"Mish", PointwiseOp::kMish},
        {"Add", PointwiseOp::kAdd},
        {"Sub", PointwiseOp::kSub},
        {"Mul", PointwiseOp::kMul},
        {"Div", PointwiseOp::kDiv},
        {"Pow", PointwiseOp::kPow},
        {"PRelu", PointwiseOp::kPRelu},
        {"Max", PointwiseOp::kMax},
        {"Min", PointwiseOp::kMin},
        {"Sum", PointwiseOp::kAdd},
    };
    auto it = ops.find(op);
    return it == ops.end() ? std::nullopt : std::optional<PointwiseOp>(it->second);
}

// The steps node n computes, or nothing when it cannot join a chain. Max, Min and Sum of k inputs fold left to
// right in k - 1 steps, as their kernels do.
std::optional<std::vector<Term>> translate(const ir::Graph& g, const ir::Node& n, int64_t opset) {
    if (!n.domain.empty() || n.outputs.size() != 1 || n.outputs[0].empty() || n.inputs.empty() ||
        has_fusion_attribute(n)) {
        return std::nullopt;
    }
    const ir::Value* out = g.find(n.outputs[0]);
    if (!out || !out->shape_known || !is_float(out->dtype)) return std::nullopt;
    const DataType dtype = out->dtype;
    const std::optional<PointwiseOp> op = pointwise_op(n.op_type);
    if (!op) return std::nullopt;
    if (!ir::is_binary(*op)) {
        const bool clip = *op == PointwiseOp::kClip;
        if (n.inputs.size() != 1 && !(clip && opset >= 11 && n.inputs.size() <= 3)) return std::nullopt;
        auto x = operand(g, n.inputs[0], dtype);
        if (!x || x->kind != Operand::kValue) return std::nullopt;
        Term t;
        t.op = *op;
        t.a = *x;
        switch (*op) {
            case PointwiseOp::kClip:
                t.p0 = std::numeric_limits<float>::lowest();
                t.p1 = std::numeric_limits<float>::max();
                if (opset < 11) {
                    t.p0 = n.attr_float("min", t.p0);
                    t.p1 = n.attr_float("max", t.p1);
                } else if (!clip_bound(g, n, 1, &t.p0) || !clip_bound(g, n, 2, &t.p1)) {
                    return std::nullopt;
                }
                break;
            case PointwiseOp::kLeakyRelu:
                t.p0 = n.attr_float("alpha", 0.01f);
                break;
            case PointwiseOp::kHardSigmoid:
                t.p0 = n.attr_float("alpha", 0.2f);
                t.p1 = n.attr_float("beta", 0.5f);
                break;
            case PointwiseOp::kElu:
                t.p0 = n.attr_float("alpha", 1.0f);
                break;
            case PointwiseOp::kSelu:
                t.p0 = n.attr_float("alpha", 1.67326319217681884765625f);
                t.p1 = n.attr_float("gamma", 1.05070102214813232421875f);
                break;
            case PointwiseOp::kGelu: {
                const std::string approx = n.attr_string("approximate", "none");
                if (approx != "none" && approx != "tanh") return std::nullopt;
                if (approx == "tanh") t.op = PointwiseOp::kGeluTanh;
                break;
            }
            default:
                break;
        }
        return std::vector<Term>{t};
    }
    const bool variadic = n.op_type == "Max" || n.op_type == "Min" || n.op_type == "Sum";
    if (n.inputs.size() < 2 || (!variadic && n.inputs.size() != 2)) return std::nullopt;
    // A one-element constant of higher rank than the rest widens the output; it then stays an input, so that
    // the chain's output shape is the broadcast of its inputs.
    for (bool immediates : {true, false}) {
        std::vector<Term> terms;
        ir::Shape shape;
        bool ok = true;
        for (size_t i = 0; i < n.inputs.size() && ok; ++i) {
            auto x = operand(g, n.inputs[i], dtype, immediates);
            ok = x.has_value();
            if (!ok) break;
            if (x->kind == Operand::kValue) {
                auto b = ir::broadcast_shapes(shape, g.at(x->name).shape);
                ok = b.has_value();
                if (ok) shape = *b;
            }
            if (i == 0) {
                Term t;
                t.op = *op;
                t.a = *x;
                terms.push_back(t);
                continue;
            }
            Term& t = i == 1 ? terms.back() : terms.emplace_back();
            t.op = *op;
            if (i > 1) t.a.kind = Operand::kPrevious;
            t.b = *x;
            ok = !(t.a.kind == Operand::kImmediate && t.b.kind == Operand::kImmediate);
            if (t.a.kind == Operand::kImmediate) t.p0 = t.a.value;
            if (t.b.kind == Operand::kImmediate) t.p1 = t.b.value;
        }
        if (ok && shape == out->shape) return terms;
    }
    return std::nullopt;
}

// Values that nodes inside subgraphs (If, Loop, Scan bodies) read: they must stay materialized.
void subgraph_reads(const ir::Graph& g, std::set<std::string>& names) {
    for (const ir::Node& n : g.nodes) {
        for (const auto& [key, attr] : n.attrs) {
            if (attr.kind != ir::Attribute::Kind::kGraph || !attr.g) continue;
            for (const ir::Node& inner : attr.g->nodes) names.insert(inner.inputs.begin(), inner.inputs.end());
            subgraph_reads(*attr.g, names);
        }
    }
}

class ChainFinder {
public:
    explicit ChainFinder(const ir::Graph& g) : g_(g), group_(g.nodes.size(), -1), terms_(g.nodes.size()) {
        const int64_t opset = g.opset("");
        for (size_t i = 0; i < g.nodes.size(); ++i) {
            terms_[i] = translate(g, g.nodes[i], opset);
            for (const auto& in : g.nodes[i].inputs) {
                if (!in.empty()) consumers_[in].push_back(i);
            }
        }
        producers_ = g.producers();
        escaping_.insert(g.outputs.begin(), g.outputs.end());
        subgraph_reads(g, escaping_);
    }

    // The members of the group whose sink is node `sink`, in graph order; fewer than two when none forms.
    std::vector<size_t> grow(size_t sink) {
        if (!terms_[sink] || group_[sink] != -1) return {};
        const int id = static_cast<int>(sink);
        std::vector<size_t> members = {sink};
        group_[sink] = id;
        const ir::Value& out = g_.at(g_.nodes[sink].outputs[0]);
        size_t steps = terms_[sink]->size();
        // Adding a member can make another one's output private to the group (a diamond): repeat until stable.
        for (bool grown = true; grown;) {
            grown = false;
            for (size_t m = 0; m < members.size(); ++m) {
                for (const std::string& v : value_operands(members[m])) {
                    auto p = producers_.find(v);
                    if (p == producers_.end()) continue;
                    const size_t pi = p->second;
                    if (!terms_[pi] || group_[pi] != -1 || escaping_.count(v) != 0) continue;
                    const auto& readers = consumers_.at(v);
                    if (!std::all_of(readers.begin(), readers.end(), [&](size_t r) { return group_[r] == id; })) {
                        continue;
                    }
                    const ir::Value& pv = g_.at(v);
                    if (pv.dtype != out.dtype || pv.shape != out.shape) continue;
                    if (steps + terms_[pi]->size() > static_cast<size_t>(ir::kMaxChainSteps)) continue;
                    members.push_back(pi);
                    if (external_inputs(members).size() > static_cast<size_t>(ir::kMaxChainInputs)) {
                        members.pop_back();
                        continue;
                    }
                    group_[pi] = id;
                    steps += terms_[pi]->size();
                    grown = true;
                }
            }
        }
        std::sort(members.begin(), members.end());
        return members;
    }

    // Group members' run-time operands that no member produces, in the order the program first reads them.
    std::vector<std::string> external_inputs(const std::vector<size_t>& members) const {
        std::set<std::string> produced;
        for (size_t m : members) produced.insert(g_.nodes[m].outputs[0]);
        std::vector<size_t> ordered = members;
        std::sort(ordered.begin(), ordered.end());
        std::vector<std::string> inputs;
        for (size_t m : ordered) {
            for (const std::string& v : value_operands(m)) {
                if (!produced.count(v) && std::find(inputs.begin(), inputs.end(), v) == inputs.end()) {
                    inputs.push_back(v);
                }
            }
        }
        return inputs;
    }

    // The program of a group (members in graph order, the sink last) over its external inputs.
    std::vector<ir::PointwiseStep> program(const std::vector<size_t>& members,
                                           const std::vector<std::string>& inputs) const {
        std::unordered_map<std::string, int> slot;
        for (size_t k = 0; k < inputs.size(); ++k) slot[inputs[k]] = static_cast<int>(k);
        std::vector<ir::PointwiseStep> steps;
        for (size_t m : members) {
            for (const Term& t : *terms_[m]) {
                const int previous = static_cast<int>(inputs.size() + steps.size()) - 1;
                const auto resolve = [&](const Operand& o) {
                    switch (o.kind) {
                        case Operand::kValue: return slot.at(o.name);
                        case Operand::kImmediate: return ir::kImmediate;
                        case Operand::kPrevious: return previous;
                        case Operand::kNone: break;
                    }
                    return ir::kNoOperand;
                };
                ir::PointwiseStep s;
                s.op = t.op;
                s.a = resolve(t.a);
                s.b = resolve(t.b);
                s.p0 = t.p0;
                s.p1 = t.p1;
                steps.push_back(s);
            }
            slot[g_.nodes[m].outputs[0]] = static_cast<int>(inputs.size() + steps.size()) - 1;
        }
        return steps;
    }

private:
    std::vector<std::string> value_operands(size_t node) const {
        std::vector<std::string> names;
        for (const Term& t : *terms_[node]) {
            for (const Operand* o : {&t.a, &t.b}) {
                if (o->kind == Operand::kValue) names.push_back(o->name);
            }
        }
        return names;
    }

    const ir::Graph& g_;
    std::vector<int> group_;  // the sink's index for members, -1 for nodes not (yet) in a group
    std::vector<std::optional<std::vector<Term>>> terms_;
    std::unordered_map<std::string, std::vector<size_t>> consumers_;
    std::unordered_map<std::string, size_t> producers_;
    std::set<std::string> escaping_;
};

}  // namespace

Status fuse_pointwise_chain(ir::Graph& graph, int* chains, int* nodes) {
    int chain_count = 0, node_count = 0;
    std::vector<bool> drop(graph.nodes.size(), false);
    std::vector<std::pair<size_t, ir::Node>> fused;
    {
        ChainFinder finder(graph);
        // From the last node up: a group's sink is the last of its members, so every producer it can absorb
        // is still free when the sink is reached.
        for (size_t i = graph.nodes.size(); i-- > 0;) {
            const std::vector<size_t> members = finder.grow(i);
            if (members.size() < 2) continue;
            const std::vector<std::string> inputs = finder.external_inputs(members);
            const ir::Node& sink = graph.nodes[i];
            ir::Node node;
            node.name = sink.name;
            node.op_type = "PointwiseChain";
            node.domain = ir::kRtinferDomain;
            node.inputs = inputs;
            node.outputs = {sink.outputs[0]};
            ir::write_pointwise_program(node, finder.program(members, inputs));
            ir::Attribute names;
            names.kind = ir::Attribute::Kind::kString;
            for (size_t m : members) names.s += (names.s.empty() ? "" : "+") + graph.nodes[m].op_type;
            node.attrs["fused_ops"] = names;
            fused.emplace_back(i, std::move(node));
            for (size_t m : members) drop[m] = m != i;
            ++chain_count;
            node_count += static_cast<int>(members.size());
        }
    }
    for (auto& [i, node] : fused) graph.nodes[i] = std::move(node);
    std::vector<ir::Node> kept;
    kept.reserve(graph.nodes.size());
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
        if (!drop[i]) {
            kept.push_back(std::move(graph.nodes[i]));
            continue;
        }
        graph.erase_value(graph.nodes[i].outputs[0]);  // a member's output lives only in registers now
    }
    graph.nodes = std::move(kept);
    if (chain_count > 0 && graph.opset(ir::kRtinferDomain) == 0) graph.opsets[ir::kRtinferDomain] = 1;
    if (chains) *chains = chain_count;
    if (nodes) *nodes = node_count;
    // Constants that became immediates or Clip bounds may have no reader left.
    return chain_count > 0 ? remove_dead_nodes(graph) : Status();
}

}  // namespace rtinfer::passes
