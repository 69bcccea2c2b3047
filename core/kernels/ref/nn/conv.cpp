// Conv: N-d convolution (1 to 3 spatial dims) with groups, dilations, strides, pads or auto_pad and an
// optional bias, as im2col + GEMM (OpenBLAS for float and double).
#include <algorithm>
#include <type_traits>
#include <vector>

#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::ref {
namespace nn {

// C [m, n] (row stride ldc) = A [m, k] B [k, n] (row stride ldb).
template <class T>
static void gemm_any(int64_t m, int64_t n, int64_t k, const T* a, const T* b, int64_t ldb, T* c, int64_t ldc) {
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        gemm(false, false, m, n, k, T(1), a, k, b, ldb, T(0), c, ldc);
    } else {
        gemm_loops(false, false, m, n, k, T(1), a, k, b, ldb, T(0), c, ldc);
    }
}

template <class T>
void conv_forward(const T* x, const T* weights, const T* bias, T* y, int64_t batch, int64_t channels,
                  int64_t out_channels, int64_t group, const Window& w, std::vector<T>& col) {
    const int64_t cg = channels / group, mg = out_channels / group;
    const int64_t kdim = cg * w.kernel_size(), in_size = w.in_size(), out_size = w.out_size();
    const int64_t rows = w.out[0] * w.out[1], row_len = w.out[2];
    const bool pointwise = w.is_pointwise();
    const int64_t band = std::max<int64_t>(
        1, std::min(rows, kConvColumnBytes / static_cast<int64_t>(sizeof(T)) / std::max<int64_t>(1, kdim * row_len)));
    if (!pointwise) col.resize(static_cast<size_t>(kdim * band * row_len));
    for (int64_t n = 0; n < batch; ++n) {
        for (int64_t g = 0; g < group; ++g) {
            const T* xg = x + (n * channels + g * cg) * in_size;
            const T* wg = weights + g * mg * kdim;
            T* yg = y + (n * out_channels + g * mg) * out_size;
            if (pointwise) {
                gemm_any(mg, out_size, kdim, wg, xg, out_size, yg, out_size);
                continue;
            }
            for (int64_t r0 = 0; r0 < rows; r0 += band) {
                const int64_t r1 = std::min(rows, r0 + band), cols = (r1 - r0) * row_len;
                im2col(xg, cg, w, r0, r1, col.data());
                gemm_any(mg, cols, kdim, wg, col.data(), cols, yg + r0 * row_len, out_size);
            }
        }
        if (!bias) continue;
        for (int64_t m = 0; m < out_channels; ++m) {
            T* row = y + (n * out_channels + m) * out_size;
            for (int64_t i = 0; i < out_size; ++i) row[i] += bias[m];
        }
    }
}

template void conv_forward<float>(const float*, const float*, const float*, float*, int64_t, int64_t, int64_t, int64_t,
                                  const Window&, std::vector<float>&);
template void conv_forward<double>(const double*, const double*, const double*, double*, int64_t, int64_t, int64_t,
                                   int64_t, const Window&, std::vector<double>&);
template void conv_forward<int32_t>(const int32_t*, const int32_t*, const int32_t*, int32_t*, int64_t, int64_t, int64_t,
                                    int64_t, const Window&, std::vector<int32_t>&);

}  // namespace nn

namespace {

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!nn::is_float(t)) return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    if (ctx.input_dtype(1) != t) return ctx.error("weights W must have the type of X");
    const ir::Shape& x = ctx.input_shape(0);
    const ir::Shape& w = ctx.input_shape(1);
    nn::Window win;
    RT_RETURN_IF_ERROR(nn::conv_geometry(ctx.node(), x, w, win));
    if (ctx.has_input(2)) {
        if (ctx.input_dtype(2) != t) return ctx.error("bias B must have the type of X");
        RT_RETURN_IF_ERROR(nn::check_vector(ctx, 2, w[0], "bias B"));
    }
    ir::Shape out = {x[0], w[0]};
    for (int64_t d : win.out_shape()) out.push_back(d);
    ctx.set_output(0, t, out);
    return Status();
}

template <class T>
Status run(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    const ir::Tensor& w = ctx.input(1);
    nn::Window win;
    RT_RETURN_IF_ERROR(nn::conv_geometry(ctx.node(), x.shape(), w.shape(), win));
    const T* bias = ctx.has_input(2) ? ctx.input(2).data<T>() : nullptr;
    std::vector<T> col;
    nn::conv_forward(x.data<T>(), w.data<T>(), bias, ctx.output(0).data<T>(), x.dim(0), x.dim(1), w.dim(0),
                     ctx.node().attr_int("group", 1), win, col);
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

const ir::OpKernel kConvKernel = {"Conv", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
