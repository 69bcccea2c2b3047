// 2-D convolutions (and the max and global average pools between them) run channels-last, where tensor cores take
// half-precision convolutions without cuDNN transposing every operand. The pass makes the layout change
// explicit in the graph:
//   Conv(x NCHW) -> y   becomes   Transpose(x, 0231) -> rtinfer.NhwcConv -> Transpose(., 0312) -> y
// with the weights stored as OHWI, then moves the NHWC->NCHW Transposes down through pointwise ops (and
// binary ops whose other operand is a constant or carries the same Transpose) until they meet the
// NCHW->NHWC Transpose of the next convolution and cancel. What remains are the reformats at the edges of
// channels-last regions; the build report counts them.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "core/ir/op.h"
#include "core/passes/passes.h"

namespace rtinfer::passes {

namespace {

const std::vector<int64_t> kToNhwc = {0, 2, 3, 1};
const std::vector<int64_t> kToNchw = {0, 3, 1, 2};

bool is_graph_output(const ir::Graph& g, const std::string& name) {
    return std::find(g.outputs.begin(), g.outputs.end(), name) != g.outputs.end();
}

ir::Attribute ints_attr(const std::vector<int64_t>& v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInts;
    a.ints = v;
    return a;
}

bool is_transpose(const ir::Node& n, const std::vector<int64_t>& perm) {
    return n.op_type == "Transpose" && n.domain.empty() && n.attr_ints("perm") == perm;
}

// Ops that compute each output element from the same element of their inputs.
bool is_unary_pointwise(const ir::Node& n) {
    static const std::unordered_set<std::string> ops = {"Relu",  "Sigmoid", "Tanh", "HardSwish", "HardSigmoid",
                                                        "LeakyRelu", "Elu", "Selu", "Erf", "Abs", "Neg",
                                                        "Sqrt", "Exp", "Log", "Reciprocal", "Softplus", "Mish",
                                                        "Cast", "Identity"};
    return n.domain.empty() && n.inputs.size() == 1 && n.outputs.size() == 1 && ops.count(n.op_type) != 0;
}

bool is_binary_pointwise(const ir::Node& n) {
    static const std::unordered_set<std::string> ops = {"Add", "Sub", "Mul", "Div", "Max", "Min", "PRelu"};
    return n.domain.empty() && n.inputs.size() == 2 && n.outputs.size() == 1 && ops.count(n.op_type) != 0;
}

// Pointwise in the first input, with constant (or omitted) other inputs: Clip with constant bounds, and
// per-tensor QuantizeLinear/DequantizeLinear (one scale and zero point for every element: any layout).
bool is_clip(const ir::Graph& g, const ir::Node& n) {
    const bool qdq = n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear";
    if ((n.op_type != "Clip" && !qdq) || !n.domain.empty()) return false;
    for (size_t i = 1; i < n.inputs.size(); ++i) {
        const ir::Value* v = n.inputs[i].empty() ? nullptr : g.find(n.inputs[i]);
        if (!n.inputs[i].empty() && (!v || !v->is_constant())) return false;
        if (qdq && v && v->constant.numel() != 1) return false;
    }
    return true;
}

// Symmetric explicit padding (or none) on a 4-D input with a 4-D constant weight: what the channels-last
// kernel takes. Float16 only when half_only.
bool convertible_conv(const ir::Graph& g, const ir::Node& n, bool half_only) {
    if (n.op_type != "Conv" || !n.domain.empty() || n.inputs.size() < 2) return false;
    const ir::Value* x = g.find(n.inputs[0]);
    const ir::Value* w = g.find(n.inputs[1]);
    if (!x || !w || !x->shape_known || x->shape.size() != 4 || !w->is_constant() || w->shape.size() != 4) return false;
    if (half_only && x->dtype != DataType::kFloat16) return false;
    if (x->dtype != DataType::kFloat16 && x->dtype != DataType::kFloat32) return false;
    if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
        const ir::Value* b = g.find(n.inputs[2]);
        if (!b || !b->is_constant()) return false;
    }
    const std::string auto_pad = n.attr_string("auto_pad", "NOTSET");
    if (auto_pad != "NOTSET" && auto_pad != "VALID") return false;
    const std::vector<int64_t> pads = n.attr_ints("pads", {0, 0, 0, 0});
    return pads.size() == 4 && pads[0] == pads[2] && pads[1] == pads[3];
}

bool convertible_global_pool(const ir::Graph& g, const ir::Node& n, bool half_only) {
    if (n.op_type != "GlobalAveragePool" || !n.domain.empty()) return false;
    const ir::Value* x = g.find(n.inputs[0]);
    if (!x || !x->shape_known || x->shape.size() != 4) return false;
    return !half_only || x->dtype == DataType::kFloat16;
}

// A 2-D MaxPool without the Indices output.
bool convertible_max_pool(const ir::Graph& g, const ir::Node& n, bool half_only) {
    if (n.op_type != "MaxPool" || !n.domain.empty() || n.inputs.empty()) return false;
    if (n.outputs.size() > 1 && !n.outputs[1].empty()) return false;
    const ir::Value* x = g.find(n.inputs[0]);
    if (!x || !x->shape_known || x->shape.size() != 4) return false;
    if (n.attr_ints("kernel_shape", {}).size() != 2) return false;
    if (x->dtype != DataType::kFloat16 && (half_only || x->dtype != DataType::kFloat32)) return false;
    return true;
}

ir::Shape permuted(const ir::Shape& s, const std::vector<int64_t>& perm) {
    ir::Shape out;
    for (int64_t p : perm) out.push_back(s[static_cast<size_t>(p)]);
    return out;
}

class Rewriter {
public:
    explicit Rewriter(ir::Graph& g) : g_(g) {}

    // A new value `name` of x's type and the given shape.
    void add_value(const std::string& name, const ir::Value& like, const ir::Shape& shape) {
        ir::Value& v = g_.add_value(name);
        v.dtype = like.dtype;
        v.shape = shape;
        v.shape_known = like.shape_known;
    }

    // Transpose(x, perm) as a new node, reusing an existing one for the same x and perm.
    std::string transpose(const std::string& x, const std::vector<int64_t>& perm, std::vector<ir::Node>& out) {
        const std::string key = x + (perm == kToNhwc ? "#nhwc" : "#nchw");
        auto it = made_.find(key);
        if (it != made_.end()) return it->second;
        const ir::Value& xv = g_.at(x);
        ir::Node t;
        t.name = g_.unique_name(x + (perm == kToNhwc ? "/to_nhwc" : "/to_nchw"));
        t.op_type = "Transpose";
        t.attrs["perm"] = ints_attr(perm);
        t.inputs = {x};
        const std::string y = g_.unique_name(t.name + ":0");
        t.outputs = {y};
        add_value(y, xv, xv.shape_known ? permuted(xv.shape, perm) : ir::Shape{});
        created.insert(t.name);
        out.push_back(std::move(t));
        made_[key] = y;
        return y;
    }

    // x [N, H, W, C] zero-padded to `channels` along C (Pad), shared by the convolutions that read x.
    std::string pad_channels(const std::string& x, int64_t channels, std::vector<ir::Node>& out) {
        const std::string key = x + "#pad" + std::to_string(channels);
        auto it = made_.find(key);
        if (it != made_.end()) return it->second;
        const ir::Value& xv = g_.at(x);
        const std::vector<int64_t> pads = {0, 0, 0, 0, 0, 0, 0, channels - xv.shape[3]};
        ir::Node p;
        p.name = g_.unique_name(x + "/pad_channels");
        p.op_type = "Pad";
        p.inputs = {x};
        if (g_.opset("") >= 11) {
            const std::string pname = g_.unique_name(p.name + ":pads");
            ir::Value& pv = g_.add_value(pname);
            pv.constant = ir::Tensor(DataType::kInt64, {8});
            std::copy(pads.begin(), pads.end(), pv.constant.data<int64_t>());
            pv.dtype = DataType::kInt64;
            pv.shape = {8};
            pv.shape_known = true;
            p.inputs.push_back(pname);
        } else {
            p.attrs["pads"] = ints_attr(pads);
        }
        const std::string y = g_.unique_name(p.name + ":0");
        p.outputs = {y};
        add_value(y, xv, {xv.shape[0], xv.shape[1], xv.shape[2], channels});
        out.push_back(std::move(p));
        made_[key] = y;
        return y;
    }

    // The constant permuted into channels-last after aligning it to rank 4 (it broadcasts against a
    // 4-D NCHW tensor); empty if it cannot be.
    std::string channels_last_constant(const std::string& name) {
        const ir::Value* v = g_.find(name);
        if (!v || !v->is_constant() || v->shape.size() > 4) return "";
        auto it = made_.find(name + "#const_nhwc");
        if (it != made_.end()) return it->second;
        ir::Shape aligned(4 - v->shape.size(), 1);
        aligned.insert(aligned.end(), v->shape.begin(), v->shape.end());
        const ir::Tensor src = v->constant.reshaped(aligned);
        ir::Tensor dst(src.dtype(), permuted(aligned, kToNhwc));
        const size_t elem = data_type_size(src.dtype());
        const int64_t n = aligned[0], c = aligned[1], h = aligned[2], w = aligned[3];
        const auto* s = static_cast<const uint8_t*>(src.raw());
        auto* d = static_cast<uint8_t*>(dst.raw());
        for (int64_t in = 0; in < n; ++in) {
            for (int64_t ic = 0; ic < c; ++ic) {
                for (int64_t ih = 0; ih < h; ++ih) {
                    for (int64_t iw = 0; iw < w; ++iw) {
                        const int64_t from = ((in * c + ic) * h + ih) * w + iw;
                        const int64_t to = ((in * h + ih) * w + iw) * c + ic;
                        std::copy_n(s + from * elem, elem, d + to * elem);
                    }
                }
            }
        }
        const std::string out = g_.unique_name(name + "_nhwc");
        ir::Value& nv = g_.add_value(out);
        nv.dtype = v->dtype;
        nv.shape = dst.shape();
        nv.shape_known = true;
        nv.constant = dst;
        made_[name + "#const_nhwc"] = out;
        return out;
    }

    // Transpose(x_nhwc) -> y in NCHW, the reformat after a channels-last node.
    ir::Node to_nchw(const std::string& node_name, const std::string& x_nhwc, const std::string& y) {
        ir::Node back;
        back.name = g_.unique_name(node_name + "/to_nchw");
        back.op_type = "Transpose";
        back.attrs["perm"] = ints_attr(kToNchw);
        back.inputs = {x_nhwc};
        back.outputs = {y};
        created.insert(back.name);
        return back;
    }

    std::unordered_set<std::string> created;  // names of the Transposes this pass made

private:
    ir::Graph& g_;
    std::unordered_map<std::string, std::string> made_;
};

// OIHW weights as OHWI (the channels-last filter layout), with zero input channels up to `channels`.
ir::Tensor weights_ohwi(const ir::Tensor& w, int64_t channels) {
    const ir::Shape& s = w.shape();
    const int64_t ci = std::max(channels, s[1]);
    ir::Tensor out(w.dtype(), {s[0], s[2], s[3], ci});
    const size_t elem = data_type_size(w.dtype());
    const auto* src = static_cast<const uint8_t*>(w.raw());
    auto* dst = static_cast<uint8_t*>(out.raw());
    std::fill_n(dst, out.nbytes(), uint8_t{0});
    for (int64_t o = 0; o < s[0]; ++o) {
        for (int64_t i = 0; i < s[1]; ++i) {
            for (int64_t h = 0; h < s[2]; ++h) {
                for (int64_t x = 0; x < s[3]; ++x) {
                    const int64_t from = ((o * s[1] + i) * s[2] + h) * s[3] + x;
                    const int64_t to = ((o * s[2] + h) * s[3] + x) * ci + i;
                    std::copy_n(src + from * elem, elem, dst + to * elem);
                }
            }
        }
    }
    return out;
}

// Step 1: every convertible node runs channels-last between a Transpose in and a Transpose out.
int convert_nodes(ir::Graph& g, bool half_only, Rewriter& rw) {
    int count = 0;
    std::vector<ir::Node> out;
    out.reserve(g.nodes.size());
    for (ir::Node& n : g.nodes) {
        const bool conv = convertible_conv(g, n, half_only);
        const bool max_pool = !conv && convertible_max_pool(g, n, half_only);
        if (!conv && !max_pool && !convertible_global_pool(g, n, half_only)) {
            out.push_back(std::move(n));
            continue;
        }
        const std::string y = n.outputs[0];
        const ir::Value yv = g.at(y);
        n.inputs[0] = rw.transpose(n.inputs[0], kToNhwc, out);
        if (conv) {
            const ir::Value& w = g.at(n.inputs[1]);
            // Float16 tensor-core kernels take input channels in multiples of 8: an image stem with 1 to 7
            // channels gets zero channels (in X and W) rather than a slow kernel. Not worth a Pad for a
            // 1x1 image (squeeze-excitation convolutions).
            int64_t channels = 0;
            const ir::Value& xv = g.at(n.inputs[0]);
            if (xv.dtype == DataType::kFloat16 && n.attr_int("group", 1) == 1 && xv.shape[3] < 8 &&
                xv.shape[1] * xv.shape[2] > 1) {
                channels = 8;
                n.inputs[0] = rw.pad_channels(n.inputs[0], channels, out);
            }
            const std::string wname = g.unique_name(n.inputs[1] + "_ohwi");
            ir::Value& nw = g.add_value(wname);
            nw.constant = weights_ohwi(w.constant, channels);
            nw.dtype = w.dtype;
            nw.shape = nw.constant.shape();
            nw.shape_known = true;
            n.inputs[1] = wname;
            n.op_type = "NhwcConv";
        } else if (max_pool) {
            n.op_type = "NhwcMaxPool";
            n.outputs.resize(1);
        } else {
            n.op_type = "NhwcGlobalAveragePool";
        }
        n.domain = ir::kRtinferDomain;
        const std::string y_nhwc = g.unique_name(y + "_nhwc");
        rw.add_value(y_nhwc, yv, permuted(yv.shape, kToNhwc));
        n.outputs[0] = y_nhwc;
        ir::Node back = rw.to_nchw(n.name, y_nhwc, y);
        out.push_back(std::move(n));
        out.push_back(std::move(back));
        ++count;
    }
    g.nodes = std::move(out);
    return count;
}

// Step 2, one sweep: moves NHWC->NCHW Transposes below pointwise consumers and cancels inverse pairs.
bool sink_once(ir::Graph& g, Rewriter& rw) {
    std::unordered_map<std::string, size_t> producer = g.producers();
    auto from_to_nchw = [&](const std::string& v) -> const ir::Node* {
        auto it = producer.find(v);
        if (it == producer.end()) return nullptr;
        const ir::Node& p = g.nodes[it->second];
        return is_transpose(p, kToNchw) ? &p : nullptr;
    };
    for (size_t i = 0; i < g.nodes.size(); ++i) {
        ir::Node& n = g.nodes[i];
        // Transpose(0231) of Transpose(0312)(x) is x.
        if (is_transpose(n, kToNhwc)) {
            if (const ir::Node* t = from_to_nchw(n.inputs[0]); t && !is_graph_output(g, n.outputs[0])) {
                const std::string out = n.outputs[0];
                replace_uses(g, out, t->inputs[0]);
                g.nodes.erase(g.nodes.begin() + static_cast<long>(i));
                g.erase_value(out);
                return true;
            }
            continue;
        }
        if (is_graph_output(g, n.outputs.empty() ? "" : n.outputs[0])) continue;
        const bool unary = is_unary_pointwise(n) || is_clip(g, n);
        if (!unary && !is_binary_pointwise(n)) continue;
        const ir::Value* yv = g.find(n.outputs[0]);
        if (!yv || !yv->shape_known || yv->shape.size() != 4) continue;
        // New inputs in channels-last: each a Transpose's source, or a permuted constant.
        std::vector<std::string> ins = n.inputs;
        bool any = false, ok = true;
        const size_t operands = unary ? 1 : 2;
        for (size_t k = 0; k < operands && ok; ++k) {
            if (const ir::Node* t = from_to_nchw(n.inputs[k])) {
                ins[k] = t->inputs[0];
                any = true;
            } else {
                const ir::Value* v = g.find(n.inputs[k]);
                ok = v && v->is_constant();
            }
        }
        if (!any || !ok) continue;
        if (n.op_type == "PRelu" && ins[1] == n.inputs[1]) continue;  // PRelu's slope must follow the layout
        for (size_t k = 0; k < operands; ++k) {
            if (ins[k] != n.inputs[k]) continue;
            ins[k] = rw.channels_last_constant(n.inputs[k]);
            if (ins[k].empty()) ok = false;
        }
        if (!ok) continue;
        const std::string y = n.outputs[0];
        const ir::Value old = *yv;
        const std::string y_nhwc = g.unique_name(y + "_nhwc");
        rw.add_value(y_nhwc, old, permuted(old.shape, kToNhwc));
        n.inputs = ins;
        n.outputs[0] = y_nhwc;
        ir::Node back = rw.to_nchw(n.name, y_nhwc, y);
        g.nodes.insert(g.nodes.begin() + static_cast<long>(i) + 1, std::move(back));
        return true;
    }
    return false;
}

}  // namespace

Status convert_to_nhwc(ir::Graph& graph, bool half_only, int* converted, int* reformats) {
    Rewriter rw(graph);
    const int count = convert_nodes(graph, half_only, rw);
    if (count > 0) {
        graph.opsets[ir::kRtinferDomain] = 1;
        // Each sweep removes or moves one Transpose; a bound keeps a pathological graph from looping.
        for (size_t sweeps = 0; sweeps < 16 * graph.nodes.size() + 16 && sink_once(graph, rw); ++sweeps) {
        }
        RT_RETURN_IF_ERROR(remove_dead_nodes(graph));
        RT_RETURN_IF_ERROR(graph.topo_sort());
    }
    if (converted) *converted = count;
    if (reformats) {
        int n = 0;
        for (const ir::Node& node : graph.nodes) n += rw.created.count(node.name) != 0;
        *reformats = n;
    }
    return Status();
}

}  // namespace rtinfer::passes
