// rtinfer.NhwcGlobalAveragePool: X [N, H, W, C] -> Y [N, 1, 1, C], the mean over H and W (what
// convert_to_nhwc makes of a 2-D GlobalAveragePool).
#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::ref {
namespace {

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!nn::is_float(t)) {
        return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    }
    const ir::Shape& x = ctx.input_shape(0);
    if (x.size() != 4) return ctx.error("X must be 4-D (NHWC)");
    ctx.set_output(0, t, {x[0], 1, 1, x[3]});
    return Status();
}

template <class T>
Status run(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    const int64_t n = x.dim(0), hw = x.dim(1) * x.dim(2), c = x.dim(3);
    const T* src = x.data<T>();
    T* dst = ctx.output(0).data<T>();
    for (int64_t b = 0; b < n; ++b) {
        for (int64_t ch = 0; ch < c; ++ch) {
            double sum = 0.0;
            for (int64_t i = 0; i < hw; ++i) sum += static_cast<double>(src[(b * hw + i) * c + ch]);
            dst[b * c + ch] = static_cast<T>(hw > 0 ? sum / static_cast<double>(hw) : 0.0);
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

const ir::OpKernel kNhwcGlobalAveragePoolKernel = {"NhwcGlobalAveragePool", ir::kRtinferDomain, infer, compute,
                                                   ir::kOpNone};

}  // namespace rtinfer::ref
