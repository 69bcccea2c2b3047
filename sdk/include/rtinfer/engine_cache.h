// EngineCache: ONNX model -> engine, built once per model, build options, SDK version and device, and found
// again on the next start.
//
// An entry is <directory>/<onnx stem>-<key>.engine. The key is a hash of everything that decides the engine's
// bytes: the ONNX file's content, the build options that change the engine, the SDK version and the device
// (CUDA: GPU name, compute capability, SM count, CUDA runtime, cuDNN and cuBLASLt versions; the CPU backend:
// "cpu"). Next to each entry, <entry>.key lists those parts in readable key=value lines.
//
// Entries are written to a temporary file in the same folder and renamed, so a reader never sees half an
// engine. While an entry is built, <entry>.lock is held with flock(2): a second process (or thread) asking
// for the same entry waits, then loads what the first one built; a process that dies releases its lock. An
// entry that does not load (another SDK version or GPU, a damaged file) is reported with the reason and rebuilt.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "rtinfer/builder.h"
#include "rtinfer/engine.h"
#include "rtinfer/logger.h"
#include "rtinfer/status.h"

namespace rtinfer {

struct EngineCacheKey {
    std::string hash;                                         // 16 hex digits
    std::vector<std::pair<std::string, std::string>> parts;  // what went into the hash, in order
    // The parts as "name=value" lines, as the .key sidecar holds them.
    std::string describe() const;
};

// What load_or_build did.
enum class CacheOutcome {
    kLoaded,  // the entry was there and loaded
    kWaited,  // another process was building the entry; it was loaded once that build finished
    kBuilt,   // built (and cached); `replaced` says why an existing entry was not used, if there was one
};
const char* cache_outcome_name(CacheOutcome outcome);  // "reused", "waited", "built"

struct CachedEngine {
    std::unique_ptr<Engine> engine;
    std::string path;  // the entry's file
    CacheOutcome outcome = CacheOutcome::kLoaded;
    std::string replaced;   // the reason an existing entry was rebuilt ("" when there was none)
    double build_ms = 0.0;  // kBuilt: the build's duration
};

// Whether an entry is present and loads on this machine, without building.
struct CacheEntryState {
    std::string path;
    bool current = false;
    std::string reason;  // when not current: "missing" or the reason the entry does not load
};

class EngineCache {
public:
    // The default folder: $RTINFER_CACHE_DIR, else $XDG_CACHE_HOME/rtinfer, else $HOME/.cache/rtinfer.
    // Errors when none of these variables is set. (The system service passes /var/cache/rtinfer.)
    static Expected<std::string> default_directory();

    // directory "" = default_directory(), resolved when the cache is first used.
    explicit EngineCache(std::string directory = "");

    // The folder in use (default_directory() resolved), or why there is none.
    Expected<std::string> directory() const;

    // By default an unwritable folder is an error naming it. Allowed, the engine is built without being
    // cached (with a warning), for callers to which a rebuild next time matters less than failing now.
    void set_build_when_unwritable(bool allow) { build_when_unwritable_ = allow; }

    // The key of a model (its bytes) built with `config` on this machine.
    static Expected<EngineCacheKey> key(const void* onnx, size_t size, const BuilderConfig& config);

    // The entry file for an ONNX file and a config. Errors name the ONNX file when it cannot be read.
    Expected<std::string> entry_path(const std::string& onnx_path, const BuilderConfig& config) const;

    // Loads the entry, or builds it (under the entry's lock) and caches it. Decisions go to the logger at
    // kInfo, a rebuilt entry's reason at kWarning. Errors name the ONNX file or the cache folder.
    Expected<CachedEngine> load_or_build(const std::string& onnx_path, const BuilderConfig& config,
                                         Logger* logger = nullptr) const;

    // Whether the entry is present and loads (plugins the config names are loaded first).
    Expected<CacheEntryState> check(const std::string& onnx_path, const BuilderConfig& config) const;

private:
    std::string directory_;
    bool build_when_unwritable_ = false;
};

}  // namespace rtinfer
