// MatMul(Q', K') -> Softmax(last axis) -> MatMul(., V), the attention core of transformers as they are exported,
// becomes one rtinfer.Attention(Q, K, V, scale): K' is a Transpose of K's last two axes, and Q', K' and the scores
// are Q, K^T and Q K^T scaled by scalar constants (Mul, or Div by the constant; on K before or after the Transpose;
// none at all is fine), whose product is the scale. torch's scaled_dot_product_attention exports sqrt(1/sqrt(D)) on
// each of Q and K^T; older exports divide the scores by sqrt(D). Every value in between must be read only by the
// pattern and be no graph output. Only what the CUDA kernel runs is fused: float32 or float16, head dims up to
// 128, equal leading (batch and head) dims.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include "core/ir/op.h"
#include "core/passes/passes.h"

namespace rtinfer::passes {

namespace {

constexpr int64_t kMaxHeadDim = 128;

struct Pattern {
    std::vector<size_t> absorbed;  // nodes the Attention replaces besides the second MatMul
    std::string q, k, v;
    double scale = 1.0;
};

class Matcher {
public:
    Matcher(const ir::Graph& g, const std::vector<bool>& drop)
        : g_(g), drop_(drop), producers_(g.producers()), uses_(g.use_counts()) {}

    // The second MatMul at index i and what its attention reads.
    bool match(size_t i, Pattern* p) const {
        const ir::Node& mm2 = g_.nodes[i];
        if (!is_onnx(mm2, "MatMul") || mm2.inputs.size() != 2) return false;
        size_t sm_i = 0, mm1_i = 0;
        const ir::Node* sm = private_producer(mm2.inputs[0], &sm_i);
        if (!sm || sm->op_type != "Softmax" || sm->inputs.size() != 1 || !last_axis(*sm)) return false;
        *p = Pattern();
        p->absorbed = {sm_i};
        const ir::Node* mm1 = private_producer(unscaled(sm->inputs[0], p), &mm1_i);
        if (!mm1 || mm1->op_type != "MatMul" || mm1->inputs.size() != 2) return false;
        p->absorbed.push_back(mm1_i);
        p->q = unscaled(mm1->inputs[0], p);
        bool transposed = false;
        std::string kt = mm1->inputs[1];
        for (;;) {
            kt = unscaled(kt, p);
            size_t t_i = 0;
            const ir::Node* t = transposed ? nullptr : private_producer(kt, &t_i);
            if (!t || t->op_type != "Transpose" || t->inputs.size() != 1 || !swaps_last_two(*t)) break;
            transposed = true;
            p->absorbed.push_back(t_i);
            kt = t->inputs[0];
        }
        p->k = kt;
        p->v = mm2.inputs[1];
        return transposed && supported(*p, mm2.outputs[0]);
    }

private:
    static bool is_onnx(const ir::Node& n, const char* op) {
        return n.op_type == op && ir::canonical_domain(n.domain).empty();
    }

    // The node producing v when the pattern is v's only reader and v is no graph output.
    const ir::Node* private_producer(const std::string& v, size_t* index) const {
        auto u = uses_.find(v);
        auto p = producers_.find(v);
        if (u == uses_.end() || u->second != 1 || p == producers_.end() || drop_[p->second]) return nullptr;
        if (std::find(g_.outputs.begin(), g_.outputs.end(), v) != g_.outputs.end()) return nullptr;
        *index = p->second;
        const ir::Node& n = g_.nodes[p->second];
        return ir::canonical_domain(n.domain).empty() ? &n : nullptr;
    }

    bool last_axis(const ir::Node& softmax) const {
        const ir::Value* x = g_.find(softmax.inputs[0]);
        if (!x || !x->shape_known || x->shape.empty()) return false;
        const int64_t rank = static_cast<int64_t>(x->shape.size());
        // Before opset 13 Softmax flattens the dims from `axis` on; at the last axis that is the same.
        int64_t axis = softmax.attr_int("axis", g_.opset("") < 13 ? 1 : -1);
        if (axis < 0) axis += rank;
        return axis == rank - 1;
    }

    // Without perm a Transpose reverses the axes: for a matrix that is the swap too.
    bool swaps_last_two(const ir::Node& t) const {
        const ir::Value* x = g_.find(t.inputs[0]);
        if (!x || !x->shape_known || x->shape.size() < 2) return false;
        std::vector<int64_t> want(x->shape.size());
        std::iota(want.begin(), want.end(), 0);
        std::swap(want[want.size() - 2], want.back());
        if (!t.has_attr("perm")) return want.size() == 2;
        return t.attr_ints("perm") == want;
    }

    // Walks back from v through the Mul/Div by scalar constants that alone read it, multiplying their factors
    // into p->scale; returns the value they scale.
    std::string unscaled(std::string v, Pattern* p) const {
        for (;;) {
            size_t i = 0;
            const ir::Node* n = private_producer(v, &i);
            if (!n || (n->op_type != "Mul" && n->op_type != "Div") || n->inputs.size() != 2) return v;
            double c = 0;
            std::string x;
            if (scalar_constant(n->inputs[1], n->inputs[0], &c)) {
                x = n->inputs[0];
                if (n->op_type == "Div") c = 1.0 / c;
            } else if (n->op_type == "Mul" && scalar_constant(n->inputs[0], n->inputs[1], &c)) {
                x = n->inputs[1];
            } else {
                return v;
            }
            if (!std::isfinite(c) || c == 0.0) return v;
            p->scale *= c;
            p->absorbed.push_back(i);
            v = x;
        }
    }

    // `name` is a constant of one element that cannot widen `data` (its rank is no larger).
    bool scalar_constant(const std::string& name, const std::string& data, double* value) const {
        const ir::Value* c = g_.find(name);
        const ir::Value* x = g_.find(data);
        if (!c || !x || !c->is_constant() || x->is_constant() || c->constant.numel() != 1 || !x->shape_known ||
            c->constant.shape().size() > x->shape.size()) {
            return false;
        }
        *value = ir::to_doubles(c->constant)[0];
        return true;
    }

    // Q [..., Sq, D], K [..., Sk, D], V [..., Sk, Dv] of one float type the CUDA kernel takes, known shapes with
    // equal leading dims (no broadcast), and the second MatMul's output what Attention gives.
    bool supported(const Pattern& p, const std::string& out) const {
        const ir::Value* q = g_.find(p.q);
        const ir::Value* k = g_.find(p.k);
        const ir::Value* v = g_.find(p.v);
        const ir::Value* y = g_.find(out);
        if (!q || !k || !v || !y) return false;
        const DataType t = q->dtype;
        if ((t != DataType::kFloat32 && t != DataType::kFloat16) || k->dtype != t || v->dtype != t || y->dtype != t) {
            return false;
        }
        for (const ir::Value* x : {q, k, v, y}) {
            if (!x->shape_known || x->shape.size() != q->shape.size() || x->shape.size() < 2) return false;
            if (std::any_of(x->shape.begin(), x->shape.end(), [](int64_t d) { return d < 0; })) return false;
        }
        const size_t r = q->shape.size();
        for (size_t d = 0; d + 2 < r; ++d) {
            if (k->shape[d] != q->shape[d] || v->shape[d] != q->shape[d] || y->shape[d] != q->shape[d]) return false;
        }
        const int64_t sq = q->shape[r - 2], d = q->shape[r - 1], sk = k->shape[r - 2], dv = v->shape[r - 1];
        return k->shape[r - 1] == d && v->shape[r - 2] == sk && y->shape[r - 2] == sq && y->shape[r - 1] == dv &&
               sq > 0 && sk > 0 && d > 0 && d <= kMaxHeadDim && dv > 0 && dv <= kMaxHeadDim;
    }

    const ir::Graph& g_;
    const std::vector<bool>& drop_;
    std::unordered_map<std::string, size_t> producers_;
    std::unordered_map<std::string, int> uses_;
};

}  // namespace

Status fuse_attention(ir::Graph& graph, int* fused) {
    int count = 0;
    std::vector<bool> drop(graph.nodes.size(), false);
    const Matcher m(graph, drop);
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
        Pattern p;
        if (drop[i] || !m.match(i, &p)) continue;
        // The Attention takes the second MatMul's place: Q, K and V are all computed before it.
        ir::Node& node = graph.nodes[i];
        node.op_type = "Attention";
        node.domain = ir::kRtinferDomain;
        node.inputs = {p.q, p.k, p.v};
        node.attrs.clear();
        ir::Attribute scale;
        scale.kind = ir::Attribute::Kind::kFloat;
        scale.f = static_cast<float>(p.scale);
        node.attrs["scale"] = scale;
        for (size_t k : p.absorbed) {
            for (const auto& out : graph.nodes[k].outputs) {
                if (!out.empty()) graph.erase_value(out);
            }
            drop[k] = true;
        }
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
