// Relu: y = max(x, 0).
#include <algorithm>

#include "core/kernels/ref/elementwise/kernels.h"

namespace rtinfer::ref {
namespace {

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (t != ir::DType::kFloat32 && t != ir::DType::kFloat64 && t != ir::DType::kFloat16 &&
        t != ir::DType::kInt8 && t != ir::DType::kInt32 && t != ir::DType::kInt64) {
        return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    }
    ctx.set_output(0, t, ctx.input_shape(0));
    return Status();
}

template <class T>
void relu(const T* x, T* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = std::max(x[i], T(0));
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    ir::Tensor& y = ctx.output(0);
    switch (x.dtype()) {
        case ir::DType::kFloat32: relu(x.data<float>(), y.data<float>(), x.numel()); break;
        case ir::DType::kFloat64: relu(x.data<double>(), y.data<double>(), x.numel()); break;
        case ir::DType::kInt8: relu(x.data<int8_t>(), y.data<int8_t>(), x.numel()); break;
        case ir::DType::kInt32: relu(x.data<int32_t>(), y.data<int32_t>(), x.numel()); break;
        case ir::DType::kInt64: relu(x.data<int64_t>(), y.data<int64_t>(), x.numel()); break;
        default: return ctx.error("unexpected input type");
    }
    return Status();
}

}  // namespace

const ir::OpKernel kReluKernel = {"Relu", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
