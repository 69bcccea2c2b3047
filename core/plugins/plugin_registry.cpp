#include "core/plugins/plugin_registry.h"

#include <dirent.h>
#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "core/ir/op.h"

namespace rtinfer::plugins {

namespace {

bool is_dir(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string canonical(const std::string& path) {
    char buf[PATH_MAX];
    return ::realpath(path.c_str(), buf) ? std::string(buf) : path;
}

std::string parent_dir(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Status PluginRegistry::add_locked(PluginCreator c) {
    for (auto it = creators_.begin(); it != creators_.end(); ++it) {
        if (it->name != c.name || it->plugin_namespace != c.plugin_namespace) continue;
        if (c.builtin) return Status();  // the user's plugin of that name stays
        if (it->builtin) {
            creators_.erase(it);  // a user's plugin hides the built-in one
            break;
        }
        std::string where = c.library_path.empty() ? "this process" : "'" + c.library_path + "'";
        return Status(StatusCode::kInvalidArgument,
                      "duplicate plugin '" + c.name + "'" +
                          (c.plugin_namespace.empty() ? "" : " in namespace '" + c.plugin_namespace + "'") + ": " +
                          where + " defines it, and " + it->describe() + " is already loaded");
    }
    creators_.push_back(std::move(c));
    return Status();
}

Status PluginRegistry::load_library(const std::string& path, bool builtin) {
    const std::string key = canonical(path);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (loaded_.count(key)) return Status();
    }
    RT_ASSIGN_OR_RETURN(std::vector<PluginCreator> found, open_plugin_library(path));
    std::lock_guard<std::mutex> lock(mutex_);
    if (loaded_.count(key)) return Status();  // loaded by another thread meanwhile
    // All or nothing: check the whole library before registering any of it.
    std::vector<PluginCreator> before = creators_;
    for (PluginCreator& c : found) {
        c.builtin = builtin;
        Status s = add_locked(std::move(c));
        if (!s.is_ok()) {
            creators_ = std::move(before);
            return s;
        }
    }
    loaded_.insert(key);
    return Status();
}

Status PluginRegistry::load_directory(const std::string& dir, bool builtin) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return Status(StatusCode::kNotFound, "plugin folder '" + dir + "' cannot be read");
    std::vector<std::string> files;
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name.size() > 3 && name.compare(name.size() - 3, 3, ".so") == 0) files.push_back(dir + "/" + name);
    }
    ::closedir(d);
    std::sort(files.begin(), files.end());
    for (const auto& f : files) RT_RETURN_IF_ERROR(load_library(f, builtin));
    return Status();
}

Status PluginRegistry::load_path_list(const std::string& list) {
    size_t start = 0;
    while (start <= list.size()) {
        size_t end = list.find(':', start);
        if (end == std::string::npos) end = list.size();
        const std::string entry = list.substr(start, end - start);
        if (!entry.empty()) RT_RETURN_IF_ERROR(is_dir(entry) ? load_directory(entry) : load_library(entry));
        start = end + 1;
    }
    return Status();
}

Status PluginRegistry::add_creator(const rt_plugin_creator* api) {
    RT_ASSIGN_OR_RETURN(PluginCreator c, check_creator(api, "in-process plugin"));
    std::lock_guard<std::mutex> lock(mutex_);
    return add_locked(std::move(c));
}

std::optional<PluginCreator> PluginRegistry::find(const std::string& name, const std::string& plugin_namespace) const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& c : creators_) {
        if (c.name == name && c.plugin_namespace == plugin_namespace) return c;
    }
    return std::nullopt;
}

std::optional<PluginCreator> PluginRegistry::match(const std::string& domain, const std::string& op_type,
                                                   bool has_builtin) const {
    const std::string d = ir::canonical_domain(domain);
    if (!d.empty()) {
        if (auto c = find(op_type, d)) return c;
    }
    if (has_builtin) return std::nullopt;
    return find(op_type, "");
}

std::vector<PluginCreator> PluginRegistry::creators() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return creators_;
}

std::vector<std::string> builtin_plugin_dirs_beside(const std::string& binary) {
    // Two folders up is the prefix for a program (<prefix>/bin) and the library directory for a module in a
    // folder of its own there (<prefix>/<libdir>/gstreamer-1.0): both layouts lead to one installed folder.
    const std::string up = parent_dir(parent_dir(binary));
    return {up + "/" + RTINFER_PLUGIN_RELATIVE_DIR, up + "/" + RTINFER_PLUGIN_LIBDIR_RELATIVE_DIR};
}

std::vector<std::string> builtin_plugin_dirs() {
    std::vector<std::string> dirs;
    Dl_info info{};
    // The file this code was linked into: the program (rtinfer is a static library) or a shared object.
    if (::dladdr(reinterpret_cast<void*>(&builtin_plugin_dirs), &info) && info.dli_fname) {
        dirs = builtin_plugin_dirs_beside(canonical(info.dli_fname));
    }
    dirs.push_back(RTINFER_BUILD_PLUGIN_DIR);
    dirs.push_back(RTINFER_INSTALL_PLUGIN_DIR);
    return dirs;
}

Expected<PluginRegistry*> process_registry() {
    struct Loaded {
        PluginRegistry registry;
        Status status;
    };
    static Loaded* loaded = [] {
        // Never destroyed: instances in static objects may outlive any destruction order chosen here.
        auto* l = new Loaded;
        if (const char* env = std::getenv("RTINFER_PLUGIN_PATH")) {
            l->status = l->registry.load_path_list(env).with_context("RTINFER_PLUGIN_PATH");
        }
        for (const auto& dir : builtin_plugin_dirs()) {
            if (!is_dir(dir)) continue;
            Status s = l->registry.load_directory(dir, true);
            if (!s.is_ok() && l->status.is_ok()) l->status = s.with_context("built-in plugins");
            break;
        }
        return l;
    }();
    if (!loaded->status.is_ok()) return loaded->status;
    return &loaded->registry;
}

}  // namespace rtinfer::plugins
