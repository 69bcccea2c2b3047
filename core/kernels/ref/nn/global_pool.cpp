// GlobalAveragePool, GlobalMaxPool, GlobalLpPool: one value per (N, C) plane, spatial dims kept as 1.
#include <cmath>
#include <string>

#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::ref {
namespace {

enum class Kind { kAverage, kMax, kLp };

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!nn::is_float(t)) return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    const ir::Shape& x = ctx.input_shape(0);
    if (x.size() < 3) return ctx.error("input X has shape " + ir::shape_str(x) + ", expected [N, C, spatial...]");
    ir::Shape out(x.size(), 1);
    out[0] = x[0];
    out[1] = x[1];
    ctx.set_output(0, t, out);
    return Status();
}

// p of GlobalLpPool: a float attribute in opset 1, an int later.
double lp_order(const ir::Node& node) {
    const ir::Attribute* a = node.attr("p");
    if (!a) return 2.0;
    return a->kind == ir::Attribute::Kind::kFloat ? static_cast<double>(a->f) : static_cast<double>(a->i);
}

template <class T>
void global_pool(const T* x, T* y, int64_t planes, int64_t size, Kind kind, double p) {
    for (int64_t pl = 0; pl < planes; ++pl) {
        const T* v = x + pl * size;
        if (kind == Kind::kMax) {
            T best = v[0];
            for (int64_t i = 1; i < size; ++i) best = v[i] > best ? v[i] : best;
            y[pl] = best;
            continue;
        }
        double sum = 0.0;
        if (kind == Kind::kAverage) {
            for (int64_t i = 0; i < size; ++i) sum += static_cast<double>(v[i]);
            y[pl] = static_cast<T>(sum / static_cast<double>(size));
        } else {
            for (int64_t i = 0; i < size; ++i) sum += std::pow(std::fabs(static_cast<double>(v[i])), p);
            y[pl] = static_cast<T>(std::pow(sum, 1.0 / p));
        }
    }
}

template <Kind kKind>
Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    const int64_t planes = x.dim(0) * x.dim(1);
    const int64_t size = planes == 0 ? 0 : x.numel() / planes;
    if (size == 0 && kKind == Kind::kMax) return ctx.error("GlobalMaxPool of an empty spatial extent");
    const double p = lp_order(ctx.node());
    switch (x.dtype()) {
        case ir::DType::kFloat32:
            global_pool(x.data<float>(), ctx.output(0).data<float>(), planes, size, kKind, p);
            break;
        case ir::DType::kFloat64:
            global_pool(x.data<double>(), ctx.output(0).data<double>(), planes, size, kKind, p);
            break;
        default:
            return ctx.error("unexpected input type");
    }
    return Status();
}

}  // namespace

const ir::OpKernel kGlobalAveragePoolKernel = {"GlobalAveragePool", "", infer, compute<Kind::kAverage>, ir::kOpNone};
const ir::OpKernel kGlobalMaxPoolKernel = {"GlobalMaxPool", "", infer, compute<Kind::kMax>, ir::kOpNone};
const ir::OpKernel kGlobalLpPoolKernel = {"GlobalLpPool", "", infer, compute<Kind::kLp>, ir::kOpNone};

}  // namespace rtinfer::ref
