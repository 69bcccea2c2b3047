#include "core/quant/insert_qdq.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>

#include "core/quant/calibrator.h"

namespace rtinfer::quant {

namespace {

bool float_constant(const ir::Graph& g, const std::string& name) {
    const ir::Value* v = name.empty() ? nullptr : g.find(name);
    return v && v->is_constant() && v->constant.dtype() == DataType::kFloat32;
}

// Weights rounded to int8 per output channel: w = q(w / s) * s with s = max|w| / 127 of the channel. Returns
// the scales, one per channel.
std::vector<float> round_weights_per_channel(ir::Tensor& w, int axis) {
    const ir::Shape& shape = w.shape();
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d) outer *= shape[static_cast<size_t>(d)];
    for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
    const int64_t channels = shape[static_cast<size_t>(axis)];
    float* p = w.data<float>();
    std::vector<float> scales = per_channel_amax(p, outer, channels, inner);
    for (float& s : scales) s /= 127.0f;
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t c = 0; c < channels; ++c) {
            const float s = scales[static_cast<size_t>(c)];
            for (int64_t i = 0; i < inner; ++i) {
                float& x = p[(o * channels + c) * inner + i];
                x = static_cast<float>(quantize_symmetric(x, s)) * s;
            }
        }
    return scales;
}

ir::Tensor int8_zero() {
    ir::Tensor t(DataType::kInt8, {});
    *t.data<int8_t>() = 0;
    return t;
}

}  // namespace

bool has_qdq(const ir::Graph& g) {
    return std::any_of(g.nodes.begin(), g.nodes.end(), [](const ir::Node& n) {
        return n.domain.empty() && (n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear");
    });
}

std::vector<QuantLayer> quantizable_layers(const ir::Graph& g) {
    std::vector<QuantLayer> layers;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
        const ir::Node& n = g.nodes[i];
        if (!n.domain.empty() || n.inputs.size() < 2 || n.inputs[0].empty()) continue;
        const ir::Value* x = g.find(n.inputs[0]);
        if (!x || x->is_constant() || x->dtype != DataType::kFloat32) continue;
        if (!float_constant(g, n.inputs[1])) continue;
        const ir::Tensor& w = g.at(n.inputs[1]).constant;
        QuantLayer layer;
        layer.node = i;
        layer.activation = n.inputs[0];
        if (n.op_type == "Conv" && w.rank() >= 3) {
            layer.channel_axis = 0;
        } else if (n.op_type == "Gemm" && w.rank() == 2 && n.attr_int("transA", 0) == 0) {
            layer.channel_axis = n.attr_int("transB", 0) ? 0 : 1;
        } else if (n.op_type == "MatMul" && w.rank() == 2 && n.attr_int("rt_trans_b", 0) == 0) {
            layer.channel_axis = 1;
        } else {
            continue;
        }
        layers.push_back(layer);
    }
    return layers;
}

std::vector<std::string> calibration_tensors(const ir::Graph& g) {
    std::vector<std::string> names;
    std::set<std::string> seen;
    for (const auto& layer : quantizable_layers(g)) {
        if (seen.insert(layer.activation).second) names.push_back(layer.activation);
    }
    return names;
}

std::map<std::string, float> known_ranges(const ir::Graph& g) {
    std::map<std::string, float> ranges;
    const auto producers = g.producers();
    for (const auto& name : calibration_tensors(g)) {
        auto p = producers.find(name);
        if (p == producers.end()) continue;
        const ir::Node& n = g.nodes[p->second];
        if (n.domain.empty() && (n.op_type == "Softmax" || n.op_type == "Sigmoid" || n.op_type == "HardSigmoid"))
            ranges[name] = 1.0f;
    }
    return ranges;
}

std::map<std::string, double> layer_sensitivity(const ir::Graph& g,
                                                const std::map<std::string, double>& activation_noise) {
    std::map<std::string, double> out;
    for (const auto& layer : quantizable_layers(g)) {
        const ir::Node& n = g.nodes[layer.node];
        const ir::Tensor& w = g.at(n.inputs[layer.weight_input]).constant;
        ir::Tensor rounded = w.clone();
        round_weights_per_channel(rounded, layer.channel_axis);
        double signal = 0.0, noise = 0.0;
        for (int64_t i = 0; i < w.numel(); ++i) {
            const double a = w.data<float>()[i], b = rounded.data<float>()[i];
            signal += a * a;
            noise += (a - b) * (a - b);
        }
        auto it = activation_noise.find(layer.activation);
        out[n.name] = (signal > 0.0 ? noise / signal : 0.0) + (it != activation_noise.end() ? it->second : 0.0);
    }
    return out;
}

Expected<QdqSummary> insert_qdq(ir::Graph& g, const std::map<std::string, float>& amax,
                                const std::set<std::string>& keep_float) {
    QdqSummary summary;
    const std::vector<QuantLayer> layers = quantizable_layers(g);
    std::unordered_map<std::string, std::string> dequantized;  // activation -> its Q/DQ output
    std::vector<std::vector<ir::Node>> before(g.nodes.size());  // Q/DQ nodes to place before node i
    for (const auto& layer : layers) {
        ir::Node& node = g.nodes[layer.node];
        if (keep_float.count(node.name)) {
            summary.skipped.push_back(node.describe() + " (kept in float for the accuracy budget)");
            continue;
        }
        auto range = amax.find(layer.activation);
        if (range == amax.end()) {
            summary.skipped.push_back(node.describe() + " (no range for '" + layer.activation + "')");
            continue;
        }
        if (!(range->second > 0.0f) || !std::isfinite(range->second)) {
            summary.skipped.push_back(node.describe() + " ('" + layer.activation + "' is always zero)");
            continue;
        }
        const float scale = range->second / 127.0f;
        auto done = dequantized.find(layer.activation);
        if (done == dequantized.end()) {
            const ir::Value& x = g.at(layer.activation);
            const std::string base = g.unique_name(layer.activation + "_int8");
            ir::Value& s = g.add_value(base + "_scale");
            s.constant = ir::Tensor::from_floats({scale}, {});
            s.dtype = DataType::kFloat32;
            s.shape_known = true;
            ir::Value& zp = g.add_value(base + "_zero_point");
            zp.constant = int8_zero();
            zp.dtype = DataType::kInt8;
            zp.shape_known = true;
            ir::Value& q = g.add_value(base + "_q");
            q.dtype = DataType::kInt8;
            q.shape = x.shape;
            q.shape_known = x.shape_known;
            ir::Value& dq = g.add_value(base + "_dq");
            dq.dtype = DataType::kFloat32;
            dq.shape = x.shape;
            dq.shape_known = x.shape_known;
            ir::Node qn;
            qn.name = base + "_quantize";
            qn.op_type = "QuantizeLinear";
            qn.inputs = {layer.activation, s.name, zp.name};
            qn.outputs = {q.name};
            ir::Node dqn;
            dqn.name = base + "_dequantize";
            dqn.op_type = "DequantizeLinear";
            dqn.inputs = {q.name, s.name, zp.name};
            dqn.outputs = {dq.name};
            before[layer.node].push_back(std::move(qn));
            before[layer.node].push_back(std::move(dqn));
            done = dequantized.emplace(layer.activation, dq.name).first;
        }
        // The weights: a copy, rounded, so that a constant other layers share stays as it was.
        ir::Tensor w = g.at(node.inputs[layer.weight_input]).constant.clone();
        std::vector<float> weight_scales = round_weights_per_channel(w, layer.channel_axis);
        ir::Value& wq = g.add_value(g.unique_name(node.inputs[layer.weight_input] + "_int8"));
        wq.dtype = DataType::kFloat32;
        wq.shape = w.shape();
        wq.shape_known = true;
        wq.constant = std::move(w);
        node.inputs[layer.weight_input] = wq.name;
        node.inputs[0] = done->second;
        node.attrs["rt_int8_input_scale"] = ir::float_attribute(scale);
        node.attrs["rt_int8_weight_scales"] = ir::floats_attribute(std::move(weight_scales));
        ++summary.quantized;
    }
    std::vector<ir::Node> nodes;
    nodes.reserve(g.nodes.size() + 2 * dequantized.size());
    for (size_t i = 0; i < g.nodes.size(); ++i) {
        for (auto& n : before[i]) nodes.push_back(std::move(n));
        nodes.push_back(std::move(g.nodes[i]));
    }
    g.nodes = std::move(nodes);
    return summary;
}

}  // namespace rtinfer::quant
