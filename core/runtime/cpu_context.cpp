// The CPU execution context: runs the plan with the reference kernels on views into a host arena and
// into the caller's buffers, without allocating. A graph with a data-dependent shape (NonZero,
// NonMaxSuppression...) runs in the shared dynamic mode instead.
#include <chrono>

#include "core/kernels/ref/ref_backend.h"
#include "core/runtime/context_impl.h"

namespace rtinfer {

namespace {

using runtime::SlotKind;
using runtime::Step;

class CpuContext : public ExecutionContext::Impl {
public:
    using Impl::Impl;

    Status allocate_arena(const std::vector<int>& slots, const std::vector<uint64_t>& offsets, uint64_t bytes) override {
        arena_ = ir::Tensor(DataType::kUInt8, {static_cast<int64_t>(bytes)});
        for (size_t r = 0; r < slots.size(); ++r) {
            const int s = slots[r];
            tensors[s] = ir::Tensor::wrap(dtypes[s], shapes[s], static_cast<uint8_t*>(arena_.raw()) + offsets[r]);
        }
        return Status();
    }

    Status run(void* /*stream: the CPU backend runs synchronously*/) override {
        for (const auto& name : engine.data.graph.inputs) {
            const int s = slot_of.at(name);
            tensors[s] = ir::Tensor::wrap(dtypes[s], shapes[s], bound.at(name));
        }
        RT_RETURN_IF_ERROR(dynamic ? run_dynamic() : run_static(nullptr));
        return finish_outputs();
    }

    Status run_profiled(void* /*stream*/, std::vector<LayerTiming>& layers) override {
        for (const auto& name : engine.data.graph.inputs) {
            const int s = slot_of.at(name);
            tensors[s] = ir::Tensor::wrap(dtypes[s], shapes[s], bound.at(name));
        }
        RT_RETURN_IF_ERROR(run_static(&layers));
        return finish_outputs();
    }

private:
    Status run_static(std::vector<LayerTiming>* layers);
    ir::Tensor arena_;
};

Status CpuContext::run_static(std::vector<LayerTiming>* layers) {
    const ir::Graph& g = engine.data.graph;
    owned_outputs.clear();
    for (const auto& name : g.outputs) {
        const int s = slot_of.at(name);
        if (kinds[s] != SlotKind::kIntermediate) continue;
        auto it = bound.find(name);
        if (it != bound.end()) {
            tensors[s] = ir::Tensor::wrap(dtypes[s], shapes[s], it->second);
        } else {
            owned_outputs[name] = ir::Tensor(dtypes[s], shapes[s]);
            tensors[s] = owned_outputs[name];
        }
    }
    std::vector<const ir::Tensor*> ins;
    std::vector<ir::Tensor> outs;
    size_t k = 0;
    for (const Step& step : steps) {
        if (step.precomputed || step.view) continue;
        const auto t0 = std::chrono::steady_clock::now();
        ins.clear();
        for (int s : step.in) ins.push_back(s < 0 ? nullptr : &tensors[s]);
        outs.assign(step.out.size(), ir::Tensor());
        for (size_t i = 0; i < step.out.size(); ++i) {
            if (step.out[i] >= 0) outs[i] = tensors[step.out[i]];
        }
        RT_RETURN_IF_ERROR(ref::compute_node(*step.kernel, *step.node, step.opset, ins, outs));
        if (layers) {
            if (layers->size() <= k) layers->push_back({step.node->name, step.node->op_type, "cpu", 0.0});
            (*layers)[k++].ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        }
    }
    return Status();
}

}  // namespace

namespace runtime {

Expected<std::unique_ptr<ExecutionContext>> create_cpu_context(const Engine::Impl& engine) {
    auto impl = std::make_unique<CpuContext>(engine);
    RT_RETURN_IF_ERROR(impl->prepare());
    return std::make_unique<ExecutionContext>(std::move(impl));
}

}  // namespace runtime
}  // namespace rtinfer
