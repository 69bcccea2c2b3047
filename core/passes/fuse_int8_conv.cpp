// Real int8 convolutions from the calibrated Q/DQ graph (quant::insert_qdq, then the channels-last passes):
//
//   QuantizeLinear(x) -> q -> DequantizeLinear -> NhwcConv(W rounded per channel, B, Z, activation) -> y
// becomes
//   QuantizeLinear(x) -> q -> rtinfer.Int8Conv(W int8, alpha = s_x * s_w, B, Z, activation) -> y
//
// Then, so that int8 tensors flow from one convolution to the next:
//   - a float residual Z that is also quantized for another layer is read as that int8 tensor (rt_z_scale);
//   - an Int8Conv output read only by QuantizeLinear nodes of one scale is written as int8 directly
//     (rt_output_scale) and those nodes go.
// A quantized NhwcConv the int8 kernel cannot take (grouped, channels not multiples of 16 and 8, an activation
// GELU, an image stem behind its input reformat) reads its float input directly instead of the fake-quantized one, and so do the
// other quantized layers (Gemm, MatMul): without an int8 kernel they run in float16 like the FP16 engine.
// prefer_int8 (when given) decides for each convolution the kernel takes, from the float layer and its int8 form
// (the builder times both); a layer it keeps in float also reads its float input.
// Only layers insert_qdq marked (rt_int8_weight_scales) change: an explicitly quantized model keeps its Q/DQ.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "core/ir/fused_activation.h"
#include "core/ir/half.h"
#include "core/ir/op.h"
#include "core/passes/passes.h"

namespace rtinfer::passes {

namespace {

constexpr int64_t kOnnxFloat = 1, kOnnxFloat16 = 10;

bool is_onnx(const ir::Node& n, const char* type) {
    return n.domain.empty() && n.op_type == type;
}

// The scale of a QuantizeLinear / DequantizeLinear with one scale and an int8 zero point 0; 0 otherwise.
float per_tensor_scale(const ir::Graph& g, const ir::Node& n) {
    if (n.inputs.size() != 3) return 0.0f;
    const ir::Value* s = g.find(n.inputs[1]);
    const ir::Value* zp = g.find(n.inputs[2]);
    if (!s || !zp || !s->is_constant() || !zp->is_constant() || s->constant.numel() != 1 ||
        zp->constant.numel() != 1 || zp->constant.dtype() != DataType::kInt8 || zp->constant.data<int8_t>()[0] != 0) {
        return 0.0f;
    }
    const double v = ir::to_doubles(s->constant)[0];
    return v > 0.0 && std::isfinite(v) ? static_cast<float>(v) : 0.0f;
}

std::vector<float> floats_of(const ir::Tensor& t) {
    const std::vector<double> d = ir::to_doubles(t);
    return std::vector<float>(d.begin(), d.end());
}

bool is_graph_output(const ir::Graph& g, const std::string& name) {
    return std::find(g.outputs.begin(), g.outputs.end(), name) != g.outputs.end();
}

// What the int8 kernel fuses: every fused activation but the GELUs.
bool int8_activation(const ir::Node& conv) {
    const ir::FusedActivation act = ir::fused_activation(conv).act;
    return act != ir::FusedActivation::kGelu && act != ir::FusedActivation::kGeluTanh;
}

std::string add_constant(ir::Graph& g, const std::string& prefix, ir::Tensor t) {
    ir::Value& v = g.add_value(g.unique_name(prefix));
    v.dtype = t.dtype();
    v.shape = t.shape();
    v.shape_known = true;
    v.constant = std::move(t);
    return v.name;
}

void drop_quant_attrs(ir::Node& n) {
    n.attrs.erase("rt_int8_input_scale");
    n.attrs.erase("rt_int8_weight_scales");
}

// NhwcConv -> Int8Conv reading the int8 tensor q with scale s_x.
void convert(ir::Graph& g, ir::Node& conv, const std::string& q, float s_x, ir::DType out_type) {
    const ir::Tensor& w = g.at(conv.inputs[1]).constant;
    const std::vector<float> s_w = conv.attr_floats("rt_int8_weight_scales");
    const int64_t out_c = w.dim(0), per_channel = w.numel() / std::max<int64_t>(out_c, 1);
    const std::vector<float> wf = floats_of(w);
    ir::Tensor w8(DataType::kInt8, w.shape());
    std::vector<float> alpha(static_cast<size_t>(out_c));
    for (int64_t o = 0; o < out_c; ++o) {
        const float s = s_w[static_cast<size_t>(o)];
        alpha[static_cast<size_t>(o)] = s_x * s;
        for (int64_t i = 0; i < per_channel; ++i) {
            const int64_t k = o * per_channel + i;
            const float r = s > 0.0f ? std::nearbyint(wf[static_cast<size_t>(k)] / s) : 0.0f;
            w8.data<int8_t>()[k] = static_cast<int8_t>(std::fmin(std::fmax(r, -127.0f), 127.0f));
        }
    }
    std::vector<std::string> inputs = {q, add_constant(g, conv.inputs[1] + "_q8", std::move(w8)),
                                       add_constant(g, conv.name + "_alpha", ir::Tensor::from_floats(alpha, {out_c})),
                                       "", ""};
    if (conv.inputs.size() > 2 && !conv.inputs[2].empty()) {
        inputs[3] = add_constant(g, conv.inputs[2] + "_f32",
                                 ir::Tensor::from_floats(floats_of(g.at(conv.inputs[2]).constant), {out_c}));
    }
    if (conv.inputs.size() > 3) inputs[4] = conv.inputs[3];
    conv.op_type = "Int8Conv";
    conv.inputs = std::move(inputs);
    drop_quant_attrs(conv);
    const ir::FusedActivationParams act = ir::fused_activation(conv);
    for (const char* a : {"rt_fused_activation", "rt_alpha", "rt_clip_min", "rt_clip_max"}) conv.attrs.erase(a);
    if (act.act != ir::FusedActivation::kNone) {
        conv.attrs["rt_int8_activation"] = ir::int_attribute(static_cast<int64_t>(act.act));
        if (act.act == ir::FusedActivation::kLeakyRelu) conv.attrs["rt_int8_alpha"] = ir::float_attribute(act.alpha);
        if (act.act == ir::FusedActivation::kClip) {
            conv.attrs["rt_int8_clip_min"] = ir::float_attribute(act.clip_min);
            conv.attrs["rt_int8_clip_max"] = ir::float_attribute(act.clip_max);
        }
    }
    conv.attrs["rt_output_type"] = ir::int_attribute(out_type == DataType::kFloat16 ? kOnnxFloat16 : kOnnxFloat);
}

}  // namespace

Status fuse_int8_conv(ir::Graph& g, bool int8_kernels, int* converted, int* int8_outputs, const Int8Choice& prefer_int8,
                      int* kept_float) {
    int n_converted = 0, n_outputs = 0, n_kept = 0;
    auto producer = g.producers();
    auto producer_of = [&](const std::string& name) -> ir::Node* {
        auto it = producer.find(name);
        return it == producer.end() ? nullptr : &g.nodes[it->second];
    };
    // The value of type `dtype` that `name` is, or is a Cast of (float16 engines quantize float32 Casts of
    // their float16 tensors); empty when there is none.
    auto float_source = [&](const std::string& name, DataType dtype) -> std::string {
        const ir::Value* v = g.find(name);
        if (v && v->dtype == dtype) return name;
        const ir::Node* cast = producer_of(name);
        if (!cast || !is_onnx(*cast, "Cast")) return "";
        const ir::Value* in = g.find(cast->inputs[0]);
        return in && in->dtype == dtype ? cast->inputs[0] : "";
    };
    // 1. The layers insert_qdq quantized: to Int8Conv where the kernel takes them, else back to their float input.
    for (ir::Node& n : g.nodes) {
        if (!n.has_attr("rt_int8_weight_scales") || n.inputs.empty()) continue;
        ir::Node* dq = producer_of(n.inputs[0]);
        // An image stem reads the pair through its input reformat (DQ -> NchwToNhwc -> conv): never int8.
        ir::Node* reformat = dq && dq->domain == ir::kRtinferDomain && dq->op_type == "NchwToNhwc" ? dq : nullptr;
        if (reformat) dq = producer_of(reformat->inputs[0]);
        if (dq && is_onnx(*dq, "Cast")) dq = producer_of(dq->inputs[0]);  // float16 layers: DQ -> Cast -> conv
        ir::Node* q = dq && is_onnx(*dq, "DequantizeLinear") ? producer_of(dq->inputs[0]) : nullptr;
        const float s_x = dq ? per_tensor_scale(g, *dq) : 0.0f;
        if (!q || !is_onnx(*q, "QuantizeLinear") || s_x == 0.0f) continue;
        const ir::Value* y = g.find(n.outputs[0]);
        const ir::Value* w = n.inputs.size() > 1 ? g.find(n.inputs[1]) : nullptr;
        const bool nhwc_conv = n.op_type == "NhwcConv" && n.domain == ir::kRtinferDomain;
        if (reformat) {
            if (const std::string src = float_source(q->inputs[0], g.at(reformat->inputs[0]).dtype); !src.empty()) {
                reformat->inputs[0] = src;
                drop_quant_attrs(n);
            }
            continue;
        }
        const bool takes = int8_kernels && nhwc_conv && w && w->is_constant() && w->constant.rank() == 4 && y &&
                           y->shape_known && (y->dtype == DataType::kFloat16 || y->dtype == DataType::kFloat32) &&
                           n.attr_int("group", 1) == 1 && w->constant.dim(3) % 16 == 0 && w->constant.dim(0) % 8 == 0 &&
                           n.attr_floats("rt_int8_weight_scales").size() == static_cast<size_t>(w->constant.dim(0)) &&
                           int8_activation(n) && !n.has_attr("rt_input_activation") && n.inputs.size() <= 4 &&
                           n.attr_string("auto_pad", "NOTSET") == "NOTSET";
        if (takes) {
            ir::Node candidate = n;
            convert(g, candidate, dq->inputs[0], s_x, y->dtype);
            if (!prefer_int8 || prefer_int8(g, n, candidate)) {
                n = std::move(candidate);
                ++n_converted;
                continue;
            }
            for (size_t i = 1; i <= 3; ++i) {
                if (!candidate.inputs[i].empty()) g.erase_value(candidate.inputs[i]);
            }
            ++n_kept;
        }
        if (const std::string src = float_source(q->inputs[0], g.at(n.inputs[0]).dtype); !src.empty()) {
            n.inputs[0] = src;
            drop_quant_attrs(n);
        }
    }
    // Who reads each value (after step 1).
    std::unordered_map<std::string, std::vector<size_t>> readers;
    auto index_readers = [&] {
        readers.clear();
        for (size_t i = 0; i < g.nodes.size(); ++i) {
            for (const auto& in : g.nodes[i].inputs) {
                if (!in.empty()) readers[in].push_back(i);
            }
        }
    };
    index_readers();
    auto is_int8_quantize = [&](const ir::Node& n) {
        if (!is_onnx(n, "QuantizeLinear") || per_tensor_scale(g, n) == 0.0f) return false;
        const ir::Value* out = g.find(n.outputs[0]);
        return out && out->dtype == DataType::kInt8;
    };
    // The readers of `value`, each either a QuantizeLinear of it (quantizers) or a Cast whose readers all are
    // QuantizeLinear nodes of the Cast's output (casts, their readers in quantizers); others counts the rest.
    struct Readers {
        std::vector<size_t> quantizers, casts;
        int others = 0;
    };
    auto quantizing_readers = [&](const std::string& value) {
        Readers out;
        for (size_t r : readers[value]) {
            const ir::Node& node = g.nodes[r];
            if (is_int8_quantize(node) && node.inputs[0] == value) {
                out.quantizers.push_back(r);
                continue;
            }
            bool cast_to_quantizers = is_onnx(node, "Cast") && !readers[node.outputs[0]].empty() &&
                                      !is_graph_output(g, node.outputs[0]);
            for (size_t c : cast_to_quantizers ? readers[node.outputs[0]] : std::vector<size_t>{}) {
                if (!is_int8_quantize(g.nodes[c]) || g.nodes[c].inputs[0] != node.outputs[0]) cast_to_quantizers = false;
            }
            if (cast_to_quantizers) {
                out.casts.push_back(r);
                for (size_t c : readers[node.outputs[0]]) out.quantizers.push_back(c);
            } else {
                ++out.others;
            }
        }
        return out;
    };
    // 2. Residuals that are quantized anyway are read in int8.
    for (ir::Node& n : g.nodes) {
        if (n.op_type != "Int8Conv" || n.domain != ir::kRtinferDomain || n.inputs[4].empty()) continue;
        const Readers rs = quantizing_readers(n.inputs[4]);
        if (rs.quantizers.empty()) continue;
        const ir::Node& q = g.nodes[rs.quantizers[0]];
        n.attrs["rt_z_scale"] = ir::float_attribute(per_tensor_scale(g, q));
        n.inputs[4] = q.outputs[0];
    }
    index_readers();
    // 3. Outputs read only by QuantizeLinear nodes of one scale are written in int8.
    std::vector<bool> drop(g.nodes.size(), false);
    for (ir::Node& n : g.nodes) {
        if (n.op_type != "Int8Conv" || n.domain != ir::kRtinferDomain || n.has_attr("rt_output_scale")) continue;
        const std::string y = n.outputs[0];
        const Readers readers_of_y = quantizing_readers(y);
        const auto& rs = readers_of_y.quantizers;
        if (rs.empty() || readers_of_y.others > 0 || is_graph_output(g, y)) continue;
        float scale = 0.0f;
        bool all = true;
        for (size_t r : rs) {
            const ir::Node& q = g.nodes[r];
            const float s = is_graph_output(g, q.outputs[0]) ? 0.0f : per_tensor_scale(g, q);
            if (s == 0.0f || (scale != 0.0f && s != scale)) all = false;
            scale = s;
        }
        if (!all) continue;
        const std::string q8 = g.nodes[rs[0]].outputs[0];
        for (size_t c : readers_of_y.casts) {
            drop[c] = true;
            g.erase_value(g.nodes[c].outputs[0]);
        }
        for (size_t r : rs) {
            drop[r] = true;
            if (g.nodes[r].outputs[0] != q8) {
                replace_uses(g, g.nodes[r].outputs[0], q8);
                g.erase_value(g.nodes[r].outputs[0]);
            }
        }
        n.outputs[0] = q8;
        n.attrs["rt_output_scale"] = ir::float_attribute(scale);
        n.attrs.erase("rt_output_type");
        g.erase_value(y);
        ++n_outputs;
    }
    std::vector<ir::Node> kept;
    kept.reserve(g.nodes.size());
    for (size_t i = 0; i < g.nodes.size(); ++i) {
        if (!drop[i]) kept.push_back(std::move(g.nodes[i]));
    }
    g.nodes = std::move(kept);
    RT_RETURN_IF_ERROR(remove_dead_nodes(g));
    if (converted) *converted = n_converted;
    if (int8_outputs) *int8_outputs = n_outputs;
    if (kept_float) *kept_float = n_kept;
    return g.topo_sort();
}

}  // namespace rtinfer::passes
