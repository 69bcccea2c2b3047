#include "core/kernels/ref/ref_backend.h"

#include "core/ir/fused_activation.h"
#include "core/ir/half.h"
#include "core/plugins/plugin_layer.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace rtinfer::ref {

const ir::OpRegistry& reference_registry() {
    static const ir::OpRegistry registry = [] {
        ir::OpRegistry r;
        Status (*const families[])(ir::OpRegistry&) = {register_elementwise_kernels, register_nn_kernels,
                                                      register_reduce_kernels, register_tensor_kernels,
                                                      register_misc_kernels};
        for (auto family : families) {
            Status s = family(r);
            if (!s.is_ok()) {  // a duplicate registration is a programming error caught by every test run
                std::fprintf(stderr, "rtinfer: %s\n", s.to_string().c_str());
                std::abort();
            }
        }
        if (!r.add_domain(plugins::kPluginDomain, plugins::plugin_reference_kernel()).is_ok()) std::abort();
        return r;
    }();
    return registry;
}

namespace {

Status run_kernel(const ir::OpKernel& kernel, const ir::Node& node, int64_t opset,
                  const std::vector<const ir::Tensor*>& inputs, std::vector<ir::Tensor>& outputs) {
    std::vector<ir::Tensor*> out_ptrs(outputs.size(), nullptr);
    for (size_t i = 0; i < outputs.size(); ++i) {
        if (i < node.outputs.size() && !node.outputs[i].empty()) out_ptrs[i] = &outputs[i];
    }
    ir::ComputeContext ctx(node, opset, inputs, out_ptrs);
    return kernel.compute(ctx);
}

bool any_half(const std::vector<const ir::Tensor*>& tensors) {
    for (const auto* t : tensors) {
        if (t && t->dtype() == ir::DType::kFloat16) return true;
    }
    return false;
}

}  // namespace

namespace {

// An activation fused into the node by a pass is applied here after any kernel (float outputs only).
Status apply_epilogue(const ir::Node& node, std::vector<ir::Tensor>& outputs) {
    const ir::FusedActivationParams p = ir::fused_activation(node);
    if (p.act == ir::FusedActivation::kNone || outputs.empty()) return Status();
    ir::Tensor& y = outputs[0];
    if (y.dtype() == ir::DType::kFloat32) {
        float* d = y.data<float>();
        for (int64_t i = 0; i < y.numel(); ++i) d[i] = ir::apply_fused_activation(p, d[i]);
    } else if (y.dtype() == ir::DType::kFloat16) {
        uint16_t* d = y.data<uint16_t>();
        for (int64_t i = 0; i < y.numel(); ++i) d[i] = ir::float_to_half(ir::apply_fused_activation(p, ir::half_to_float(d[i])));
    } else if (y.dtype() == ir::DType::kFloat64) {
        double* d = y.data<double>();
        for (int64_t i = 0; i < y.numel(); ++i) d[i] = ir::apply_fused_activation(p, static_cast<float>(d[i]));
    } else {
        return Status(StatusCode::kUnsupported, node.describe() + ": a fused activation needs a float output");
    }
    return Status();
}

}  // namespace

Status compute_node(const ir::OpKernel& kernel, const ir::Node& node, int64_t opset,
                    const std::vector<const ir::Tensor*>& inputs, std::vector<ir::Tensor>& outputs) {
    const bool via_float = !(kernel.flags & ir::kOpNativeHalf) &&
                           (any_half(inputs) || [&] {
                               for (const auto& o : outputs) {
                                   if (o.dtype() == ir::DType::kFloat16) return true;
                               }
                               return false;
                           }());
    if (!via_float) {
        RT_RETURN_IF_ERROR(run_kernel(kernel, node, opset, inputs, outputs));
        return apply_epilogue(node, outputs);
    }

    std::vector<ir::Tensor> widened(inputs.size());
    std::vector<const ir::Tensor*> in32(inputs.size(), nullptr);
    for (size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i]) continue;
        if (inputs[i]->dtype() == ir::DType::kFloat16) {
            RT_ASSIGN_OR_RETURN(widened[i], ir::cast_tensor(*inputs[i], ir::DType::kFloat32));
            in32[i] = &widened[i];
        } else {
            in32[i] = inputs[i];
        }
    }
    std::vector<ir::Tensor> out32(outputs.size());
    for (size_t i = 0; i < outputs.size(); ++i) {
        if (!outputs[i].defined()) continue;
        out32[i] = outputs[i].dtype() == ir::DType::kFloat16 ? ir::Tensor(ir::DType::kFloat32, outputs[i].shape())
                                                              : outputs[i];
    }
    RT_RETURN_IF_ERROR(run_kernel(kernel, node, opset, in32, out32));
    for (size_t i = 0; i < outputs.size(); ++i) {
        if (!out32[i].defined()) continue;
        const bool to_half = outputs[i].dtype() == ir::DType::kFloat16 ||
                             (!outputs[i].defined() && out32[i].dtype() == ir::DType::kFloat32);
        if (!to_half) {
            if (!outputs[i].defined()) outputs[i] = out32[i];
            continue;
        }
        RT_ASSIGN_OR_RETURN(ir::Tensor narrowed, ir::cast_tensor(out32[i], ir::DType::kFloat16));
        if (outputs[i].defined() && outputs[i].nbytes() == narrowed.nbytes()) {
            std::memcpy(outputs[i].raw(), narrowed.raw(), narrowed.nbytes());
        } else {
            outputs[i] = narrowed;
        }
    }
    return apply_epilogue(node, outputs);
}

Status evaluate_node(const ir::OpKernel& kernel, const ir::Node& node, int64_t opset,
                     const std::vector<const ir::Tensor*>& inputs, std::vector<ir::Tensor>& outputs) {
    std::vector<ir::InputInfo> infos(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i]) continue;
        infos[i] = ir::InputInfo{inputs[i]->dtype(), inputs[i]->shape(), true, inputs[i]};
    }
    ir::InferContext ictx(node, opset, std::move(infos), node.outputs.size());
    RT_RETURN_IF_ERROR(kernel.infer(ictx));
    outputs.assign(node.outputs.size(), ir::Tensor());
    for (size_t i = 0; i < node.outputs.size(); ++i) {
        const auto& info = ictx.outputs()[i];
        if (node.outputs[i].empty() || !info.shape_known || info.dtype == ir::DType::kUndefined) continue;
        outputs[i] = ir::Tensor(info.dtype, info.shape);
    }
    return compute_node(kernel, node, opset, inputs, outputs);
}

}  // namespace rtinfer::ref
