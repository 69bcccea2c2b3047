#include "pipelines/runner/engine_cache.h"

#include "rtinfer/engine_cache.h"

#ifdef RTINFER_HAVE_CUDA
#include "core/kernels/cuda/device_info.h"
#endif

namespace rtinfer::pipelines {

Backend choose_backend(const config::ModelSection& model) {
    if (model.backend) return *model.backend;
#ifdef RTINFER_HAVE_CUDA
    if (cuda::device_key(0)) return Backend::kCuda;
#endif
    return Backend::kCpu;
}

BuilderConfig model_builder_config(const config::ModelSection& model, Backend backend) {
    BuilderConfig bc;
    bc.backend = backend;
    bc.fp16 = model.precision != config::Precision::kFp32;
    bc.int8 = model.precision == config::Precision::kInt8;
    bc.calibration_cache_path = model.calibration_cache;
    bc.min_batch = 1;
    bc.opt_batch = model.batch;
    bc.max_batch = model.batch;
    bc.plugin_libraries = model.plugins;
    return bc;
}

Expected<std::string> engine_cache_file(const config::ModelSection& model, Backend backend) {
    return EngineCache(model.engine_cache).entry_path(model.onnx, model_builder_config(model, backend));
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
    EngineCache cache(model.engine_cache);
    cache.set_build_when_unwritable(true);
    auto cached = cache.load_or_build(model.onnx, model_builder_config(model, backend), logger);
    if (!cached) return cached.status().with_context(config.source);
    return std::move(cached->engine);
}

}  // namespace rtinfer::pipelines
