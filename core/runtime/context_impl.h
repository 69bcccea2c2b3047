// The state shared by every backend's execution context: the plan for one batch (slots for values,
// steps for nodes, shapes, shape arithmetic evaluated once, an arena planned from lifetimes).
// Backends implement allocate_arena() and run().
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "core/ir/op.h"
#include "core/runtime/engine_impl.h"

namespace rtinfer {

namespace runtime {

// Shape computations up to this size are evaluated once at prepare instead of at every enqueue.
constexpr int64_t kPrecomputeLimit = 4096;

struct Step {
    const ir::Node* node = nullptr;
    const ir::OpKernel* kernel = nullptr;  // the reference kernel (infer, and the CPU path)
    int64_t opset = 0;
    std::vector<int> in;   // slot per input, -1 for omitted
    std::vector<int> out;  // slot per output, -1 for omitted
    bool precomputed = false;
    // Nothing to run: a view (Reshape, Squeeze, Unsqueeze, Flatten) whose output shares its input's memory,
    // or a Concat whose inputs were written into their slices of its output.
    bool view = false;
    // Its output shapes are known at run time only (data-dependent, or downstream of such a shape). The
    // other steps form the static part, which needs none of these.
    bool dynamic = false;
};

enum class SlotKind { kConstant, kInput, kIntermediate, kPrecomputed };

}  // namespace runtime

struct ExecutionContext::Impl {
    const Engine::Impl& engine;
    int batch = 0;
    bool prepared = false;
    bool dynamic = false;
    std::unordered_map<std::string, int> slot_of;
    std::vector<std::string> slot_names;
    std::vector<runtime::SlotKind> kinds;
    std::vector<ir::Tensor> tensors;  // current tensor of each slot
    std::vector<ir::Shape> shapes;
    std::vector<ir::Shape> prepared_shapes;  // shapes as prepare knew them (-1 where data-dependent)
    std::vector<DataType> dtypes;
    std::vector<runtime::Step> steps;
    std::unordered_map<std::string, void*> bound;
    std::unordered_map<std::string, ir::Tensor> owned_outputs;
    uint64_t arena_bytes = 0;

    explicit Impl(const Engine::Impl& e) : engine(e), batch(e.data.opt_batch) {}
    virtual ~Impl() = default;

    // The backend's memory for intermediates: `slots` get the arena offsets `offsets` (static mode only).
    virtual Status allocate_arena(const std::vector<int>& slots, const std::vector<uint64_t>& offsets,
                                  uint64_t bytes) = 0;
    // Runs one inference on the prepared plan with the bound addresses.
    virtual Status run(void* stream) = 0;
    // Runs one inference step by step and adds each step's time in ms to its entry of `layers` (one per
    // executed step, in order; the entries are made on the first call).
    virtual Status run_profiled(void* stream, std::vector<LayerTiming>& layers) = 0;
    // Whether prepare() plans the arena for the static part of a graph with data-dependent shapes (the
    // backend runs that part itself and only the dynamic steps in the host-side dynamic mode).
    virtual bool plans_static_part() const { return false; }
    // Nodes that run on the CPU reference although the engine's backend is another (its fallbacks).
    virtual std::vector<std::string> fallback_nodes() const { return {}; }
    // Tactics the backend's kernels chose by measurement, by node name (recorded in the engine).
    virtual std::vector<std::pair<std::string, int64_t>> tactics() const { return {}; }

    int slot(const std::string& name) {
        auto it = slot_of.find(name);
        if (it != slot_of.end()) return it->second;
        const int id = static_cast<int>(slot_names.size());
        slot_of[name] = id;
        slot_names.push_back(name);
        kinds.push_back(runtime::SlotKind::kIntermediate);
        tensors.emplace_back();
        shapes.emplace_back();
        dtypes.push_back(DataType::kUndefined);
        return id;
    }

    // Outputs whose shape only run time knows: described as [-1] until a run fills them in.
    void mark_unknown(const ir::Node& node, runtime::Step& step) {
        for (const auto& name : node.outputs) {
            const int s = name.empty() ? -1 : slot(name);
            step.out.push_back(s);
            if (s >= 0) shapes[s] = {-1};
        }
    }

    bool is_graph_output(int s) const {
        for (const auto& o : engine.data.graph.outputs) {
            if (slot_of.at(o) == s) return true;
        }
        return false;
    }

    // Shapes for the batch, shape arithmetic done once, lifetimes planned into the arena.
    Status prepare();
    // The arena of the static steps (part of prepare()).
    Status plan_memory();
    // The host-side dynamic mode: every node evaluated on the CPU with allocated outputs.
    Status run_dynamic();
    // The same for some steps only (the others' values already in `tensors`).
    Status run_on_host(const std::vector<const runtime::Step*>& list);
    // Graph outputs not written in place are copied to the bound host address or kept.
    Status finish_outputs();
    Status bound_address(const std::string& name, void** data) const;
};

}  // namespace rtinfer
