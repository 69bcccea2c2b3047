// One loaded plugin library: the dlopen handle (RAII) and its creators, checked against the plugin ABI.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rtinfer/plugin.h"
#include "rtinfer/status.h"

namespace rtinfer::plugins {

// A dlopen handle, closed when the last owner lets go. Instances hold a shared_ptr to it so that the
// code they point into stays mapped as long as they live.
class SharedLibrary {
public:
    // kNotFound / kInvalidArgument naming the path and dlerror()'s reason.
    static Expected<std::shared_ptr<SharedLibrary>> open(const std::string& path);
    ~SharedLibrary();
    SharedLibrary(const SharedLibrary&) = delete;
    SharedLibrary& operator=(const SharedLibrary&) = delete;

    // The address of an exported symbol, or nullptr.
    void* symbol(const char* name) const;
    const std::string& path() const { return path_; }

private:
    SharedLibrary(void* handle, std::string path) : handle_(handle), path_(std::move(path)) {}
    void* handle_;
    std::string path_;
};

// A creator as rtinfer keeps it: the plugin's struct plus copies of its names.
struct PluginCreator {
    const rt_plugin_creator* api = nullptr;
    std::string name;
    std::string version;
    std::string plugin_namespace;
    std::shared_ptr<SharedLibrary> library;  // null for creators registered in-process (tests)
    std::string library_path;                // "" for in-process creators
    bool builtin = false;                    // from the SDK's own plugin folder
    // "'EfficientNMS_TRT' (version 1) from /path/libx.so" — how errors name a plugin.
    std::string describe() const;
};

// Checks one creator's ABI version, struct size, names and functions. `where` names its origin in errors.
Expected<PluginCreator> check_creator(const rt_plugin_creator* api, const std::string& where);

// Opens a library, calls its entry point and checks every creator. Errors name the path (and the creator).
Expected<std::vector<PluginCreator>> open_plugin_library(const std::string& path);

}  // namespace rtinfer::plugins
