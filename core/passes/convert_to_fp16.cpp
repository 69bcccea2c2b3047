// Runs the float32 layers that are safe in half precision in float16: their float inputs are converted
// (constants once, at build time; activations by Cast nodes where a float32 value enters), their outputs
// become float16, and Casts back to float32 are placed where a float32 consumer or a graph output needs
// one. Graph inputs and outputs keep their types. Accumulation precision is each kernel's business
// (float accumulation throughout rtinfer's kernels).
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/ir/op.h"
#include "core/passes/passes.h"

namespace rtinfer::passes {

namespace {

// Ops that compute well in float16, and for each whether only input 0 (the data) is converted.
const std::unordered_map<std::string, bool>& half_ops() {
    static const std::unordered_map<std::string, bool> ops = {
        {"Conv", false}, {"ConvTranspose", false}, {"Gemm", false}, {"MatMul", false},
        {"Add", false}, {"Sub", false}, {"Mul", false}, {"Div", false}, {"Relu", false},
        {"LeakyRelu", false}, {"Sigmoid", false}, {"Tanh", false}, {"HardSigmoid", false},
        {"HardSwish", false}, {"Clip", false}, {"Erf", false}, {"Gelu", false}, {"Softmax", false},
        {"LayerNormalization", false}, {"BatchNormalization", false}, {"InstanceNormalization", false},
        {"MaxPool", true}, {"AveragePool", true}, {"GlobalAveragePool", true}, {"GlobalMaxPool", true},
        {"Concat", false}, {"Reshape", true}, {"Transpose", true}, {"Flatten", true}, {"Squeeze", true},
        {"Unsqueeze", true}, {"Slice", true}, {"Split", true}, {"Resize", true}, {"Identity", true},
        {"Gather", true}, {"Expand", true}, {"Neg", false}, {"Sqrt", false}, {"Exp", false},
        {"Max", false}, {"Min", false}, {"ReduceMean", true}, {"Pad", true},
        // Read the shape only: a float16 input needs no Cast back to float32 first.
        {"Shape", true}, {"Size", true},
    };
    return ops;
}

ir::Node make_cast(const std::string& name, const std::string& in, const std::string& out, DataType to) {
    ir::Node n;
    n.name = name;
    n.op_type = "Cast";
    n.inputs = {in};
    n.outputs = {out};
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInt;
    a.i = to == DataType::kFloat16 ? 10 : 1;  // ONNX TensorProto codes
    n.attrs["to"] = a;
    return n;
}

}  // namespace

Status convert_to_fp16(ir::Graph& graph, int* converted) {
    int count = 0;
    std::unordered_set<std::string> half;                        // values now float16
    std::unordered_map<std::string, std::string> to_half, to_float;  // cached conversions
    std::vector<ir::Node> nodes;
    nodes.reserve(graph.nodes.size() * 2);
    auto half_version = [&](const std::string& name) -> Expected<std::string> {
        if (half.count(name)) return name;
        auto it = to_half.find(name);
        if (it != to_half.end()) return it->second;
        const std::string h = graph.unique_name(name + "_fp16");
        ir::Value& src = graph.at(name);
        if (src.is_constant()) {
            RT_ASSIGN_OR_RETURN(ir::Tensor t, ir::cast_tensor(src.constant, DataType::kFloat16));
            ir::Value& v = graph.add_value(h);
            v.dtype = DataType::kFloat16;
            v.shape = t.shape();
            v.shape_known = true;
            v.constant = t;
        } else {
            ir::Value& v = graph.add_value(h);
            v.dtype = DataType::kFloat16;
            v.shape = graph.at(name).shape;
            v.shape_known = graph.at(name).shape_known;
            nodes.push_back(make_cast(graph.unique_name("cast_" + h), name, h, DataType::kFloat16));
        }
        to_half[name] = h;
        half.insert(h);
        return h;
    };
    auto float_version = [&](const std::string& name) {
        auto it = to_float.find(name);
        if (it != to_float.end()) return it->second;
        const std::string f = graph.unique_name(name + "_fp32");
        ir::Value& v = graph.add_value(f);
        v.dtype = DataType::kFloat32;
        v.shape = graph.at(name).shape;
        v.shape_known = graph.at(name).shape_known;
        nodes.push_back(make_cast(graph.unique_name("cast_" + f), name, f, DataType::kFloat32));
        to_float[name] = f;
        return f;
    };

    for (ir::Node& node : graph.nodes) {
        auto op = half_ops().find(node.op_type);
        // rtinfer.MatMulBias (MatMul + Add) and rtinfer.Attention (MatMul, Softmax, MatMul) convert like MatMul.
        const bool fused_matmul =
            node.domain == ir::kRtinferDomain && (node.op_type == "MatMulBias" || node.op_type == "Attention");
        if (fused_matmul) op = half_ops().find("MatMul");
        bool runs_half = (node.domain.empty() || fused_matmul) && op != half_ops().end();
        if (runs_half) {
            // Only when its float data is float32 today (not an int-only use of Gather, say).
            bool any_float = false;
            for (size_t i = 0; i < node.inputs.size(); ++i) {
                const ir::Value* v = node.inputs[i].empty() ? nullptr : graph.find(node.inputs[i]);
                if (v && (v->dtype == DataType::kFloat32 || half.count(node.inputs[i])) && (i == 0 || !op->second)) any_float = true;
            }
            runs_half = any_float;
        }
        if (runs_half) {
            for (size_t i = 0; i < node.inputs.size(); ++i) {
                if (node.inputs[i].empty() || (op->second && i > 0)) continue;
                const ir::Value& v = graph.at(node.inputs[i]);
                if (v.dtype != DataType::kFloat32 || half.count(node.inputs[i])) continue;
                RT_ASSIGN_OR_RETURN(node.inputs[i], half_version(node.inputs[i]));
            }
            for (size_t i = 0; i < node.outputs.size(); ++i) {
                if (node.outputs[i].empty()) continue;
                ir::Value& v = graph.at(node.outputs[i]);
                if (v.dtype != DataType::kFloat32 || (node.op_type == "LayerNormalization" && i > 0)) continue;
                v.dtype = DataType::kFloat16;
                half.insert(node.outputs[i]);
            }
            ++count;
        } else {
            for (auto& in : node.inputs) {
                if (!in.empty() && half.count(in)) in = float_version(in);
            }
        }
        nodes.push_back(std::move(node));
    }
    // Graph outputs keep their float32 type: the half value is renamed and cast back under the old name.
    for (const auto& out : graph.outputs) {
        if (!half.count(out)) continue;
        const std::string renamed = graph.unique_name(out + "_fp16out");
        ir::Value& v = graph.add_value(renamed);
        v = graph.at(out);
        v.name = renamed;
        for (auto& n : nodes) {
            for (auto& s : n.inputs) s = s == out ? renamed : s;
            for (auto& s : n.outputs) s = s == out ? renamed : s;
        }
        graph.at(out).dtype = DataType::kFloat32;
        nodes.push_back(make_cast(graph.unique_name("cast_" + out), renamed, out, DataType::kFloat32));
    }
    graph.nodes = std::move(nodes);
    if (converted) *converted = count;
    RT_RETURN_IF_ERROR(graph.topo_sort());
    return remove_dead_nodes(graph);
}

}  // namespace rtinfer::passes
