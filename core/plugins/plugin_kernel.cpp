// The reference-backend kernel of every plugin layer: infer asks the plugin for its output types and
// shapes, compute runs the plugin's CPU enqueue on host tensors.
#include <cstdint>
#include <vector>

#include "core/plugins/plugin_layer.h"

namespace rtinfer::plugins {

namespace {

constexpr size_t kWorkspaceAlignment = 256;

Status missing_instance(const ir::Node& node) {
    return Status(StatusCode::kUnsupported,
                  node.describe() + ": no plugin instance is attached to this layer (plugin layers inside "
                                    "subgraphs of If/Loop/Scan are not supported)");
}

Status infer(ir::InferContext& ctx) {
    const ir::Node& node = ctx.node();
    if (!node.plugin) return missing_instance(node);
    std::vector<ir::InputInfo> inputs;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) inputs.push_back(ctx.has_input(i) ? ctx.input(i) : ir::InputInfo{});
    std::vector<rt_plugin_tensor_desc> in_descs, out_descs;
    Status s = node.plugin->infer(inputs, in_descs, out_descs);
    if (!s.is_ok()) return s.with_context(node.describe());
    for (size_t i = 0; i < ctx.num_outputs() && i < out_descs.size(); ++i) {
        const rt_plugin_tensor_desc& d = out_descs[i];
        ctx.set_output(i, from_plugin_dtype(d.dtype), ir::Shape(d.dims, d.dims + d.rank));
    }
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Node& node = ctx.node();
    if (!node.plugin) return missing_instance(node);
    const PluginLayer& plugin = *node.plugin;
    std::vector<ir::InputInfo> infos;
    std::vector<const void*> inputs;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
        if (!ctx.has_input(i)) {
            infos.emplace_back();
            inputs.push_back(nullptr);
            continue;
        }
        const ir::Tensor& t = ctx.input(i);
        infos.push_back(ir::InputInfo{t.dtype(), t.shape(), true, &t});
        inputs.push_back(t.raw());
    }
    std::vector<rt_plugin_tensor_desc> in_descs, out_descs;
    Status s = plugin.infer(infos, in_descs, out_descs);
    if (!s.is_ok()) return s.with_context(node.describe());
    // Outputs the node omits still get memory: the plugin writes all of its outputs.
    std::vector<ir::Tensor> scratch(out_descs.size());
    std::vector<void*> outputs;
    for (size_t i = 0; i < out_descs.size(); ++i) {
        const rt_plugin_tensor_desc& d = out_descs[i];
        const DataType dtype = from_plugin_dtype(d.dtype);
        const ir::Shape shape(d.dims, d.dims + d.rank);
        if (i < ctx.num_outputs() && ctx.has_output(i)) {
            ir::Tensor& out = ctx.output(i);
            if (!out.defined()) ctx.allocate_output(i, dtype, shape);
            if (out.dtype() != dtype || out.shape() != shape) {
                return ctx.error("output #" + std::to_string(i) + " is " + ir::shape_str(out.shape()) +
                                 ", the plugin gives " + ir::shape_str(shape), StatusCode::kInternal);
            }
            outputs.push_back(out.raw());
        } else {
            scratch[i] = ir::Tensor(dtype, shape);
            outputs.push_back(scratch[i].raw());
        }
    }
    // Grows once per thread to the largest workspace seen, so that steady-state runs do not allocate.
    thread_local std::vector<uint8_t> workspace;
    const size_t ws = plugin.workspace_size(in_descs, out_descs);
    if (workspace.size() < ws + kWorkspaceAlignment) workspace.resize(ws + kWorkspaceAlignment);
    const uintptr_t base = reinterpret_cast<uintptr_t>(workspace.data());
    void* aligned = reinterpret_cast<void*>((base + kWorkspaceAlignment - 1) & ~uintptr_t(kWorkspaceAlignment - 1));

    rt_plugin_io io{};
    io.abi_version = RT_PLUGIN_ABI_VERSION;
    io.struct_size = sizeof(rt_plugin_io);
    io.num_inputs = static_cast<int32_t>(in_descs.size());
    io.num_outputs = static_cast<int32_t>(out_descs.size());
    io.input_descs = in_descs.data();
    io.output_descs = out_descs.data();
    io.inputs = inputs.data();
    io.outputs = outputs.data();
    io.workspace = ws ? aligned : nullptr;
    io.workspace_size = ws;
    s = plugin.enqueue(io, false);
    return s.is_ok() ? s : s.with_context(node.describe());
}

}  // namespace

const ir::OpKernel& plugin_reference_kernel() {
    // Native half: the plugin sees the types it declared support for, never a conversion.
    static const ir::OpKernel kernel = {"<plugin>", kPluginDomain, infer, compute, ir::kOpNativeHalf};
    return kernel;
}

}  // namespace rtinfer::plugins
