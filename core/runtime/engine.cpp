#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/plugins/resolve.h"
#include "core/runtime/engine_impl.h"

#ifdef RTINFER_HAVE_CUDA
#include "core/kernels/cuda/device_info.h"
#endif

namespace rtinfer {

namespace runtime {

const char* sdk_version() { return RTINFER_VERSION; }

Expected<std::string> current_device_key(Backend backend) {
    if (backend == Backend::kCpu) return std::string("cpu");
#ifdef RTINFER_HAVE_CUDA
    return cuda::device_key(0);
#else
    return Status(StatusCode::kUnsupported, "this rtinfer was built without CUDA");
#endif
}

void describe_io(Engine::Impl& impl) {
    const ir::Graph& g = impl.data.graph;
    auto describe = [&](const std::string& name) {
        const ir::Value& v = g.at(name);
        TensorDesc d{name, v.dtype, v.shape};
        return d;
    };
    impl.inputs.clear();
    impl.outputs.clear();
    for (const auto& n : g.inputs) impl.inputs.push_back(describe(n));
    for (const auto& n : g.outputs) impl.outputs.push_back(describe(n));
}

}  // namespace runtime

namespace {

// file_mapped: `data` is a read-only mapping of the engine file (its weights can be read in place).
Expected<std::unique_ptr<Engine>> finish_load(const uint8_t* data, size_t size, std::shared_ptr<void> keepalive,
                                              const std::string& source, Logger* logger, bool file_mapped = false) {
    RT_ASSIGN_OR_RETURN(serialize::EngineData parsed,
                        serialize::read_engine(data, size, std::move(keepalive), source, runtime::sdk_version()));
    Expected<std::string> here = runtime::current_device_key(parsed.backend);
    if (!here.has_value()) {
        return Status(StatusCode::kInvalidEngine, source + ": engine built for '" + parsed.device_key +
                                                      "', which this machine cannot run (" + here.status().message() + ")");
    }
    if (*here != parsed.device_key) {
        return Status(StatusCode::kInvalidEngine, source + ": engine built for device '" + parsed.device_key +
                                                      "', this device is '" + *here + "'; rebuild the engine here");
    }
    {
        Status s = plugins::attach_engine_plugins(parsed.graph);
        if (!s.is_ok()) return s.with_context(source);
    }
    auto impl = std::make_shared<Engine::Impl>();
    impl->data = std::move(parsed);
    impl->logger = logger ? logger : &null_logger();
    if (file_mapped) {
        impl->file_map = data;
        impl->file_map_size = size;
    }
    runtime::describe_io(*impl);
    return std::make_unique<Engine>(std::move(impl));
}

}  // namespace

Engine::Engine(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Expected<std::unique_ptr<Engine>> Engine::load_file(const std::string& path, Logger* logger) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return Status(errno == ENOENT ? StatusCode::kNotFound : StatusCode::kIoError,
                      path + ": cannot open engine file (" + std::strerror(errno) + ")");
    }
    struct stat st{};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return Status(StatusCode::kIoError, path + ": not a regular file");
    }
    const size_t size = static_cast<size_t>(st.st_size);
    if (size == 0) {
        ::close(fd);
        return Status(StatusCode::kInvalidEngine, path + ": empty engine file");
    }
    // Weights are used in place from the mapping: no second copy in memory.
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) return Status(StatusCode::kIoError, path + ": mmap failed (" + std::strerror(errno) + ")");
    std::shared_ptr<void> keepalive(map, [size](void* p) { ::munmap(p, size); });
    return finish_load(static_cast<const uint8_t*>(map), size, keepalive, path, logger, true);
}

Expected<std::unique_ptr<Engine>> Engine::load_memory(const void* data, size_t size, Logger* logger) {
    if (!data || size == 0) return Status(StatusCode::kInvalidArgument, "<memory>: empty engine buffer");
    // A 64-byte aligned copy, so weights keep the alignment the file format promises.
    ir::Tensor copy(DataType::kUInt8, {static_cast<int64_t>(size)});
    std::memcpy(copy.raw(), data, size);
    auto holder = std::make_shared<ir::Tensor>(copy);
    return finish_load(static_cast<const uint8_t*>(holder->raw()), size, holder, "<memory>", logger);
}

Expected<std::vector<uint8_t>> Engine::serialize() const { return serialize::write_engine(impl_->data); }

Status Engine::save(const std::string& path) const {
    RT_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, serialize());
    // Temporary file + rename: a reader never sees a half-written engine.
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f) return Status(StatusCode::kIoError, path + ": cannot write (" + std::strerror(errno) + ")");
        f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        f.flush();
        if (!f) {
            std::remove(tmp.c_str());
            return Status(StatusCode::kIoError, path + ": write failed");
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        return Status(StatusCode::kIoError, path + ": rename failed (" + std::strerror(errno) + ")");
    }
    return Status();
}

const std::vector<TensorDesc>& Engine::inputs() const { return impl_->inputs; }
const std::vector<TensorDesc>& Engine::outputs() const { return impl_->outputs; }
Backend Engine::backend() const { return impl_->data.backend; }
bool Engine::fp16() const { return impl_->data.fp16; }
int Engine::min_batch() const { return impl_->data.min_batch; }
int Engine::max_batch() const { return impl_->data.max_batch; }
std::string Engine::device_key() const { return impl_->data.device_key; }

std::vector<LayerInfo> Engine::layers() const {
    std::vector<LayerInfo> layers;
    for (const auto& node : impl_->data.graph.nodes) {
        const bool fallback = node.attr_int("rt_cpu_fallback", 0) != 0;
        layers.push_back({node.name, node.op_type, node.inputs, node.outputs,
                          fallback ? "cpu" : backend_name(impl_->data.backend)});
    }
    return layers;
}

MemoryInfo Engine::memory() const {
    MemoryInfo info;
    for (const auto& [name, v] : impl_->data.graph.values()) {
        if (v.is_constant()) info.weight_bytes += v.constant.nbytes();
    }
    info.activation_bytes = impl_->data.activation_bytes;
    return info;
}

Expected<std::unique_ptr<ExecutionContext>> Engine::create_context() const {
    if (impl_->data.backend == Backend::kCpu) return runtime::create_cpu_context(*impl_);
    return runtime::create_cuda_context(*impl_);
}

}  // namespace rtinfer
