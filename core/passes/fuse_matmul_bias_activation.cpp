// MatMul(X, W) + Add(bias) [+ activation] becomes one node, as transformers' linear layers are exported: W a
// constant matrix [K, N], the bias a constant broadcastable as [N]. X of rank 2 gives a Gemm(X, W, bias); a
// higher rank gives rtinfer.MatMulBias(X, W, bias), one [prod(leading dims), K] x [K, N] product. The activation
// that alone consumes the sum is kept as rt_fused_activation: Relu, Gelu (kGelu for approximate="none", kGeluTanh
// for "tanh": backends must know which, cuBLASLt's GELU epilogue being the tanh form) and GELU as torch exports
// it below opset 20, Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5). X of unknown shape also gives a
// MatMulBias. A Gemm likewise takes the activation
// after it, and a bias Add when it has no C. Backends apply bias and activation in the product's epilogue.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "core/ir/fused_activation.h"
#include "core/ir/op.h"
#include "core/passes/passes.h"

namespace rtinfer::passes {

namespace {

using Consumers = std::unordered_map<std::string, std::vector<size_t>>;
using Uses = std::unordered_map<std::string, int>;

struct Matcher {
    const ir::Graph& g;
    const Consumers& consumers;
    Uses& uses;
    const std::vector<bool>& drop;

    bool is_graph_output(const std::string& name) const {
        return std::find(g.outputs.begin(), g.outputs.end(), name) != g.outputs.end();
    }
    // v is read by exactly `count` live nodes and is no graph output.
    bool private_value(const std::string& v, size_t count) const {
        if (is_graph_output(v)) return false;
        auto it = consumers.find(v);
        if (it == consumers.end() || it->second.size() != count) return false;
        for (size_t k : it->second) {
            if (drop[k]) return false;
        }
        auto u = uses.find(v);
        return u != uses.end() && u->second == static_cast<int>(count);
    }
    // The one node reading v, when v is private to it.
    const ir::Node* only_consumer(const std::string& v, size_t* index) const {
        if (!private_value(v, 1)) return nullptr;
        *index = consumers.at(v)[0];
        const ir::Node& n = g.nodes[*index];
        return n.domain.empty() ? &n : nullptr;
    }
    // A constant of one element that cannot widen the other operand (rank <= `rank`).
    bool scalar_constant(const std::string& name, size_t rank, double* v) const {
        const ir::Value* val = g.find(name);
        if (!val || !val->is_constant() || val->constant.numel() != 1 || val->constant.shape().size() > rank) {
            return false;
        }
        *v = ir::to_doubles(val->constant)[0];
        return true;
    }
    // Node n is a binary op of x and a constant near `expected`; *other receives the constant's name.
    bool binary_with_constant(const ir::Node& n, const std::string& x, size_t rank, double expected,
                              bool commutative) const {
        if (n.inputs.size() != 2) return false;
        double c = 0;
        bool ok = n.inputs[0] == x && scalar_constant(n.inputs[1], rank, &c);
        if (!ok && commutative) ok = n.inputs[1] == x && scalar_constant(n.inputs[0], rank, &c);
        return ok && std::fabs(c - expected) <= 1e-6 * std::fabs(expected);
    }

    // The GELU subgraph reading v (its only two readers: the Div and the first Mul); the nodes to drop and the
    // value it yields.
    bool erf_gelu(const std::string& v, size_t rank, std::vector<size_t>* absorbed, std::string* result) const {
        if (!private_value(v, 2)) return false;
        const auto& readers = consumers.at(v);
        for (int first = 0; first < 2; ++first) {
            const size_t scale_i = readers[first], mul_i = readers[1 - first];
            if (scale_i == mul_i) return false;
            const ir::Node& scale = g.nodes[scale_i];
            if (!scale.domain.empty()) continue;
            const bool div = scale.op_type == "Div" && binary_with_constant(scale, v, rank, std::sqrt(2.0), false);
            const bool mul = scale.op_type == "Mul" && binary_with_constant(scale, v, rank, std::sqrt(0.5), true);
            if (!div && !mul) continue;
            size_t erf_i = 0, add_i = 0, mul2_i = 0, half_i = 0;
            const ir::Node* erf = only_consumer(scale.outputs[0], &erf_i);
            if (!erf || erf->op_type != "Erf") continue;
            const ir::Node* add = only_consumer(erf->outputs[0], &add_i);
            if (!add || add->op_type != "Add" || !binary_with_constant(*add, erf->outputs[0], rank, 1.0, true)) continue;
            const ir::Node* mul2 = only_consumer(add->outputs[0], &mul2_i);
            if (!mul2 || mul2_i != mul_i || mul2->op_type != "Mul" || mul2->inputs.size() != 2) continue;
            const bool pair = (mul2->inputs[0] == v && mul2->inputs[1] == add->outputs[0]) ||
                              (mul2->inputs[1] == v && mul2->inputs[0] == add->outputs[0]);
            if (!pair) continue;
            const ir::Node* half = only_consumer(mul2->outputs[0], &half_i);
            if (!half || half->op_type != "Mul" || !binary_with_constant(*half, mul2->outputs[0], rank, 0.5, true)) {
                continue;
            }
            *absorbed = {scale_i, erf_i, add_i, mul2_i, half_i};
            *result = half->outputs[0];
            return true;
        }
        return false;
    }

    // The activation applied to v alone, if one we fuse.
    bool activation(const std::string& v, size_t rank, ir::FusedActivation* act, std::vector<size_t>* absorbed,
                    std::string* result) const {
        size_t i = 0;
        if (const ir::Node* n = only_consumer(v, &i)) {
            const std::string approx = n->attr_string("approximate", "none");
            const bool gelu = n->op_type == "Gelu" && (approx == "none" || approx == "tanh");
            if (n->op_type == "Relu" || gelu) {
                *act = !gelu ? ir::FusedActivation::kRelu
                             : (approx == "tanh" ? ir::FusedActivation::kGeluTanh : ir::FusedActivation::kGelu);
                *absorbed = {i};
                *result = n->outputs[0];
                return true;
            }
            return false;
        }
        if (erf_gelu(v, rank, absorbed, result)) {
            *act = ir::FusedActivation::kGelu;
            return true;
        }
        return false;
    }

    // The Add reading v alone with a constant bias broadcastable as [n] that does not widen v (rank `rank`).
    bool bias_add(const std::string& v, size_t rank, int64_t n, size_t* add_i, std::string* bias) const {
        const ir::Node* add = only_consumer(v, add_i);
        if (!add || add->op_type != "Add" || add->inputs.size() != 2) return false;
        const std::string& other = add->inputs[0] == v ? add->inputs[1] : add->inputs[0];
        if (other == v) return false;
        const ir::Value* b = g.find(other);
        if (!b || !b->is_constant() || b->constant.shape().size() > rank) return false;
        const ir::Shape& s = b->constant.shape();
        for (size_t d = 0; d + 1 < s.size(); ++d) {
            if (s[d] != 1) return false;
        }
        if (b->constant.numel() != 1 && (s.empty() || s.back() != n)) return false;
        *bias = other;
        return true;
    }
};

// The bias as a constant [n] of `dtype`: the value itself when it already is one, else a new constant.
Expected<std::string> bias_vector(ir::Graph& g, const std::string& name, int64_t n, DataType dtype) {
    const ir::Value& b = g.at(name);
    if (b.constant.shape() == ir::Shape{n} && b.dtype == dtype) return name;
    const std::vector<double> v = ir::to_doubles(b.constant);
    ir::Tensor f(DataType::kFloat64, {n});
    for (int64_t i = 0; i < n; ++i) f.data<double>()[i] = v.size() == 1 ? v[0] : v[static_cast<size_t>(i)];
    RT_ASSIGN_OR_RETURN(ir::Tensor t, ir::cast_tensor(f, dtype));
    const std::string out = g.unique_name(name + "_row");
    ir::Value& val = g.add_value(out);
    val.dtype = dtype;
    val.shape = {n};
    val.shape_known = true;
    val.constant = t;
    return out;
}

bool float_type(DataType t) {
    return t == DataType::kFloat32 || t == DataType::kFloat16 || t == DataType::kFloat64;
}

}  // namespace

Status fuse_matmul_bias_activation(ir::Graph& graph, int* fused) {
    int count = 0;
    auto uses = graph.use_counts();
    Consumers consumers;
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
        for (const auto& in : graph.nodes[i].inputs) {
            if (!in.empty()) consumers[in].push_back(i);
        }
    }
    std::vector<bool> drop(graph.nodes.size(), false);
    Matcher m{graph, consumers, uses, drop};
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
        if (drop[i]) continue;
        ir::Node& node = graph.nodes[i];
        // A MatMul with a transposed operand (fold_reshape_transpose) has no MatMulBias or Gemm form here.
        const bool matmul = node.op_type == "MatMul" && node.domain.empty() && node.inputs.size() == 2 &&
                            !node.has_attr("rt_trans_a") && !node.has_attr("rt_trans_b");
        const bool gemm = node.op_type == "Gemm" && node.domain.empty() && !node.has_attr("rt_fused_activation");
        if (!matmul && !gemm) continue;
        const ir::Value* x = graph.find(node.inputs[0]);
        const ir::Value* w = graph.find(node.inputs[1]);
        const ir::Value* y = graph.find(node.outputs[0]);
        if (!x || !w || !y || !float_type(y->dtype)) continue;
        // Gemm's output is a matrix; MatMul's keeps X's rank.
        size_t rank = 2;
        int64_t n = 0;
        bool to_gemm = false;
        if (matmul) {
            if (!w->is_constant() || w->constant.shape().size() != 2) continue;
            // X's rank may be unknown where shapes depend on values computed at run time (a ViT's attention
            // reshapes with a dynamic batch): then constants must be rows or scalars of rank <= 1, which widen no
            // product, and the node is a MatMulBias, which takes X of any rank.
            if (x->shape_known && x->shape.size() < 2) continue;
            rank = x->shape_known ? x->shape.size() : 1;
            to_gemm = x->shape_known && rank == 2;
            n = w->constant.shape()[1];
        } else {
            if (!y->shape_known || y->shape.size() != 2 || y->shape[1] < 0) continue;
            n = y->shape[1];
        }
        std::vector<size_t> absorbed;
        std::string result = node.outputs[0], bias;
        size_t add_i = 0;
        const bool gemm_without_c = gemm && (node.inputs.size() < 3 || node.inputs[2].empty());
        if ((matmul || gemm_without_c) && m.bias_add(result, rank, n, &add_i, &bias)) {
            absorbed.push_back(add_i);
            result = graph.nodes[add_i].outputs[0];
        }
        if (matmul && bias.empty()) continue;
        ir::FusedActivation act = ir::FusedActivation::kNone;
        std::vector<size_t> act_nodes;
        std::string act_result;
        if (m.activation(result, rank, &act, &act_nodes, &act_result)) {
            absorbed.insert(absorbed.end(), act_nodes.begin(), act_nodes.end());
            result = act_result;
        }
        if (absorbed.empty()) continue;

        if (!bias.empty()) {
            RT_ASSIGN_OR_RETURN(std::string row, bias_vector(graph, bias, n, y->dtype));
            if (node.inputs.size() < 3) node.inputs.resize(3);
            node.inputs[2] = row;
            if (gemm) node.attrs.erase("beta");  // C was absent; the bias adds once
            if (matmul && to_gemm) node.op_type = "Gemm";
            if (matmul && !to_gemm) {
                node.op_type = "MatMulBias";
                node.domain = ir::kRtinferDomain;
            }
        }
        if (act != ir::FusedActivation::kNone) ir::set_fused_activation(node, act, 0.0f, 0.0f);
        const std::string old = node.outputs[0];
        for (size_t k : absorbed) {
            for (const auto& out : graph.nodes[k].outputs) {
                if (!out.empty() && out != result) graph.erase_value(out);
            }
            drop[k] = true;
        }
        graph.erase_value(old);
        node.outputs[0] = result;
        ++count;
    }
    std::vector<ir::Node> kept;
    kept.reserve(graph.nodes.size());
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
        if (!drop[i]) kept.push_back(std::move(graph.nodes[i]));
    }
    graph.nodes = std::move(kept);
    if (fused) *fused = count;
    return remove_dead_nodes(graph);
}

}  // namespace rtinfer::passes
