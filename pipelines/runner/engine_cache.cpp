#include "pipelines/runner/engine_cache.h"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include "rtinfer/builder.h"
#include "rtinfer/rtinfer.h"

#ifdef RTINFER_HAVE_CUDA
#include "core/kernels/cuda/device_info.h"
#endif

namespace rtinfer::pipelines {

namespace {

struct Fnv1a {
    uint64_t h = 1469598103934665603ull;
    void add(const void* data, size_t size) {
        const auto* p = static_cast<const uint8_t*>(data);
        for (size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 1099511628211ull;
    }
    void add(const std::string& s) {
        add(s.data(), s.size());
        add("\0", 1);  // so that "ab"+"c" and "a"+"bc" differ
    }
};

std::string device_name(Backend backend) {
    if (backend == Backend::kCpu) return "cpu";
#ifdef RTINFER_HAVE_CUDA
    if (auto key = cuda::device_key(0)) return *key;
#endif
    return "cuda:unknown";
}

void log(Logger* logger, Severity severity, const std::string& message) {
    if (logger != nullptr) logger->log(severity, message.c_str());
}

BuilderConfig builder_config(const config::ModelSection& model, Backend backend) {
    BuilderConfig bc;
    bc.backend = backend;
    bc.fp16 = model.precision != config::Precision::kFp32;
    bc.min_batch = 1;
    bc.opt_batch = model.batch;
    bc.max_batch = model.batch;
    bc.plugin_libraries = model.plugins;
    return bc;
}

}  // namespace

Backend choose_backend(const config::ModelSection& model) {
    if (model.backend) return *model.backend;
#ifdef RTINFER_HAVE_CUDA
    if (cuda::device_key(0)) return Backend::kCuda;
#endif
    return Backend::kCpu;
}

Expected<std::string> engine_cache_file(const config::ModelSection& model, Backend backend) {
    std::ifstream in(model.onnx, std::ios::binary);
    if (!in) return Status(StatusCode::kNotFound, model.onnx + ": cannot open the ONNX model");
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return Status(StatusCode::kIoError, model.onnx + ": read error");
    Fnv1a key;
    key.add(bytes.data(), bytes.size());
    key.add(rt_version());
    key.add(backend_name(backend));
    key.add(device_name(backend));
    key.add(config::precision_name(model.precision));
    key.add(std::to_string(model.batch));
    for (const auto& p : model.plugins) key.add(p);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(key.h));
    const std::filesystem::path onnx(model.onnx);
    return (std::filesystem::path(model.engine_cache) / (onnx.stem().string() + "-" + hex + ".engine")).string();
}

Expected<std::unique_ptr<Engine>> load_or_build_engine(const config::ModelConfig& config, Backend backend,
                                                       Logger* logger) {
    const config::ModelSection& model = config.model;
    for (const auto& lib : model.plugins) {
        Status s = load_plugin_library(lib);
        if (!s.is_ok()) return s.with_context(config.source + ": model.plugins");
    }
    if (!model.engine.empty()) {
        auto engine = Engine::load_file(model.engine, logger);
        if (!engine) return engine.status().with_context(config.source + ": model.engine");
        return engine;
    }
    auto path = engine_cache_file(model, backend);
    if (!path) return path.status().with_context(config.source + ": model.onnx");
    std::error_code ec;
    if (std::filesystem::exists(*path, ec)) {
        auto engine = Engine::load_file(*path, logger);
        if (engine) {
            log(logger, Severity::kInfo, "loaded the cached engine " + *path);
            return engine;
        }
        log(logger, Severity::kWarning,
            "the cached engine does not load, building it again: " + engine.status().message());
    }
    log(logger, Severity::kInfo,
        "building an engine for " + model.onnx + " (" + backend_name(backend) + ", " +
            config::precision_name(model.precision) + ", batch " + std::to_string(model.batch) +
            "); it is cached in " + *path);
    Builder builder(logger);
    auto engine = builder.build_from_file(model.onnx, builder_config(model, backend));
    if (!engine) return engine.status().with_context(config.source);
    std::filesystem::create_directories(model.engine_cache, ec);
    Status saved = (*engine)->save(*path);
    if (!saved.is_ok()) {
        // A read-only cache folder costs a rebuild next time, not this run.
        log(logger, Severity::kWarning, "cannot cache the engine: " + saved.message());
    } else {
        log(logger, Severity::kInfo, "engine built and cached in " + *path);
    }
    return engine;
}

}  // namespace rtinfer::pipelines
