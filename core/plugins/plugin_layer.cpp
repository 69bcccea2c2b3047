#include "core/plugins/plugin_layer.h"

#include <cstddef>

namespace rtinfer::plugins {

namespace {

constexpr size_t kPluginSizeV1 = offsetof(rt_plugin, destroy) + sizeof(void*);
constexpr size_t kMessageCapacity = 1024;

// A message buffer for one call.
struct ErrorBuffer {
    char text[kMessageCapacity] = {};
    rt_plugin_error error{text, kMessageCapacity};
};

const char* attr_type_name(int32_t type) {
    switch (type) {
        case RT_PLUGIN_ATTR_INT: return "an int";
        case RT_PLUGIN_ATTR_FLOAT: return "a float";
        case RT_PLUGIN_ATTR_STRING: return "a string";
        case RT_PLUGIN_ATTR_INTS: return "a list of ints";
        case RT_PLUGIN_ATTR_FLOATS: return "a list of floats";
        default: return "of an unknown type";
    }
}

const char* ir_kind_name(ir::Attribute::Kind kind) {
    switch (kind) {
        case ir::Attribute::Kind::kInt: return "an int";
        case ir::Attribute::Kind::kFloat: return "a float";
        case ir::Attribute::Kind::kString: return "a string";
        case ir::Attribute::Kind::kInts: return "a list of ints";
        case ir::Attribute::Kind::kFloats: return "a list of floats";
        case ir::Attribute::Kind::kStrings: return "a list of strings";
        case ir::Attribute::Kind::kTensor: return "a tensor";
        case ir::Attribute::Kind::kGraph: return "a graph";
    }
    return "of an unknown kind";
}

// The node's attributes as the ABI has them (pointing into the node), checked against the creator's fields.
Status plugin_attrs(const PluginCreator& creator, const ir::Node& node, std::vector<rt_plugin_attr>& out) {
    const std::string who = node.describe() + ": ";
    for (const auto& [key, a] : node.attrs) {
        rt_plugin_attr p{};
        p.name = key.c_str();
        switch (a.kind) {
            case ir::Attribute::Kind::kInt: p.type = RT_PLUGIN_ATTR_INT; p.i = a.i; break;
            case ir::Attribute::Kind::kFloat: p.type = RT_PLUGIN_ATTR_FLOAT; p.f = a.f; break;
            case ir::Attribute::Kind::kString:
                p.type = RT_PLUGIN_ATTR_STRING;
                p.s = a.s.c_str();
                p.count = a.s.size();
                break;
            case ir::Attribute::Kind::kInts:
                p.type = RT_PLUGIN_ATTR_INTS;
                p.ints = a.ints.data();
                p.count = a.ints.size();
                break;
            case ir::Attribute::Kind::kFloats:
                p.type = RT_PLUGIN_ATTR_FLOATS;
                p.floats = a.floats.data();
                p.count = a.floats.size();
                break;
            default:
                return Status(StatusCode::kUnsupported, who + "attribute '" + key + "' is " + ir_kind_name(a.kind) +
                                                            "; plugins take ints, floats, strings and lists of ints or floats");
        }
        out.push_back(p);
    }
    const rt_plugin_creator* api = creator.api;
    for (int32_t i = 0; i < api->num_fields; ++i) {
        const rt_plugin_field& f = api->fields[i];
        const ir::Attribute* a = node.attr(f.name);
        if (!a) {
            if (f.required) {
                return Status(StatusCode::kInvalidModel, who + "attribute '" + f.name + "' is required by " +
                                                             creator.describe() + " and missing");
            }
            continue;
        }
        for (const rt_plugin_attr& p : out) {
            if (std::string(p.name) != f.name || p.type == f.type) continue;
            return Status(StatusCode::kInvalidModel, who + "attribute '" + f.name + "' is " + attr_type_name(p.type) +
                                                         ", but " + creator.describe() + " expects " +
                                                         attr_type_name(f.type));
        }
    }
    return Status();
}

}  // namespace

bool is_plugin_node(const ir::Node& node) { return node.domain == kPluginDomain; }

Expected<rt_plugin_tensor_desc> to_plugin_desc(DataType dtype, const ir::Shape& shape) {
    rt_plugin_tensor_desc d{};
    if (shape.size() > RT_PLUGIN_MAX_RANK) {
        return Status(StatusCode::kUnsupported, "a tensor of rank " + std::to_string(shape.size()) +
                                                    " exceeds the plugin ABI's RT_PLUGIN_MAX_RANK (" +
                                                    std::to_string(RT_PLUGIN_MAX_RANK) + ")");
    }
    d.dtype = static_cast<int32_t>(dtype);  // DataType's values are the ABI's (checked below)
    d.rank = static_cast<int32_t>(shape.size());
    for (size_t i = 0; i < shape.size(); ++i) d.dims[i] = shape[i];
    return d;
}

static_assert(static_cast<int>(DataType::kFloat32) == RT_PLUGIN_DTYPE_FLOAT32 &&
                  static_cast<int>(DataType::kFloat16) == RT_PLUGIN_DTYPE_FLOAT16 &&
                  static_cast<int>(DataType::kInt8) == RT_PLUGIN_DTYPE_INT8 &&
                  static_cast<int>(DataType::kUInt8) == RT_PLUGIN_DTYPE_UINT8 &&
                  static_cast<int>(DataType::kInt32) == RT_PLUGIN_DTYPE_INT32 &&
                  static_cast<int>(DataType::kInt64) == RT_PLUGIN_DTYPE_INT64 &&
                  static_cast<int>(DataType::kBool) == RT_PLUGIN_DTYPE_BOOL &&
                  static_cast<int>(DataType::kFloat64) == RT_PLUGIN_DTYPE_FLOAT64,
              "rtinfer::DataType and rt_plugin_dtype must agree");

DataType from_plugin_dtype(int32_t dtype) {
    if (dtype < RT_PLUGIN_DTYPE_FLOAT32 || dtype > RT_PLUGIN_DTYPE_FLOAT64) return DataType::kUndefined;
    return static_cast<DataType>(dtype);
}

Status plugin_status(int32_t code, const char* message, StatusCode invalid_code, const std::string& prefix) {
    if (code == RT_PLUGIN_OK) return Status();
    StatusCode sc = StatusCode::kInternal;
    if (code == RT_PLUGIN_INVALID_ARGUMENT) sc = invalid_code;
    if (code == RT_PLUGIN_UNSUPPORTED) sc = StatusCode::kUnsupported;
    std::string text = message && *message ? message : "failed without a message (code " + std::to_string(code) + ")";
    return Status(sc, prefix + ": " + text);
}

PluginLayer::PluginLayer(PluginCreator creator, rt_plugin* api, std::string layer)
    : creator_(std::move(creator)), api_(api), layer_(std::move(layer)) {}

PluginLayer::~PluginLayer() {
    if (api_ && api_->destroy) api_->destroy(api_);
}

std::string PluginLayer::who() const { return "plugin '" + creator_.name + "' (version " + creator_.version + ")"; }

Expected<std::shared_ptr<const PluginLayer>> PluginLayer::adopt(const PluginCreator& creator, rt_plugin* api,
                                                                const std::string& layer, const std::string& message,
                                                                StatusCode invalid_code) {
    const std::string who = "layer '" + layer + "': " + creator.describe();
    if (!api) return plugin_status(RT_PLUGIN_INVALID_ARGUMENT, message.c_str(), invalid_code, who);
    // Owned (destroyed with p) from here on when it can be, even if the checks below fail.
    const bool destroyable = api->struct_size >= kPluginSizeV1 && api->destroy;
    std::shared_ptr<PluginLayer> p;
    if (destroyable) p.reset(new PluginLayer(creator, api, layer));
    if (!destroyable || api->abi_version == 0 || api->abi_version > RT_PLUGIN_ABI_VERSION) {
        return Status(StatusCode::kUnsupported, who + ": its instance has ABI version " +
                                                    std::to_string(api->abi_version) + " and size " +
                                                    std::to_string(api->struct_size) + ", which this rtinfer cannot use");
    }
    if (!api->get_num_outputs || !api->get_output_descs || !api->get_serialized_size || !api->serialize) {
        return Status(StatusCode::kInvalidArgument, who + ": its instance lacks a required function");
    }
    if (!api->enqueue_cpu && !api->enqueue_cuda) {
        return Status(StatusCode::kInvalidArgument, who + ": its instance has neither a CPU nor a CUDA enqueue");
    }
    p->num_outputs_ = api->get_num_outputs(api);
    if (p->num_outputs_ < 1) return Status(StatusCode::kInvalidArgument, who + ": the instance has no outputs");
    return std::shared_ptr<const PluginLayer>(std::move(p));
}

Expected<std::shared_ptr<const PluginLayer>> PluginLayer::create(const PluginCreator& creator, const ir::Node& node) {
    std::vector<rt_plugin_attr> attrs;
    RT_RETURN_IF_ERROR(plugin_attrs(creator, node, attrs));
    ErrorBuffer e;
    rt_plugin* api = creator.api->create(creator.api, node.name.c_str(), attrs.data(), static_cast<int32_t>(attrs.size()),
                                         &e.error);
    auto layer = adopt(creator, api, node.name, e.text, StatusCode::kInvalidModel);
    if (!layer) return layer.status();
    if ((*layer)->num_outputs() < static_cast<int>(node.outputs.size())) {
        return Status(StatusCode::kInvalidModel, node.describe() + ": has " + std::to_string(node.outputs.size()) +
                                                     " outputs, " + creator.describe() + " gives " +
                                                     std::to_string((*layer)->num_outputs()));
    }
    return layer;
}

Expected<std::shared_ptr<const PluginLayer>> PluginLayer::deserialize(const PluginCreator& creator,
                                                                      const std::string& layer, const void* data,
                                                                      size_t size) {
    ErrorBuffer e;
    rt_plugin* api = creator.api->deserialize(creator.api, layer.c_str(), data, size, &e.error);
    return adopt(creator, api, layer, e.text, StatusCode::kInvalidEngine);
}

Status PluginLayer::infer(const std::vector<ir::InputInfo>& inputs, std::vector<rt_plugin_tensor_desc>& in_descs,
                          std::vector<rt_plugin_tensor_desc>& out_descs) const {
    in_descs.clear();
    for (const ir::InputInfo& in : inputs) {
        if (in.dtype == DataType::kUndefined) {
            in_descs.push_back(rt_plugin_tensor_desc{});
            continue;
        }
        auto d = to_plugin_desc(in.dtype, in.shape);
        if (!d) return d.status().with_context(who());
        in_descs.push_back(*d);
    }
    out_descs.assign(static_cast<size_t>(num_outputs_), rt_plugin_tensor_desc{});
    ErrorBuffer e;
    const int32_t n_in = static_cast<int32_t>(in_descs.size());
    int32_t code = api_->get_output_descs(api_, in_descs.data(), n_in, out_descs.data(), num_outputs_, &e.error);
    RT_RETURN_IF_ERROR(plugin_status(code, e.text, StatusCode::kInvalidModel, who()));
    for (size_t i = 0; i < out_descs.size(); ++i) {
        const rt_plugin_tensor_desc& d = out_descs[i];
        bool ok = from_plugin_dtype(d.dtype) != DataType::kUndefined && d.rank >= 0 && d.rank <= RT_PLUGIN_MAX_RANK;
        for (int32_t k = 0; ok && k < d.rank; ++k) ok = d.dims[k] >= 0;
        if (!ok) {
            return Status(StatusCode::kInternal, who() + ": gave an invalid type or shape for output #" + std::to_string(i));
        }
    }
    if (!api_->supports) return Status();
    code = api_->supports(api_, in_descs.data(), n_in, out_descs.data(), num_outputs_, &e.error);
    return plugin_status(code, e.text, StatusCode::kUnsupported, who());
}

size_t PluginLayer::workspace_size(const std::vector<rt_plugin_tensor_desc>& in_descs,
                                   const std::vector<rt_plugin_tensor_desc>& out_descs) const {
    if (!api_->get_workspace_size) return 0;
    return api_->get_workspace_size(api_, in_descs.data(), static_cast<int32_t>(in_descs.size()), out_descs.data(),
                                    static_cast<int32_t>(out_descs.size()));
}

Expected<std::vector<uint8_t>> PluginLayer::serialize() const {
    std::vector<uint8_t> bytes(api_->get_serialized_size(api_));
    ErrorBuffer e;
    const int32_t code = api_->serialize(api_, bytes.data(), bytes.size(), &e.error);
    RT_RETURN_IF_ERROR(plugin_status(code, e.text, StatusCode::kInternal, who() + ": serialize"));
    return bytes;
}

Status PluginLayer::enqueue(const rt_plugin_io& io, bool cuda) const {
    ErrorBuffer e;
    const auto fn = cuda ? api_->enqueue_cuda : api_->enqueue_cpu;
    if (!fn) {
        return Status(StatusCode::kUnsupported, who() + " has no " + (cuda ? "CUDA" : "CPU") + " implementation");
    }
    return plugin_status(fn(api_, &io, &e.error), e.text, StatusCode::kInvalidArgument, who());
}

}  // namespace rtinfer::plugins
