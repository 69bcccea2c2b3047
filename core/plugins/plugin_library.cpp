#include "core/plugins/plugin_library.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <cstddef>
#include <set>

namespace rtinfer::plugins {

namespace {

// Bytes of each ABI version's structs: a plugin's struct_size must cover at least the version it claims.
constexpr size_t kCreatorSizeV1 = offsetof(rt_plugin_creator, deserialize) + sizeof(void*);

std::string text_or_empty(const char* s) { return s ? std::string(s) : std::string(); }

}  // namespace

Expected<std::shared_ptr<SharedLibrary>> SharedLibrary::open(const std::string& path) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) {
        return Status(StatusCode::kNotFound, "plugin library '" + path + "' not found");
    }
    // RTLD_LOCAL: two plugin libraries may use the same internal symbol names without clashing.
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* why = ::dlerror();
        return Status(StatusCode::kInvalidArgument,
                      "plugin library '" + path + "' cannot be loaded: " + (why ? why : "unknown dlopen error"));
    }
    return std::shared_ptr<SharedLibrary>(new SharedLibrary(handle, path));
}

SharedLibrary::~SharedLibrary() {
    if (handle_) ::dlclose(handle_);
}

void* SharedLibrary::symbol(const char* name) const { return ::dlsym(handle_, name); }

std::string PluginCreator::describe() const {
    std::string s = "plugin '" + name + "' (version " + version;
    if (!plugin_namespace.empty()) s += ", namespace '" + plugin_namespace + "'";
    s += ")";
    if (!library_path.empty()) s += " from '" + library_path + "'";
    return s;
}

Expected<PluginCreator> check_creator(const rt_plugin_creator* api, const std::string& where) {
    if (!api) return Status(StatusCode::kInvalidArgument, where + ": a creator is null");
    if (api->abi_version == 0 || api->abi_version > RT_PLUGIN_ABI_VERSION) {
        const std::string name = api->abi_version == 0 || api->struct_size < kCreatorSizeV1 ? "?" : text_or_empty(api->name);
        return Status(StatusCode::kUnsupported,
                      where + ": plugin '" + name + "' was built for plugin ABI version " +
                          std::to_string(api->abi_version) + "; this rtinfer supports ABI versions 1 to " +
                          std::to_string(RT_PLUGIN_ABI_VERSION) + " (rebuild the plugin against this SDK)");
    }
    if (api->struct_size < kCreatorSizeV1) {
        return Status(StatusCode::kInvalidArgument, where + ": a creator's struct_size " + std::to_string(api->struct_size) +
                                                        " is smaller than ABI version 1's " + std::to_string(kCreatorSizeV1));
    }
    PluginCreator c;
    c.api = api;
    c.name = text_or_empty(api->name);
    c.version = text_or_empty(api->version);
    c.plugin_namespace = text_or_empty(api->plugin_namespace);
    if (c.name.empty()) return Status(StatusCode::kInvalidArgument, where + ": a creator has no name");
    const std::string who = where + ": plugin '" + c.name + "'";
    if (c.version.empty()) return Status(StatusCode::kInvalidArgument, who + " has no version");
    if (!api->create || !api->deserialize) {
        return Status(StatusCode::kInvalidArgument, who + " lacks its create or deserialize function");
    }
    if (api->num_fields < 0 || (api->num_fields > 0 && !api->fields)) {
        return Status(StatusCode::kInvalidArgument, who + " has a bad attribute field list");
    }
    for (int32_t i = 0; i < api->num_fields; ++i) {
        const rt_plugin_field& f = api->fields[i];
        if (!f.name || f.type < RT_PLUGIN_ATTR_INT || f.type > RT_PLUGIN_ATTR_FLOATS) {
            return Status(StatusCode::kInvalidArgument, who + " has a bad attribute field #" + std::to_string(i));
        }
    }
    return c;
}

Expected<std::vector<PluginCreator>> open_plugin_library(const std::string& path) {
    RT_ASSIGN_OR_RETURN(std::shared_ptr<SharedLibrary> lib, SharedLibrary::open(path));
    auto entry = reinterpret_cast<rt_plugin_get_creators_fn>(lib->symbol(RT_PLUGIN_ENTRY_POINT));
    if (!entry) {
        return Status(StatusCode::kInvalidArgument, "plugin library '" + path + "' does not export " +
                                                        RT_PLUGIN_ENTRY_POINT + " (see rtinfer/plugin.h)");
    }
    int32_t count = -1;
    const rt_plugin_creator* const* creators = entry(RT_PLUGIN_ABI_VERSION, &count);
    if (!creators || count < 0) {
        return Status(StatusCode::kUnsupported,
                      "plugin library '" + path + "' refused to load (its " + RT_PLUGIN_ENTRY_POINT + " returned no creators)");
    }
    std::vector<PluginCreator> out;
    std::set<std::pair<std::string, std::string>> seen;
    for (int32_t i = 0; i < count; ++i) {
        RT_ASSIGN_OR_RETURN(PluginCreator c, check_creator(creators[i], "plugin library '" + path + "'"));
        if (!seen.insert({c.name, c.plugin_namespace}).second) {
            return Status(StatusCode::kInvalidArgument,
                          "plugin library '" + path + "' defines plugin '" + c.name + "' twice");
        }
        c.library = lib;
        c.library_path = path;
        out.push_back(std::move(c));
    }
    return out;
}

}  // namespace rtinfer::plugins
