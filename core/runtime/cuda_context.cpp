// The CUDA execution context: runs the plan with CUDA kernels on a device arena and the caller's device
// buffers. A node no CUDA kernel takes runs on the CPU reference kernel (its inputs copied to the host and
// its outputs back); the build report lists those fallbacks. Weights go to the device once per engine.
// Without fallbacks the whole enqueue is captured into a CUDA graph and replayed while the bound
// addresses stay the same. A graph with data-dependent shapes (NonMaxSuppression...) runs its static part
// so, then the dynamic steps: on the GPU into bounded buffers where the kernel can, else on the CPU.
#include "core/runtime/context_impl.h"

#ifdef RTINFER_HAVE_CUDA

#include <cuda_runtime.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/cuda_op.h"
#include "core/kernels/cuda/device_info.h"
#include "core/kernels/cuda/timing_cache.h"
#include "core/kernels/ref/ref_backend.h"
#include "core/plugins/plugin_cuda_op.h"

namespace rtinfer {

namespace {

using runtime::SlotKind;
using runtime::Step;

struct CudaStep {
    const Step* step = nullptr;
    std::unique_ptr<cuda::CudaOp> op;  // null: CPU fallback
    std::vector<ir::Tensor> host_in;   // fallback staging (constants point at their host tensors)
    std::vector<ir::Tensor> host_out;
};

// A step whose output shapes depend on the data, run by a CUDA op into buffers of its bound shapes.
struct BoundedStep {
    const Step* step = nullptr;
    std::unique_ptr<cuda::CudaOp> op;
    std::vector<ir::Shape> bounds;  // per output
};

bool graphs_enabled() {
    const char* v = std::getenv("RTINFER_CUDA_GRAPHS");
    return !(v && std::strcmp(v, "0") == 0);
}

class CudaContext : public ExecutionContext::Impl {
  public:
    using Impl::Impl;

    ~CudaContext() override {
        // Ops and library handles are bound to the stream: release them before the stream itself.
        reset_graph();
        if (stream_) cudaStreamSynchronize(stream_);
        steps_.clear();
        cublaslt_.reset();
        cudnn_.reset();
        if (stream_) cudaStreamDestroy(stream_);
    }

    Status init() {
        RT_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
        cudnnHandle_t dnn = nullptr;
        RT_CUDNN_CHECK(cudnnCreate(&dnn));
        cudnn_.reset(dnn);
        cublasLtHandle_t lt = nullptr;
        RT_CUBLAS_CHECK(cublasLtCreate(&lt));
        cublaslt_.reset(lt);
        libs_.cudnn = dnn;
        libs_.cublaslt = lt;
        return Status();
    }

    Status allocate_arena(const std::vector<int>& slots, const std::vector<uint64_t>& offsets,
                          uint64_t bytes) override {
        reset_graph();
        RT_ASSIGN_OR_RETURN(arena_, cuda::DeviceBuffer::allocate(bytes));
        dev_.assign(slot_names.size(), nullptr);
        for (size_t r = 0; r < slots.size(); ++r) dev_[slots[r]] = static_cast<uint8_t*>(arena_.get()) + offsets[r];
        return create_steps();
    }

    bool plans_static_part() const override { return true; }

    Status run(void* stream) override {
        libs_.stream = stream ? static_cast<cudaStream_t>(stream) : stream_;
        RT_RETURN_IF_ERROR(run_static_part());
        return dynamic ? run_dynamic_part() : Status();
    }

    // Everything without data-dependent shapes: captured into a CUDA graph where it can be.
    Status run_static_part() {
        bool io_changed = false;
        for (const auto& name : engine.data.graph.inputs) io_changed |= bind(name);
        for (const auto& name : engine.data.graph.outputs) io_changed |= bind(name);
        if (static_fallbacks_ || !graphs_enabled() || graph_failed_) return run_steps();
        if (io_changed || !graph_exec_ || graph_stream_ != libs_.stream) {
            reset_graph();
            Status captured = capture();
            if (!captured.is_ok()) {
                graph_failed_ = true;  // some library call is not capturable: run eagerly from now on
                engine.logger->log(Severity::kWarning,
                                   ("CUDA graph capture failed, running without: " + captured.message()).c_str());
                return run_steps();
            }
        }
        RT_CUDA_CHECK(cudaGraphLaunch(graph_exec_, libs_.stream));
        return Status();
    }

    Status run_profiled(void* stream, std::vector<LayerTiming>& layers) override {
        libs_.stream = stream ? static_cast<cudaStream_t>(stream) : stream_;
        for (const auto& name : engine.data.graph.inputs) bind(name);
        for (const auto& name : engine.data.graph.outputs) bind(name);
        std::vector<cuda::Event> marks(steps_.size() + 1);
        for (auto& m : marks) RT_RETURN_IF_ERROR(m.create());
        // The GPU waits while the host enqueues every layer, so that layers run back to back as in a CUDA graph.
        const double hold_us = std::clamp(40.0 * static_cast<double>(steps_.size()), 1000.0, 50000.0);
        RT_RETURN_IF_ERROR(cuda::hold_stream(libs_.stream, hold_us));
        RT_RETURN_IF_ERROR(run_steps(&marks));
        RT_CUDA_CHECK(cudaEventSynchronize(marks.back().get()));
        for (size_t k = 0; k < steps_.size(); ++k) {
            if (layers.size() <= k) {
                const ir::Node& node = *steps_[k].step->node;
                layers.push_back({node.name, node.op_type, steps_[k].op ? "cuda" : "cpu", 0.0});
            }
            float ms = 0.0f;
            RT_CUDA_CHECK(cudaEventElapsedTime(&ms, marks[k].get(), marks[k + 1].get()));
            layers[k].ms += ms;
        }
        return Status();
    }

    std::vector<std::string> fallback_nodes() const override { return fallbacks_; }

    std::vector<std::pair<std::string, int64_t>> tactics() const override {
        std::vector<std::pair<std::string, int64_t>> out;
        for (const CudaStep& cs : steps_) {
            if (cs.op && cs.op->tactic() >= 0) out.emplace_back(cs.step->node->name, cs.op->tactic());
        }
        return out;
    }

    void set_progress(const runtime::LayerProgress& progress) { progress_ = progress; }
    void set_workspace_limit(size_t bytes) { libs_.workspace_limit = bytes; }

    // The builder's cache while building; otherwise the engine's own tactics.
    void set_timing_cache(cuda::TimingCache* cache) {
        if (cache) {
            libs_.timing_cache = cache;
            return;
        }
        own_cache_.preload(engine.data.tactics);
        libs_.timing_cache = &own_cache_;
    }

  private:
    // Points the slot of a graph input/output at the caller's device buffer; true if it moved. Outputs of
    // dynamic steps are not bound: the dynamic part writes them after the run.
    bool bind(const std::string& name) {
        const int s = slot_of.at(name);
        if (kinds[s] != SlotKind::kIntermediate && kinds[s] != SlotKind::kInput) return false;
        if (dynamic_out_[s]) return false;
        auto it = bound.find(name);
        void* p = it == bound.end() ? nullptr : it->second;
        const bool changed = dev_[s] != p;
        dev_[s] = p;
        return changed;
    }

    // Device memory of a constant or precomputed value, uploaded on first use.
    Expected<void*> device_value(int s) {
        if (dev_[s]) return dev_[s];
        const ir::Tensor& host = tensors[s];
        std::shared_ptr<void> mem;
        if (kinds[s] == SlotKind::kConstant) {
            std::lock_guard<std::mutex> lock(engine.device_mutex);
            auto& cached = engine.device_constants[slot_names[s]];
            if (!cached) {
                RT_ASSIGN_OR_RETURN(cached, upload(host));
            }
            mem = cached;
        } else {
            RT_ASSIGN_OR_RETURN(mem, upload(host));
        }
        owned_.push_back(mem);
        dev_[s] = mem.get();
        return dev_[s];
    }

    // In the integrated-GPU memory mode, once the weights are on the device (which is the same memory), the
    // engine file's mapping lets go of its pages: the weights are then held once. A later read of a weight on
    // the host (a CPU layer, another context's upload) pages it back in from the file.
    void release_mapped_weights() {
        if (!engine.file_map || !integrated_memory_mode()) return;
        std::lock_guard<std::mutex> lock(engine.device_mutex);
        if (engine.file_map_released) return;
        engine.file_map_released = true;
        if (::madvise(const_cast<uint8_t*>(engine.file_map), engine.file_map_size, MADV_DONTNEED) != 0) {
            engine.logger->log(Severity::kWarning, (std::string("integrated memory mode: the engine file's pages stay "
                                                                "resident (madvise: ") + std::strerror(errno) + ")")
                                                       .c_str());
        }
    }

    static Expected<std::shared_ptr<void>> upload(const ir::Tensor& host) {
        RT_ASSIGN_OR_RETURN(std::shared_ptr<void> mem, allocate_device(host.nbytes()));
        if (host.nbytes()) RT_CUDA_CHECK(cudaMemcpy(mem.get(), host.raw(), host.nbytes(), cudaMemcpyHostToDevice));
        return mem;
    }

    static Expected<std::shared_ptr<void>> allocate_device(size_t bytes) {
        void* p = nullptr;
        RT_CUDA_CHECK(cudaMalloc(&p, std::max<size_t>(bytes, 1)));
        return std::shared_ptr<void>(p, [](void* q) { cudaFree(q); });
    }

    bool host_resident(int s) const { return kinds[s] == SlotKind::kConstant || kinds[s] == SlotKind::kPrecomputed; }

    // What a kernel's create() sees of a step; outputs_known: whether the output shapes are final.
    cuda::OpSetup op_setup(const Step& step, bool outputs_known) const {
        cuda::OpSetup setup{*step.node, step.opset, {}, {}};
        for (int s : step.in) {
            if (s < 0) {
                setup.inputs.emplace_back();
            } else {
                setup.inputs.push_back({dtypes[s], shapes[s], true, host_resident(s) ? &tensors[s] : nullptr});
            }
        }
        for (int s : step.out) {
            if (s < 0) {
                setup.outputs.emplace_back();
            } else {
                setup.outputs.push_back({dtypes[s], shapes[s], outputs_known});
            }
        }
        return setup;
    }

    Status create_steps() {
        steps_.clear();
        bounded_.clear();
        host_steps_.clear();
        fallbacks_.clear();
        static_fallbacks_ = false;
        dynamic_out_.assign(slot_names.size(), false);
        size_t workspace = 0;
        const auto& registry = cuda::cuda_registry();
        size_t done = 0;
        for (const Step& step : steps) {
            if (progress_) progress_(done++, steps.size());
            if (step.precomputed || step.view) continue;
            if (step.dynamic) {
                for (int s : step.out) {
                    if (s >= 0) dynamic_out_[s] = true;
                }
                RT_RETURN_IF_ERROR(create_dynamic_step(step, registry, workspace));
                continue;
            }
            CudaStep cs;
            cs.step = &step;
            const ir::Node& node = *step.node;
            // Plugin layers use the plugin's CUDA enqueue if it has one, else its CPU enqueue as a fallback.
            if (const cuda::CudaKernel* kernel =
                    node.plugin ? &plugins::plugin_cuda_kernel() : registry.find(node.domain, node.op_type)) {
                auto op = kernel->create(op_setup(step, true), libs_);
                if (op.has_value()) {
                    cs.op = std::move(op).value();
                    workspace = std::max(workspace, cs.op->workspace_bytes());
                } else if (op.status().code() != StatusCode::kUnsupported) {
                    return op.status();
                }
            }
            if (cs.op) {
                for (int s : step.in) {
                    if (s >= 0 && host_resident(s)) RT_RETURN_IF_ERROR(device_value(s).status());
                }
            } else {
                fallbacks_.push_back(node.name + " (" + node.op_type + ")");
                static_fallbacks_ = true;
                for (int s : step.in) {
                    cs.host_in.push_back(s < 0              ? ir::Tensor()
                                         : host_resident(s) ? tensors[s]
                                                            : ir::Tensor(dtypes[s], shapes[s]));
                }
                for (int s : step.out) cs.host_out.push_back(s < 0 ? ir::Tensor() : ir::Tensor(dtypes[s], shapes[s]));
            }
            steps_.push_back(std::move(cs));
        }
        // Graph outputs that no step writes (constants, precomputed values) need device copies too.
        for (const auto& name : engine.data.graph.outputs) {
            const int s = slot_of.at(name);
            if (host_resident(s)) RT_RETURN_IF_ERROR(device_value(s).status());
        }
        RT_ASSIGN_OR_RETURN(workspace_, cuda::DeviceBuffer::allocate(workspace));
        release_mapped_weights();
        return Status();
    }

    // A dynamic step runs on the GPU when all its inputs come from the static part and its kernel bounds
    // its outputs (into buffers of its own); otherwise on the CPU after the GPU part, listed as a fallback.
    Status create_dynamic_step(const Step& step, const cuda::CudaRegistry& registry, size_t& workspace) {
        const ir::Node& node = *step.node;
        const cuda::CudaKernel* kernel = node.plugin ? nullptr : registry.find(node.domain, node.op_type);
        bool static_inputs = true;
        for (int s : step.in) static_inputs = static_inputs && (s < 0 || !dynamic_out_[s]);
        if (kernel && kernel->bounded_outputs && static_inputs) {
            auto op = kernel->create(op_setup(step, false), libs_);
            if (!op.has_value() && op.status().code() != StatusCode::kUnsupported) return op.status();
            if (op.has_value() && (*op)->bound_shapes().size() == step.out.size()) {
                BoundedStep bs{&step, std::move(op).value(), {}};
                bs.bounds = bs.op->bound_shapes();
                workspace = std::max(workspace, bs.op->workspace_bytes());
                for (int s : step.in) {
                    if (s >= 0 && host_resident(s)) RT_RETURN_IF_ERROR(device_value(s).status());
                }
                for (size_t i = 0; i < step.out.size(); ++i) {
                    if (step.out[i] < 0) continue;
                    const size_t bytes =
                        static_cast<size_t>(ir::shape_numel(bs.bounds[i])) * data_type_size(dtypes[step.out[i]]);
                    RT_ASSIGN_OR_RETURN(std::shared_ptr<void> mem, allocate_device(bytes));
                    owned_.push_back(mem);
                    dev_[step.out[i]] = mem.get();
                }
                bounded_.push_back(std::move(bs));
                return Status();
            }
        }
        fallbacks_.push_back(node.name + " (" + node.op_type + ")");
        host_steps_.push_back(&step);
        return Status();
    }

    // After the static part: the bounded GPU steps, their actual shapes, then the host steps on copies of
    // the values they read. Outputs of dynamic steps are kept on the host (output_data()), and copied to
    // the caller's buffer too when it has one and the shape is the one tensor_desc() gave before the run.
    Status run_dynamic_part() {
        const cudaStream_t st = libs_.stream;
        for (BoundedStep& bs : bounded_) {
            std::vector<cuda::DeviceTensor> outs;
            for (size_t i = 0; i < bs.step->out.size(); ++i) {
                const int s = bs.step->out[i];
                outs.push_back(s < 0 ? cuda::DeviceTensor() : cuda::DeviceTensor{dev_[s], dtypes[s], bs.bounds[i]});
            }
            RT_RETURN_IF_ERROR(bs.op->enqueue(device_tensors(bs.step->in), outs, workspace_.get(), libs_));
            RT_ASSIGN_OR_RETURN(std::vector<ir::Shape> actual, bs.op->read_shapes(st));
            for (size_t i = 0; i < bs.step->out.size() && i < actual.size(); ++i) {
                if (bs.step->out[i] >= 0) shapes[bs.step->out[i]] = actual[i];
            }
        }
        // Device values the host needs: what host steps read, and dynamic graph outputs the GPU computed.
        std::vector<bool> produced_on_host(slot_names.size(), false);
        for (const Step* step : host_steps_) {
            for (int s : step->out) {
                if (s >= 0) produced_on_host[s] = true;
            }
        }
        std::vector<bool> wanted(slot_names.size(), false);
        for (const Step* step : host_steps_) {
            for (int s : step->in) {
                if (s >= 0) wanted[s] = true;
            }
        }
        for (const auto& name : engine.data.graph.outputs) wanted[slot_of.at(name)] = dynamic_out_[slot_of.at(name)];
        for (size_t s = 0; s < slot_names.size(); ++s) {
            if (!wanted[s] || produced_on_host[s] || host_resident(static_cast<int>(s))) continue;
            ir::Tensor t(dtypes[s], shapes[s]);
            if (t.nbytes()) RT_CUDA_CHECK(cudaMemcpyAsync(t.raw(), dev_[s], t.nbytes(), cudaMemcpyDeviceToHost, st));
            tensors[s] = t;
        }
        RT_CUDA_CHECK(cudaStreamSynchronize(st));
        RT_RETURN_IF_ERROR(run_on_host(host_steps_));
        owned_outputs.clear();
        for (const auto& name : engine.data.graph.outputs) {
            const int s = slot_of.at(name);
            if (!dynamic_out_[s]) continue;
            const ir::Tensor& t = tensors[s];
            owned_outputs[name] = t.clone();
            auto it = bound.find(name);
            if (it != bound.end() && prepared_shapes[s] == t.shape() && t.nbytes()) {
                RT_CUDA_CHECK(cudaMemcpyAsync(it->second, t.raw(), t.nbytes(), cudaMemcpyHostToDevice, st));
            }
        }
        RT_CUDA_CHECK(cudaStreamSynchronize(st));
        return Status();
    }

    std::vector<cuda::DeviceTensor> device_tensors(const std::vector<int>& slots) const {
        std::vector<cuda::DeviceTensor> out;
        out.reserve(slots.size());
        for (int s : slots) {
            if (s < 0) {
                out.emplace_back();
            } else {
                out.push_back({dev_[s], dtypes[s], shapes[s]});
            }
        }
        return out;
    }

    // marks: when given, one event per step plus one, recorded before each step and after the last.
    Status run_steps(std::vector<cuda::Event>* marks = nullptr) {
        const cudaStream_t st = libs_.stream;
        size_t k = 0;
        for (CudaStep& cs : steps_) {
            const Step& step = *cs.step;
            if (marks) RT_CUDA_CHECK(cudaEventRecord((*marks)[k++].get(), st));
            if (cs.op) {
                RT_RETURN_IF_ERROR(
                    cs.op->enqueue(device_tensors(step.in), device_tensors(step.out), workspace_.get(), libs_));
                continue;
            }
            for (size_t i = 0; i < step.in.size(); ++i) {
                const int s = step.in[i];
                if (s < 0 || host_resident(s)) continue;
                RT_CUDA_CHECK(
                    cudaMemcpyAsync(cs.host_in[i].raw(), dev_[s], cs.host_in[i].nbytes(), cudaMemcpyDeviceToHost, st));
            }
            RT_CUDA_CHECK(cudaStreamSynchronize(st));
            std::vector<const ir::Tensor*> ins;
            for (size_t i = 0; i < step.in.size(); ++i) ins.push_back(step.in[i] < 0 ? nullptr : &cs.host_in[i]);
            RT_RETURN_IF_ERROR(ref::compute_node(*step.kernel, *step.node, step.opset, ins, cs.host_out));
            for (size_t i = 0; i < step.out.size(); ++i) {
                const int s = step.out[i];
                if (s < 0 || !dev_[s]) continue;
                RT_CUDA_CHECK(cudaMemcpyAsync(dev_[s], cs.host_out[i].raw(), cs.host_out[i].nbytes(),
                                              cudaMemcpyHostToDevice, st));
            }
        }
        if (marks) RT_CUDA_CHECK(cudaEventRecord(marks->back().get(), st));
        // Outputs that are constants or inputs of the graph are copied to the caller's buffer.
        for (const auto& name : engine.data.graph.outputs) {
            const int s = slot_of.at(name);
            auto it = bound.find(name);
            if (dynamic_out_[s]) continue;  // the dynamic part writes it
            if (it == bound.end())
                return Status(StatusCode::kInvalidArgument,
                              "output '" + name + "' has no address; call set_tensor_address");
            if (kinds[s] == SlotKind::kIntermediate) continue;
            const size_t bytes = static_cast<size_t>(ir::shape_numel(shapes[s])) * data_type_size(dtypes[s]);
            if (dev_[s] != it->second && bytes)
                RT_CUDA_CHECK(cudaMemcpyAsync(it->second, dev_[s], bytes, cudaMemcpyDeviceToDevice, st));
        }
        RT_CUDA_CHECK(cudaGetLastError());
        return Status();
    }

    Status capture() {
        RT_CUDA_CHECK(cudaStreamBeginCapture(libs_.stream, cudaStreamCaptureModeThreadLocal));
        Status s = run_steps();
        cudaGraph_t graph = nullptr;
        cudaError_t end = cudaStreamEndCapture(libs_.stream, &graph);
        if (!s.is_ok() || end != cudaSuccess) {
            if (graph) cudaGraphDestroy(graph);
            cudaGetLastError();
            return s.is_ok() ? cuda::cuda_error(end, "cudaStreamEndCapture", __FILE__, __LINE__) : s;
        }
        cudaError_t inst = cudaGraphInstantiate(&graph_exec_, graph, 0);
        cudaGraphDestroy(graph);
        if (inst != cudaSuccess) {
            graph_exec_ = nullptr;
            return cuda::cuda_error(inst, "cudaGraphInstantiate", __FILE__, __LINE__);
        }
        graph_stream_ = libs_.stream;
        return Status();
    }

    void reset_graph() {
        if (graph_exec_) cudaGraphExecDestroy(graph_exec_);
        graph_exec_ = nullptr;
    }

    cudaStream_t stream_ = nullptr;
    cuda::TimingCache own_cache_;
    cuda::CudnnHandle cudnn_;
    cuda::CublasLtHandle cublaslt_;
    cuda::CudaLibs libs_;
    cuda::DeviceBuffer arena_;
    cuda::DeviceBuffer workspace_;
    std::vector<void*> dev_;  // device address of every slot
    std::vector<std::shared_ptr<void>> owned_;
    std::vector<CudaStep> steps_;          // the static part, in order
    std::vector<BoundedStep> bounded_;     // dynamic steps on the GPU
    std::vector<const Step*> host_steps_;  // dynamic steps on the CPU, in order
    std::vector<bool> dynamic_out_;        // per slot: written by a dynamic step
    std::vector<std::string> fallbacks_;
    cudaGraphExec_t graph_exec_ = nullptr;
    cudaStream_t graph_stream_ = nullptr;
    runtime::LayerProgress progress_;  // the builder's progress report while layers are prepared
    bool graph_failed_ = false;
    bool static_fallbacks_ = false;  // a step of the static part runs on the CPU: no CUDA graph
};

}  // namespace

bool integrated_memory_mode() {
    static const bool mode = [] {
        const char* forced = std::getenv("RTINFER_INTEGRATED");
        if (forced && (std::strcmp(forced, "1") == 0 || std::strcmp(forced, "0") == 0)) return forced[0] == '1';
        int device = 0, integrated = 0;
        if (cudaGetDevice(&device) != cudaSuccess ||
            cudaDeviceGetAttribute(&integrated, cudaDevAttrIntegrated, device) != cudaSuccess) {
            cudaGetLastError();
            return false;
        }
        return integrated != 0;
    }();
    return mode;
}

namespace runtime {

Expected<std::unique_ptr<ExecutionContext>> create_cuda_context(const Engine::Impl& engine, void* timing_cache,
                                                                const LayerProgress& progress, uint64_t workspace_limit) {
    RT_RETURN_IF_ERROR(cuda::device_key(0).status());
    auto impl = std::make_unique<CudaContext>(engine);
    RT_RETURN_IF_ERROR(impl->init());
    impl->set_timing_cache(static_cast<cuda::TimingCache*>(timing_cache));
    if (workspace_limit > 0) impl->set_workspace_limit(static_cast<size_t>(workspace_limit));
    impl->set_progress(progress);
    RT_RETURN_IF_ERROR(impl->prepare());
    impl->set_progress(nullptr);  // later re-prepares (another batch) report nothing
    return std::make_unique<ExecutionContext>(std::move(impl));
}

}  // namespace runtime
}  // namespace rtinfer

#else  // no CUDA in this build

namespace rtinfer {

bool integrated_memory_mode() { return false; }

}  // namespace rtinfer

namespace rtinfer::runtime {

Expected<std::unique_ptr<ExecutionContext>> create_cuda_context(const Engine::Impl&, void*, const LayerProgress&,
                                                                uint64_t) {
    return Status(StatusCode::kUnsupported, "this rtinfer was built without CUDA");
}

}  // namespace rtinfer::runtime

#endif
