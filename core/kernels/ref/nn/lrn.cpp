// LRN: local response normalization across channels,
// y = x / (bias + alpha / size * sum of x^2 over channels [c - (size-1)/2, c + ceil((size-1)/2)])^beta.
#include <algorithm>
#include <cmath>
#include <string>

#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::ref {
namespace {

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!nn::is_float(t)) return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    const ir::Shape& x = ctx.input_shape(0);
    if (x.size() < 2) return ctx.error("input X has shape " + ir::shape_str(x) + ", expected [N, C, ...]");
    if (!ctx.node().has_attr("size")) return ctx.error("the size attribute is required");
    if (ctx.node().attr_int("size", 0) <= 0) return ctx.error("size must be positive");
    ctx.set_output(0, t, x);
    return Status();
}

template <class T>
void lrn(const T* x, T* y, int64_t batch, int64_t channels, int64_t inner, int64_t size, double alpha, double beta,
         double bias) {
    const int64_t before = (size - 1) / 2, after = size - 1 - before;
    const double a = alpha / static_cast<double>(size);
    for (int64_t n = 0; n < batch; ++n) {
        const T* xn = x + n * channels * inner;
        T* yn = y + n * channels * inner;
        for (int64_t c = 0; c < channels; ++c) {
            const int64_t lo = std::max<int64_t>(0, c - before), hi = std::min(channels - 1, c + after);
            for (int64_t i = 0; i < inner; ++i) {
                double sq = 0.0;
                for (int64_t j = lo; j <= hi; ++j) sq += static_cast<double>(xn[j * inner + i]) * xn[j * inner + i];
                yn[c * inner + i] = static_cast<T>(xn[c * inner + i] / std::pow(bias + a * sq, beta));
            }
        }
    }
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Node& node = ctx.node();
    const ir::Tensor& x = ctx.input(0);
    const int64_t batch = x.dim(0), channels = x.dim(1);
    const int64_t inner = batch * channels == 0 ? 0 : x.numel() / (batch * channels);
    const int64_t size = node.attr_int("size", 1);
    const double alpha = node.attr_float("alpha", 1e-4f), beta = node.attr_float("beta", 0.75f);
    const double bias = node.attr_float("bias", 1.0f);
    switch (x.dtype()) {
        case ir::DType::kFloat32:
            lrn(x.data<float>(), ctx.output(0).data<float>(), batch, channels, inner, size, alpha, beta, bias);
            break;
        case ir::DType::kFloat64:
            lrn(x.data<double>(), ctx.output(0).data<double>(), batch, channels, inner, size, alpha, beta, bias);
            break;
        default:
            return ctx.error("unexpected input type");
    }
    return Status();
}

}  // namespace

const ir::OpKernel kLrnKernel = {"LRN", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
