#include "sdk/rtexec/common.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sys/resource.h>
#include <limits>

#include "core/ir/half.h"
#include "rtinfer/engine.h"
#include "rtinfer/engine_cache.h"
#include "sdk/rtexec/args.h"

#ifdef RTINFER_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace rtexec {

using rtinfer::Backend;
using rtinfer::DataType;
using rtinfer::Expected;
using rtinfer::Status;
using rtinfer::StatusCode;

int report_error(const std::string& command, const std::string& message, int exit_code) {
    std::fprintf(stderr, "rtexec %s: error: %s\n", command.c_str(), message.c_str());
    return exit_code;
}

int usage_error(const std::string& command, const Status& status) {
    return report_error(command, status.message(), kExitUsage);
}

int runtime_error(const std::string& command, const Status& status) {
    return report_error(command, status.to_string(), kExitFailure);
}

Status check_readable(const std::string& path, const std::string& what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status(StatusCode::kNotFound, what + " '" + path + "' cannot be opened: " + std::strerror(errno));
    return Status::ok();
}

Expected<Backend> parse_backend(const std::string& text) {
    if (text == "cpu") return Backend::kCpu;
    if (text == "cuda") return Backend::kCuda;
    return Status(StatusCode::kInvalidArgument, "--backend: unknown backend '" + text + "' (use cpu or cuda)");
}

Status load_plugins(const std::vector<std::string>& libraries) {
    for (const auto& lib : libraries) RT_RETURN_IF_ERROR(rtinfer::load_plugin_library(lib));
    return Status::ok();
}

void add_engine_source_flags(ArgParser& parser, EngineSource* source) {
    parser.add_string("engine", &source->engine_path, "FILE", "the engine file (this or --onnx is required)");
    parser.add_string("onnx", &source->onnx_path, "FILE",
                      "an ONNX model instead: its engine comes from the engine cache, built there if needed");
    parser.add_string("cache-dir", &source->cache_dir, "DIR",
                      "with --onnx: the engine cache folder (default $RTINFER_CACHE_DIR, $XDG_CACHE_HOME/rtinfer "
                      "or ~/.cache/rtinfer)");
    parser.add_string("backend", &source->backend, "cpu|cuda", "with --onnx: the backend to build for (default cpu)");
    parser.add_flag("fp16", &source->fp16, "with --onnx: allow float16 kernels");
}

Status check_engine_source(const ArgParser& parser, const EngineSource& source) {
    if (parser.given("engine") == parser.given("onnx")) {
        return Status(StatusCode::kInvalidArgument, parser.given("engine")
                                                        ? "give --engine or --onnx, not both"
                                                        : "missing required flag --engine (or --onnx)");
    }
    for (const char* flag : {"cache-dir", "backend", "fp16"}) {
        if (parser.given(flag) && !parser.given("onnx"))
            return Status(StatusCode::kInvalidArgument, std::string("--") + flag + " applies only with --onnx");
    }
    return parse_backend(source.backend).status();
}

Expected<std::unique_ptr<rtinfer::Engine>> load_engine_source(EngineSource* source, rtinfer::Logger* logger) {
    if (source->onnx_path.empty()) {
        RT_RETURN_IF_ERROR(check_readable(source->engine_path, "engine"));
        return rtinfer::Engine::load_file(source->engine_path, logger);
    }
    RT_ASSIGN_OR_RETURN(Backend backend, parse_backend(source->backend));
    RT_RETURN_IF_ERROR(check_readable(source->onnx_path, "ONNX model"));
    rtinfer::BuilderConfig config;
    config.backend = backend;
    config.fp16 = source->fp16;
    RT_ASSIGN_OR_RETURN(rtinfer::CachedEngine cached,
                        rtinfer::EngineCache(source->cache_dir).load_or_build(source->onnx_path, config, logger));
    std::fprintf(stderr, "%s %s\n", cached.outcome == rtinfer::CacheOutcome::kBuilt ? "built" : "reused",
                 cached.path.c_str());
    source->engine_path = cached.path;
    return std::move(cached.engine);
}

std::string dims_str(const std::vector<int64_t>& dims) {
    std::string s = "[";
    for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + (dims[i] < 0 ? "?" : std::to_string(dims[i]));
    return s + "]";
}

int64_t dims_numel(const std::vector<int64_t>& dims) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
}

bool dims_known(const std::vector<int64_t>& dims) {
    for (int64_t d : dims) {
        if (d < 0) return false;
    }
    return true;
}

std::string sanitize_file_name(const std::string& name) {
    std::string out;
    for (char c : name) {
        const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                          c == '_' || c == '-';
        out += keep ? c : '_';
    }
    if (out.empty() || out == "." || out == "..") out = "_" + out;
    return out;
}

std::string human_bytes(uint64_t bytes) {
    static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    int unit = 0;
    while (v >= 1024.0 && unit < 4) {
        v /= 1024.0;
        ++unit;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", v, kUnits[unit]);
    return buf;
}

double element_as_double(DataType dtype, const void* data, size_t i) {
    switch (dtype) {
        case DataType::kFloat32:
            return static_cast<const float*>(data)[i];
        case DataType::kFloat16:
            return rtinfer::ir::half_to_float(static_cast<const uint16_t*>(data)[i]);
        case DataType::kFloat64:
            return static_cast<const double*>(data)[i];
        case DataType::kInt8:
            return static_cast<const int8_t*>(data)[i];
        case DataType::kUInt8:
            return static_cast<const uint8_t*>(data)[i];
        case DataType::kInt32:
            return static_cast<const int32_t*>(data)[i];
        case DataType::kInt64:
            return static_cast<double>(static_cast<const int64_t*>(data)[i]);
        case DataType::kBool:
            return static_cast<const uint8_t*>(data)[i] != 0 ? 1.0 : 0.0;
        case DataType::kUndefined:
            break;
    }
    return 0.0;
}

namespace {

// splitmix64: tiny, fast, and the same sequence on every platform (std distributions are not).
uint64_t next_random(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double random_unit_nonzero(uint64_t& state) {
    while (true) {
        const double v = static_cast<double>(next_random(state) >> 11) * (2.0 / 9007199254740992.0) - 1.0;
        // Stay non-zero also after rounding to float16, the narrowest float type.
        if (std::fabs(v) >= 1e-4) return v;
    }
}

}  // namespace

bool is_float_type(DataType dtype) {
    return dtype == DataType::kFloat32 || dtype == DataType::kFloat16 || dtype == DataType::kFloat64;
}

bool has_dynamic_batch(const rtinfer::Engine& engine) {
    for (const auto& d : engine.inputs()) {
        if (!d.dims.empty() && d.dims[0] < 0) return true;
    }
    return false;
}

void fill_random(DataType dtype, void* data, size_t count, uint64_t seed) {
    uint64_t state = seed;
    for (size_t i = 0; i < count; ++i) {
        switch (dtype) {
            case DataType::kFloat32:
                static_cast<float*>(data)[i] = static_cast<float>(random_unit_nonzero(state));
                break;
            case DataType::kFloat16:
                static_cast<uint16_t*>(data)[i] =
                    rtinfer::ir::float_to_half(static_cast<float>(random_unit_nonzero(state)));
                break;
            case DataType::kFloat64:
                static_cast<double*>(data)[i] = random_unit_nonzero(state);
                break;
            case DataType::kInt8:
                static_cast<int8_t*>(data)[i] = static_cast<int8_t>(1 + next_random(state) % 4);
                break;
            case DataType::kUInt8:
                static_cast<uint8_t*>(data)[i] = static_cast<uint8_t>(1 + next_random(state) % 4);
                break;
            case DataType::kInt32:
                static_cast<int32_t*>(data)[i] = static_cast<int32_t>(1 + next_random(state) % 4);
                break;
            case DataType::kInt64:
                static_cast<int64_t*>(data)[i] = static_cast<int64_t>(1 + next_random(state) % 4);
                break;
            case DataType::kBool:
                static_cast<uint8_t*>(data)[i] = static_cast<uint8_t>(next_random(state) & 1);
                break;
            case DataType::kUndefined:
                return;
        }
    }
}

std::string summarize_values(DataType dtype, const void* data, size_t count, size_t show) {
    std::string text = "values [";
    char buf[64];
    for (size_t i = 0; i < count && i < show; ++i) {
        const double v = element_as_double(dtype, data, i);
        if (is_float_type(dtype))
            std::snprintf(buf, sizeof buf, "%s%.6g", i ? ", " : "", v);
        else
            std::snprintf(buf, sizeof buf, "%s%.0f", i ? ", " : "", v);
        text += buf;
    }
    if (count > show) text += ", ...";
    text += "]";
    double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0.0;
    size_t finite = 0, nans = 0;
    for (size_t i = 0; i < count; ++i) {
        const double v = element_as_double(dtype, data, i);
        if (std::isnan(v)) {
            ++nans;
            continue;
        }
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        sum += v;
        ++finite;
    }
    if (finite > 0) {
        std::snprintf(buf, sizeof buf, " min %.6g max %.6g mean %.6g", lo, hi, sum / static_cast<double>(finite));
        text += buf;
    }
    if (nans > 0) text += " nan " + std::to_string(nans);
    return text;
}

void TensorBuffer::Free::operator()(void* p) const {
    if (p == nullptr) return;
#ifdef RTINFER_HAVE_CUDA
    if (backend == Backend::kCuda) {
        if (mapped) {
            cudaFreeHost(p);
        } else {
            cudaFree(p);
        }
        return;
    }
#endif
    std::free(p);
}

Expected<TensorBuffer> TensorBuffer::allocate(Backend backend, size_t bytes) {
    TensorBuffer buffer;
    buffer.backend_ = backend;
    buffer.size_ = bytes;
    // Zero-size tensors still get a distinct non-null address to bind.
    const size_t alloc = (bytes + 63) / 64 * 64 + 64;
    void* p = nullptr;
    if (backend == Backend::kCuda) {
#ifdef RTINFER_HAVE_CUDA
        // Integrated GPUs read host-mapped memory where it is: no device copy of inputs and outputs.
        buffer.mapped_ = rtinfer::integrated_memory_mode();
        const cudaError_t err = buffer.mapped_ ? cudaHostAlloc(&p, alloc, cudaHostAllocMapped) : cudaMalloc(&p, alloc);
        if (err != cudaSuccess) {
            return Status(StatusCode::kCudaError, std::string(buffer.mapped_ ? "cudaHostAlloc" : "cudaMalloc") + " of " +
                                                      std::to_string(bytes) + " bytes failed: " + cudaGetErrorString(err));
        }
        if (buffer.mapped_) {
            buffer.data_ = std::unique_ptr<void, Free>(p, Free{backend, true});
            const cudaError_t mapped = cudaHostGetDevicePointer(&buffer.device_, p, 0);
            if (mapped != cudaSuccess) {
                return Status(StatusCode::kCudaError, std::string("cudaHostGetDevicePointer: ") + cudaGetErrorString(mapped));
            }
            std::memset(p, 0, alloc);
            return buffer;
        }
#else
        return Status(StatusCode::kUnsupported,
                      "this rtexec was built without CUDA; the engine needs the cuda backend");
#endif
    } else {
        p = std::aligned_alloc(64, alloc);
        if (p == nullptr)
            return Status(StatusCode::kOutOfMemory, "cannot allocate " + std::to_string(bytes) + " bytes");
        std::memset(p, 0, alloc);
    }
    buffer.data_ = std::unique_ptr<void, Free>(p, Free{backend, false});
    return buffer;
}

Status TensorBuffer::upload(const void* host) {
    if (size_ == 0) return Status::ok();
#ifdef RTINFER_HAVE_CUDA
    if (backend_ == Backend::kCuda) {
        const cudaError_t err = cudaMemcpy(data_.get(), host, size_, cudaMemcpyDefault);
        if (err != cudaSuccess)
            return Status(StatusCode::kCudaError, std::string("cudaMemcpy: ") + cudaGetErrorString(err));
        return Status::ok();
    }
#endif
    std::memcpy(data_.get(), host, size_);
    return Status::ok();
}

Status TensorBuffer::download(void* host) const {
    if (size_ == 0) return Status::ok();
#ifdef RTINFER_HAVE_CUDA
    if (backend_ == Backend::kCuda) {
        const cudaError_t err = cudaMemcpy(host, data_.get(), size_, cudaMemcpyDefault);
        if (err != cudaSuccess)
            return Status(StatusCode::kCudaError, std::string("cudaMemcpy: ") + cudaGetErrorString(err));
        return Status::ok();
    }
#endif
    std::memcpy(host, data_.get(), size_);
    return Status::ok();
}

Expected<Stream> Stream::create(Backend backend) {
    Stream stream;
    if (backend != Backend::kCuda) return stream;
#ifdef RTINFER_HAVE_CUDA
    cudaStream_t s = nullptr;
    const cudaError_t err = cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
    if (err != cudaSuccess)
        return Status(StatusCode::kCudaError, std::string("cudaStreamCreate: ") + cudaGetErrorString(err));
    stream.handle_ = s;
    return stream;
#else
    return Status(StatusCode::kUnsupported, "this rtexec was built without CUDA; the engine needs the cuda backend");
#endif
}

Stream::Stream(Stream&& other) noexcept : handle_(other.handle_) {
    other.handle_ = nullptr;
}

Stream& Stream::operator=(Stream&& other) noexcept {
    std::swap(handle_, other.handle_);
    return *this;
}

Stream::~Stream() {
#ifdef RTINFER_HAVE_CUDA
    if (handle_ != nullptr) cudaStreamDestroy(static_cast<cudaStream_t>(handle_));
#endif
}

Status Stream::synchronize() const {
#ifdef RTINFER_HAVE_CUDA
    if (handle_ != nullptr) {
        const cudaError_t err = cudaStreamSynchronize(static_cast<cudaStream_t>(handle_));
        if (err != cudaSuccess) {
            return Status(StatusCode::kCudaError, std::string("cudaStreamSynchronize: ") + cudaGetErrorString(err));
        }
    }
#endif
    return Status::ok();
}

Status bind_random_io(const rtinfer::Engine& engine, rtinfer::ExecutionContext& ctx, uint64_t seed,
                      std::vector<TensorBuffer>& buffers) {
    for (const auto* list : {&engine.inputs(), &engine.outputs()}) {
        for (const auto& tensor : *list) {
            RT_ASSIGN_OR_RETURN(auto desc, ctx.tensor_desc(tensor.name));
            if (list == &engine.outputs() && !dims_known(desc.dims)) continue;
            const size_t count = static_cast<size_t>(dims_numel(desc.dims));
            const size_t bytes = count * rtinfer::data_type_size(desc.type);
            RT_ASSIGN_OR_RETURN(auto buffer, TensorBuffer::allocate(engine.backend(), bytes));
            if (list == &engine.inputs()) {
                std::vector<uint8_t> host(bytes);
                fill_random(desc.type, host.data(), count, seed++);
                RT_RETURN_IF_ERROR(buffer.upload(host.data()));
            }
            RT_RETURN_IF_ERROR(ctx.set_tensor_address(tensor.name, buffer.data()));
            buffers.push_back(std::move(buffer));
        }
    }
    return Status::ok();
}

std::string peak_host_memory() {
    struct rusage usage{};
    if (::getrusage(RUSAGE_SELF, &usage) != 0) return "unknown";
    return human_bytes(static_cast<uint64_t>(usage.ru_maxrss) * 1024);  // kilobytes on Linux
}

std::string peak_memory_line(const DeviceMemoryMeter& meter) {
    std::string line = "peak memory: host " + peak_host_memory() + " (max RSS)";
    if (meter.active()) line += ", device " + human_bytes(meter.peak_bytes());
    if (rtinfer::integrated_memory_mode()) line += " (integrated-GPU memory mode)";
    return line;
}

DeviceMemoryMeter::DeviceMemoryMeter(Backend backend) {
#ifdef RTINFER_HAVE_CUDA
    size_t free_bytes = 0, total = 0;
    // cudaFree(nullptr) creates the context first, so that the baseline excludes it.
    if (backend == Backend::kCuda && cudaFree(nullptr) == cudaSuccess &&
        cudaMemGetInfo(&free_bytes, &total) == cudaSuccess) {
        active_ = true;
        baseline_free_ = min_free_ = free_bytes;
    }
#else
    (void)backend;
#endif
}

void DeviceMemoryMeter::sample() {
#ifdef RTINFER_HAVE_CUDA
    size_t free_bytes = 0, total = 0;
    if (!active_ || cudaMemGetInfo(&free_bytes, &total) != cudaSuccess) return;
    std::lock_guard<std::mutex> lock(mutex_);
    min_free_ = std::min<uint64_t>(min_free_, free_bytes);
#endif
}

uint64_t DeviceMemoryMeter::peak_bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return baseline_free_ - min_free_;
}

}  // namespace rtexec
