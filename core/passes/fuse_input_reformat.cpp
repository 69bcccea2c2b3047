// The reformat at the entry of a channels-last float16 region, Cast(float32 -> float16) -> Transpose(0231)
// -> Pad (zero channels for a tensor-core stem, see convert_to_nhwc), becomes one rtinfer.NchwToNhwc: one
// pass over the image instead of three. A Transpose(0231) with either neighbour alone is fused as well.
#include <algorithm>

#include "core/ir/op.h"
#include "core/passes/passes.h"

namespace rtinfer::passes {

namespace {

bool is_to_nhwc(const ir::Node& n) {
    return n.op_type == "Transpose" && n.domain.empty() && n.attr_ints("perm", {}) == std::vector<int64_t>{0, 2, 3, 1};
}

// Zero padding of the last of 4 dims at its end only: the padded channel count, else 0.
int64_t channel_pad(const ir::Graph& g, const ir::Node& n, const ir::Value& x) {
    if (n.op_type != "Pad" || !n.domain.empty() || n.attr_string("mode", "constant") != "constant") return 0;
    std::vector<int64_t> pads;
    if (g.opset("") < 11) {
        if (n.attr_float("value", 0.0f) != 0.0f) return 0;
        pads = n.attr_ints("pads", {});
    } else {
        if (n.inputs.size() < 2 || n.inputs.size() > 3) return 0;
        const ir::Value* p = g.find(n.inputs[1]);
        if (!p || !p->is_constant() || p->constant.dtype() != DataType::kInt64) return 0;
        pads.assign(p->constant.data<int64_t>(), p->constant.data<int64_t>() + p->constant.numel());
        if (n.inputs.size() == 3 && !n.inputs[2].empty()) {
            const ir::Value* v = g.find(n.inputs[2]);
            if (!v || !v->is_constant() || v->constant.numel() != 1 || ir::to_doubles(v->constant)[0] != 0.0) return 0;
        }
    }
    if (pads.size() != 8 || x.shape.size() != 4) return 0;
    for (size_t i = 0; i < 8; ++i) {
        if (i != 7 && pads[i] != 0) return 0;
    }
    return pads[7] > 0 ? x.shape[3] + pads[7] : 0;
}

bool is_graph_output(const ir::Graph& g, const std::string& v) {
    return std::find(g.outputs.begin(), g.outputs.end(), v) != g.outputs.end();
}

}  // namespace

Status fuse_input_reformat(ir::Graph& graph, int* fused) {
    int count = 0;
    bool changed = true;
    while (changed) {
        changed = false;
        const auto uses = graph.use_counts();
        const auto producers = graph.producers();
        auto single_use = [&](const std::string& v) {
            auto u = uses.find(v);
            return u != uses.end() && u->second == 1 && !is_graph_output(graph, v);
        };
        for (size_t i = 0; i < graph.nodes.size() && !changed; ++i) {
            ir::Node& t = graph.nodes[i];
            const ir::Value* tx = graph.find(t.inputs.empty() ? "" : t.inputs[0]);
            if (!is_to_nhwc(t) || !tx || !tx->shape_known || tx->shape.size() != 4) continue;
            // The Cast before it.
            std::string input = t.inputs[0];
            bool to_half = false;
            size_t cast_at = graph.nodes.size();
            if (auto p = producers.find(input); p != producers.end() && single_use(input)) {
                const ir::Node& c = graph.nodes[p->second];
                const ir::Value* cx = graph.find(c.inputs[0]);
                if (c.op_type == "Cast" && c.domain.empty() && tx->dtype == DataType::kFloat16 && cx &&
                    (cx->dtype == DataType::kFloat32 || cx->dtype == DataType::kFloat16)) {
                    input = c.inputs[0];
                    to_half = true;
                    cast_at = p->second;
                }
            }
            // The Pad after it: T's output has one reader, that Pad.
            const std::string ty = t.outputs[0];
            std::string output = ty;
            int64_t channels = tx->shape[1];
            size_t pad_at = graph.nodes.size();
            if (single_use(ty)) {
                for (size_t k = 0; k < graph.nodes.size(); ++k) {
                    const ir::Node& p = graph.nodes[k];
                    if (p.inputs.empty() || p.inputs[0] != ty) continue;
                    if (const int64_t c = channel_pad(graph, p, graph.at(ty)); c > 0) {
                        channels = c;
                        output = p.outputs[0];
                        pad_at = k;
                    }
                }
            }
            if (cast_at == graph.nodes.size() && pad_at == graph.nodes.size()) continue;
            ir::Node r;
            r.name = t.name;
            r.op_type = "NchwToNhwc";
            r.domain = ir::kRtinferDomain;
            r.inputs = {input};
            r.outputs = {output};
            ir::Attribute a;
            a.kind = ir::Attribute::Kind::kInt;
            a.i = to_half ? 1 : 0;
            r.attrs["to_half"] = a;
            a.i = channels;
            r.attrs["channels"] = a;
            std::vector<std::string> dropped;
            if (cast_at != graph.nodes.size()) dropped.push_back(graph.nodes[cast_at].outputs[0]);
            if (pad_at != graph.nodes.size()) dropped.push_back(ty);
            // Replace T in place (it follows the Cast and precedes the Pad), then drop the Cast and the Pad.
            graph.nodes[i] = std::move(r);
            std::vector<size_t> erase;
            if (cast_at != graph.nodes.size()) erase.push_back(cast_at);
            if (pad_at != graph.nodes.size()) erase.push_back(pad_at);
            std::sort(erase.rbegin(), erase.rend());
            for (size_t k : erase) graph.nodes.erase(graph.nodes.begin() + static_cast<long>(k));
            for (const auto& v : dropped) graph.erase_value(v);
            ++count;
            changed = true;
        }
    }
    if (fused) *fused = count;
    return Status();
}

}  // namespace rtinfer::passes
