// Engines for model.yml files: a prebuilt engine file is loaded as it is; an ONNX model is built once per
// model content, build options, SDK version and device, and the engine kept in the config's engine cache
// folder so that the next start loads it instead of building. An engine in the cache that no longer loads
// (another SDK version or GPU, a damaged file) is reported and rebuilt.
#pragma once

#include <memory>
#include <string>

#include "pipelines/config/model_config.h"
#include "rtinfer/engine.h"
#include "rtinfer/logger.h"
#include "rtinfer/status.h"

namespace rtinfer::pipelines {

// The backend a model section asks for: its `backend`, or CUDA when "auto" and a GPU is usable.
Backend choose_backend(const config::ModelSection& model);

// The file an ONNX model's engine is cached in: <cache>/<onnx stem>-<key>.engine, the key a hash of what
// decides the engine's bytes. Errors when the ONNX file cannot be read.
Expected<std::string> engine_cache_file(const config::ModelSection& model, Backend backend);

// Loads or builds (and caches) the engine; progress and cache decisions go to the logger at kInfo.
Expected<std::unique_ptr<Engine>> load_or_build_engine(const config::ModelConfig& config, Backend backend,
                                                       Logger* logger);

}  // namespace rtinfer::pipelines
