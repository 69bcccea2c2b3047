// What several rtexec commands share: exit codes and error lines, tensor buffers on the engine's backend,
// random inputs, value summaries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rtinfer/engine.h"
#include "rtinfer/logger.h"
#include "rtinfer/status.h"
#include "rtinfer/types.h"

namespace rtexec {

class ArgParser;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // the command ran and something failed (file, model, engine, run)
constexpr int kExitUsage = 2;    // the command line was wrong

// Prints "rtexec <command>: error: <message>" to stderr and returns the exit code given.
int report_error(const std::string& command, const std::string& message, int exit_code);
// A usage error from the parser (its message only) or a runtime failure (code name + message).
int usage_error(const std::string& command, const rtinfer::Status& status);
int runtime_error(const std::string& command, const rtinfer::Status& status);

// kNotFound naming the file when it cannot be opened for reading (what: "ONNX model", "engine", ...).
rtinfer::Status check_readable(const std::string& path, const std::string& what);
rtinfer::Expected<rtinfer::Backend> parse_backend(const std::string& text);
// The help of the repeatable --plugins flag, and loading what it names (errors name the library).
constexpr const char* kPluginsHelp = "a plugin library to load (repeat for several; RTINFER_PLUGIN_PATH also works)";
rtinfer::Status load_plugins(const std::vector<std::string>& libraries);

// The engine run and bench use: --engine FILE, or --onnx FILE built through the engine cache (--cache-dir DIR,
// else the default folder) for --backend with --fp16, so that a second call reuses the first one's build.
struct EngineSource {
    std::string engine_path;  // --engine, or the cache entry once loaded
    std::string onnx_path;
    std::string cache_dir;
    std::string backend = "cpu";
    bool fp16 = false;
};
void add_engine_source_flags(ArgParser& parser, EngineSource* source);
// Usage errors: neither or both of --engine and --onnx, cache flags without --onnx, an unknown backend.
rtinfer::Status check_engine_source(const ArgParser& parser, const EngineSource& source);
// Loads --engine, or loads or builds --onnx's cache entry (saying which on stderr).
rtinfer::Expected<std::unique_ptr<rtinfer::Engine>> load_engine_source(EngineSource* source, rtinfer::Logger* logger);

// "[1,3,224,224]"; -1 dims print as "?" .
std::string dims_str(const std::vector<int64_t>& dims);
int64_t dims_numel(const std::vector<int64_t>& dims);
// False when a dim is -1: a dynamic batch not set yet, or an output whose shape depends on the data (read
// such an output after enqueue with ExecutionContext::output_data instead of binding it).
bool dims_known(const std::vector<int64_t>& dims);
// A file name from a tensor name: anything but [A-Za-z0-9._-] becomes '_', and "." / ".." are avoided.
std::string sanitize_file_name(const std::string& name);
// "12.3 KiB"
std::string human_bytes(uint64_t bytes);

// float16, float32 or float64.
bool is_float_type(rtinfer::DataType dtype);
// Whether dim 0 of an input is -1: the engine takes a batch within [min_batch, max_batch].
bool has_dynamic_batch(const rtinfer::Engine& engine);

// Element i of a buffer as double (float16 decoded, bool as 0/1).
double element_as_double(rtinfer::DataType dtype, const void* data, size_t i);
// Random non-zero values, deterministic from seed: floats uniform in [-1,1), integers in [1,4], bools 0/1.
void fill_random(rtinfer::DataType dtype, void* data, size_t count, uint64_t seed);
// "values [0.12, -0.5, ...] min -0.99 max 0.98 mean 0.01" (NaNs are counted, not averaged).
std::string summarize_values(rtinfer::DataType dtype, const void* data, size_t count, size_t show = 6);

// Memory for one tensor on the engine's backend: host memory for the CPU, device memory for CUDA (host-mapped
// memory in the integrated-GPU memory mode, see rtinfer::integrated_memory_mode()).
class TensorBuffer {
  public:
    static rtinfer::Expected<TensorBuffer> allocate(rtinfer::Backend backend, size_t bytes);
    TensorBuffer() = default;
    TensorBuffer(TensorBuffer&&) noexcept = default;
    TensorBuffer& operator=(TensorBuffer&&) noexcept = default;

    // The address to bind (for a host-mapped buffer, its device address).
    void* data() { return device_ ? device_ : data_.get(); }
    bool mapped() const { return mapped_; }
    size_t size() const { return size_; }
    // Copies from / to host memory of size() bytes (synchronously).
    rtinfer::Status upload(const void* host);
    rtinfer::Status download(void* host) const;

  private:
    struct Free {
        rtinfer::Backend backend;
        bool mapped;
        void operator()(void* p) const;
    };
    rtinfer::Backend backend_ = rtinfer::Backend::kCpu;
    size_t size_ = 0;
    bool mapped_ = false;     // host memory mapped for the GPU (integrated memory mode)
    void* device_ = nullptr;  // its device address
    std::unique_ptr<void, Free> data_{nullptr, Free{rtinfer::Backend::kCpu, false}};
};

// A CUDA stream for the CUDA backend; a null handle for the CPU backend, which runs synchronously.
class Stream {
  public:
    static rtinfer::Expected<Stream> create(rtinfer::Backend backend);
    Stream() = default;
    Stream(Stream&& other) noexcept;
    Stream& operator=(Stream&& other) noexcept;
    ~Stream();

    void* handle() const { return handle_; }
    rtinfer::Status synchronize() const;

  private:
    void* handle_ = nullptr;
};

// Gives every input of `ctx` a new buffer with random values (seeded) and every output of known shape a new
// buffer; data-dependent outputs stay in the context's own memory.
rtinfer::Status bind_random_io(const rtinfer::Engine& engine, rtinfer::ExecutionContext& ctx, uint64_t seed,
                               std::vector<TensorBuffer>& buffers);

// The process's peak resident host memory so far (max RSS), e.g. "412.3 MiB".
std::string peak_host_memory();

// "peak memory: host <max RSS>, device <meter's peak>" (device only when the meter is active), plus the
// memory mode when the integrated-GPU mode is on.
std::string peak_memory_line(const class DeviceMemoryMeter& meter);

// Device memory this process uses beyond its bare CUDA context, measured as the fall in the device's free
// memory (cudaMemGetInfo) since the meter started: weights, activation arenas, workspaces, library handles,
// kernels loaded on first use and the caller's buffers. Inactive (peak 0) for the CPU backend. sample() may
// be called from any thread; the peak is the largest fall seen at a sample.
class DeviceMemoryMeter {
  public:
    explicit DeviceMemoryMeter(rtinfer::Backend backend);
    bool active() const { return active_; }
    void sample();
    uint64_t peak_bytes() const;

  private:
    bool active_ = false;
    uint64_t baseline_free_ = 0;
    mutable std::mutex mutex_;
    uint64_t min_free_ = 0;
};

}  // namespace rtexec
