// The instance and creator boilerplate of a built-in plugin: an rt_plugin whose state is the plugin's
// parameters, made from a table of the plugin's functions, and create() around an attribute parser that
// may not throw out. Header only, shared by the built-in plugins.
#pragma once

#include <exception>
#include <new>

#include "rtinfer/plugin.h"

namespace rtinfer_plugin_common {

template <typename Params>
struct Instance {
    rt_plugin api;
    Params params;
};

template <typename Params>
const Params& instance_params(const rt_plugin* self) {
    return static_cast<const Instance<Params>*>(self->state)->params;
}

template <typename Params>
void destroy_instance(rt_plugin* self) {
    delete static_cast<Instance<Params>*>(self->state);
}

// A new instance with `functions`' entry points; the ABI fields, state and destroy are filled in here.
template <typename Params>
rt_plugin* make_instance(const Params& params, const rt_plugin& functions, rt_plugin_error* error) {
    auto* instance = new (std::nothrow) Instance<Params>{};
    if (!instance) {
        rt_plugin_set_error(error, RT_PLUGIN_INTERNAL, "out of memory");
        return nullptr;
    }
    instance->params = params;
    instance->api = functions;
    instance->api.abi_version = RT_PLUGIN_ABI_VERSION;
    instance->api.struct_size = sizeof(rt_plugin);
    instance->api.state = instance;
    instance->api.destroy = destroy_instance<Params>;
    return &instance->api;
}

template <typename Params>
using AttrParser = int32_t (*)(const rt_plugin_attr* attrs, int32_t count, Params* params, rt_plugin_error* error);

// What a creator's create() does: parse the node's attributes (an exception becomes an error), then make
// the instance.
template <typename Params>
rt_plugin* create_instance(AttrParser<Params> parse, const rt_plugin_attr* attrs, int32_t count,
                           const rt_plugin& functions, rt_plugin_error* error) {
    Params params;
    try {
        if (parse(attrs, count, &params, error) != RT_PLUGIN_OK) return nullptr;
    } catch (const std::exception& e) {
        rt_plugin_set_error(error, RT_PLUGIN_INTERNAL, "%s", e.what());
        return nullptr;
    }
    return make_instance(params, functions, error);
}

}  // namespace rtinfer_plugin_common
