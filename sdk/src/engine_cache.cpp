#include "rtinfer/engine_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/ir/fnv1a.h"
#include "rtinfer/rtinfer.h"

#ifdef RTINFER_HAVE_CUDA
#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "core/kernels/cuda/device_info.h"
#endif

namespace rtinfer {

namespace fs = std::filesystem;

namespace {

using ir::Fnv1a;

void log(Logger* logger, Severity severity, const std::string& message) {
    if (logger != nullptr) logger->log(severity, message.c_str());
}

// The device part of the key: what makes an engine built here differ from one built elsewhere.
Expected<std::vector<std::pair<std::string, std::string>>> device_parts(Backend backend) {
    if (backend == Backend::kCpu) return std::vector<std::pair<std::string, std::string>>{{"device", "cpu"}};
#ifdef RTINFER_HAVE_CUDA
    RT_ASSIGN_OR_RETURN(std::string device, cuda::device_key(0));
    int runtime = 0;
    if (cudaRuntimeGetVersion(&runtime) != cudaSuccess) runtime = 0;
    return std::vector<std::pair<std::string, std::string>>{
        {"device", device},
        {"cuda_runtime", std::to_string(runtime)},
        {"cudnn", std::to_string(cudnnGetVersion())},
        {"cublaslt", std::to_string(cublasLtGetVersion())},
    };
#else
    return Status(StatusCode::kUnsupported, "this rtinfer is built without the CUDA backend");
#endif
}

Expected<std::vector<char>> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status(StatusCode::kNotFound, path + ": cannot open the ONNX model (" + std::strerror(errno) + ")");
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return Status(StatusCode::kIoError, path + ": read error");
    return bytes;
}

Status load_plugins(const BuilderConfig& config) {
    for (const auto& lib : config.plugin_libraries) RT_RETURN_IF_ERROR(load_plugin_library(lib));
    return Status::ok();
}

Status not_writable(const std::string& dir, const std::string& why) {
    return Status(StatusCode::kIoError, "engine cache folder '" + dir + "' is not writable: " + why);
}

// flock(2) on <entry>.lock, released when the descriptor closes (also when the process dies).
class EntryLock {
public:
    EntryLock() = default;
    EntryLock(const EntryLock&) = delete;
    EntryLock& operator=(const EntryLock&) = delete;
    ~EntryLock() {
        if (fd_ >= 0) ::close(fd_);  // closing drops the lock
    }

    // Takes the lock, waiting for another holder; *waited says whether it had to.
    Status acquire(const std::string& path, const std::string& dir, const std::string& entry, Logger* logger,
                   bool* waited) {
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd_ < 0) return not_writable(dir, "cannot create " + path + " (" + std::strerror(errno) + ")");
        *waited = false;
        if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return Status::ok();
        if (errno != EWOULDBLOCK) return lock_error(path);
        *waited = true;
        log(logger, Severity::kWarning, "another process is building " + entry + "; waiting for it");
        while (::flock(fd_, LOCK_EX) != 0) {
            if (errno != EINTR) return lock_error(path);
        }
        return Status::ok();
    }

private:
    static Status lock_error(const std::string& path) {
        return Status(StatusCode::kIoError, path + ": cannot lock (" + std::strerror(errno) + ")");
    }
    int fd_ = -1;
};

// Writes text to path through a temporary file in the same folder, so a reader sees the old or the new file.
Status write_atomically(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << text;
        out.flush();
        if (!out) {
            std::remove(tmp.c_str());
            return Status(StatusCode::kIoError, tmp + ": cannot write (" + std::strerror(errno) + ")");
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        return Status(StatusCode::kIoError, path + ": rename failed (" + std::strerror(errno) + ")");
    }
    return Status::ok();
}

std::string entry_name(const std::string& onnx_path, const std::string& hash) {
    return fs::path(onnx_path).stem().string() + "-" + hash + ".engine";
}

}  // namespace

std::string EngineCacheKey::describe() const {
    std::string text;
    for (const auto& [name, value] : parts) text += name + "=" + value + "\n";
    return text;
}

const char* cache_outcome_name(CacheOutcome outcome) {
    switch (outcome) {
        case CacheOutcome::kLoaded: return "reused";
        case CacheOutcome::kWaited: return "waited";
        case CacheOutcome::kBuilt: return "built";
    }
    return "?";
}

Expected<std::string> EngineCache::default_directory() {
    auto env = [](const char* name) -> std::string {
        const char* value = std::getenv(name);
        return value != nullptr ? value : "";
    };
    if (!env("RTINFER_CACHE_DIR").empty()) return env("RTINFER_CACHE_DIR");
    if (!env("XDG_CACHE_HOME").empty()) return (fs::path(env("XDG_CACHE_HOME")) / "rtinfer").string();
    if (!env("HOME").empty()) return (fs::path(env("HOME")) / ".cache" / "rtinfer").string();
    return Status(StatusCode::kInvalidArgument,
                  "no engine cache folder: give one, or set RTINFER_CACHE_DIR, XDG_CACHE_HOME or HOME");
}

EngineCache::EngineCache(std::string directory) : directory_(std::move(directory)) {}

Expected<std::string> EngineCache::directory() const {
    if (!directory_.empty()) return directory_;
    return default_directory();
}

Expected<EngineCacheKey> EngineCache::key(const void* onnx, size_t size, const BuilderConfig& config) {
    Fnv1a model;
    model.add(onnx, size);
    EngineCacheKey key;
    key.parts = {
        {"model", model.hex() + " (" + std::to_string(size) + " bytes)"},
        {"sdk", rt_version()},
        {"backend", backend_name(config.backend)},
        {"precision", std::string(config.fp16 ? "fp16" : "fp32") + (config.int8 ? "+int8" : "") +
                          (config.tf32 ? "+tf32" : "")},
        {"batch", std::to_string(config.min_batch) + "/" + std::to_string(config.opt_batch) + "/" +
                      std::to_string(config.max_batch)},
        {"memory_budget", std::to_string(config.memory_budget_bytes)},
    };
    if (config.int8) {
        // Other calibration settings give other ranges; the samples themselves are the cache file's business.
        key.parts.emplace_back("int8", config.calibrator + " " + std::to_string(config.calibration_percentile) +
                                           " cache=" + config.calibration_cache_path);
    }
    std::string plugins;
    for (const auto& p : config.plugin_libraries) plugins += (plugins.empty() ? "" : ",") + p;
    key.parts.emplace_back("plugins", plugins);
    RT_ASSIGN_OR_RETURN(auto device, device_parts(config.backend));
    key.parts.insert(key.parts.end(), device.begin(), device.end());
    Fnv1a hash;
    for (const auto& [name, value] : key.parts) {
        hash.add(name);
        hash.add(value);
    }
    key.hash = hash.hex();
    return key;
}

Expected<std::string> EngineCache::entry_path(const std::string& onnx_path, const BuilderConfig& config) const {
    RT_ASSIGN_OR_RETURN(std::string dir, directory());
    RT_ASSIGN_OR_RETURN(std::vector<char> bytes, read_file(onnx_path));
    RT_ASSIGN_OR_RETURN(EngineCacheKey k, key(bytes.data(), bytes.size(), config));
    return (fs::path(dir) / entry_name(onnx_path, k.hash)).string();
}

Expected<CacheEntryState> EngineCache::check(const std::string& onnx_path, const BuilderConfig& config) const {
    CacheEntryState state;
    RT_ASSIGN_OR_RETURN(state.path, entry_path(onnx_path, config));
    std::error_code ec;
    if (!fs::exists(state.path, ec)) {
        state.reason = "missing";
        return state;
    }
    RT_RETURN_IF_ERROR(load_plugins(config));
    auto engine = Engine::load_file(state.path);
    state.current = engine.has_value();
    if (!engine) state.reason = engine.status().to_string();
    return state;
}

Expected<CachedEngine> EngineCache::load_or_build(const std::string& onnx_path, const BuilderConfig& config,
                                                  Logger* logger) const {
    RT_ASSIGN_OR_RETURN(std::string dir, directory());
    RT_ASSIGN_OR_RETURN(std::vector<char> bytes, read_file(onnx_path));
    RT_ASSIGN_OR_RETURN(EngineCacheKey k, key(bytes.data(), bytes.size(), config));
    RT_RETURN_IF_ERROR(load_plugins(config));
    CachedEngine result;
    result.path = (fs::path(dir) / entry_name(onnx_path, k.hash)).string();

    // Most starts find the entry: no lock is needed to read a file that is only ever replaced by rename.
    std::error_code ec;
    if (fs::exists(result.path, ec)) {
        auto engine = Engine::load_file(result.path, logger);
        if (engine) {
            log(logger, Severity::kInfo, "loaded the cached engine " + result.path);
            result.engine = std::move(*engine);
            return result;
        }
    }

    auto build_uncached = [&](const Status& why) -> Expected<CachedEngine> {
        if (!build_when_unwritable_) return why;
        log(logger, Severity::kWarning, why.message() + "; building without caching");
        const auto start = std::chrono::steady_clock::now();
        RT_ASSIGN_OR_RETURN(result.engine, Builder(logger).build_from_file(onnx_path, config));
        result.build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        result.outcome = CacheOutcome::kBuilt;
        return std::move(result);
    };
    fs::create_directories(dir, ec);
    if (ec) return build_uncached(not_writable(dir, ec.message()));
    EntryLock lock;
    bool waited = false;
    Status locked = lock.acquire(result.path + ".lock", dir, result.path, logger, &waited);
    if (!locked) return build_uncached(locked);

    // Under the lock: another process may have built the entry meanwhile, or it may be stale or foreign.
    if (fs::exists(result.path, ec)) {
        auto engine = Engine::load_file(result.path, logger);
        if (engine) {
            log(logger, Severity::kInfo, "loaded the cached engine " + result.path);
            result.engine = std::move(*engine);
            result.outcome = waited ? CacheOutcome::kWaited : CacheOutcome::kLoaded;
            return result;
        }
        result.replaced = engine.status().to_string();
        std::string was;
        std::ifstream sidecar(result.path + ".key");
        if (sidecar) was = std::string((std::istreambuf_iterator<char>(sidecar)), std::istreambuf_iterator<char>());
        log(logger, Severity::kWarning,
            "the cached engine " + result.path + " is stale, foreign or damaged (" + result.replaced +
                "); building it again" + (was.empty() ? "" : ". Its key file says:\n" + was));
    }

    log(logger, Severity::kInfo, "building an engine for " + onnx_path + "; it is cached in " + result.path);
    const auto start = std::chrono::steady_clock::now();
    RT_ASSIGN_OR_RETURN(result.engine, Builder(logger).build_from_file(onnx_path, config));
    result.build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    result.outcome = CacheOutcome::kBuilt;
    // The key file first: an engine is never present without its description.
    Status saved = write_atomically(result.path + ".key", "onnx=" + onnx_path + "\n" + k.describe());
    if (saved) saved = result.engine->save(result.path);
    if (!saved) {
        const Status why = saved.code() == StatusCode::kIoError ? not_writable(dir, saved.message()) : saved;
        if (!build_when_unwritable_) return why;
        log(logger, Severity::kWarning, "cannot cache the engine: " + why.message());
        return result;
    }
    log(logger, Severity::kInfo, "engine built and cached in " + result.path);
    return result;
}

}  // namespace rtinfer
