// MaxPool (with the optional Indices output), AveragePool and LpPool over 1 to 3 spatial dims: kernel_shape,
// strides, dilations, pads or auto_pad, ceil_mode; count_include_pad for AveragePool, storage_order for the
// MaxPool indices.
#include <cmath>
#include <limits>
#include <string>

#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::ref {
namespace {

Status geometry(const ir::Node& node, const ir::Shape& x, nn::Window& w) {
    if (x.size() < 3) {
        return nn::node_error(node, "input X has shape " + ir::shape_str(x) + ", expected [N, C, spatial...]");
    }
    if (!node.has_attr("kernel_shape")) return nn::node_error(node, "the kernel_shape attribute is required");
    RT_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, nn::kernel_shape(node, {}));
    const int64_t ceil_mode = node.attr_int("ceil_mode", 0);
    if (ceil_mode != 0 && ceil_mode != 1) return nn::node_error(node, "ceil_mode must be 0 or 1");
    return nn::conv_window(node, ir::Shape(x.begin() + 2, x.end()), kernel, ceil_mode != 0, w);
}

ir::Shape output_shape(const ir::Shape& x, const nn::Window& w) {
    ir::Shape out = {x[0], x[1]};
    for (int64_t d : w.out_shape()) out.push_back(d);
    return out;
}

Status infer_common(ir::InferContext& ctx, bool allow_int8) {
    const ir::DType t = ctx.input_dtype(0);
    const bool int8 = t == ir::DType::kInt8 || t == ir::DType::kUInt8;
    if (!nn::is_float(t) && !(allow_int8 && int8)) {
        return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    }
    nn::Window w;
    RT_RETURN_IF_ERROR(geometry(ctx.node(), ctx.input_shape(0), w));
    ctx.set_output(0, t, output_shape(ctx.input_shape(0), w));
    return Status();
}

// ---- MaxPool ----

Status infer_max(ir::InferContext& ctx) {
    RT_RETURN_IF_ERROR(infer_common(ctx, true));
    const int64_t order = ctx.node().attr_int("storage_order", 0);
    if (order != 0 && order != 1) return ctx.error("storage_order must be 0 (row major) or 1 (column major)");
    if (ctx.has_output(1)) ctx.set_output(1, ir::DType::kInt64, ctx.outputs()[0].shape);
    return Status();
}

template <class T>
void max_pool(const T* x, T* y, int64_t* indices, int64_t planes, const nn::Window& w, bool column_major) {
    const nn::WindowTaps taps = nn::window_taps(w);
    const int64_t in_size = w.in_size(), out_size = w.out_size();
    for (int64_t p = 0; p < planes; ++p) {
        const T* plane = x + p * in_size;
        for (int64_t o = 0; o < out_size; ++o) {
            T best = std::numeric_limits<T>::lowest();
            int64_t best_at = -1;
            for (int64_t t = taps.begin[o]; t < taps.begin[o + 1]; ++t) {
                const int64_t at = taps.offset[t];
                if (best_at < 0 || plane[at] > best) {
                    best = plane[at];
                    best_at = at;
                }
            }
            y[p * out_size + o] = best;
            if (!indices) continue;
            if (best_at < 0) {
                indices[p * out_size + o] = -1;
                continue;
            }
            int64_t index = best_at;
            if (column_major) {  // (i0, i1, i2) -> i0 + i1 * in0 + i2 * in0 * in1
                const int64_t i2 = best_at % w.in[2], i1 = best_at / w.in[2] % w.in[1],
                              i0 = best_at / w.in[2] / w.in[1];
                index = i0 + i1 * w.in[0] + i2 * w.in[0] * w.in[1];
            }
            indices[p * out_size + o] = p * in_size + index;
        }
    }
}

template <class T>
Status run_max(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    nn::Window w;
    RT_RETURN_IF_ERROR(geometry(ctx.node(), x.shape(), w));
    int64_t* indices = ctx.has_output(1) ? ctx.output(1).data<int64_t>() : nullptr;
    max_pool(x.data<T>(), ctx.output(0).data<T>(), indices, x.dim(0) * x.dim(1), w,
             ctx.node().attr_int("storage_order", 0) == 1);
    return Status();
}

Status compute_max(ir::ComputeContext& ctx) {
    switch (ctx.input(0).dtype()) {
        case ir::DType::kFloat32:
            return run_max<float>(ctx);
        case ir::DType::kFloat64:
            return run_max<double>(ctx);
        case ir::DType::kInt8:
            return run_max<int8_t>(ctx);
        case ir::DType::kUInt8:
            return run_max<uint8_t>(ctx);
        default:
            return ctx.error("unexpected input type");
    }
}

// ---- AveragePool and LpPool ----

Status infer_average(ir::InferContext& ctx) {
    const int64_t include = ctx.node().attr_int("count_include_pad", 0);
    if (include != 0 && include != 1) return ctx.error("count_include_pad must be 0 or 1");
    return infer_common(ctx, false);
}

// p of LpPool: a float attribute in the first opsets, an int later.
double lp_order(const ir::Node& node) {
    const ir::Attribute* a = node.attr("p");
    if (!a) return 2.0;
    return a->kind == ir::Attribute::Kind::kFloat ? static_cast<double>(a->f) : static_cast<double>(a->i);
}

Status infer_lp(ir::InferContext& ctx) {
    if (!(lp_order(ctx.node()) > 0)) return ctx.error("p must be positive");
    return infer_common(ctx, false);
}

template <class T>
Status run_average_or_lp(ir::ComputeContext& ctx, bool lp) {
    const ir::Tensor& xt = ctx.input(0);
    nn::Window w;
    RT_RETURN_IF_ERROR(geometry(ctx.node(), xt.shape(), w));
    const nn::WindowTaps taps = nn::window_taps(w);
    const bool include_pad = ctx.node().attr_int("count_include_pad", 0) == 1;
    const double p = lp ? lp_order(ctx.node()) : 1.0;
    const int64_t planes = xt.dim(0) * xt.dim(1), in_size = w.in_size(), out_size = w.out_size();
    const T* x = xt.data<T>();
    T* y = ctx.output(0).data<T>();
    for (int64_t pl = 0; pl < planes; ++pl) {
        const T* plane = x + pl * in_size;
        for (int64_t o = 0; o < out_size; ++o) {
            double sum = 0.0;
            const int64_t b = taps.begin[o], e = taps.begin[o + 1];
            if (!lp) {
                for (int64_t t = b; t < e; ++t) sum += static_cast<double>(plane[taps.offset[t]]);
                const int64_t count = include_pad ? taps.padded[o] : e - b;
                y[pl * out_size + o] = static_cast<T>(count > 0 ? sum / static_cast<double>(count) : 0.0);
            } else if (p == 2.0) {
                for (int64_t t = b; t < e; ++t)
                    sum += static_cast<double>(plane[taps.offset[t]]) * plane[taps.offset[t]];
                y[pl * out_size + o] = static_cast<T>(std::sqrt(sum));
            } else {
                for (int64_t t = b; t < e; ++t)
                    sum += std::pow(std::fabs(static_cast<double>(plane[taps.offset[t]])), p);
                y[pl * out_size + o] = static_cast<T>(std::pow(sum, 1.0 / p));
            }
        }
    }
    return Status();
}

Status compute_average(ir::ComputeContext& ctx) {
    switch (ctx.input(0).dtype()) {
        case ir::DType::kFloat32:
            return run_average_or_lp<float>(ctx, false);
        case ir::DType::kFloat64:
            return run_average_or_lp<double>(ctx, false);
        default:
            return ctx.error("unexpected input type");
    }
}

Status compute_lp(ir::ComputeContext& ctx) {
    switch (ctx.input(0).dtype()) {
        case ir::DType::kFloat32:
            return run_average_or_lp<float>(ctx, true);
        case ir::DType::kFloat64:
            return run_average_or_lp<double>(ctx, true);
        default:
            return ctx.error("unexpected input type");
    }
}

}  // namespace

const ir::OpKernel kMaxPoolKernel = {"MaxPool", "", infer_max, compute_max, ir::kOpNone};
const ir::OpKernel kAveragePoolKernel = {"AveragePool", "", infer_average, compute_average, ir::kOpNone};
const ir::OpKernel kLpPoolKernel = {"LpPool", "", infer_lp, compute_lp, ir::kOpNone};

}  // namespace rtinfer::ref
