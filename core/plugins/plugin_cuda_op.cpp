#include "core/plugins/plugin_cuda_op.h"

#ifdef RTINFER_HAVE_CUDA

#include "core/plugins/plugin_layer.h"

namespace rtinfer::plugins {

namespace {

class PluginCudaOp : public cuda::CudaOp {
public:
    PluginCudaOp(const ir::Node& node, std::vector<rt_plugin_tensor_desc> in_descs,
                 std::vector<rt_plugin_tensor_desc> out_descs, size_t workspace)
        : node_(node), in_descs_(std::move(in_descs)), out_descs_(std::move(out_descs)), workspace_(workspace),
          inputs_(in_descs_.size()), outputs_(out_descs_.size()) {}

    size_t workspace_bytes() const override { return workspace_; }

    Status enqueue(const std::vector<cuda::DeviceTensor>& inputs, const std::vector<cuda::DeviceTensor>& outputs,
                   void* workspace, const cuda::CudaLibs& libs) override {
        for (size_t i = 0; i < inputs_.size(); ++i) inputs_[i] = i < inputs.size() ? inputs[i].data : nullptr;
        for (size_t i = 0; i < outputs_.size(); ++i) outputs_[i] = outputs[i].data;
        rt_plugin_io io{};
        io.abi_version = RT_PLUGIN_ABI_VERSION;
        io.struct_size = sizeof(rt_plugin_io);
        io.num_inputs = static_cast<int32_t>(in_descs_.size());
        io.num_outputs = static_cast<int32_t>(out_descs_.size());
        io.input_descs = in_descs_.data();
        io.output_descs = out_descs_.data();
        io.inputs = inputs_.data();
        io.outputs = outputs_.data();
        io.workspace = workspace_ ? workspace : nullptr;
        io.workspace_size = workspace_;
        io.stream = libs.stream;
        Status s = node_.plugin->enqueue(io, true);
        return s.is_ok() ? s : s.with_context(node_.describe());
    }

private:
    const ir::Node& node_;
    std::vector<rt_plugin_tensor_desc> in_descs_, out_descs_;
    size_t workspace_;
    std::vector<const void*> inputs_;
    std::vector<void*> outputs_;
};

Expected<std::unique_ptr<cuda::CudaOp>> create(const cuda::OpSetup& setup, const cuda::CudaLibs&) {
    const ir::Node& node = setup.node;
    if (!node.plugin) return setup.unsupported("no plugin instance is attached");
    if (!node.plugin->has_cuda()) return setup.unsupported("the plugin has no CUDA enqueue");
    std::vector<rt_plugin_tensor_desc> in_descs, out_descs;
    Status s = node.plugin->infer(setup.inputs, in_descs, out_descs);
    if (!s.is_ok()) return s.with_context(node.describe());
    // Outputs the node omits would need device memory of their own: those layers use the CPU path.
    if (out_descs.size() != node.outputs.size()) return setup.unsupported("the node omits plugin outputs");
    for (const auto& o : node.outputs) {
        if (o.empty()) return setup.unsupported("the node omits plugin outputs");
    }
    const size_t workspace = node.plugin->workspace_size(in_descs, out_descs);
    return std::unique_ptr<cuda::CudaOp>(new PluginCudaOp(node, std::move(in_descs), std::move(out_descs), workspace));
}

}  // namespace

const cuda::CudaKernel& plugin_cuda_kernel() {
    static const cuda::CudaKernel kernel = {"<plugin>", kPluginDomain, create};
    return kernel;
}

}  // namespace rtinfer::plugins

#endif
