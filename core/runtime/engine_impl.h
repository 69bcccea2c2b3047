// What an Engine holds: the optimized graph and its build settings, immutable once made.
#pragma once

#include <functional>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/serialize/engine_file.h"
#include "rtinfer/engine.h"

namespace rtinfer {

struct Engine::Impl {
    serialize::EngineData data;
    std::vector<TensorDesc> inputs;
    std::vector<TensorDesc> outputs;
    Logger* logger = nullptr;
    // Device copies of the weights, made once per engine by the first context that needs them and shared
    // by all (a shared_ptr<void> owning device memory).
    mutable std::mutex device_mutex;
    mutable std::unordered_map<std::string, std::shared_ptr<void>> device_constants;
    // The read-only mapping of the engine file (load_file), which holds the weights. In the integrated-GPU
    // memory mode its pages are let go once the first context has the weights on the device (device_mutex).
    const uint8_t* file_map = nullptr;
    size_t file_map_size = 0;
    mutable bool file_map_released = false;
};

namespace runtime {

// The SDK version engines are stamped with.
const char* sdk_version();
// The key of the device an engine for `backend` would be built for on this machine.
Expected<std::string> current_device_key(Backend backend);
// Derives inputs/outputs descriptions from the graph (dim 0 of a dynamic-batch engine is -1).
void describe_io(Engine::Impl& impl);
// Creates the backend-specific execution context.
Expected<std::unique_ptr<ExecutionContext>> create_cpu_context(const Engine::Impl& engine);
// Called while a context prepares its layers (the builder's tuning): layers done, layers in all.
using LayerProgress = std::function<void(size_t done, size_t total)>;
// workspace_limit: at build time, the most scratch memory a layer's tactic may take (0: no limit).
Expected<std::unique_ptr<ExecutionContext>> create_cuda_context(const Engine::Impl& engine,
                                                                void* timing_cache = nullptr,
                                                                const LayerProgress& progress = nullptr,
                                                                uint64_t workspace_limit = 0);

}  // namespace runtime
}  // namespace rtinfer
