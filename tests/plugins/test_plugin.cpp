// Plugin libraries for the plugin-loading tests, one source built in several variants (CMakeLists.txt):
//   default                      TestScale (y = x * factor + bias) and Relu (y = min(x, 0)), namespace test.ops
//   RT_TEST_VERSION="2"          the same plugins in another version (duplicate names, version mismatch)
//   RT_TEST_ABI_VERSION=N        creators that claim plugin ABI version N
//   RT_TEST_NO_ENTRY_POINT       no entry point at all
#include <cstring>
#include <new>
#include <string>

#include "rtinfer/plugin.h"

#ifndef RT_TEST_VERSION
#define RT_TEST_VERSION "1"
#endif
#ifndef RT_TEST_ABI_VERSION
#define RT_TEST_ABI_VERSION RT_PLUGIN_ABI_VERSION
#endif

namespace {

enum Mode : int32_t { kModeScale = 0, kModeNegativeRelu = 1 };

struct Params {
    int32_t mode;
    float factor;
    float bias;
};

struct Layer {
    rt_plugin api;
    Params params;
};

const Params& params_of(const rt_plugin* self) { return static_cast<const Layer*>(self->state)->params; }

int32_t get_num_outputs(const rt_plugin*) { return 1; }

int32_t get_output_descs(const rt_plugin*, const rt_plugin_tensor_desc* in, int32_t n_in, rt_plugin_tensor_desc* out,
                         int32_t, rt_plugin_error* error) {
    if (n_in != 1) return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "takes 1 input, got %d", n_in);
    out[0] = in[0];
    return RT_PLUGIN_OK;
}

int32_t supports(const rt_plugin*, const rt_plugin_tensor_desc* in, int32_t, const rt_plugin_tensor_desc*, int32_t,
                 rt_plugin_error* error) {
    if (in[0].dtype != RT_PLUGIN_DTYPE_FLOAT32) {
        return rt_plugin_set_error(error, RT_PLUGIN_UNSUPPORTED, "x must be float32");
    }
    return RT_PLUGIN_OK;
}

size_t get_serialized_size(const rt_plugin*) { return sizeof(Params); }

int32_t serialize(const rt_plugin* self, void* buffer, size_t size, rt_plugin_error* error) {
    if (size < sizeof(Params)) return rt_plugin_set_error(error, RT_PLUGIN_INTERNAL, "buffer too small");
    std::memcpy(buffer, &params_of(self), sizeof(Params));
    return RT_PLUGIN_OK;
}

int32_t enqueue_cpu(const rt_plugin* self, const rt_plugin_io* io, rt_plugin_error*) {
    const Params& p = params_of(self);
    int64_t n = 1;
    for (int32_t i = 0; i < io->input_descs[0].rank; ++i) n *= io->input_descs[0].dims[i];
    const float* x = static_cast<const float*>(io->inputs[0]);
    float* y = static_cast<float*>(io->outputs[0]);
    for (int64_t i = 0; i < n; ++i) y[i] = p.mode == kModeScale ? x[i] * p.factor + p.bias : (x[i] < 0.0f ? x[i] : 0.0f);
    return RT_PLUGIN_OK;
}

void destroy(rt_plugin* self) { delete static_cast<Layer*>(self->state); }

rt_plugin* make_layer(const Params& params) {
    Layer* layer = new (std::nothrow) Layer{};
    if (!layer) return nullptr;
    layer->params = params;
    rt_plugin& api = layer->api;
    api.abi_version = RT_PLUGIN_ABI_VERSION;
    api.struct_size = sizeof(rt_plugin);
    api.state = layer;
    api.get_num_outputs = get_num_outputs;
    api.get_output_descs = get_output_descs;
    api.supports = supports;
    api.get_serialized_size = get_serialized_size;
    api.serialize = serialize;
    api.enqueue_cpu = enqueue_cpu;
    api.destroy = destroy;
    return &api;
}

rt_plugin* create(const rt_plugin_creator* self, const char*, const rt_plugin_attr* attrs, int32_t n,
                  rt_plugin_error* error) {
    Params p{static_cast<int32_t>(reinterpret_cast<intptr_t>(self->state)), 1.0f, 0.0f};
    for (int32_t i = 0; i < n; ++i) {
        if (std::strcmp(attrs[i].name, "factor") == 0) p.factor = static_cast<float>(attrs[i].f);
        if (std::strcmp(attrs[i].name, "bias") == 0) p.bias = static_cast<float>(attrs[i].f);
    }
    if (p.factor == 0.0f) {
        rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "factor must not be 0");
        return nullptr;
    }
    return make_layer(p);
}

rt_plugin* deserialize(const rt_plugin_creator*, const char*, const void* data, size_t size, rt_plugin_error* error) {
    if (size != sizeof(Params)) {
        rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "stored parameters have %zu bytes", size);
        return nullptr;
    }
    Params p;
    std::memcpy(&p, data, sizeof(Params));
    return make_layer(p);
}

const rt_plugin_field kScaleFields[] = {{"factor", RT_PLUGIN_ATTR_FLOAT, 1}, {"bias", RT_PLUGIN_ATTR_FLOAT, 0}};

const rt_plugin_creator kScale = {RT_TEST_ABI_VERSION, sizeof(rt_plugin_creator), "TestScale", RT_TEST_VERSION,
                                  "test.ops", kScaleFields, 2, reinterpret_cast<void*>(intptr_t{kModeScale}), create,
                                  deserialize};
const rt_plugin_creator kRelu = {RT_TEST_ABI_VERSION, sizeof(rt_plugin_creator), "Relu", RT_TEST_VERSION,
                                 "test.ops", nullptr, 0, reinterpret_cast<void*>(intptr_t{kModeNegativeRelu}), create,
                                 deserialize};
const rt_plugin_creator* const kCreators[] = {&kScale, &kRelu};

}  // namespace

#ifndef RT_TEST_NO_ENTRY_POINT
extern "C" const rt_plugin_creator* const* rtinfer_get_plugin_creators(uint32_t, int32_t* count) {
    *count = 2;
    return kCreators;
}
#else
// Exported under another name: the library loads, but rtinfer finds no entry point.
extern "C" RT_PLUGIN_EXPORT const rt_plugin_creator* const* get_creators_misspelled(uint32_t, int32_t* count) {
    *count = 2;
    return kCreators;
}
#endif
