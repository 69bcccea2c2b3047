// Reading ONNX node attributes in a plugin's create(): range-checked ints and 0/1 flags, errors that name
// the attribute. Header only, shared by the built-in plugins.
#pragma once

#include <cstdint>

#include "rtinfer/plugin.h"

namespace rtinfer_plugin_common {

inline int32_t read_int32(const rt_plugin_attr& a, int32_t* out, rt_plugin_error* error) {
    if (a.i < INT32_MIN || a.i > INT32_MAX) {
        return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "%s is out of range", a.name);
    }
    *out = static_cast<int32_t>(a.i);
    return RT_PLUGIN_OK;
}

// Boolean attributes must be 0 or 1.
inline int32_t read_flag(const rt_plugin_attr& a, bool* out, rt_plugin_error* error) {
    if (a.i != 0 && a.i != 1) {
        return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "%s must be 0 or 1, got %lld", a.name,
                                   static_cast<long long>(a.i));
    }
    *out = a.i == 1;
    return RT_PLUGIN_OK;
}

}  // namespace rtinfer_plugin_common
