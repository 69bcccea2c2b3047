// HannWindow, HammingWindow, BlackmanWindow (opset 17): generalized cosine windows of `size` points,
// periodic (denominator size) or symmetric (denominator size - 1), in the type named by output_datatype.
#include <cmath>

#include "core/kernels/ref/misc/kernels.h"
#include "core/kernels/ref/misc/misc_util.h"

namespace rtinfer::ref {
namespace {

enum class Window { kHann, kHamming, kBlackman };

template <Window kWindow>
Status infer(ir::InferContext& ctx) {
    if (!ctx.has_input(0)) return ctx.error("needs the size input");
    const ir::DType st = ctx.input_dtype(0);
    if (st != ir::DType::kInt32 && st != ir::DType::kInt64) return ctx.error("size must be int32 or int64");
    if (ir::shape_numel(ctx.input_shape(0)) != 1) return ctx.error("size must be a scalar");
    const ir::Tensor* size = ctx.input_value(0);
    if (!size) return ctx.error("size must be a constant or computable at build time");
    const int64_t n = ir::to_int64s(*size)[0];
    if (n < 0) return ctx.error("size must not be negative, got " + std::to_string(n));
    const ir::DType out = misc::dtype_from_onnx(ctx.node().attr_int("output_datatype", 1));
    if (out == ir::DType::kUndefined || out == ir::DType::kBool) {
        return ctx.unsupported("output_datatype " + std::to_string(ctx.node().attr_int("output_datatype", 1)) +
                               " is not supported");
    }
    ctx.set_output(0, out, {n});
    return Status();
}

template <Window kWindow>
Status compute(ir::ComputeContext& ctx) {
    ir::Tensor& y = ctx.output(0);
    const int64_t n = y.numel();
    const bool periodic = ctx.node().attr_int("periodic", 1) != 0;
    const double denom = static_cast<double>(periodic ? n : n - 1);
    const double pi = 3.14159265358979323846;
    for (int64_t i = 0; i < n; ++i) {
        const double a = denom > 0.0 ? 2.0 * pi * static_cast<double>(i) / denom : 0.0;
        double v;
        if (kWindow == Window::kHann) {
            v = 0.5 - 0.5 * std::cos(a);
        } else if (kWindow == Window::kHamming) {
            v = 25.0 / 46.0 - (21.0 / 46.0) * std::cos(a);
        } else {
            v = 0.42 - 0.5 * std::cos(a) + 0.08 * std::cos(2.0 * a);
        }
        misc::store_value(y, i, v);
    }
    return Status();
}

}  // namespace

const ir::OpKernel kHannWindowKernel = {"HannWindow", "", infer<Window::kHann>, compute<Window::kHann>, ir::kOpNone};
const ir::OpKernel kHammingWindowKernel = {"HammingWindow", "", infer<Window::kHamming>, compute<Window::kHamming>,
                                           ir::kOpNone};
const ir::OpKernel kBlackmanWindowKernel = {"BlackmanWindow", "", infer<Window::kBlackman>, compute<Window::kBlackman>,
                                            ir::kOpNone};

}  // namespace rtinfer::ref
