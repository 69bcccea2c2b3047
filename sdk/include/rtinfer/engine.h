// Engine and ExecutionContext: the runtime half of the public API.
//
// An Engine is immutable once built or loaded and is safe to share between threads: create one
// ExecutionContext per thread or per CUDA stream. A context is not thread-safe; it owns the activation
// memory of one inference in flight.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rtinfer/logger.h"
#include "rtinfer/status.h"
#include "rtinfer/types.h"

namespace rtinfer {

class ExecutionContext;

// Loads a plugin library (see rtinfer/plugin.h) into this process, for builds and for loading engines
// whose layers use its plugins. Loading the same file again is a no-op; a plugin (name and namespace) that
// another library named by the user already defines is an error; a user's plugin hides a built-in one of
// the same name. Libraries stay loaded until the process exits. The SDK's built-in plugins and those of
// the RTINFER_PLUGIN_PATH variable (colon-separated libraries or folders) are loaded without this call.
Status load_plugin_library(const std::string& path);

// Whether this process uses the integrated-GPU memory mode: on when the GPU shares its memory with the CPU
// (cudaDeviceProp::integrated, as on Jetson), forced on or off by RTINFER_INTEGRATED=1 or 0. In this mode an
// engine loaded with load_file() lets go of its file mapping's pages once its weights are on the device, so
// that they are held once, and applications give contexts host-mapped input and output buffers
// (cudaHostAlloc with cudaHostAllocMapped) instead of device copies. False without CUDA.
bool integrated_memory_mode();

// One layer of an engine, as `rtexec inspect` shows it.
struct LayerInfo {
    std::string name;
    std::string op_type;
    std::vector<std::string> inputs;
    std::vector<std::string> outputs;
    std::string backend;  // "cpu" or "cuda"
};

// Time one layer took in a profiled run (rtexec bench --profile), averaged over the run's iterations.
struct LayerTiming {
    std::string name;
    std::string op_type;
    std::string backend;  // "cpu" or "cuda": where the layer ran
    double ms = 0.0;
};

// Sizes an engine reports; activation_bytes is the planned arena at max batch.
struct MemoryInfo {
    uint64_t weight_bytes = 0;
    uint64_t activation_bytes = 0;
    uint64_t workspace_bytes = 0;
};

class Engine {
public:
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Loads an engine file. The file is validated (magic, version, device, checksums, bounds) before use:
    // a truncated, corrupted, foreign-version or other-device engine gives kInvalidEngine naming the file.
    static Expected<std::unique_ptr<Engine>> load_file(const std::string& path, Logger* logger = nullptr);
    // Same, from bytes the caller keeps alive only for the duration of the call (they are copied).
    static Expected<std::unique_ptr<Engine>> load_memory(const void* data, size_t size, Logger* logger = nullptr);

    // Writes the engine atomically (temporary file + rename).
    Status save(const std::string& path) const;
    // The engine file's bytes.
    Expected<std::vector<uint8_t>> serialize() const;

    const std::vector<TensorDesc>& inputs() const;
    const std::vector<TensorDesc>& outputs() const;
    Backend backend() const;
    bool fp16() const;
    int min_batch() const;
    int max_batch() const;
    std::vector<LayerInfo> layers() const;
    MemoryInfo memory() const;
    // "cpu" or e.g. "cuda:NVIDIA H100 80GB HBM3:sm_90:132" — what the engine was built for.
    std::string device_key() const;

    // A new context; the engine must outlive it.
    Expected<std::unique_ptr<ExecutionContext>> create_context() const;

    struct Impl;
    explicit Engine(std::shared_ptr<const Impl> impl);
    const Impl& impl() const { return *impl_; }

private:
    std::shared_ptr<const Impl> impl_;
};

class ExecutionContext {
public:
    ~ExecutionContext();
    ExecutionContext(const ExecutionContext&) = delete;
    ExecutionContext& operator=(const ExecutionContext&) = delete;

    // Sets the batch for the next enqueue (engines with a dynamic batch; within [min_batch, max_batch]).
    Status set_batch(int batch);
    int batch() const;
    // The tensor's description at the current batch (no -1 dims).
    Expected<TensorDesc> tensor_desc(const std::string& name) const;
    // Binds an input or output to caller-owned memory (host for the CPU backend, device for CUDA) of at
    // least the tensor's size at the current batch. The caller keeps ownership.
    Status set_tensor_address(const std::string& name, void* data);
    // Runs inference. stream: a cudaStream_t for the CUDA backend, ignored (may be null) for the CPU backend,
    // which runs synchronously.
    Status enqueue(void* stream = nullptr);
    // An output's data after enqueue: the bound address, or a context-owned host buffer when none was
    // bound (the way to read outputs whose shape depends on the data, e.g. NonZero; tensor_desc then gives
    // the shape found). Valid until the next enqueue.
    Expected<const void*> output_data(const std::string& name) const;

    // Runs `iterations` inferences layer by layer, without a CUDA graph, timing each layer (CUDA events on
    // the stream for the CUDA backend, the wall clock for the CPU backend); returns one entry per layer in
    // execution order. Inputs and outputs must be bound as for enqueue(). Synchronizes the stream.
    Expected<std::vector<LayerTiming>> profile(int iterations, void* stream = nullptr);
    // Bytes of activation memory (the planned arena) this context holds at its current batch.
    uint64_t activation_bytes() const;

    struct Impl;
    explicit ExecutionContext(std::unique_ptr<Impl> impl);
    const Impl& impl() const { return *impl_; }

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace rtinfer
