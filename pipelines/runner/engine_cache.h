// Engines for model.yml files: a prebuilt engine file is loaded as it is; an ONNX model goes through the
// SDK's EngineCache (rtinfer/engine_cache.h) in the config's engine_cache folder: built once per model
// content, build options, SDK version and device, locked while it is built, rebuilt when the cached file no
// longer loads (another SDK version or GPU, a damaged file).
#pragma once

#include <memory>
#include <string>

#include "pipelines/config/model_config.h"
#include "rtinfer/builder.h"
#include "rtinfer/engine.h"
#include "rtinfer/logger.h"
#include "rtinfer/status.h"

namespace rtinfer::pipelines {

// The backend a model section asks for: its `backend`, or CUDA when "auto" and a GPU is usable.
Backend choose_backend(const config::ModelSection& model);

// The build options of a model section (precision, batch, plugins) for a backend.
BuilderConfig model_builder_config(const config::ModelSection& model, Backend backend);

// The file an ONNX model's engine is cached in (EngineCache::entry_path in model.engine_cache). Errors when
// the ONNX file cannot be read.
Expected<std::string> engine_cache_file(const config::ModelSection& model, Backend backend);

// Loads or builds (and caches) the engine; progress and cache decisions go to the logger. A cache folder
// that cannot be written costs a rebuild next time, not this start: the engine is built without caching.
Expected<std::unique_ptr<Engine>> load_or_build_engine(const config::ModelConfig& config, Backend backend,
                                                       Logger* logger);

}  // namespace rtinfer::pipelines
