// A custom op as an rtinfer plugin: y = clamp(x * scale, min, max), element-wise, float32.
//
// ONNX node: op type "ScaledClamp", domain "com.example", attributes scale (float, required), min and max
// (floats, default -inf / +inf). The library needs only the SDK's headers: build it as a shared module
// and give it to rtexec --plugins, RTINFER_PLUGIN_PATH, BuilderConfig::plugin_libraries or
// rtinfer::load_plugin_library().
#include <cmath>
#include <cstring>
#include <new>

#include "rtinfer/plugin.h"

namespace {

struct Params {
    float scale = 1.0f;
    float lo = -INFINITY;
    float hi = INFINITY;
};

// The instance: the ABI struct first, then the plugin's own data (reached through api.state).
struct ScaledClamp {
    rt_plugin api;
    Params params;
};

const Params& params_of(const rt_plugin* self) { return static_cast<const ScaledClamp*>(self->state)->params; }

int32_t get_num_outputs(const rt_plugin*) { return 1; }

// One output of the input's type and shape.
int32_t get_output_descs(const rt_plugin*, const rt_plugin_tensor_desc* in, int32_t n_in, rt_plugin_tensor_desc* out,
                         int32_t, rt_plugin_error* error) {
    if (n_in != 1) return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "takes one input, got %d", n_in);
    out[0] = in[0];
    return RT_PLUGIN_OK;
}

int32_t supports(const rt_plugin*, const rt_plugin_tensor_desc* in, int32_t, const rt_plugin_tensor_desc*, int32_t,
                 rt_plugin_error* error) {
    if (in[0].dtype != RT_PLUGIN_DTYPE_FLOAT32) return rt_plugin_set_error(error, RT_PLUGIN_UNSUPPORTED, "x must be float32");
    return RT_PLUGIN_OK;
}

// The engine stores the three floats; deserialize reads them back.
size_t get_serialized_size(const rt_plugin*) { return sizeof(Params); }

int32_t serialize(const rt_plugin* self, void* buffer, size_t size, rt_plugin_error* error) {
    if (size < sizeof(Params)) return rt_plugin_set_error(error, RT_PLUGIN_INTERNAL, "buffer too small");
    std::memcpy(buffer, &params_of(self), sizeof(Params));
    return RT_PLUGIN_OK;
}

int32_t enqueue_cpu(const rt_plugin* self, const rt_plugin_io* io, rt_plugin_error*) {
    const Params& p = params_of(self);
    int64_t n = 1;
    for (int32_t d = 0; d < io->input_descs[0].rank; ++d) n *= io->input_descs[0].dims[d];
    const float* x = static_cast<const float*>(io->inputs[0]);
    float* y = static_cast<float*>(io->outputs[0]);
    for (int64_t i = 0; i < n; ++i) y[i] = std::fmin(std::fmax(x[i] * p.scale, p.lo), p.hi);
    return RT_PLUGIN_OK;
}

void destroy(rt_plugin* self) { delete static_cast<ScaledClamp*>(self->state); }

rt_plugin* make(const Params& params, rt_plugin_error* error) {
    if (!(params.lo <= params.hi)) {
        rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "min (%g) must not exceed max (%g)", params.lo, params.hi);
        return nullptr;
    }
    auto* layer = new (std::nothrow) ScaledClamp{};
    if (!layer) {
        rt_plugin_set_error(error, RT_PLUGIN_INTERNAL, "out of memory");
        return nullptr;
    }
    layer->params = params;
    rt_plugin& api = layer->api;
    api.abi_version = RT_PLUGIN_ABI_VERSION;
    api.struct_size = sizeof(rt_plugin);
    api.state = layer;
    api.get_num_outputs = get_num_outputs;
    api.get_output_descs = get_output_descs;
    api.supports = supports;
    api.get_workspace_size = nullptr;  // no scratch memory
    api.get_serialized_size = get_serialized_size;
    api.serialize = serialize;
    api.enqueue_cpu = enqueue_cpu;
    api.enqueue_cuda = nullptr;  // a CUDA engine runs the CPU enqueue as a fallback
    api.destroy = destroy;
    return &api;
}

// rtinfer has checked the attribute types against kFields before calling this.
rt_plugin* create(const rt_plugin_creator*, const char*, const rt_plugin_attr* attrs, int32_t n, rt_plugin_error* error) {
    Params p;
    for (int32_t i = 0; i < n; ++i) {
        if (std::strcmp(attrs[i].name, "scale") == 0) p.scale = static_cast<float>(attrs[i].f);
        if (std::strcmp(attrs[i].name, "min") == 0) p.lo = static_cast<float>(attrs[i].f);
        if (std::strcmp(attrs[i].name, "max") == 0) p.hi = static_cast<float>(attrs[i].f);
    }
    return make(p, error);
}

// The bytes come from an engine file: check them before use.
rt_plugin* deserialize(const rt_plugin_creator*, const char*, const void* data, size_t size, rt_plugin_error* error) {
    if (size != sizeof(Params)) {
        rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "stored parameters have %zu bytes, expected %zu", size,
                            sizeof(Params));
        return nullptr;
    }
    Params p;
    std::memcpy(&p, data, sizeof(Params));
    return make(p, error);
}

const rt_plugin_field kFields[] = {
    {"scale", RT_PLUGIN_ATTR_FLOAT, 1},
    {"min", RT_PLUGIN_ATTR_FLOAT, 0},
    {"max", RT_PLUGIN_ATTR_FLOAT, 0},
};

const rt_plugin_creator kCreator = {
    RT_PLUGIN_ABI_VERSION, sizeof(rt_plugin_creator), "ScaledClamp", "1", "com.example", kFields, 3, nullptr,
    create,                deserialize,
};
const rt_plugin_creator* const kCreators[] = {&kCreator};

}  // namespace

// The one symbol rtinfer looks for (declared, with C linkage and default visibility, in rtinfer/plugin.h).
const rt_plugin_creator* const* rtinfer_get_plugin_creators(uint32_t, int32_t* count) {
    *count = 1;
    return kCreators;
}
