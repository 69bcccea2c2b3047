#include "core/kernels/ref/nn/nn_common.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/ir/shape_util.h"

namespace rtinfer::ref::nn {
namespace {

int64_t ceil_div(int64_t a, int64_t b) {
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}
int64_t floor_div(int64_t a, int64_t b) {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

std::string ints_str(const std::vector<int64_t>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s + "]";
}

// Reads a per-spatial-dim attribute of `count` positive values, `fallback` when absent.
Status positive_ints(const ir::Node& node, const char* key, size_t count, int64_t fallback, std::vector<int64_t>& out) {
    out = node.attr_ints(key, std::vector<int64_t>(count, fallback));
    if (out.size() != count) {
        return node_error(node, std::string(key) + " " + ints_str(out) + " must have " + std::to_string(count) +
                                    " values, one per spatial dim");
    }
    for (int64_t v : out) {
        if (v <= 0) return node_error(node, std::string(key) + " " + ints_str(out) + " must be positive");
    }
    return Status();
}

Status read_auto_pad(const ir::Node& node, std::string& auto_pad) {
    auto_pad = node.attr_string("auto_pad", "NOTSET");
    if (auto_pad.empty()) auto_pad = "NOTSET";
    if (auto_pad != "NOTSET" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER" && auto_pad != "VALID") {
        return node_error(node, "auto_pad '" + auto_pad + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
    }
    return Status();
}

Status read_pads(const ir::Node& node, size_t rank, std::vector<int64_t>& pads) {
    pads = node.attr_ints("pads", std::vector<int64_t>(2 * rank, 0));
    if (pads.size() != 2 * rank) {
        return node_error(node, "pads " + ints_str(pads) + " must have " + std::to_string(2 * rank) + " values");
    }
    return Status();
}

// Zero-padding bounds of one kernel tap along one dim: out positions o in [lo, hi) read in[o * s + off].
void valid_range(int64_t off, int64_t stride, int64_t in, int64_t out, int64_t& lo, int64_t& hi) {
    lo = off >= 0 ? 0 : ceil_div(-off, stride);
    hi = in - off <= 0 ? 0 : ceil_div(in - off, stride);
    hi = std::min(hi, out);
    lo = std::min(lo, hi);
}

}  // namespace

ir::Shape Window::out_shape() const {
    ir::Shape shape;
    for (int d = kMaxSpatial - rank; d < kMaxSpatial; ++d) shape.push_back(out[d]);
    return shape;
}

bool Window::is_pointwise() const {
    for (int d = 0; d < kMaxSpatial; ++d) {
        if (kernel[d] != 1 || stride[d] != 1 || pad_begin[d] != 0 || pad_end[d] != 0 || in[d] != out[d]) {
            return false;
        }
    }
    return true;
}

Status node_error(const ir::Node& node, const std::string& message, StatusCode code) {
    return Status(code, node.describe() + ": " + message);
}

Expected<std::vector<int64_t>> kernel_shape(const ir::Node& node, const std::vector<int64_t>& from_weights) {
    if (!node.has_attr("kernel_shape")) {
        if (from_weights.empty()) return node_error(node, "the kernel_shape attribute is required");
        return from_weights;
    }
    std::vector<int64_t> k = node.attr_ints("kernel_shape");
    if (!from_weights.empty() && k != from_weights) {
        return node_error(node, "kernel_shape " + ints_str(k) + " does not match the weights' spatial dims " +
                                    ints_str(from_weights));
    }
    for (int64_t v : k) {
        if (v <= 0) return node_error(node, "kernel_shape " + ints_str(k) + " must be positive");
    }
    return k;
}

Status conv_window(const ir::Node& node, const ir::Shape& in_spatial, const std::vector<int64_t>& kernel,
                   bool ceil_mode, Window& w) {
    const size_t rank = in_spatial.size();
    if (rank < 1 || rank > kMaxSpatial) {
        return node_error(node, std::to_string(rank) + " spatial dims: only 1 to 3 are supported",
                          StatusCode::kUnsupported);
    }
    if (kernel.size() != rank) {
        return node_error(node, "kernel_shape " + ints_str(kernel) + " must have " + std::to_string(rank) +
                                    " values, one per spatial dim");
    }
    std::vector<int64_t> strides, dilations, pads;
    std::string auto_pad;
    RT_RETURN_IF_ERROR(positive_ints(node, "strides", rank, 1, strides));
    RT_RETURN_IF_ERROR(positive_ints(node, "dilations", rank, 1, dilations));
    RT_RETURN_IF_ERROR(read_pads(node, rank, pads));
    RT_RETURN_IF_ERROR(read_auto_pad(node, auto_pad));

    w = Window();
    w.rank = static_cast<int>(rank);
    for (size_t i = 0; i < rank; ++i) {
        const size_t d = kMaxSpatial - rank + i;
        const int64_t in = in_spatial[i], k = kernel[i], s = strides[i], dil = dilations[i];
        const int64_t eff_k = (k - 1) * dil + 1;
        w.in[d] = in;
        w.kernel[d] = k;
        w.stride[d] = s;
        w.dilation[d] = dil;
        if (in < 0) {  // unknown until run time
            w.out[d] = -1;
            continue;
        }
        if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
            w.out[d] = ceil_div(in, s);
            const int64_t total = std::max<int64_t>(0, (w.out[d] - 1) * s + eff_k - in);
            w.pad_begin[d] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
            w.pad_end[d] = total - w.pad_begin[d];
            continue;
        }
        if (auto_pad == "NOTSET") {
            w.pad_begin[d] = pads[i];
            w.pad_end[d] = pads[rank + i];
            if (pads[i] < 0 || pads[rank + i] < 0) return node_error(node, "pads " + ints_str(pads) + " are negative");
        }
        const int64_t span = in + w.pad_begin[d] + w.pad_end[d] - eff_k;
        if (span < 0) {
            return node_error(node, "the kernel (" + std::to_string(eff_k) + " with dilation) is larger than the " +
                                        "padded input (" + std::to_string(in + w.pad_begin[d] + w.pad_end[d]) +
                                        ") along spatial dim " + std::to_string(i));
        }
        if (ceil_mode && auto_pad == "NOTSET") {
            w.out[d] = ceil_div(span, s) + 1;
            if ((w.out[d] - 1) * s >= in + w.pad_begin[d]) --w.out[d];
        } else {
            w.out[d] = span / s + 1;
        }
    }
    return Status();
}

Status conv_transpose_window(const ir::Node& node, const ir::Shape& in_spatial, const std::vector<int64_t>& kernel,
                             Window& w) {
    const size_t rank = in_spatial.size();
    if (rank < 1 || rank > kMaxSpatial) {
        return node_error(node, std::to_string(rank) + " spatial dims: only 1 to 3 are supported",
                          StatusCode::kUnsupported);
    }
    if (kernel.size() != rank) {
        return node_error(node, "kernel_shape " + ints_str(kernel) + " must have " + std::to_string(rank) +
                                    " values, one per spatial dim");
    }
    std::vector<int64_t> strides, dilations, pads;
    std::string auto_pad;
    RT_RETURN_IF_ERROR(positive_ints(node, "strides", rank, 1, strides));
    RT_RETURN_IF_ERROR(positive_ints(node, "dilations", rank, 1, dilations));
    RT_RETURN_IF_ERROR(read_pads(node, rank, pads));
    RT_RETURN_IF_ERROR(read_auto_pad(node, auto_pad));
    const std::vector<int64_t> output_padding = node.attr_ints("output_padding", std::vector<int64_t>(rank, 0));
    if (output_padding.size() != rank) {
        return node_error(
            node, "output_padding " + ints_str(output_padding) + " must have " + std::to_string(rank) + " values");
    }
    std::vector<int64_t> output_shape = node.attr_ints("output_shape");
    if (output_shape.size() == rank + 2) output_shape.erase(output_shape.begin(), output_shape.begin() + 2);
    if (!output_shape.empty() && output_shape.size() != rank) {
        return node_error(
            node, "output_shape " + ints_str(output_shape) + " must have " + std::to_string(rank) + " spatial values");
    }

    w = Window();
    w.rank = static_cast<int>(rank);
    for (size_t i = 0; i < rank; ++i) {
        const size_t d = kMaxSpatial - rank + i;
        const int64_t in = in_spatial[i], k = kernel[i], s = strides[i], dil = dilations[i], op = output_padding[i];
        const int64_t eff_k = (k - 1) * dil + 1;
        w.out[d] = in;
        w.kernel[d] = k;
        w.stride[d] = s;
        w.dilation[d] = dil;
        if (op < 0 || (op >= s && op >= dil)) {
            return node_error(node, "output_padding " + ints_str(output_padding) +
                                        " must be smaller than the stride or the dilation");
        }
        if (in < 0) {
            w.in[d] = -1;
            continue;
        }
        const int64_t full = s * (in - 1) + op + eff_k;
        const bool same = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
        if (!output_shape.empty() || same) {
            // The spec's split of the total padding; negative totals (a larger output_shape) pad at the end.
            const int64_t target = output_shape.empty() ? in * s : output_shape[i];
            int64_t total = full - target;
            if (output_shape.empty()) total = std::max<int64_t>(0, total);
            const int64_t half = floor_div(total, 2);
            w.pad_begin[d] = auto_pad == "SAME_UPPER" ? half : total - half;
            w.pad_end[d] = total - w.pad_begin[d];
            w.in[d] = target;
        } else {
            if (auto_pad == "NOTSET") {
                w.pad_begin[d] = pads[i];
                w.pad_end[d] = pads[rank + i];
            }
            w.in[d] = full - w.pad_begin[d] - w.pad_end[d];
        }
        if (w.in[d] <= 0) {
            return node_error(node, "the output size along spatial dim " + std::to_string(i) + " is " +
                                        std::to_string(w.in[d]) + " (pads too large)");
        }
    }
    return Status();
}

Expected<MatMulPlan> matmul_plan(const ir::Node& node, const ir::Shape& a, const ir::Shape& b, bool trans_a,
                                 bool trans_b) {
    if (a.empty() || b.empty()) return node_error(node, "MatMul operands must have rank >= 1, not scalars");
    if ((trans_a && a.size() < 2) || (trans_b && b.size() < 2)) {
        return node_error(node, "a transposed operand must have rank >= 2 (A " + ir::shape_str(a) + ", B " +
                                    ir::shape_str(b) + ")");
    }
    MatMulPlan p;
    p.trans_a = trans_a;
    p.trans_b = trans_b;
    const ir::Shape a_batch(a.begin(), a.end() - (a.size() > 1 ? 2 : 1));
    const ir::Shape b_batch(b.begin(), b.end() - (b.size() > 1 ? 2 : 1));
    p.m = a.size() > 1 ? a[a.size() - (trans_a ? 1 : 2)] : 1;
    p.k = trans_a ? a[a.size() - 2] : a.back();
    const int64_t kb = b.size() > 1 ? b[b.size() - (trans_b ? 1 : 2)] : b[0];
    p.n = b.size() > 1 ? b[b.size() - (trans_b ? 2 : 1)] : 1;
    if (p.k >= 0 && kb >= 0 && p.k != kb) {
        return node_error(node, "inner dimensions differ: A " + ir::shape_str(a) + (trans_a ? " (transposed)" : "") +
                                    " has " + std::to_string(p.k) + " columns, B " + ir::shape_str(b) +
                                    (trans_b ? " (transposed)" : "") + " has " + std::to_string(kb) + " rows");
    }
    auto batch = ir::broadcast_shapes(a_batch, b_batch);
    if (!batch) return node_error(node, "batch dims do not broadcast: " + batch.status().message());
    p.out_shape = *batch;
    if (a.size() > 1) p.out_shape.push_back(p.m);
    if (b.size() > 1) p.out_shape.push_back(p.n);
    const int64_t batches = ir::shape_numel(*batch);
    if (batches < 0 || p.m < 0 || p.k < 0 || p.n < 0) return p;  // unknown dims: the shape is all infer needs
    p.fold_batches = ir::shape_numel(b_batch) == 1 && !trans_a;
    const int64_t a_mat = p.m * p.k, b_mat = p.k * p.n;
    p.a_offsets.reserve(static_cast<size_t>(batches));
    p.b_offsets.reserve(static_cast<size_t>(batches));
    ir::for_each_broadcast(*batch, {a_batch, b_batch}, [&](int64_t, int64_t oa, int64_t ob, int64_t) {
        p.a_offsets.push_back(oa * a_mat);
        p.b_offsets.push_back(ob * b_mat);
    });
    return p;
}

bool matmul_transposed(const ir::Node& node, int index) {
    return node.attr_int(index == 0 ? "rt_trans_a" : "rt_trans_b", 0) != 0;
}

Status conv_geometry(const ir::Node& node, const ir::Shape& x, const ir::Shape& weights, Window& w) {
    if (x.size() < 3)
        return node_error(node, "input X has shape " + ir::shape_str(x) + ", expected [N, C, spatial...]");
    if (weights.size() != x.size()) {
        return node_error(node, "weights W have shape " + ir::shape_str(weights) + ", expected rank " +
                                    std::to_string(x.size()) + " like X " + ir::shape_str(x));
    }
    const int64_t group = node.attr_int("group", 1);
    if (group <= 0) return node_error(node, "group " + std::to_string(group) + " must be positive");
    if (x[1] >= 0 && x[1] != weights[1] * group) {
        return node_error(node, "input channels " + std::to_string(x[1]) + " of X " + ir::shape_str(x) +
                                    " do not match W " + ir::shape_str(weights) + " with group " +
                                    std::to_string(group) + " (expected " + std::to_string(weights[1] * group) + ")");
    }
    if (weights[0] % group != 0) {
        return node_error(node, "output channels " + std::to_string(weights[0]) + " of W are not divisible by group " +
                                    std::to_string(group));
    }
    RT_ASSIGN_OR_RETURN(std::vector<int64_t> kernel,
                        kernel_shape(node, std::vector<int64_t>(weights.begin() + 2, weights.end())));
    return conv_window(node, ir::Shape(x.begin() + 2, x.end()), kernel, false, w);
}

WindowTaps window_taps(const Window& w) {
    WindowTaps t;
    const int64_t out_size = w.out_size();
    t.begin.reserve(static_cast<size_t>(out_size + 1));
    t.padded.reserve(static_cast<size_t>(out_size));
    t.offset.reserve(static_cast<size_t>(out_size * w.kernel_size()));
    t.begin.push_back(0);
    for (int64_t o0 = 0; o0 < w.out[0]; ++o0) {
        for (int64_t o1 = 0; o1 < w.out[1]; ++o1) {
            for (int64_t o2 = 0; o2 < w.out[2]; ++o2) {
                const int64_t o[kMaxSpatial] = {o0, o1, o2};
                int64_t padded = 1;
                for (int d = 0; d < kMaxSpatial; ++d) {
                    int64_t in_pad = 0;
                    for (int64_t k = 0; k < w.kernel[d]; ++k) {
                        const int64_t i = o[d] * w.stride[d] - w.pad_begin[d] + k * w.dilation[d];
                        if (i >= -w.pad_begin[d] && i < w.in[d] + w.pad_end[d]) ++in_pad;
                    }
                    padded *= in_pad;
                }
                t.padded.push_back(padded);
                for (int64_t k0 = 0; k0 < w.kernel[0]; ++k0) {
                    const int64_t i0 = o0 * w.stride[0] - w.pad_begin[0] + k0 * w.dilation[0];
                    if (i0 < 0 || i0 >= w.in[0]) continue;
                    for (int64_t k1 = 0; k1 < w.kernel[1]; ++k1) {
                        const int64_t i1 = o1 * w.stride[1] - w.pad_begin[1] + k1 * w.dilation[1];
                        if (i1 < 0 || i1 >= w.in[1]) continue;
                        for (int64_t k2 = 0; k2 < w.kernel[2]; ++k2) {
                            const int64_t i2 = o2 * w.stride[2] - w.pad_begin[2] + k2 * w.dilation[2];
                            if (i2 < 0 || i2 >= w.in[2]) continue;
                            t.offset.push_back((i0 * w.in[1] + i1) * w.in[2] + i2);
                        }
                    }
                }
                t.begin.push_back(static_cast<int64_t>(t.offset.size()));
            }
        }
    }
    return t;
}

template <class T>
void im2col(const T* image, int64_t channels, const Window& w, int64_t row_begin, int64_t row_end, T* col) {
    const int64_t cols = (row_end - row_begin) * w.out[2];
    for (int64_t c = 0; c < channels; ++c) {
        const T* plane = image + c * w.in_size();
        for (int64_t k0 = 0; k0 < w.kernel[0]; ++k0) {
            for (int64_t k1 = 0; k1 < w.kernel[1]; ++k1) {
                for (int64_t k2 = 0; k2 < w.kernel[2]; ++k2) {
                    T* dst = col;
                    col += cols;
                    const int64_t off2 = k2 * w.dilation[2] - w.pad_begin[2];
                    int64_t lo, hi;
                    valid_range(off2, w.stride[2], w.in[2], w.out[2], lo, hi);
                    for (int64_t row = row_begin; row < row_end; ++row, dst += w.out[2]) {
                        const int64_t o0 = row / w.out[1], o1 = row % w.out[1];
                        const int64_t i0 = o0 * w.stride[0] + k0 * w.dilation[0] - w.pad_begin[0];
                        const int64_t i1 = o1 * w.stride[1] + k1 * w.dilation[1] - w.pad_begin[1];
                        if (i0 < 0 || i0 >= w.in[0] || i1 < 0 || i1 >= w.in[1]) {
                            std::fill(dst, dst + w.out[2], T(0));
                            continue;
                        }
                        const T* src = plane + (i0 * w.in[1] + i1) * w.in[2];
                        std::fill(dst, dst + lo, T(0));
                        if (w.stride[2] == 1) {
                            if (hi > lo) {
                                std::memcpy(dst + lo, src + lo + off2, static_cast<size_t>(hi - lo) * sizeof(T));
                            }
                        } else {
                            for (int64_t o2 = lo; o2 < hi; ++o2) dst[o2] = src[o2 * w.stride[2] + off2];
                        }
                        std::fill(dst + hi, dst + w.out[2], T(0));
                    }
                }
            }
        }
    }
}

template <class T>
void col2im(const T* col, int64_t channels, const Window& w, T* image) {
    const int64_t out_size = w.out_size();
    for (int64_t c = 0; c < channels; ++c) {
        T* plane = image + c * w.in_size();
        for (int64_t k0 = 0; k0 < w.kernel[0]; ++k0) {
            for (int64_t k1 = 0; k1 < w.kernel[1]; ++k1) {
                for (int64_t k2 = 0; k2 < w.kernel[2]; ++k2) {
                    const T* src = col;
                    col += out_size;
                    const int64_t off2 = k2 * w.dilation[2] - w.pad_begin[2];
                    int64_t lo, hi;
                    valid_range(off2, w.stride[2], w.in[2], w.out[2], lo, hi);
                    for (int64_t o0 = 0; o0 < w.out[0]; ++o0) {
                        const int64_t i0 = o0 * w.stride[0] + k0 * w.dilation[0] - w.pad_begin[0];
                        for (int64_t o1 = 0; o1 < w.out[1]; ++o1, src += w.out[2]) {
                            const int64_t i1 = o1 * w.stride[1] + k1 * w.dilation[1] - w.pad_begin[1];
                            if (i0 < 0 || i0 >= w.in[0] || i1 < 0 || i1 >= w.in[1]) continue;
                            T* dst = plane + (i0 * w.in[1] + i1) * w.in[2];
                            for (int64_t o2 = lo; o2 < hi; ++o2) dst[o2 * w.stride[2] + off2] += src[o2];
                        }
                    }
                }
            }
        }
    }
}

template void im2col<float>(const float*, int64_t, const Window&, int64_t, int64_t, float*);
template void im2col<double>(const double*, int64_t, const Window&, int64_t, int64_t, double*);
template void im2col<int32_t>(const int32_t*, int64_t, const Window&, int64_t, int64_t, int32_t*);
template void col2im<float>(const float*, int64_t, const Window&, float*);
template void col2im<double>(const double*, int64_t, const Window&, double*);

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    if (k == 0) {  // BLAS rejects the zero leading dims of empty operands
        for (int64_t i = 0; i < m; ++i) {
            for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == float(0) ? float(0) : beta * c[i * ldc + j];
        }
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
                static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    if (k == 0) {  // BLAS rejects the zero leading dims of empty operands
        for (int64_t i = 0; i < m; ++i) {
            for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == double(0) ? double(0) : beta * c[i * ldc + j];
        }
        return;
    }
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
                static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

template <class T>
void gemm_loops(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
    std::vector<T> row(static_cast<size_t>(n));
    for (int64_t i = 0; i < m; ++i) {
        std::fill(row.begin(), row.end(), T(0));
        for (int64_t p = 0; p < k; ++p) {
            const T av = trans_a ? a[p * lda + i] : a[i * lda + p];
            if (av == T(0)) continue;
            if (trans_b) {
                for (int64_t j = 0; j < n; ++j) row[j] += av * b[j * ldb + p];
            } else {
                const T* brow = b + p * ldb;
                for (int64_t j = 0; j < n; ++j) row[j] += av * brow[j];
            }
        }
        T* crow = c + i * ldc;
        for (int64_t j = 0; j < n; ++j) crow[j] = alpha * row[j] + (beta == T(0) ? T(0) : beta * crow[j]);
    }
}

template void gemm_loops<int32_t>(bool, bool, int64_t, int64_t, int64_t, int32_t, const int32_t*, int64_t,
                                  const int32_t*, int64_t, int32_t, int32_t*, int64_t);
template void gemm_loops<int64_t>(bool, bool, int64_t, int64_t, int64_t, int64_t, const int64_t*, int64_t,
                                  const int64_t*, int64_t, int64_t, int64_t*, int64_t);
template void gemm_loops<uint32_t>(bool, bool, int64_t, int64_t, int64_t, uint32_t, const uint32_t*, int64_t,
                                   const uint32_t*, int64_t, uint32_t, uint32_t*, int64_t);
template void gemm_loops<uint64_t>(bool, bool, int64_t, int64_t, int64_t, uint64_t, const uint64_t*, int64_t,
                                   const uint64_t*, int64_t, uint64_t, uint64_t*, int64_t);

Status check_vector(const ir::InferContext& ctx, size_t input, int64_t count, const char* what) {
    const ir::Shape& s = ctx.input_shape(input);
    if (s.size() > 1 || ir::shape_numel(s) != count) {
        return ctx.error(std::string(what) + " has shape " + ir::shape_str(s) + ", expected [" + std::to_string(count) +
                         "]");
    }
    return Status();
}

bool is_float(ir::DType t) {
    return t == ir::DType::kFloat32 || t == ir::DType::kFloat64 || t == ir::DType::kFloat16;
}

int32_t zero_point_at(const ir::Tensor* zp, int64_t i) {
    if (!zp || !zp->defined() || zp->numel() == 0) return 0;
    const int64_t j = zp->numel() == 1 ? 0 : i;
    switch (zp->dtype()) {
        case ir::DType::kInt8:
            return zp->data<int8_t>()[j];
        case ir::DType::kUInt8:
            return zp->data<uint8_t>()[j];
        case ir::DType::kInt32:
            return zp->data<int32_t>()[j];
        default:
            return 0;
    }
}

std::vector<int32_t> to_int32s(const ir::Tensor& t) {
    std::vector<int32_t> out(static_cast<size_t>(t.numel()));
    for (size_t i = 0; i < out.size(); ++i) {
        switch (t.dtype()) {
            case ir::DType::kInt8:
                out[i] = t.data<int8_t>()[i];
                break;
            case ir::DType::kUInt8:
                out[i] = t.data<uint8_t>()[i];
                break;
            case ir::DType::kInt32:
                out[i] = t.data<int32_t>()[i];
                break;
            default:
                out[i] = 0;
                break;
        }
    }
    return out;
}

bool is_quantized(ir::DType t) {
    return t == ir::DType::kInt8 || t == ir::DType::kUInt8;
}

void store_quantized(ir::Tensor& y, int64_t i, double v, int32_t zero_point) {
    const double q = std::nearbyint(v) + zero_point;
    if (y.dtype() == ir::DType::kUInt8) {
        y.data<uint8_t>()[i] = static_cast<uint8_t>(std::min(255.0, std::max(0.0, q)));
    } else {
        y.data<int8_t>()[i] = static_cast<int8_t>(std::min(127.0, std::max(-128.0, q)));
    }
}

}  // namespace rtinfer::ref::nn
