// GPU tier helpers for plugins: loads a plugin library with dlopen and drives one instance through the C
// ABI the way rtinfer does, on the CPU (enqueue_cpu, host memory) and on a CUDA stream (enqueue_cuda,
// device memory, optionally captured into a CUDA graph), so that tests compare both enqueues of one
// instance on the same inputs. Outputs are poisoned (0xFF bytes) before each run so that unwritten
// elements show.
#pragma once

#include <cuda_runtime.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "rtinfer/plugin.h"

namespace rtinfer::testing {

// A tensor in host memory with its ABI description.
struct HostTensor {
    rt_plugin_tensor_desc desc{};
    std::vector<uint8_t> bytes;

    template <typename T>
    static HostTensor of(int32_t dtype, const std::vector<int64_t>& dims, const std::vector<T>& values) {
        HostTensor t;
        t.desc.dtype = dtype;
        t.desc.rank = static_cast<int32_t>(dims.size());
        for (size_t i = 0; i < dims.size(); ++i) t.desc.dims[i] = dims[i];
        t.bytes.resize(values.size() * sizeof(T));
        if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
        return t;
    }
    template <typename T>
    std::vector<T> values() const {
        std::vector<T> v(bytes.size() / sizeof(T));
        if (!v.empty()) std::memcpy(v.data(), bytes.data(), bytes.size());
        return v;
    }
};

inline size_t plugin_dtype_size(int32_t dtype) {
    switch (dtype) {
        case RT_PLUGIN_DTYPE_FLOAT16:
            return 2;
        case RT_PLUGIN_DTYPE_INT8:
        case RT_PLUGIN_DTYPE_UINT8:
        case RT_PLUGIN_DTYPE_BOOL:
            return 1;
        case RT_PLUGIN_DTYPE_INT64:
        case RT_PLUGIN_DTYPE_FLOAT64:
            return 8;
        default:
            return 4;
    }
}

inline size_t plugin_desc_bytes(const rt_plugin_tensor_desc& d) {
    size_t n = 1;
    for (int32_t i = 0; i < d.rank; ++i) n *= static_cast<size_t>(d.dims[i]);
    return n * plugin_dtype_size(d.dtype);
}

// The node's attributes, owning the strings and arrays the rt_plugin_attr entries point at.
class PluginAttrs {
  public:
    PluginAttrs& i(const std::string& name, int64_t v) {
        rt_plugin_attr& a = add(name, RT_PLUGIN_ATTR_INT);
        a.i = v;
        return *this;
    }
    PluginAttrs& f(const std::string& name, float v) {
        rt_plugin_attr& a = add(name, RT_PLUGIN_ATTR_FLOAT);
        a.f = v;
        return *this;
    }
    PluginAttrs& s(const std::string& name, const std::string& v) {
        strings_.push_back(std::make_unique<std::string>(v));
        rt_plugin_attr& a = add(name, RT_PLUGIN_ATTR_STRING);
        a.s = strings_.back()->c_str();
        a.count = v.size();
        return *this;
    }
    PluginAttrs& ints(const std::string& name, const std::vector<int64_t>& v) {
        int_lists_.push_back(std::make_unique<std::vector<int64_t>>(v));
        rt_plugin_attr& a = add(name, RT_PLUGIN_ATTR_INTS);
        a.ints = int_lists_.back()->data();
        a.count = v.size();
        return *this;
    }
    PluginAttrs& floats(const std::string& name, const std::vector<float>& v) {
        float_lists_.push_back(std::make_unique<std::vector<float>>(v));
        rt_plugin_attr& a = add(name, RT_PLUGIN_ATTR_FLOATS);
        a.floats = float_lists_.back()->data();
        a.count = v.size();
        return *this;
    }
    const rt_plugin_attr* data() const { return attrs_.data(); }
    int32_t size() const { return static_cast<int32_t>(attrs_.size()); }

  private:
    rt_plugin_attr& add(const std::string& name, int32_t type) {
        names_.push_back(std::make_unique<std::string>(name));
        attrs_.emplace_back();
        attrs_.back().name = names_.back()->c_str();
        attrs_.back().type = type;
        return attrs_.back();
    }
    std::vector<rt_plugin_attr> attrs_;
    std::vector<std::unique_ptr<std::string>> names_, strings_;
    std::vector<std::unique_ptr<std::vector<int64_t>>> int_lists_;
    std::vector<std::unique_ptr<std::vector<float>>> float_lists_;
};

// Device memory freed on scope exit.
class DeviceMemory {
  public:
    DeviceMemory() = default;
    explicit DeviceMemory(size_t bytes) {
        if (bytes && cudaMalloc(&ptr_, bytes) != cudaSuccess) ptr_ = nullptr;
    }
    ~DeviceMemory() {
        if (ptr_) cudaFree(ptr_);
    }
    DeviceMemory(DeviceMemory&& o) noexcept : ptr_(o.ptr_) { o.ptr_ = nullptr; }
    DeviceMemory(const DeviceMemory&) = delete;
    DeviceMemory& operator=(const DeviceMemory&) = delete;
    void* get() const { return ptr_; }

  private:
    void* ptr_ = nullptr;
};

// One plugin instance made by a creator of a dlopen'ed library. error() is empty while all went well.
class PluginUnderTest {
  public:
    PluginUnderTest(const std::string& library, const std::string& name, const PluginAttrs& attrs) {
        handle_ = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle_) {
            error_ = "cannot load " + library + ": " + dlerror();
            return;
        }
        auto entry = reinterpret_cast<rt_plugin_get_creators_fn>(dlsym(handle_, RT_PLUGIN_ENTRY_POINT));
        int32_t count = 0;
        const rt_plugin_creator* const* creators = entry ? entry(RT_PLUGIN_ABI_VERSION, &count) : nullptr;
        for (int32_t i = 0; creators && i < count; ++i) {
            if (name == creators[i]->name) creator_ = creators[i];
        }
        if (!creator_) {
            error_ = library + " has no plugin " + name;
            return;
        }
        rt_plugin_error err{message_, sizeof(message_)};
        plugin_ = creator_->create(creator_, "layer_under_test", attrs.data(), attrs.size(), &err);
        if (!plugin_) error_ = std::string("create failed: ") + message_;
    }
    ~PluginUnderTest() {
        if (plugin_) plugin_->destroy(plugin_);
        if (handle_) dlclose(handle_);
    }
    PluginUnderTest(const PluginUnderTest&) = delete;
    PluginUnderTest& operator=(const PluginUnderTest&) = delete;

    const std::string& error() const { return error_; }
    bool has_cuda() const { return plugin_ && plugin_->enqueue_cuda; }

    // Output descriptions and the workspace size for these inputs; false (error() set) on failure.
    bool plan(const std::vector<HostTensor>& inputs, std::vector<rt_plugin_tensor_desc>* outs, size_t* workspace) {
        std::vector<rt_plugin_tensor_desc> ins;
        for (const auto& t : inputs) ins.push_back(t.desc);
        outs->assign(static_cast<size_t>(plugin_->get_num_outputs(plugin_)), rt_plugin_tensor_desc{});
        rt_plugin_error err{message_, sizeof(message_)};
        const int32_t n_in = static_cast<int32_t>(ins.size()), n_out = static_cast<int32_t>(outs->size());
        if (plugin_->get_output_descs(plugin_, ins.data(), n_in, outs->data(), n_out, &err) != RT_PLUGIN_OK ||
            plugin_->supports(plugin_, ins.data(), n_in, outs->data(), n_out, &err) != RT_PLUGIN_OK) {
            error_ = message_;
            return false;
        }
        *workspace = plugin_->get_workspace_size(plugin_, ins.data(), n_in, outs->data(), n_out);
        return true;
    }

    std::vector<HostTensor> run_cpu(const std::vector<HostTensor>& inputs) {
        std::vector<rt_plugin_tensor_desc> out_descs;
        size_t ws = 0;
        if (!plan(inputs, &out_descs, &ws)) return {};
        std::vector<HostTensor> outputs(out_descs.size());
        std::vector<const void*> in_ptrs;
        std::vector<void*> out_ptrs;
        std::vector<rt_plugin_tensor_desc> in_descs;
        for (const auto& t : inputs) {
            in_descs.push_back(t.desc);
            in_ptrs.push_back(t.bytes.data());
        }
        for (size_t i = 0; i < outputs.size(); ++i) {
            outputs[i].desc = out_descs[i];
            outputs[i].bytes.assign(plugin_desc_bytes(out_descs[i]), 0xFF);
            out_ptrs.push_back(outputs[i].bytes.data());
        }
        std::vector<uint8_t> workspace(ws + 256);
        const uintptr_t base = reinterpret_cast<uintptr_t>(workspace.data());
        rt_plugin_io io = make_io(in_descs, out_descs, in_ptrs, out_ptrs);
        io.workspace = ws ? reinterpret_cast<void*>((base + 255) & ~uintptr_t(255)) : nullptr;
        io.workspace_size = ws;
        rt_plugin_error err{message_, sizeof(message_)};
        if (plugin_->enqueue_cpu(plugin_, &io, &err) != RT_PLUGIN_OK) {
            error_ = std::string("enqueue_cpu: ") + message_;
            return {};
        }
        return outputs;
    }

    // graph: capture the enqueue into a CUDA graph while the device inputs hold garbage, then copy the
    // inputs in and launch the graph (what the CUDA context does), so that nothing may depend on host
    // reads of device data at enqueue time.
    std::vector<HostTensor> run_cuda(const std::vector<HostTensor>& inputs, bool graph = false) {
        std::vector<rt_plugin_tensor_desc> out_descs;
        size_t ws = 0;
        if (!plan(inputs, &out_descs, &ws)) return {};
        cudaStream_t stream = nullptr;
        if (!check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate")) return {};
        std::vector<HostTensor> outputs = run_on_stream(inputs, out_descs, ws, stream, graph);
        cudaStreamDestroy(stream);
        return outputs;
    }

  private:
    static rt_plugin_io make_io(const std::vector<rt_plugin_tensor_desc>& in_descs,
                                const std::vector<rt_plugin_tensor_desc>& out_descs,
                                const std::vector<const void*>& in_ptrs, const std::vector<void*>& out_ptrs) {
        rt_plugin_io io{};
        io.abi_version = RT_PLUGIN_ABI_VERSION;
        io.struct_size = sizeof(rt_plugin_io);
        io.num_inputs = static_cast<int32_t>(in_descs.size());
        io.num_outputs = static_cast<int32_t>(out_descs.size());
        io.input_descs = in_descs.data();
        io.output_descs = out_descs.data();
        io.inputs = in_ptrs.data();
        io.outputs = out_ptrs.data();
        return io;
    }

    bool check(cudaError_t e, const char* what) {
        if (e == cudaSuccess) return true;
        error_ = std::string(what) + ": " + cudaGetErrorString(e);
        cudaGetLastError();
        return false;
    }

    std::vector<HostTensor> run_on_stream(const std::vector<HostTensor>& inputs,
                                          const std::vector<rt_plugin_tensor_desc>& out_descs, size_t ws,
                                          cudaStream_t stream, bool graph) {
        std::vector<DeviceMemory> in_mem, out_mem;
        std::vector<const void*> in_ptrs;
        std::vector<void*> out_ptrs;
        std::vector<rt_plugin_tensor_desc> in_descs;
        for (const auto& t : inputs) {
            in_mem.emplace_back(std::max<size_t>(t.bytes.size(), 1));
            in_descs.push_back(t.desc);
            in_ptrs.push_back(in_mem.back().get());
            const cudaError_t e =
                graph ? cudaMemset(in_mem.back().get(), 0x7F, std::max<size_t>(t.bytes.size(), 1))
                      : cudaMemcpy(in_mem.back().get(), t.bytes.data(), t.bytes.size(), cudaMemcpyHostToDevice);
            if (!in_mem.back().get() || !check(e, "input upload")) return fail("input upload");
        }
        for (const auto& d : out_descs) {
            const size_t bytes = std::max<size_t>(plugin_desc_bytes(d), 1);
            out_mem.emplace_back(bytes);
            out_ptrs.push_back(out_mem.back().get());
            if (!out_mem.back().get() || !check(cudaMemset(out_mem.back().get(), 0xFF, bytes), "poison")) {
                return fail("output allocation");
            }
        }
        DeviceMemory workspace(ws);
        if (ws && !workspace.get()) return fail("workspace allocation");
        rt_plugin_io io = make_io(in_descs, out_descs, in_ptrs, out_ptrs);
        io.workspace = workspace.get();
        io.workspace_size = ws;
        io.stream = stream;
        rt_plugin_error err{message_, sizeof(message_)};
        if (graph) {
            cudaGraph_t g = nullptr;
            cudaGraphExec_t exec = nullptr;
            if (!check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "begin capture")) return {};
            const int32_t code = plugin_->enqueue_cuda(plugin_, &io, &err);
            const cudaError_t end = cudaStreamEndCapture(stream, &g);
            if (code != RT_PLUGIN_OK) return fail(std::string("enqueue_cuda (captured): ") + message_);
            if (!check(end, "end capture") || !check(cudaGraphInstantiate(&exec, g, 0), "graph instantiate")) {
                if (g) cudaGraphDestroy(g);
                return {};
            }
            cudaGraphDestroy(g);
            for (size_t i = 0; i < inputs.size(); ++i) {
                check(
                    cudaMemcpy(in_mem[i].get(), inputs[i].bytes.data(), inputs[i].bytes.size(), cudaMemcpyHostToDevice),
                    "input upload");
            }
            const bool launched = check(cudaGraphLaunch(exec, stream), "graph launch");
            cudaStreamSynchronize(stream);
            cudaGraphExecDestroy(exec);
            if (!launched) return {};
        } else if (plugin_->enqueue_cuda(plugin_, &io, &err) != RT_PLUGIN_OK) {
            return fail(std::string("enqueue_cuda: ") + message_);
        }
        if (!check(cudaStreamSynchronize(stream), "kernel execution")) return {};
        std::vector<HostTensor> outputs(out_descs.size());
        for (size_t i = 0; i < outputs.size(); ++i) {
            outputs[i].desc = out_descs[i];
            outputs[i].bytes.resize(plugin_desc_bytes(out_descs[i]));
            if (!check(
                    cudaMemcpy(outputs[i].bytes.data(), out_ptrs[i], outputs[i].bytes.size(), cudaMemcpyDeviceToHost),
                    "output download")) {
                return {};
            }
        }
        return outputs;
    }

    std::vector<HostTensor> fail(const std::string& what) {
        if (error_.empty()) error_ = what;
        return {};
    }

    void* handle_ = nullptr;
    const rt_plugin_creator* creator_ = nullptr;
    rt_plugin* plugin_ = nullptr;
    std::string error_;
    char message_[512] = {};
};

}  // namespace rtinfer::testing
