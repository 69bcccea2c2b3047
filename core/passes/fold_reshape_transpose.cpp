// Reshape/Transpose folding. Views (Reshape, Squeeze, Unsqueeze, Flatten) of intermediates cost nothing at run
// time, but every Transpose is a kernel that moves all its bytes. Rewrites, each exact, repeated until none
// applies:
//   1. Transpose(Transpose(x)) is one Transpose; an identity Transpose goes.
//   2. A chain of views is one Reshape; a view that changes no shape goes.
//   3. A Transpose that keeps the order of the axes longer than 1 is a Reshape.
//   4. Unsqueeze -> Transpose -> Squeeze (or Reshapes that only add / drop unit axes) is one Transpose of x when
//      the squeezed axes are exactly the inserted ones (ViT's q/k/v split).
//   5. A Transpose of the last two axes read only by a MatMul becomes its rt_trans_a / rt_trans_b (a Gemm's
//      transA / transB for matrices); on the way it moves below Mul/Div/Add/Sub by one element (K^T * scale).
// Shapes written into the graph come from SymbolicShapes, whose per-batch dims become -1.
#include <algorithm>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "core/passes/passes.h"

namespace rtinfer::passes {

SymbolicShapes symbolic_shapes(const ir::Graph& at_batch, const ir::Graph* at_other_batch) {
    SymbolicShapes out;
    auto usable = [](const ir::Value* v) {
        return v && (v->is_constant() || (v->shape_known && std::all_of(v->shape.begin(), v->shape.end(),
                                                                         [](int64_t d) { return d >= 0; })));
    };
    for (const auto& [name, v] : at_batch.values()) {
        if (!usable(&v)) continue;
        const ir::Shape& dims = v.is_constant() ? v.constant.shape() : v.shape;
        SymbolicShape s{dims, std::vector<bool>(dims.size(), false)};
        if (at_other_batch) {
            const ir::Value* w = at_other_batch->find(name);
            if (!usable(w)) continue;
            const ir::Shape& other = w->is_constant() ? w->constant.shape() : w->shape;
            if (other.size() != dims.size()) continue;
            for (size_t d = 0; d < dims.size(); ++d) s.per_batch[d] = dims[d] != other[d];
        }
        out.emplace(name, std::move(s));
    }
    return out;
}

namespace {

using Perm = std::vector<int64_t>;

bool is_op(const ir::Node& n, const char* op) {
    return n.domain.empty() && n.op_type == op;
}

bool is_view(const ir::Node& n) {
    return !n.inputs.empty() && n.outputs.size() == 1 &&
           (is_op(n, "Reshape") || is_op(n, "Squeeze") || is_op(n, "Unsqueeze") || is_op(n, "Flatten"));
}

bool is_identity(const Perm& p) {
    for (size_t i = 0; i < p.size(); ++i) {
        if (p[i] != static_cast<int64_t>(i)) return false;
    }
    return true;
}

bool swaps_last_two(const Perm& p) {
    const size_t r = p.size();
    if (r < 2 || p[r - 2] != static_cast<int64_t>(r - 1) || p[r - 1] != static_cast<int64_t>(r - 2)) return false;
    for (size_t i = 0; i + 2 < r; ++i) {
        if (p[i] != static_cast<int64_t>(i)) return false;
    }
    return true;
}

// A dim that is 1 at every batch.
bool unit_dim(const SymbolicShape& s, size_t d) {
    return s.dims[d] == 1 && !s.per_batch[d];
}

bool same_shape(const SymbolicShape& a, const SymbolicShape& b) {
    return a.dims == b.dims && a.per_batch == b.per_batch;
}

// The shape as a Reshape target that holds at every batch: the per-batch dim as -1. None with two per-batch dims
// or an empty dim (a 0 would copy the input's dim).
std::optional<std::vector<int64_t>> reshape_target(const SymbolicShape& s) {
    std::vector<int64_t> t = s.dims;
    int free = 0;
    for (size_t d = 0; d < t.size(); ++d) {
        if (t[d] <= 0) return std::nullopt;
        if (s.per_batch[d]) {
            t[d] = -1;
            ++free;
        }
    }
    if (free > 1) return std::nullopt;
    return t;
}

// Unit axes (true) and the non-unit ones in order, when `with` is `without` with unit axes inserted and
// `without` has none of its own (so that which axes were inserted is certain).
std::optional<std::vector<bool>> inserted_units(const SymbolicShape& without, const SymbolicShape& with) {
    for (size_t d = 0; d < without.dims.size(); ++d) {
        if (unit_dim(without, d)) return std::nullopt;
    }
    std::vector<bool> unit(with.dims.size(), false);
    size_t next = 0;
    for (size_t d = 0; d < with.dims.size(); ++d) {
        unit[d] = unit_dim(with, d);
        if (unit[d]) continue;
        if (next >= without.dims.size() || with.dims[d] != without.dims[next] ||
            with.per_batch[d] != without.per_batch[next]) {
            return std::nullopt;
        }
        ++next;
    }
    if (next != without.dims.size()) return std::nullopt;
    return unit;
}

// A binary op that commutes with any Transpose of its other operand when one operand is a single element.
bool pointwise_binary(const ir::Node& n) {
    return n.inputs.size() == 2 && n.outputs.size() == 1 &&
           (is_op(n, "Mul") || is_op(n, "Div") || is_op(n, "Add") || is_op(n, "Sub"));
}

class Folder {
public:
    Folder(ir::Graph& g, SymbolicShapes shapes) : g_(g), shapes_(std::move(shapes)) {
        for (const auto& [name, v] : g_.values()) {
            if (v.is_constant() && !shapes_.count(name)) {
                shapes_[name] = SymbolicShape{v.constant.shape(), std::vector<bool>(v.constant.shape().size(), false)};
            }
        }
        outputs_.insert(g_.outputs.begin(), g_.outputs.end());
    }

    // Each rewrite below applies once, where it first matches, and says whether it did.
    bool fold_transposes();
    bool fold_unit_views();
    bool fold_into_product();
    bool order_keeping_transposes();
    bool fold_view_chains();

    // Removes the views and Transposes whose outputs nothing reads any more.
    void sweep();
    void index();

private:
    const SymbolicShape* shape(const std::string& name) const {
        auto it = shapes_.find(name);
        return it == shapes_.end() ? nullptr : &it->second;
    }
    const ir::Node* producer(const std::string& name) const {
        auto it = producer_.find(name);
        return it == producer_.end() ? nullptr : &g_.nodes[it->second];
    }
    // The one node that reads v (maybe through several inputs) when v is no graph output; else none.
    std::optional<size_t> only_reader(const std::string& v) const {
        if (outputs_.count(v)) return std::nullopt;
        auto it = consumers_.find(v);
        if (it == consumers_.end() || it->second.empty()) return std::nullopt;
        for (size_t k : it->second) {
            if (k != it->second[0]) return std::nullopt;
        }
        return it->second[0];
    }
    std::optional<std::vector<int64_t>> constant_ints(const std::string& name) const {
        const ir::Value* v = g_.find(name);
        if (!v || !v->is_constant()) return std::nullopt;
        const DataType t = v->constant.dtype();
        if (t != DataType::kInt64 && t != DataType::kInt32) return std::nullopt;
        return ir::to_int64s(v->constant);
    }
    std::optional<Perm> perm_of(const ir::Node& t) const;
    std::optional<std::vector<int64_t>> squeeze_axes(const ir::Node& n, size_t rank) const;
    std::optional<std::vector<int>> unit_view_in(const ir::Node& u, size_t rank) const;
    std::optional<std::vector<int>> unit_view_out(const ir::Node& s, const std::vector<int>& labels) const;
    bool scalar_operand(const ir::Node& n, const std::string& v, size_t rank, size_t* slot) const;
    bool reaches_product(std::string v, size_t rank) const;
    std::string shape_constant(const std::string& for_value, const std::vector<int64_t>& target);
    void make_reshape(ir::Node& n, const std::string& x, const std::vector<int64_t>& target);

    ir::Graph& g_;
    SymbolicShapes shapes_;
    std::unordered_set<std::string> outputs_;
    std::unordered_map<std::string, size_t> producer_;
    std::unordered_map<std::string, std::vector<size_t>> consumers_;
};

void Folder::index() {
    producer_.clear();
    consumers_.clear();
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
        for (const auto& o : g_.nodes[i].outputs) {
            if (!o.empty()) producer_[o] = i;
        }
        for (const auto& in : g_.nodes[i].inputs) {
            if (!in.empty()) consumers_[in].push_back(i);
        }
    }
}

void Folder::sweep() {
    for (bool removed = true; removed;) {
        removed = false;
        index();
        for (size_t i = g_.nodes.size(); i-- > 0;) {
            const ir::Node& n = g_.nodes[i];
            if (!is_view(n) && !is_op(n, "Transpose")) continue;
            const std::string& out = n.outputs[0];
            if (out.empty() || outputs_.count(out) || consumers_.count(out)) continue;
            g_.erase_value(out);
            shapes_.erase(out);
            g_.nodes.erase(g_.nodes.begin() + static_cast<std::ptrdiff_t>(i));
            removed = true;
        }
    }
}

std::optional<Perm> Folder::perm_of(const ir::Node& t) const {
    if (t.inputs.empty() || t.outputs.size() != 1) return std::nullopt;
    if (!t.has_attr("perm")) {
        const SymbolicShape* x = shape(t.inputs[0]);
        if (!x) return std::nullopt;
        Perm p(x->dims.size());
        for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<int64_t>(p.size() - 1 - i);
        return p;
    }
    Perm p = t.attr_ints("perm");
    const int64_t r = static_cast<int64_t>(p.size());
    std::vector<bool> seen(p.size(), false);
    for (int64_t& a : p) {
        if (a < 0) a += r;
        if (a < 0 || a >= r || seen[static_cast<size_t>(a)]) return std::nullopt;
        seen[static_cast<size_t>(a)] = true;
    }
    return p;
}

// Squeeze/Unsqueeze axes (an attribute before opset 13, a constant input from 13) in [0, rank), sorted.
std::optional<std::vector<int64_t>> Folder::squeeze_axes(const ir::Node& n, size_t rank) const {
    std::vector<int64_t> axes;
    if (g_.opset("") < 13) {
        if (!n.has_attr("axes")) return std::nullopt;
        axes = n.attr_ints("axes");
    } else {
        if (n.inputs.size() < 2 || n.inputs[1].empty()) return std::nullopt;
        auto c = constant_ints(n.inputs[1]);
        if (!c) return std::nullopt;
        axes = *c;
    }
    if (axes.empty()) return std::nullopt;
    const int64_t r = static_cast<int64_t>(rank);
    for (int64_t& a : axes) {
        if (a < 0) a += r;
        if (a < 0 || a >= r) return std::nullopt;
    }
    std::sort(axes.begin(), axes.end());
    if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) return std::nullopt;
    return axes;
}

// Where the axes of u's output (rank `rank`) come from when u only inserts unit axes into its input x: axis k
// of x as k, an inserted unit axis as -1.
std::optional<std::vector<int>> Folder::unit_view_in(const ir::Node& u, size_t rank) const {
    std::vector<bool> unit;
    if (is_op(u, "Unsqueeze")) {
        auto axes = squeeze_axes(u, rank);
        if (!axes) return std::nullopt;
        unit.assign(rank, false);
        for (int64_t a : *axes) unit[static_cast<size_t>(a)] = true;
    } else if (is_op(u, "Reshape") || is_op(u, "Flatten")) {
        const SymbolicShape* x = shape(u.inputs[0]);
        const SymbolicShape* y = shape(u.outputs[0]);
        if (!x || !y || y->dims.size() != rank) return std::nullopt;
        auto found = inserted_units(*x, *y);
        if (!found) return std::nullopt;
        unit = *found;
    } else {
        return std::nullopt;
    }
    std::vector<int> labels(rank);
    int next = 0;
    for (size_t d = 0; d < rank; ++d) labels[d] = unit[d] ? -1 : next++;
    return labels;
}

// The labels left after s, which must drop only axes labelled -1 (inserted units); none otherwise.
std::optional<std::vector<int>> Folder::unit_view_out(const ir::Node& s, const std::vector<int>& labels) const {
    std::vector<bool> drop;
    if (is_op(s, "Squeeze")) {
        auto axes = squeeze_axes(s, labels.size());
        if (!axes) return std::nullopt;  // no axes: every unit dim, which only shapes can tell; left alone
        drop.assign(labels.size(), false);
        for (int64_t a : *axes) drop[static_cast<size_t>(a)] = true;
    } else if (is_op(s, "Reshape") || is_op(s, "Flatten")) {
        const SymbolicShape* t = shape(s.inputs[0]);
        const SymbolicShape* y = shape(s.outputs[0]);
        if (!t || !y || t->dims.size() != labels.size()) return std::nullopt;
        auto found = inserted_units(*y, *t);
        if (!found) return std::nullopt;
        drop = *found;
    } else {
        return std::nullopt;
    }
    std::vector<int> kept;
    for (size_t d = 0; d < labels.size(); ++d) {
        if (drop[d] && labels[d] >= 0) return std::nullopt;
        if (!drop[d]) kept.push_back(labels[d]);
    }
    return kept;
}

std::string Folder::shape_constant(const std::string& for_value, const std::vector<int64_t>& target) {
    const std::string name = g_.unique_name(for_value + "_shape");
    ir::Value& v = g_.add_value(name);
    v.constant = ir::Tensor::from_int64s(target, {static_cast<int64_t>(target.size())});
    v.dtype = DataType::kInt64;
    v.shape = v.constant.shape();
    v.shape_known = true;
    shapes_[name] = SymbolicShape{v.shape, {false}};
    return name;
}

// Turns n (keeping its name and output) into Reshape(x, target).
void Folder::make_reshape(ir::Node& n, const std::string& x, const std::vector<int64_t>& target) {
    const std::string shape_name = shape_constant(n.outputs[0], target);
    n.op_type = "Reshape";
    n.domain.clear();
    n.attrs.clear();
    n.inputs = {x, shape_name};
}

bool Folder::fold_transposes() {
    index();
    for (ir::Node& t : g_.nodes) {
        if (!is_op(t, "Transpose")) continue;
        auto perm = perm_of(t);
        if (!perm) continue;
        if (is_identity(*perm) && !outputs_.count(t.outputs[0])) {
            replace_uses(g_, t.outputs[0], t.inputs[0]);
            return true;
        }
        const ir::Node* first = producer(t.inputs[0]);
        if (!first || !is_op(*first, "Transpose")) continue;
        auto inner = perm_of(*first);
        if (!inner || inner->size() != perm->size()) continue;
        Perm composed(perm->size());
        for (size_t i = 0; i < perm->size(); ++i) composed[i] = (*inner)[static_cast<size_t>((*perm)[i])];
        t.inputs[0] = first->inputs[0];
        t.attrs["perm"] = ir::ints_attribute(composed);
        return true;
    }
    return false;
}

bool Folder::fold_unit_views() {
    index();
    for (const ir::Node& t : g_.nodes) {
        if (!is_op(t, "Transpose")) continue;
        auto perm = perm_of(t);
        const ir::Node* u = producer(t.inputs[0]);
        auto s_index = only_reader(t.outputs[0]);
        if (!perm || !u || !is_view(*u) || !s_index) continue;
        ir::Node& s = g_.nodes[*s_index];
        if (!is_view(s) || s.inputs[0] != t.outputs[0]) continue;
        auto in = unit_view_in(*u, perm->size());
        if (!in) continue;
        std::vector<int> labels(perm->size());
        for (size_t i = 0; i < perm->size(); ++i) labels[i] = (*in)[static_cast<size_t>((*perm)[i])];
        auto out = unit_view_out(s, labels);
        if (!out || std::count(out->begin(), out->end(), -1) > 0) continue;
        s.op_type = "Transpose";
        s.attrs.clear();
        s.attrs["perm"] = ir::ints_attribute(Perm(out->begin(), out->end()));
        s.inputs = {u->inputs[0]};
        s.name = t.name;  // t goes with the sweep that follows
        return true;
    }
    return false;
}

// n reads v through one input and a single element (rank <= `rank`, so that it widens nothing) through the
// other; *slot is v's input.
bool Folder::scalar_operand(const ir::Node& n, const std::string& v, size_t rank, size_t* slot) const {
    if (!pointwise_binary(n) || n.inputs[0] == n.inputs[1]) return false;
    if (n.inputs[0] != v && n.inputs[1] != v) return false;
    *slot = n.inputs[0] == v ? 0 : 1;
    const SymbolicShape* s = shape(n.inputs[1 - *slot]);
    if (!s || s->dims.size() > rank) return false;
    for (size_t d = 0; d < s->dims.size(); ++d) {
        if (!unit_dim(*s, d)) return false;
    }
    return true;
}

// v reaches operand A or B of a MatMul (of a Gemm when `rank` is 2) through single-element pointwise ops only.
bool Folder::reaches_product(std::string v, size_t rank) const {
    for (;;) {
        auto k = only_reader(v);
        if (!k) return false;
        const ir::Node& n = g_.nodes[*k];
        const bool a_or_b = n.inputs.size() >= 2 && (n.inputs[0] == v || n.inputs[1] == v) &&
                            std::find(n.inputs.begin() + 2, n.inputs.end(), v) == n.inputs.end();
        if (is_op(n, "MatMul") && n.inputs.size() == 2) return true;
        if (is_op(n, "Gemm") && rank == 2 && a_or_b) return true;
        size_t slot = 0;
        if (!scalar_operand(n, v, rank, &slot)) return false;
        v = n.outputs[0];
    }
}

bool Folder::fold_into_product() {
    index();
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
        const ir::Node& t = g_.nodes[i];
        if (!is_op(t, "Transpose")) continue;
        auto perm = perm_of(t);
        auto k = only_reader(t.outputs[0]);
        if (!perm || !swaps_last_two(*perm) || !k) continue;
        const std::string x = t.inputs[0], v = t.outputs[0];
        ir::Node& c = g_.nodes[*k];
        const bool matmul = is_op(c, "MatMul") && c.inputs.size() == 2;
        const bool gemm = is_op(c, "Gemm") && perm->size() == 2 && c.inputs.size() >= 2 &&
                          std::find(c.inputs.begin() + 2, c.inputs.end(), v) == c.inputs.end();
        if (matmul || gemm) {
            for (size_t slot = 0; slot < 2; ++slot) {
                if (c.inputs[slot] != v) continue;
                const char* key =
                    matmul ? (slot == 0 ? "rt_trans_a" : "rt_trans_b") : (slot == 0 ? "transA" : "transB");
                const int64_t flipped = c.attr_int(key, 0) != 0 ? 0 : 1;
                if (matmul && flipped == 0) {
                    c.attrs.erase(key);
                } else {
                    c.attrs[key] = ir::int_attribute(flipped);
                }
                c.inputs[slot] = x;
            }
            return true;
        }
        size_t slot = 0;
        if (*k < i || !scalar_operand(c, v, perm->size(), &slot) || !reaches_product(c.outputs[0], perm->size())) {
            continue;
        }
        // c(x^T, s) = c(x, s)^T: c now reads x into a new value, and the Transpose moves after it.
        const std::string result = c.outputs[0];
        const std::string moved = g_.unique_name(result + "_untransposed");
        const ir::Value& xv = g_.at(x);
        ir::Value mv;
        mv.name = moved;
        mv.dtype = g_.at(result).dtype;
        mv.shape = xv.shape;
        mv.shape_known = xv.shape_known;
        if (const SymbolicShape* xs = shape(x)) shapes_[moved] = *xs;
        g_.add_value(moved) = mv;
        c.inputs[slot] = x;
        c.outputs[0] = moved;
        ir::Node after = t;
        after.inputs = {moved};
        after.outputs = {result};
        g_.nodes.insert(g_.nodes.begin() + static_cast<std::ptrdiff_t>(*k) + 1, std::move(after));
        g_.nodes.erase(g_.nodes.begin() + static_cast<std::ptrdiff_t>(i));
        g_.erase_value(v);
        shapes_.erase(v);
        return true;
    }
    return false;
}

bool Folder::order_keeping_transposes() {
    if (g_.opset("") < 5) return false;  // Reshape's shape became an input in opset 5
    index();
    for (ir::Node& t : g_.nodes) {
        if (!is_op(t, "Transpose")) continue;
        auto perm = perm_of(t);
        const SymbolicShape* x = shape(t.inputs[0]);
        const SymbolicShape* y = shape(t.outputs[0]);
        if (!perm || !x || !y || x->dims.size() != perm->size() || is_identity(*perm)) continue;
        int64_t last = -1;
        bool kept = true;
        for (int64_t a : *perm) {
            if (unit_dim(*x, static_cast<size_t>(a))) continue;
            kept = kept && a > last;
            last = a;
        }
        auto target = reshape_target(*y);
        if (!kept || !target) continue;
        make_reshape(t, t.inputs[0], *target);
        return true;
    }
    return false;
}

bool Folder::fold_view_chains() {
    index();
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
        ir::Node& v = g_.nodes[i];
        if (!is_view(v)) continue;
        const SymbolicShape* x = shape(v.inputs[0]);
        const SymbolicShape* y = shape(v.outputs[0]);
        if (x && y && same_shape(*x, *y) && !outputs_.count(v.outputs[0])) {
            replace_uses(g_, v.outputs[0], v.inputs[0]);
            return true;
        }
        const ir::Node* first = producer(v.inputs[0]);
        auto reader = only_reader(v.inputs[0]);
        if (!first || !is_view(*first) || !reader || *reader != i || !y || g_.opset("") < 5) continue;
        auto target = reshape_target(*y);
        if (!target) continue;
        make_reshape(v, first->inputs[0], *target);
        return true;
    }
    return false;
}

}  // namespace

Status fold_reshape_transpose(ir::Graph& graph, const SymbolicShapes* shapes, int* folded) {
    Folder f(graph, shapes ? *shapes : symbolic_shapes(graph, nullptr));
    int count = 0;
    f.sweep();
    // The order matters: unit views are matched before rewrite 2 merges them into other views.
    while (f.fold_transposes() || f.fold_unit_views() || f.fold_into_product() || f.order_keeping_transposes() ||
           f.fold_view_chains()) {
        ++count;
        f.sweep();
    }
    if (folded) *folded = count;
    if (count == 0) return Status();
    RT_RETURN_IF_ERROR(graph.topo_sort());
    return remove_dead_nodes(graph);
}

}  // namespace rtinfer::passes
