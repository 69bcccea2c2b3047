// Clip: y = min(max(x, min), max). Before opset 11 min and max are float attributes; from 11 they are
// optional scalar inputs of x's type. When min > max every element becomes max, as ONNX specifies.
#include <limits>

#include "core/kernels/ref/elementwise/common.h"
#include "core/kernels/ref/elementwise/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace ew;

bool bounds_as_inputs(int64_t opset) {
    return opset >= 11;
}

Status infer(ir::InferContext& ctx) {
    RT_RETURN_IF_ERROR(check_input_type(ctx, 0, kNumeric));
    if (bounds_as_inputs(ctx.opset())) {
        if (ctx.num_inputs() > 3) return ctx.error("expects at most 3 inputs");
        for (size_t i = 1; i < 3; ++i) {
            if (!ctx.has_input(i)) continue;
            RT_RETURN_IF_ERROR(check_same_type(ctx, 0, i));
            const ir::InputInfo& info = ctx.input(i);
            if (info.shape_known && ir::shape_numel(info.shape) != 1) {
                return ctx.error(std::string(i == 1 ? "min" : "max") + " must be a scalar, got shape " +
                                 ir::shape_str(info.shape));
            }
        }
    } else if (ctx.num_inputs() != 1) {
        return ctx.error("takes one input before opset 11 (min and max are attributes)");
    }
    set_same_shape_output(ctx, ctx.input_dtype(0));
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    ir::Tensor& y = ctx.output(0);
    const bool handled = dispatch<kNumeric>(x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        T lo = std::numeric_limits<T>::lowest();
        T hi = std::numeric_limits<T>::max();
        if (bounds_as_inputs(ctx.opset())) {
            if (ctx.has_input(1) && ctx.input(1).numel() > 0) lo = ctx.input(1).data<T>()[0];
            if (ctx.has_input(2) && ctx.input(2).numel() > 0) hi = ctx.input(2).data<T>()[0];
        } else {
            const ir::Node& n = ctx.node();
            if (n.has_attr("min")) lo = static_cast<T>(n.attr_float("min", 0.0f));
            if (n.has_attr("max")) hi = static_cast<T>(n.attr_float("max", 0.0f));
        }
        const T* px = x.data<T>();
        T* py = y.data<T>();
        // Written so that NaN passes through unchanged.
        for (int64_t i = 0; i < x.numel(); ++i) {
            const T v = px[i] < lo ? lo : px[i];
            py[i] = hi < v ? hi : v;
        }
    });
    return handled ? Status() : ctx.error(std::string("unexpected input type ") + data_type_name(x.dtype()));
}

}  // namespace

const ir::OpKernel kClipKernel = {"Clip", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
