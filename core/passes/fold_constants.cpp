#include "core/passes/passes.h"

#include <algorithm>
#include <unordered_map>

namespace rtinfer::passes {

namespace {

bool shape_is_static(const ir::Graph& graph, const std::string& name, const FoldOptions& options) {
    const ir::Value* v = graph.find(name);
    return v && v->shape_known && !options.batch_dependent.count(name) &&
           (v->is_constant() || std::all_of(v->shape.begin(), v->shape.end(), [](int64_t d) { return d >= 0; }));
}

bool is_random(const std::string& op) { return op.rfind("Random", 0) == 0 || op == "Bernoulli" || op == "Multinomial"; }

void set_constant(ir::Graph& graph, const std::string& name, const ir::Tensor& t) {
    ir::Value& v = graph.add_value(name);
    v.constant = t;
    v.dtype = t.dtype();
    v.shape = t.shape();
    v.shape_known = true;
}

// The dims [start, end) of `input` that a Shape node left in the graph reads.
struct ShapeDims {
    std::string input;
    int64_t start = 0, end = 0;
};

// A Shape of a batch-dependent value whose per-dim dependence is known: the dims it reads.
bool shape_dims(const ir::Node& shape, const FoldOptions& options, ShapeDims* out) {
    auto it = options.static_dims.find(shape.inputs[0]);
    if (it == options.static_dims.end()) return false;
    const int64_t rank = static_cast<int64_t>(it->second.size());
    auto clamp = [rank](int64_t i) { return std::min(rank, std::max<int64_t>(0, i < 0 ? i + rank : i)); };
    out->input = shape.inputs[0];
    out->start = clamp(shape.attr_int("start", 0));
    out->end = std::max(out->start, clamp(shape.attr_int("end", rank)));
    return true;
}

// The indices of the dims a Shape node reads, [start, end), as its output would hold their sizes.
ir::Tensor dim_indices(const ShapeDims& s) {
    std::vector<int64_t> v;
    for (int64_t i = s.start; i < s.end; ++i) v.push_back(i);
    return ir::Tensor::from_int64s(v, {s.end - s.start});
}

// The dims `indices` (of `s.input`) as a constant of indices' shape, when none of them changes with the batch.
bool static_dims_value(const ShapeDims& s, const FoldOptions& options, const ir::Tensor& indices, ir::Tensor* out) {
    const ir::Shape& dims = options.static_dims.at(s.input);
    std::vector<int64_t> values;
    for (int64_t i : ir::to_int64s(indices)) {
        if (i < 0 || i >= static_cast<int64_t>(dims.size()) || dims[static_cast<size_t>(i)] < 0) return false;
        values.push_back(dims[static_cast<size_t>(i)]);
    }
    *out = ir::Tensor::from_int64s(values, indices.shape());
    return true;
}

// A Shape of a batch-dependent value, or a Gather or Slice (with constant indices) of one, that reads only dims
// the batch leaves alone is constant. A Gather or Slice is evaluated on the dims' indices to see which it picks.
bool fold_static_dims(const ir::Graph& graph, const ir::Node& node, const NodeEvaluator& evaluate,
                      const FoldOptions& options, std::unordered_map<std::string, ShapeDims>& shapes,
                      ir::Tensor* out) {
    if (node.outputs.size() != 1 || node.inputs.empty() || !node.domain.empty()) return false;
    if (node.op_type == "Shape") {
        ShapeDims s;
        if (!shape_dims(node, options, &s)) return false;
        if (static_dims_value(s, options, dim_indices(s), out)) return true;
        shapes[node.outputs[0]] = s;
        return false;
    }
    auto it = shapes.find(node.inputs[0]);
    if ((node.op_type != "Gather" && node.op_type != "Slice") || it == shapes.end()) return false;
    const ShapeDims& s = it->second;
    const ir::Tensor positions = dim_indices(s);
    std::vector<const ir::Tensor*> inputs = {&positions};
    for (size_t i = 1; i < node.inputs.size(); ++i) {
        const ir::Value* v = node.inputs[i].empty() ? nullptr : graph.find(node.inputs[i]);
        if (!node.inputs[i].empty() && (!v || !v->is_constant())) return false;
        inputs.push_back(v ? &v->constant : nullptr);
    }
    std::vector<ir::Tensor> picked;
    if (!evaluate(node, inputs, picked).is_ok() || picked.size() != 1) return false;
    return static_dims_value(s, options, picked[0], out);
}

}  // namespace

Status fold_constants(ir::Graph& graph, const NodeEvaluator& evaluate, const FoldOptions& options, int* folded) {
    int count = 0;
    std::vector<ir::Node> kept;
    kept.reserve(graph.nodes.size());
    std::unordered_map<std::string, ShapeDims> shapes;  // Shape nodes kept, by output
    for (auto& node : graph.nodes) {
        bool foldable = !node.domain.size() && !is_random(node.op_type) && !node.outputs.empty();
        std::vector<const ir::Tensor*> inputs;
        ir::Tensor shape_tensor;
        if (foldable && (node.op_type == "Shape" || node.op_type == "Size") && !node.inputs.empty()) {
            // Shape/Size only need the input's shape, which is known when it does not depend on the batch.
            foldable = shape_is_static(graph, node.inputs[0], options);
            if (foldable) {
                const ir::Value& in = graph.at(node.inputs[0]);
                shape_tensor = in.is_constant() ? in.constant : ir::Tensor(in.dtype, in.shape);
                inputs.push_back(&shape_tensor);
            }
        } else if (foldable) {
            for (const auto& name : node.inputs) {
                if (name.empty()) {
                    inputs.push_back(nullptr);
                    continue;
                }
                const ir::Value* v = graph.find(name);
                if (!v || !v->is_constant()) {
                    foldable = false;
                    break;
                }
                inputs.push_back(&v->constant);
            }
        }
        if (foldable) {
            std::vector<ir::Tensor> outputs;
            Status s = evaluate(node, inputs, outputs);
            bool small = s.is_ok();
            for (const auto& t : outputs) small = small && t.numel() <= options.max_folded_elements;
            if (small) {
                for (size_t i = 0; i < node.outputs.size(); ++i) {
                    if (node.outputs[i].empty() || i >= outputs.size() || !outputs[i].defined()) continue;
                    set_constant(graph, node.outputs[i], outputs[i]);
                }
                ++count;
                continue;
            }
            // A node that fails on constant inputs is left for the build to report with its context.
        }
        ir::Tensor dims;
        if (!foldable && fold_static_dims(graph, node, evaluate, options, shapes, &dims)) {
            set_constant(graph, node.outputs[0], dims);
            ++count;
            continue;
        }
        kept.push_back(std::move(node));
    }
    graph.nodes = std::move(kept);
    if (folded) *folded = count;
    return Status();
}

}  // namespace rtinfer::passes
