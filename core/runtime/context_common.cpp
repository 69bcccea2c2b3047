// The plan every backend's context shares, and the public ExecutionContext methods.
#include <algorithm>
#include <cstring>

#include "core/kernels/ref/ref_backend.h"
#include "core/planner/planner.h"
#include "core/runtime/context_impl.h"

namespace rtinfer {

using runtime::kPrecomputeLimit;
using runtime::SlotKind;
using runtime::Step;

Status ExecutionContext::Impl::prepare() {
    const ir::Graph& g = engine.data.graph;
    const ir::OpRegistry& registry = ref::reference_registry();
    slot_of.clear();
    slot_names.clear();
    kinds.clear();
    tensors.clear();
    shapes.clear();
    dtypes.clear();
    steps.clear();
    dynamic = false;

    for (const auto& name : g.inputs) {
        const int s = slot(name);
        kinds[s] = SlotKind::kInput;
        const ir::Value& v = g.at(name);
        shapes[s] = v.shape;
        if (engine.data.dynamic_batch && !shapes[s].empty() && shapes[s][0] < 0) shapes[s][0] = batch;
        dtypes[s] = v.dtype;
    }
    for (const auto& [name, v] : g.values()) {
        if (!v.is_constant()) continue;
        const int s = slot(name);
        kinds[s] = SlotKind::kConstant;
        tensors[s] = v.constant;
        shapes[s] = v.constant.shape();
        dtypes[s] = v.constant.dtype();
    }
    for (const auto& node : g.nodes) {
        Step step;
        step.node = &node;
        step.kernel = registry.find(node.domain, node.op_type);
        if (!step.kernel)
            return Status(StatusCode::kUnsupported, node.describe() + ": no CPU kernel implements this op");
        step.opset = g.opset(ir::canonical_domain(node.domain));
        std::vector<ir::InputInfo> infos;
        bool all_values = true;
        bool shapes_known = true;
        bool shape_only = node.domain.empty() && (node.op_type == "Shape" || node.op_type == "Size");
        std::vector<ir::Tensor> shape_dummies;
        shape_dummies.reserve(node.inputs.size());
        for (const auto& name : node.inputs) {
            if (name.empty()) {
                step.in.push_back(-1);
                infos.emplace_back();
                continue;
            }
            auto it = slot_of.find(name);
            if (it == slot_of.end())
                return Status(StatusCode::kInternal, node.describe() + ": input '" + name + "' has no producer");
            const int s = it->second;
            step.in.push_back(s);
            const bool has_value = kinds[s] == SlotKind::kConstant || kinds[s] == SlotKind::kPrecomputed;
            all_values = all_values && has_value;
            if (shapes[s].size() && shapes[s][0] == -1) shapes_known = false;
            infos.push_back(ir::InputInfo{dtypes[s], shapes[s], true, has_value ? &tensors[s] : nullptr});
        }
        if (!shapes_known) {
            dynamic = step.dynamic = true;  // past a data-dependent shape, only run time can say
            mark_unknown(node, step);
            steps.push_back(std::move(step));
            continue;
        }
        ir::InferContext ictx(node, step.opset, infos, node.outputs.size());
        Status inferred = step.kernel->infer(ictx);
        if (!inferred.is_ok() && ictx.value_missing()) {
            dynamic = step.dynamic = true;  // e.g. a Reshape whose shape is a graph input: known per run only
            mark_unknown(node, step);
            steps.push_back(std::move(step));
            continue;
        }
        RT_RETURN_IF_ERROR(inferred);
        bool small = true;
        for (size_t i = 0; i < node.outputs.size(); ++i) {
            if (node.outputs[i].empty()) {
                step.out.push_back(-1);
                continue;
            }
            const int s = slot(node.outputs[i]);
            step.out.push_back(s);
            const auto& info = ictx.outputs()[i];
            dtypes[s] = info.dtype;
            if (!info.shape_known) {
                dynamic = step.dynamic = true;
                shapes[s] = ir::Shape(info.shape.size(), -1);
                if (shapes[s].empty()) shapes[s] = {-1};
            } else {
                shapes[s] = info.shape;
                small = small && ir::shape_numel(info.shape) <= kPrecomputeLimit;
            }
        }
        const bool random =
            node.op_type.rfind("Random", 0) == 0 || node.op_type == "Bernoulli" || node.op_type == "Multinomial";
        if (!step.dynamic && small && !random && (all_values || shape_only) && !node.inputs.empty()) {
            // Shape arithmetic (Shape -> Gather -> Concat -> Reshape...) is done once here.
            std::vector<const ir::Tensor*> ins;
            for (int s : step.in) {
                if (s < 0) {
                    ins.push_back(nullptr);
                } else if (shape_only) {
                    shape_dummies.push_back(ir::Tensor::wrap(DataType::kFloat32, shapes[s], nullptr));
                    ins.push_back(&shape_dummies.back());
                } else {
                    ins.push_back(&tensors[s]);
                }
            }
            std::vector<ir::Tensor> outs;
            RT_RETURN_IF_ERROR(ref::evaluate_node(*step.kernel, node, step.opset, ins, outs));
            for (size_t i = 0; i < step.out.size(); ++i) {
                if (step.out[i] < 0) continue;
                kinds[step.out[i]] = SlotKind::kPrecomputed;
                tensors[step.out[i]] = outs[i];
            }
            step.precomputed = true;
        }
        steps.push_back(std::move(step));
    }

    arena_bytes = 0;
    if (!dynamic || plans_static_part()) RT_RETURN_IF_ERROR(plan_memory());
    prepared_shapes = shapes;
    prepared = true;
    return Status();
}

// Lifetimes of intermediates (graph outputs live in the caller's memory), memory shared by views and by
// elided Concats, offsets from the planner, then the backend's arena.
Status ExecutionContext::Impl::plan_memory() {
    const size_t n = slot_names.size();
    // Values of the static part that dynamic steps read live to the end: those run after the static part.
    const int end = static_cast<int>(steps.size());
    std::vector<int> first(n, -1), last(n, -1);
    std::vector<Step*> producer(n, nullptr);
    for (size_t i = 0; i < steps.size(); ++i) {
        Step& step = steps[i];
        if (step.precomputed) continue;
        for (int s : step.out) {
            if (s >= 0 && first[s] < 0 && !step.dynamic) {
                first[s] = last[s] = static_cast<int>(i);
                producer[s] = &step;
            }
        }
        for (int s : step.in) {
            if (s >= 0) last[s] = step.dynamic ? end : std::max(last[s], static_cast<int>(i));
        }
    }
    auto intermediate = [&](int s) {
        return s >= 0 && kinds[s] == SlotKind::kIntermediate && first[s] >= 0 && !is_graph_output(s);
    };
    auto bytes_of = [&](int s) {
        return static_cast<uint64_t>(ir::shape_numel(shapes[s])) * data_type_size(dtypes[s]);
    };
    auto is_view_op = [](const ir::Node& node) {
        const std::string& op = node.op_type;
        return node.domain.empty() && (op == "Reshape" || op == "Squeeze" || op == "Unsqueeze" || op == "Flatten");
    };
    // Gather(x, i) along axis 0 with a constant scalar index: the block of x it reads, as a byte offset.
    auto leading_block = [&](const Step& step, uint64_t* offset) {
        const ir::Node& node = *step.node;
        if (!node.domain.empty() || node.op_type != "Gather" || step.in.size() != 2 || step.in[1] < 0) return false;
        const int data = step.in[0], index = step.in[1];
        if (kinds[index] != SlotKind::kConstant && kinds[index] != SlotKind::kPrecomputed) return false;
        const ir::Tensor& t = tensors[index];
        const ir::Shape& shape = shapes[data];
        if (!t.shape().empty() || shape.empty() || node.attr_int("axis", 0) % static_cast<int64_t>(shape.size()) != 0)
            return false;
        if (t.dtype() != DataType::kInt64 && t.dtype() != DataType::kInt32) return false;
        int64_t i = ir::to_int64s(t)[0];
        if (i < 0) i += shape[0];
        if (i < 0 || i >= shape[0]) return false;
        *offset = static_cast<uint64_t>(i) * bytes_of(step.out[0]);
        return true;
    };
    std::vector<int> root(n, -1);       // the slot whose buffer this one lives in
    std::vector<uint64_t> delta(n, 0);  // byte offset within the root's buffer

    // Concat elision: when every input is a contiguous slice of the output (nothing but size-1 dimensions
    // before the axis), the producers write straight into their slices and the Concat runs no kernel. Slices
    // start 256-byte aligned, as every buffer of the arena does, so that kernels' vector accesses stay legal.
    for (Step& step : steps) {
        const ir::Node& node = *step.node;
        if (step.precomputed || step.dynamic || !node.domain.empty() || node.op_type != "Concat" ||
            step.out.size() != 1)
            continue;
        const int out = step.out[0];
        if (!intermediate(out)) continue;
        const int64_t rank = static_cast<int64_t>(shapes[out].size());
        int64_t axis = node.attr_int("axis", 0);
        if (axis < 0) axis += rank;
        if (axis < 0 || axis >= rank) continue;
        int64_t outer = 1;
        for (int64_t d = 0; d < axis; ++d) outer *= shapes[out][static_cast<size_t>(d)];
        bool ok = outer == 1 && step.in.size() > 1;
        std::vector<int> seen;
        uint64_t offset = 0;
        for (int s : step.in) {
            ok = ok && intermediate(s) && root[s] < 0 && dtypes[s] == dtypes[out] && producer[s] &&
                 !is_view_op(*producer[s]->node) && producer[s]->node->op_type != "Concat" && offset % 256 == 0 &&
                 std::find(seen.begin(), seen.end(), s) == seen.end();
            if (!ok) break;
            seen.push_back(s);
            offset += bytes_of(s);
        }
        if (!ok || offset != bytes_of(out)) continue;
        offset = 0;
        for (int s : step.in) {
            root[s] = out;
            delta[s] = offset;
            offset += bytes_of(s);
            first[out] = std::min(first[out], first[s]);
            last[out] = std::max(last[out], last[s]);
        }
        step.view = true;
    }

    // Views: a reshape of an intermediate into another intermediate of the same bytes is the same memory
    // (no kernel writes into its input in place, so sharing read-only bytes is safe); so is a Gather of one
    // constant index along the first axis, a contiguous block of its input (when it starts 256-byte aligned,
    // like every buffer). The shared buffer lives from the first producer to the last reader of any view.
    for (Step& step : steps) {
        if (step.precomputed || step.dynamic || step.view || step.in.empty() || step.out.size() != 1) continue;
        const int in = step.in[0], out = step.out[0];
        if (!intermediate(in) || !intermediate(out) || root[out] >= 0 || dtypes[in] != dtypes[out]) continue;
        uint64_t offset = 0;
        if (is_view_op(*step.node)) {
            if (bytes_of(in) != bytes_of(out)) continue;
        } else if (!leading_block(step, &offset) || offset % 256 != 0) {
            continue;
        }
        const int r = root[in] >= 0 ? root[in] : in;
        root[out] = r;
        delta[out] = delta[in] + offset;
        last[r] = std::max(last[r], last[out]);
        step.view = true;
    }

    std::vector<planner::BufferRequest> requests;
    std::vector<int> request_slot;
    for (size_t s = 0; s < n; ++s) {
        if (!intermediate(static_cast<int>(s)) || root[s] >= 0) continue;
        requests.push_back({bytes_of(static_cast<int>(s)), first[s], last[s]});
        request_slot.push_back(static_cast<int>(s));
    }
    planner::MemoryPlan plan = planner::plan_arena(requests, 256);
    arena_bytes = plan.arena_bytes;
    std::vector<int> offset_of(n, -1);
    for (size_t r = 0; r < request_slot.size(); ++r) offset_of[request_slot[r]] = static_cast<int>(r);
    for (size_t s = 0; s < n; ++s) {
        if (root[s] < 0) continue;
        request_slot.push_back(static_cast<int>(s));
        plan.offsets.push_back(plan.offsets[static_cast<size_t>(offset_of[root[s]])] + delta[s]);
    }
    return allocate_arena(request_slot, plan.offsets, plan.arena_bytes);
}

Status ExecutionContext::Impl::run_dynamic() {
    std::vector<const Step*> list;
    for (const Step& step : steps) {
        if (!step.precomputed) list.push_back(&step);
    }
    return run_on_host(list);
}

Status ExecutionContext::Impl::run_on_host(const std::vector<const Step*>& list) {
    std::vector<const ir::Tensor*> ins;
    std::vector<ir::Tensor> outs;
    for (const Step* p : list) {
        const Step& step = *p;
        ins.clear();
        for (int s : step.in) ins.push_back(s < 0 ? nullptr : &tensors[s]);
        RT_RETURN_IF_ERROR(ref::evaluate_node(*step.kernel, *step.node, step.opset, ins, outs));
        for (size_t i = 0; i < step.out.size(); ++i) {
            if (step.out[i] < 0 || i >= outs.size()) continue;
            tensors[step.out[i]] = outs[i];
            shapes[step.out[i]] = outs[i].shape();
            dtypes[step.out[i]] = outs[i].dtype();
        }
    }
    return Status();
}

// Graph outputs not written in place (constants, inputs, precomputed, dynamic results) are copied.
Status ExecutionContext::Impl::finish_outputs() {
    const ir::Graph& g = engine.data.graph;
    for (const auto& name : g.outputs) {
        const int s = slot_of.at(name);
        const ir::Tensor& t = tensors[s];
        if (!dynamic && kinds[s] == SlotKind::kIntermediate) continue;
        auto it = bound.find(name);
        if (it == bound.end()) {
            owned_outputs[name] = t.clone();
            continue;
        }
        const ir::Shape& planned = prepared_shapes[s];
        if (planned != t.shape()) {
            owned_outputs[name] = t.clone();
            return Status(StatusCode::kInvalidArgument, "output '" + name + "' has a data-dependent shape (" +
                                                            ir::shape_str(t.shape()) +
                                                            " this time); read it with "
                                                            "output_data() instead of binding an address");
        }
        if (it->second != t.raw() && t.nbytes()) std::memcpy(it->second, t.raw(), t.nbytes());
    }
    return Status();
}

Status ExecutionContext::Impl::bound_address(const std::string& name, void** data) const {
    auto it = bound.find(name);
    if (it == bound.end())
        return Status(StatusCode::kInvalidArgument, "'" + name + "' has no address; call set_tensor_address");
    *data = it->second;
    return Status();
}

ExecutionContext::ExecutionContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ExecutionContext::~ExecutionContext() = default;

Status ExecutionContext::set_batch(int batch) {
    const auto& d = impl_->engine.data;
    if (batch < d.min_batch || batch > d.max_batch) {
        return Status(StatusCode::kInvalidArgument,
                      "batch " + std::to_string(batch) + " is outside the engine's range [" +
                          std::to_string(d.min_batch) + ", " + std::to_string(d.max_batch) + "]");
    }
    if (batch != impl_->batch) impl_->prepared = false;
    impl_->batch = batch;
    return Status();
}

int ExecutionContext::batch() const {
    return impl_->batch;
}

uint64_t ExecutionContext::activation_bytes() const {
    if (!impl_->prepared && !impl_->prepare().is_ok()) return 0;
    return impl_->arena_bytes;
}

Expected<TensorDesc> ExecutionContext::tensor_desc(const std::string& name) const {
    if (!impl_->prepared) RT_RETURN_IF_ERROR(impl_->prepare());
    auto it = impl_->slot_of.find(name);
    const auto& g = impl_->engine.data.graph;
    const bool io = std::find(g.inputs.begin(), g.inputs.end(), name) != g.inputs.end() ||
                    std::find(g.outputs.begin(), g.outputs.end(), name) != g.outputs.end();
    if (it == impl_->slot_of.end() || !io)
        return Status(StatusCode::kNotFound, "no input or output named '" + name + "'");
    return TensorDesc{name, impl_->dtypes[it->second], impl_->shapes[it->second]};
}

Status ExecutionContext::set_tensor_address(const std::string& name, void* data) {
    const auto& g = impl_->engine.data.graph;
    const bool io = std::find(g.inputs.begin(), g.inputs.end(), name) != g.inputs.end() ||
                    std::find(g.outputs.begin(), g.outputs.end(), name) != g.outputs.end();
    if (!io) return Status(StatusCode::kNotFound, "no input or output named '" + name + "'");
    if (!data) return Status(StatusCode::kInvalidArgument, "null address for tensor '" + name + "'");
    impl_->bound[name] = data;
    return Status();
}

Status ExecutionContext::enqueue(void* stream) {
    if (!impl_->prepared) RT_RETURN_IF_ERROR(impl_->prepare());
    for (const auto& name : impl_->engine.data.graph.inputs) {
        if (!impl_->bound.count(name)) {
            return Status(StatusCode::kInvalidArgument, "input '" + name + "' has no address; call set_tensor_address");
        }
    }
    return impl_->run(stream);
}

Expected<std::vector<LayerTiming>> ExecutionContext::profile(int iterations, void* stream) {
    if (iterations < 1) return Status(StatusCode::kInvalidArgument, "profile needs at least one iteration");
    if (!impl_->prepared) RT_RETURN_IF_ERROR(impl_->prepare());
    for (const auto& name : impl_->engine.data.graph.inputs) {
        if (!impl_->bound.count(name)) {
            return Status(StatusCode::kInvalidArgument, "input '" + name + "' has no address; call set_tensor_address");
        }
    }
    if (impl_->dynamic) {
        return Status(StatusCode::kUnsupported,
                      "per-layer profiles need static shapes; this engine has data-dependent ones");
    }
    std::vector<LayerTiming> layers;
    for (int i = 0; i < iterations; ++i) RT_RETURN_IF_ERROR(impl_->run_profiled(stream, layers));
    for (auto& l : layers) l.ms /= iterations;
    return layers;
}

Expected<const void*> ExecutionContext::output_data(const std::string& name) const {
    auto it = impl_->bound.find(name);
    const auto& outs = impl_->engine.data.graph.outputs;
    if (std::find(outs.begin(), outs.end(), name) == outs.end())
        return Status(StatusCode::kNotFound, "no output named '" + name + "'");
    if (it != impl_->bound.end()) return static_cast<const void*>(it->second);
    auto o = impl_->owned_outputs.find(name);
    if (o == impl_->owned_outputs.end())
        return Status(StatusCode::kInvalidArgument, "output '" + name + "' has no data yet; call enqueue first");
    return static_cast<const void*>(o->second.raw());
}

}  // namespace rtinfer
