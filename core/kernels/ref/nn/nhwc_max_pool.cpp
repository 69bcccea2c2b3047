// rtinfer.NhwcMaxPool: MaxPool over X [N, H, W, C] -> Y [N, OH, OW, C], with MaxPool's attributes
// (kernel_shape, strides, dilations, pads or auto_pad, ceil_mode); what convert_to_nhwc makes of a 2-D
// MaxPool without the Indices output.
#include <limits>
#include <string>

#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::ref {
namespace {

Status geometry(const ir::Node& node, const ir::Shape& x, nn::Window& w) {
    if (x.size() != 4) return nn::node_error(node, "X has shape " + ir::shape_str(x) + ", expected [N, H, W, C]");
    if (!node.has_attr("kernel_shape")) return nn::node_error(node, "the kernel_shape attribute is required");
    RT_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, nn::kernel_shape(node, {}));
    if (kernel.size() != 2) return nn::node_error(node, "kernel_shape must have 2 entries");
    const int64_t ceil_mode = node.attr_int("ceil_mode", 0);
    if (ceil_mode != 0 && ceil_mode != 1) return nn::node_error(node, "ceil_mode must be 0 or 1");
    return nn::conv_window(node, ir::Shape{x[1], x[2]}, kernel, ceil_mode != 0, w);
}

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!nn::is_float(t)) return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    const ir::Shape& x = ctx.input_shape(0);
    nn::Window w;
    RT_RETURN_IF_ERROR(geometry(ctx.node(), x, w));
    const ir::Shape spatial = w.out_shape();
    ctx.set_output(0, t, {x[0], spatial[0], spatial[1], x[3]});
    return Status();
}

template <class T>
Status run(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    nn::Window w;
    RT_RETURN_IF_ERROR(geometry(ctx.node(), x.shape(), w));
    const int64_t n = x.dim(0), h = w.in[1], wd = w.in[2], c = x.dim(3), oh = w.out[1], ow = w.out[2];
    const T* src = x.data<T>();
    T* dst = ctx.output(0).data<T>();
    for (int64_t b = 0; b < n; ++b) {
        for (int64_t oy = 0; oy < oh; ++oy) {
            for (int64_t ox = 0; ox < ow; ++ox) {
                T* out = dst + ((b * oh + oy) * ow + ox) * c;
                for (int64_t ch = 0; ch < c; ++ch) {
                    bool any = false;
                    T best = T(0);
                    for (int64_t ky = 0; ky < w.kernel[1]; ++ky) {
                        const int64_t iy = oy * w.stride[1] - w.pad_begin[1] + ky * w.dilation[1];
                        if (iy < 0 || iy >= h) continue;
                        for (int64_t kx = 0; kx < w.kernel[2]; ++kx) {
                            const int64_t ix = ox * w.stride[2] - w.pad_begin[2] + kx * w.dilation[2];
                            if (ix < 0 || ix >= wd) continue;
                            const T v = src[((b * h + iy) * wd + ix) * c + ch];
                            if (!any || v > best) best = v;
                            any = true;
                        }
                    }
                    out[ch] = any ? best : std::numeric_limits<T>::lowest();
                }
            }
        }
    }
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    switch (ctx.input(0).dtype()) {
        case ir::DType::kFloat32:
            return run<float>(ctx);
        case ir::DType::kFloat64:
            return run<double>(ctx);
        default:
            return ctx.error("unexpected input type");
    }
}

}  // namespace

const ir::OpKernel kNhwcMaxPoolKernel = {"NhwcMaxPool", ir::kRtinferDomain, infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
