// opset_import checks, and the mapping of models written for ai.onnx opsets older than the kernels know.
#include <initializer_list>

#include "core/onnx/import_internal.h"

namespace rtinfer::onnx::detail {

namespace {

struct OpVersions {
    const char* op_type;
    std::initializer_list<int> versions;
};

// Every ai.onnx op with a definition introduced in opsets 2 to 7 (from onnx.defs' schema history). An op not
// listed here means the same at any opset from 1 to 7, so a model importing an older opset can run with the
// opset-7 kernels if all its ops are unlisted or were last changed at or before the declared opset.
const OpVersions kChangedUpTo7[] = {
    {"Abs", {6}},         {"Acos", {7}},
    {"Add", {6, 7}},      {"And", {7}},
    {"Asin", {7}},        {"Atan", {7}},
    {"AveragePool", {7}}, {"BatchNormalization", {6, 7}},
    {"Cast", {6}},        {"Ceil", {6}},
    {"Clip", {6}},        {"Concat", {4}},
    {"Cos", {7}},         {"Div", {6, 7}},
    {"Dropout", {6, 7}},  {"Elu", {6}},
    {"Equal", {7}},       {"Exp", {6}},
    {"Floor", {6}},       {"GRU", {3, 7}},
    {"Gemm", {6, 7}},     {"GlobalLpPool", {2}},
    {"Greater", {7}},     {"HardSigmoid", {6}},
    {"InstanceNormalization", {6}},
    {"LSTM", {7}},        {"LeakyRelu", {6}},
    {"Less", {7}},        {"Log", {6}},
    {"LpPool", {2}},      {"Max", {6}},
    {"Mean", {6}},        {"Min", {6}},
    {"Mul", {6, 7}},      {"Multinomial", {7}},
    {"Neg", {6}},         {"Or", {7}},
    {"PRelu", {6, 7}},    {"Pad", {2}},
    {"Pow", {7}},         {"RNN", {7}},
    {"Reciprocal", {6}},  {"Relu", {6}},
    {"Reshape", {5}},     {"Selu", {6}},
    {"Sigmoid", {6}},     {"Sin", {7}},
    {"Split", {2}},       {"Sqrt", {6}},
    {"Sub", {6, 7}},      {"Sum", {6}},
    {"Tan", {7}},         {"Tanh", {6}},
    {"Tile", {6}},        {"Upsample", {7}},
    {"Xor", {7}},
};

// The first opset in (declared, kMinOpset] that redefines op_type, or 0 if none does.
int changed_after(const std::string& op_type, int64_t declared) {
    for (const OpVersions& op : kChangedUpTo7) {
        if (op_type != op.op_type) continue;
        for (int v : op.versions) {
            if (v > declared && v <= kMinOpset) return v;
        }
    }
    return 0;
}

Status unsupported_opset(int64_t version, const std::string& why) {
    return Status(StatusCode::kUnsupported, "ai.onnx opset " + std::to_string(version) +
                                                " is not supported (rtinfer supports opsets " +
                                                std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) + ")" +
                                                why);
}

Status check_legacy_nodes(const ir::Graph& graph, int64_t declared) {
    for (const ir::Node& node : graph.nodes) {
        if (node.domain.empty()) {
            if (int v = changed_after(node.op_type, declared)) {
                return unsupported_opset(declared, ": " + node.describe() + " was redefined in opset " +
                                                       std::to_string(v));
            }
        }
        for (const auto& [key, attr] : node.attrs) {
            if (attr.kind == ir::Attribute::Kind::kGraph && attr.g) {
                Status s = check_legacy_nodes(*attr.g, declared);
                if (!s.is_ok()) return s;
            }
        }
    }
    return Status();
}

void set_default_opset(ir::Graph& graph, int64_t version) {
    graph.opsets[""] = version;
    for (ir::Node& node : graph.nodes) {
        for (auto& [key, attr] : node.attrs) {
            if (attr.kind == ir::Attribute::Kind::kGraph && attr.g) set_default_opset(*attr.g, version);
        }
    }
}

}  // namespace

Expected<std::map<std::string, int64_t>> read_opset_imports(const ::onnx::ModelProto& model) {
    std::map<std::string, int64_t> opsets;
    for (const auto& entry : model.opset_import()) {
        const std::string domain = entry.domain() == "ai.onnx" ? std::string() : entry.domain();
        const std::string shown = domain.empty() ? std::string("ai.onnx") : domain;
        if (entry.version() <= 0) {
            return Status(StatusCode::kInvalidModel,
                          "opset_import gives domain '" + shown + "' version " + std::to_string(entry.version()));
        }
        auto [it, inserted] = opsets.emplace(domain, entry.version());
        if (!inserted && it->second != entry.version()) {
            return Status(StatusCode::kInvalidModel, "opset_import lists domain '" + shown + "' twice, as version " +
                                                         std::to_string(it->second) + " and " +
                                                         std::to_string(entry.version()));
        }
    }
    auto it = opsets.find("");
    if (it != opsets.end() && it->second > kMaxOpset) return unsupported_opset(it->second, "");
    return opsets;
}

Status upgrade_legacy_opset(ir::Graph& graph) {
    const int64_t declared = graph.opset("");
    if (declared == 0 || declared >= kMinOpset) return Status();
    RT_RETURN_IF_ERROR(check_legacy_nodes(graph, declared));
    set_default_opset(graph, kMinOpset);
    return Status();
}

}  // namespace rtinfer::onnx::detail
