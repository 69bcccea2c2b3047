// QuantizeLinear, DequantizeLinear (opsets 10, 13, 19, 21) and DynamicQuantizeLinear (opset 11).
// Scale and zero point are per tensor (one element), per axis (1-D along `axis`, opset 13+) or per block
// (same rank as x, `block_size` elements along `axis` sharing one, opset 21+). Rounding is half to even.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/ir/shape_util.h"
#include "core/kernels/ref/misc/kernels.h"
#include "core/kernels/ref/misc/misc_util.h"

namespace rtinfer::ref {
namespace {

// How a scale/zero-point tensor maps onto the elements of x.
struct QuantLayout {
    enum Kind { kTensor, kAxis, kBlock } kind = kTensor;
    int64_t outer = 1, dim = 1, inner = 1;  // x seen as [outer, dim, inner] around the axis
    int64_t block = 0;                      // block size; scale dim along the axis is ceil(dim / block)

    int64_t scale_index(int64_t i) const {
        if (kind == kTensor) return 0;
        const int64_t in = i % inner;
        const int64_t d = (i / inner) % dim;
        if (kind == kAxis) return d;
        const int64_t o = i / (inner * dim);
        const int64_t blocks = (dim + block - 1) / block;
        return (o * blocks + d / block) * inner + in;
    }
};

template <class Ctx>
Status make_layout(const Ctx& ctx, const ir::Shape& x, const ir::Shape& scale, QuantLayout& layout) {
    const int64_t block = ctx.opset() >= 21 ? ctx.node().attr_int("block_size", 0) : 0;
    if (block < 0) return ctx.error("block_size must not be negative");
    if (block == 0 && ir::shape_numel(scale) == 1 && scale.size() <= 1) return Status();
    if (ctx.opset() < 13) return ctx.error("opset " + std::to_string(ctx.opset()) + " allows only a scalar scale");
    const int rank = static_cast<int>(x.size());
    auto axis = ir::normalize_axis(ctx.node().attr_int("axis", 1), rank);
    if (!axis) return ctx.error(axis.status().message());
    const size_t a = static_cast<size_t>(*axis);
    layout.dim = x[a];
    for (size_t i = 0; i < a; ++i) layout.outer *= x[i];
    for (size_t i = a + 1; i < x.size(); ++i) layout.inner *= x[i];
    if (block == 0) {
        if (scale.size() != 1 || scale[0] != x[a]) {
            return ctx.error("scale " + ir::shape_str(scale) + " must be a scalar or 1-D of length " +
                             std::to_string(x[a]) + " (x " + ir::shape_str(x) + ", axis " + std::to_string(a) + ")");
        }
        layout.kind = QuantLayout::kAxis;
        return Status();
    }
    ir::Shape want = x;
    want[a] = (x[a] + block - 1) / block;
    if (scale != want) {
        return ctx.error("blocked scale must have shape " + ir::shape_str(want) + ", got " + ir::shape_str(scale));
    }
    layout.kind = QuantLayout::kBlock;
    layout.block = block;
    return Status();
}

bool is_quant_type(ir::DType t) {
    return t == ir::DType::kUInt8 || t == ir::DType::kInt8;
}

// --- QuantizeLinear ---

Status quantize_infer(ir::InferContext& ctx) {
    if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.error("needs x and y_scale");
    const ir::DType xt = ctx.input_dtype(0);
    if (!misc::is_float_type(xt) && xt != ir::DType::kInt32) {
        return ctx.unsupported("input type " + misc::type_name(xt) + " is not supported");
    }
    if (!misc::is_float_type(ctx.input_dtype(1))) return ctx.error("y_scale must be floating point");
    ir::DType yt = ir::DType::kUInt8;
    if (ctx.has_input(2)) {
        yt = ctx.input_dtype(2);
        if (ctx.input_shape(2) != ctx.input_shape(1)) return ctx.error("y_zero_point and y_scale differ in shape");
    } else if (ctx.opset() >= 21 && ctx.node().has_attr("output_dtype")) {
        yt = misc::dtype_from_onnx(ctx.node().attr_int("output_dtype", 2));
    }
    if (!is_quant_type(yt)) return ctx.unsupported("output type " + misc::type_name(yt) + " is not supported");
    QuantLayout layout;
    RT_RETURN_IF_ERROR(make_layout(ctx, ctx.input_shape(0), ctx.input_shape(1), layout));
    ctx.set_output(0, yt, ctx.input_shape(0));
    return Status();
}

template <class Q>
void quantize(const std::vector<double>& x, const std::vector<double>& scale, const std::vector<int64_t>& zp,
              const QuantLayout& layout, Q* y) {
    constexpr float lo = static_cast<float>(std::numeric_limits<Q>::min());
    constexpr float hi = static_cast<float>(std::numeric_limits<Q>::max());
    for (size_t i = 0; i < x.size(); ++i) {
        const size_t s = static_cast<size_t>(layout.scale_index(static_cast<int64_t>(i)));
        const float q = std::nearbyint(static_cast<float>(x[i]) / static_cast<float>(scale[s]));
        y[i] = static_cast<Q>(std::clamp(q + static_cast<float>(zp.empty() ? 0 : zp[s]), lo, hi));
    }
}

Status quantize_compute(ir::ComputeContext& ctx) {
    QuantLayout layout;
    RT_RETURN_IF_ERROR(make_layout(ctx, ctx.input(0).shape(), ctx.input(1).shape(), layout));
    const std::vector<double> x = ir::to_doubles(ctx.input(0));
    const std::vector<double> scale = ir::to_doubles(ctx.input(1));
    const std::vector<int64_t> zp = ctx.has_input(2) ? ir::to_int64s(ctx.input(2)) : std::vector<int64_t>();
    ir::Tensor& y = ctx.output(0);
    if (y.dtype() == ir::DType::kUInt8) {
        quantize(x, scale, zp, layout, y.data<uint8_t>());
    } else {
        quantize(x, scale, zp, layout, y.data<int8_t>());
    }
    return Status();
}

// --- DequantizeLinear ---

Status dequantize_infer(ir::InferContext& ctx) {
    if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.error("needs x and x_scale");
    const ir::DType xt = ctx.input_dtype(0);
    if (!is_quant_type(xt) && xt != ir::DType::kInt32) {
        return ctx.unsupported("input type " + misc::type_name(xt) + " is not supported");
    }
    const ir::DType st = ctx.input_dtype(1);
    if (!misc::is_float_type(st)) return ctx.error("x_scale must be floating point");
    if (ctx.has_input(2)) {
        if (ctx.input_dtype(2) != xt) return ctx.error("x_zero_point must have the type of x");
        if (ctx.input_shape(2) != ctx.input_shape(1)) return ctx.error("x_zero_point and x_scale differ in shape");
    }
    QuantLayout layout;
    RT_RETURN_IF_ERROR(make_layout(ctx, ctx.input_shape(0), ctx.input_shape(1), layout));
    // From opset 19 the output takes the scale's type; before, it is always float32.
    ctx.set_output(0, ctx.opset() >= 19 ? st : ir::DType::kFloat32, ctx.input_shape(0));
    return Status();
}

Status dequantize_compute(ir::ComputeContext& ctx) {
    QuantLayout layout;
    RT_RETURN_IF_ERROR(make_layout(ctx, ctx.input(0).shape(), ctx.input(1).shape(), layout));
    const std::vector<int64_t> x = ir::to_int64s(ctx.input(0));
    const std::vector<double> scale = ir::to_doubles(ctx.input(1));
    const std::vector<int64_t> zp = ctx.has_input(2) ? ir::to_int64s(ctx.input(2)) : std::vector<int64_t>();
    ir::Tensor& y = ctx.output(0);
    for (size_t i = 0; i < x.size(); ++i) {
        const size_t s = static_cast<size_t>(layout.scale_index(static_cast<int64_t>(i)));
        const float v = static_cast<float>(x[i] - (zp.empty() ? 0 : zp[s])) * static_cast<float>(scale[s]);
        misc::store_value(y, static_cast<int64_t>(i), y.dtype() == ir::DType::kFloat64 ? static_cast<double>(v) : v);
    }
    return Status();
}

// --- DynamicQuantizeLinear ---

Status dynamic_infer(ir::InferContext& ctx) {
    if (ctx.input_dtype(0) != ir::DType::kFloat32 && ctx.input_dtype(0) != ir::DType::kFloat16) {
        return ctx.unsupported("input type " + misc::type_name(ctx.input_dtype(0)) + " is not supported");
    }
    ctx.set_output(0, ir::DType::kUInt8, ctx.input_shape(0));
    if (ctx.num_outputs() > 1) ctx.set_output(1, ir::DType::kFloat32, {});
    if (ctx.num_outputs() > 2) ctx.set_output(2, ir::DType::kUInt8, {});
    return Status();
}

Status dynamic_compute(ir::ComputeContext& ctx) {
    const ir::Tensor& xt = ctx.input(0);
    const float* x = xt.data<float>();
    const int64_t n = xt.numel();
    float lo = 0.0f, hi = 0.0f;  // the range always contains zero so that zero is exact
    for (int64_t i = 0; i < n; ++i) {
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
    }
    const float scale = (hi - lo) / 255.0f;
    float zp = 0.0f;
    if (scale != 0.0f) zp = std::nearbyint(std::clamp(0.0f - lo / scale, 0.0f, 255.0f));
    uint8_t* y = ctx.output(0).data<uint8_t>();
    for (int64_t i = 0; i < n; ++i) {
        const float q = scale == 0.0f ? 0.0f : std::nearbyint(x[i] / scale) + zp;
        y[i] = static_cast<uint8_t>(std::clamp(q, 0.0f, 255.0f));
    }
    if (ctx.has_output(1)) ctx.output(1).data<float>()[0] = scale;
    if (ctx.has_output(2)) ctx.output(2).data<uint8_t>()[0] = static_cast<uint8_t>(zp);
    return Status();
}

}  // namespace

const ir::OpKernel kQuantizeLinearKernel = {"QuantizeLinear", "", quantize_infer, quantize_compute, ir::kOpNone};
const ir::OpKernel kDequantizeLinearKernel = {"DequantizeLinear", "", dequantize_infer, dequantize_compute,
                                              ir::kOpNone};
const ir::OpKernel kDynamicQuantizeLinearKernel = {"DynamicQuantizeLinear", "", dynamic_infer, dynamic_compute,
                                                   ir::kOpNone};

}  // namespace rtinfer::ref
