// Where the GPU tests find a built-in plugin library: the path this build wrote it to, else the SDK's
// built-in plugin folders (lib/rtinfer/plugins beside the test program's prefix, the build tree's, the
// installed one), else beside the test program. So the GPU tier also runs from binaries copied to another
// machine, laid out as an install (bin/, lib/rtinfer/plugins/) or side by side.
#pragma once

#include <unistd.h>

#include <climits>
#include <string>

#include "core/plugins/plugin_registry.h"

namespace rtinfer::testing {

inline bool file_exists(const std::string& path) {
    return ::access(path.c_str(), R_OK) == 0;
}

// The found path, or `built` (which then fails to load with an error naming it).
inline std::string builtin_plugin_path(const std::string& built, const std::string& file) {
    if (file_exists(built)) return built;
    for (const std::string& dir : rtinfer::plugins::builtin_plugin_dirs()) {
        if (file_exists(dir + "/" + file)) return dir + "/" + file;
    }
    char exe[PATH_MAX] = {};
    const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        const std::string self(exe, static_cast<size_t>(n));
        const std::string beside = self.substr(0, self.rfind('/') + 1) + file;
        if (file_exists(beside)) return beside;
    }
    return built;
}

inline std::string nms_plugin_path() {
    return builtin_plugin_path(RTINFER_NMS_PLUGIN, "librtinfer_plugin_nms.so");
}
inline std::string yolo_plugin_path() {
    return builtin_plugin_path(RTINFER_YOLO_PLUGIN, "librtinfer_plugin_yolo_decode.so");
}

}  // namespace rtinfer::testing
