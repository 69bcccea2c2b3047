// LpNormalization (opset 1): x divided by its L1 or L2 norm along one axis. A zero norm gives zeros.
#include <cmath>
#include <vector>

#include "core/ir/shape_util.h"
#include "core/kernels/ref/misc/kernels.h"
#include "core/kernels/ref/misc/misc_util.h"

namespace rtinfer::ref {
namespace {

template <class Ctx>
Status read_axis(const Ctx& ctx, int rank, int& axis, int64_t& p) {
    auto a = ir::normalize_axis(ctx.node().attr_int("axis", -1), rank);
    if (!a) return ctx.error(a.status().message());
    axis = *a;
    p = ctx.node().attr_int("p", 2);
    if (p != 1 && p != 2) return ctx.error("p must be 1 or 2, got " + std::to_string(p));
    return Status();
}

Status infer(ir::InferContext& ctx) {
    if (!ctx.has_input(0)) return ctx.error("needs an input");
    if (!misc::is_float_type(ctx.input_dtype(0))) return ctx.unsupported("input must be floating point");
    int axis = 0;
    int64_t p = 2;
    RT_RETURN_IF_ERROR(read_axis(ctx, ctx.input_rank(0), axis, p));
    ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& xt = ctx.input(0);
    int axis = 0;
    int64_t p = 2;
    RT_RETURN_IF_ERROR(read_axis(ctx, xt.rank(), axis, p));
    const std::vector<double> x = ir::to_doubles(xt);
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis; ++i) outer *= xt.dim(i);
    for (int i = axis + 1; i < xt.rank(); ++i) inner *= xt.dim(i);
    const int64_t len = xt.rank() == 0 ? 1 : xt.dim(axis);
    ir::Tensor& y = ctx.output(0);
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t in = 0; in < inner; ++in) {
            double norm = 0.0;
            for (int64_t k = 0; k < len; ++k) {
                const double v = x[static_cast<size_t>((o * len + k) * inner + in)];
                norm += p == 1 ? std::abs(v) : v * v;
            }
            if (p == 2) norm = std::sqrt(norm);
            for (int64_t k = 0; k < len; ++k) {
                const int64_t at = (o * len + k) * inner + in;
                misc::store_value(y, at, norm == 0.0 ? 0.0 : x[static_cast<size_t>(at)] / norm);
            }
        }
    }
    return Status();
}

}  // namespace

const ir::OpKernel kLpNormalizationKernel = {"LpNormalization", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
