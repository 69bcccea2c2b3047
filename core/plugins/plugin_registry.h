// The plugins rtinfer knows: creators from loaded libraries, found by name and namespace.
//
// Sources, in the order the process registry takes them: the libraries of RTINFER_PLUGIN_PATH (files or
// folders, colon-separated), then the SDK's built-in plugin folder, then libraries named later through
// BuilderConfig::plugin_libraries, `rtexec --plugins` or load_plugin_library(). Two libraries the user
// named may not define the same plugin (name and namespace); a user's plugin hides a built-in one.
#pragma once

#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/plugins/plugin_library.h"

namespace rtinfer::plugins {

class PluginRegistry {
public:
    // Loads a library (a second load of the same file is a no-op). Errors name the path and the plugin.
    Status load_library(const std::string& path, bool builtin = false);
    // Loads every *.so of a folder, in name order.
    Status load_directory(const std::string& dir, bool builtin = false);
    // Loads each entry of a colon-separated list of libraries and folders (RTINFER_PLUGIN_PATH's form).
    Status load_path_list(const std::string& list);
    // Registers a creator that lives in this process (an application or test that links its plugin in).
    Status add_creator(const rt_plugin_creator* api);

    // The plugin with this name in this namespace.
    std::optional<PluginCreator> find(const std::string& name, const std::string& plugin_namespace) const;
    // The plugin an ONNX node maps to (the rule is in rtinfer/plugin.h); has_builtin: rtinfer has a kernel
    // for (domain, op_type).
    std::optional<PluginCreator> match(const std::string& domain, const std::string& op_type, bool has_builtin) const;
    std::vector<PluginCreator> creators() const;

private:
    Status add_locked(PluginCreator creator);

    mutable std::mutex mutex_;
    std::vector<PluginCreator> creators_;
    std::set<std::string> loaded_;  // canonical paths of loaded libraries
};

// The process's registry, with RTINFER_PLUGIN_PATH and the built-in plugins loaded on first use. Fails
// (every time) if a library of RTINFER_PLUGIN_PATH cannot be loaded.
Expected<PluginRegistry*> process_registry();

// Where the SDK looks for its built-in plugin libraries, first match wins: <libdir>/rtinfer/plugins of the
// prefix the running program or shared object is installed in (builtin_plugin_dirs_beside), the build tree's,
// then the installed one.
std::vector<std::string> builtin_plugin_dirs();
// The built-in plugin folders of the prefix a binary (a canonical path) is installed in, as a program in
// <prefix>/bin or as a module in a folder of the library directory, such as <prefix>/<libdir>/gstreamer-1.0.
std::vector<std::string> builtin_plugin_dirs_beside(const std::string& binary);

}  // namespace rtinfer::plugins
