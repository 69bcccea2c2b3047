// Shared pieces of the nn reference kernels: sliding-window geometry (output sizes, pads, auto_pad),
// im2col/col2im, row-major GEMM on OpenBLAS, and small helpers for reading parameters.
//
// Windows are stored as 3-D with leading unit dims, so that 1-D, 2-D and 3-D ops share one set of loops.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/ir/op.h"

namespace rtinfer::ref::nn {

constexpr int kMaxSpatial = 3;
// The im2col buffer Conv aims for: large GEMMs, without a huge buffer for large images.
constexpr int64_t kConvColumnBytes = int64_t(16) << 20;

struct Window {
    int rank = 0;  // the op's real spatial rank, 1 to 3; dims [0, 3 - rank) are unit dims
    int64_t in[kMaxSpatial] = {1, 1, 1};
    int64_t out[kMaxSpatial] = {1, 1, 1};
    int64_t kernel[kMaxSpatial] = {1, 1, 1};
    int64_t stride[kMaxSpatial] = {1, 1, 1};
    int64_t dilation[kMaxSpatial] = {1, 1, 1};
    int64_t pad_begin[kMaxSpatial] = {0, 0, 0};
    int64_t pad_end[kMaxSpatial] = {0, 0, 0};

    int64_t in_size() const { return in[0] * in[1] * in[2]; }
    int64_t out_size() const { return out[0] * out[1] * out[2]; }
    int64_t kernel_size() const { return kernel[0] * kernel[1] * kernel[2]; }
    // The real spatial dims of the output.
    ir::Shape out_shape() const;
    // True when im2col would copy the image unchanged (1x1 kernel, unit stride, no padding).
    bool is_pointwise() const;
};

// "node 'n' (Op): message" as a Status.
Status node_error(const ir::Node& node, const std::string& message, StatusCode code = StatusCode::kInvalidModel);

// The spatial kernel size: the kernel_shape attribute when present (checked against `from_weights` when
// that is non-empty), else `from_weights`.
Expected<std::vector<int64_t>> kernel_shape(const ir::Node& node, const std::vector<int64_t>& from_weights);

// Geometry of Conv and the pooling ops: reads strides, dilations, pads and auto_pad from the node and
// computes the output sizes. `ceil_mode` rounds the output size up (pooling), never starting a window in
// the end padding. Unknown input dims (< 0) give unknown output dims.
Status conv_window(const ir::Node& node, const ir::Shape& in_spatial, const std::vector<int64_t>& kernel,
                   bool ceil_mode, Window& w);

// Geometry of ConvTranspose, seen as the convolution it is the gradient of: w.in is the ConvTranspose
// output (the image), w.out its input. Reads strides, dilations, pads, auto_pad, output_padding and
// output_shape.
Status conv_transpose_window(const ir::Node& node, const ir::Shape& in_spatial, const std::vector<int64_t>& kernel,
                             Window& w);

// The input taps of every pooling window, computed once and shared by all (N, C) planes.
struct WindowTaps {
    std::vector<int64_t> begin;   // out_size + 1 entries; taps of output o are offset[begin[o], begin[o + 1])
    std::vector<int64_t> offset;  // row-major offsets inside one input plane, in window order
    std::vector<int64_t> padded;  // per output: taps inside the padded input (count_include_pad's divisor)
};
WindowTaps window_taps(const Window& w);

// A numpy-style batched matmul (MatMul, MatMulInteger, QLinearMatMul): 1-D operands are promoted to a
// matrix and their dim dropped from the output, batch dims broadcast. trans_a / trans_b: that operand (rank
// >= 2) is stored with its last two axes swapped, A as [..., k, m], B as [..., n, k].
struct MatMulPlan {
    int64_t m = 0, k = 0, n = 0;
    bool trans_a = false, trans_b = false;
    ir::Shape out_shape;
    std::vector<int64_t> a_offsets, b_offsets;  // per output matrix: element offset of its A and B matrices
    // B is one matrix and A's batches are contiguous rows: the whole product is one [batches * m, k] x [k, n].
    bool fold_batches = false;
};
Expected<MatMulPlan> matmul_plan(const ir::Node& node, const ir::Shape& a, const ir::Shape& b, bool trans_a = false,
                                 bool trans_b = false);
// A MatMul's rt_trans_a / rt_trans_b attributes (set by passes::fold_reshape_transpose): whether operand
// `index` (0 = A, 1 = B) is stored with its last two axes swapped.
bool matmul_transposed(const ir::Node& node, int index);

// Validates Conv-style X [N, C, spatial...] and W [M, C / group, kernel...] (also ConvInteger, QLinearConv)
// and computes the window; the output is [N, M, w.out_shape()...].
Status conv_geometry(const ir::Node& node, const ir::Shape& x, const ir::Shape& weights, Window& w);

// Y [N, M, out...] = conv(X [N, C, in...], W [M, C / group, kernel...]) + bias [M] (bias may be null), by
// im2col + GEMM per image and group, in bands of output rows that keep `col` (scratch space) near
// kConvColumnBytes. Defined for float, double and int32_t.
template <class T>
void conv_forward(const T* x, const T* weights, const T* bias, T* y, int64_t batch, int64_t channels,
                  int64_t out_channels, int64_t group, const Window& w, std::vector<T>& col);

// image [channels, w.in...] -> col [channels * kernel_size, columns] for the output rows (flattened output
// dims 0 and 1) [row_begin, row_end), each row w.out[2] columns; padding reads as zero.
template <class T>
void im2col(const T* image, int64_t channels, const Window& w, int64_t row_begin, int64_t row_end, T* col);
// Adds col [channels * kernel_size, out_size] into image [channels, w.in...]; the inverse scatter.
template <class T>
void col2im(const T* col, int64_t channels, const Window& w, T* image);

// Row-major C[m,n] = alpha * op(A) op(B) + beta * C with op(A) [m,k], op(B) [k,n]; leading dims are the
// rows' lengths as stored. Float and double go through OpenBLAS.
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc);
// Integer products (the int32/int64 MatMul/Gemm and the quantized ops); plain loops.
template <class T>
void gemm_loops(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

// Checks a per-channel parameter (scale, bias, mean, ...) has `count` elements and rank <= 1.
Status check_vector(const ir::InferContext& ctx, size_t input, int64_t count, const char* what);
// True for float32, float64 and float16 (which the kernels receive converted to float32).
bool is_float(ir::DType t);
// The ConvInteger/QLinear* zero point value at index i (scalar or 1-D); 0 when the tensor is absent.
int32_t zero_point_at(const ir::Tensor* zp, int64_t i);
// An int8/uint8/int32 tensor's values as int32.
std::vector<int32_t> to_int32s(const ir::Tensor& t);
// True for int8 and uint8, the quantized types.
bool is_quantized(ir::DType t);
// Writes round-half-to-even(v) + zero_point, saturated to y's type (int8 or uint8), at element i.
void store_quantized(ir::Tensor& y, int64_t i, double v, int32_t zero_point);

}  // namespace rtinfer::ref::nn
