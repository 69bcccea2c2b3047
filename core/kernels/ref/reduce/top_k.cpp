// TopK: the k largest (or smallest, opset 11 `largest`=0) values along `axis` and their int64 indices. k is an
// attribute before opset 10 and a one-element input after. Equal values keep the lower index first, and the
// result is always sorted (what `sorted`=0 allows too).
#include <algorithm>
#include <numeric>
#include <string>

#include "core/kernels/ref/reduce/kernels.h"
#include "core/kernels/ref/reduce/reduce_util.h"

namespace rtinfer::ref {
namespace {

struct TopKParams {
    int axis = 0;
    int64_t k = 0;
};

Expected<TopKParams> params(const ir::Node& node, int64_t opset, const ir::Shape& shape, bool has_k_input,
                            const ir::Tensor* k_value) {
    const int rank = static_cast<int>(shape.size());
    const int64_t axis = node.attr_int("axis", -1);
    if (rank == 0 || axis < -rank || axis >= rank) {
        return Status(StatusCode::kInvalidModel, node.describe() + ": axis " + std::to_string(axis) +
                                                     " is out of range for an input of rank " + std::to_string(rank));
    }
    TopKParams p;
    p.axis = static_cast<int>(axis < 0 ? axis + rank : axis);
    if (opset >= 10 || has_k_input) {
        if (!has_k_input || !k_value) {
            return Status(StatusCode::kInvalidModel,
                          node.describe() + ": the K input must be a constant or computable at build time");
        }
        const std::vector<int64_t> k = reduce::read_int_values(*k_value);
        if (k.size() != 1) {
            return Status(StatusCode::kInvalidModel,
                          node.describe() + ": K must hold one value, it holds " + std::to_string(k.size()));
        }
        p.k = k[0];
    } else {
        if (!node.has_attr("k")) return Status(StatusCode::kInvalidModel, node.describe() + ": attribute k is missing");
        p.k = node.attr_int("k", 0);
    }
    const int64_t n = shape[static_cast<size_t>(p.axis)];
    if (p.k < 0 || p.k > n) {
        return Status(StatusCode::kInvalidModel, node.describe() + ": k = " + std::to_string(p.k) + " is outside [0, " +
                                                     std::to_string(n) + "] for axis " + std::to_string(p.axis));
    }
    return p;
}

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!reduce::is_numeric_type(t))
        return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    RT_ASSIGN_OR_RETURN(const TopKParams p,
                        params(ctx.node(), ctx.opset(), ctx.input_shape(0), ctx.has_input(1), ctx.input_value(1)));
    ir::Shape out = ctx.input_shape(0);
    out[static_cast<size_t>(p.axis)] = p.k;
    ctx.set_output(0, t, out);
    if (ctx.num_outputs() > 1) ctx.set_output(1, ir::DType::kInt64, out);
    return Status();
}

template <class T>
void top_k(const reduce::AxisSplit& s, int64_t k, bool largest, const T* x, T* values, int64_t* indices) {
    std::vector<int64_t> order(static_cast<size_t>(s.axis_dim));
    std::vector<T> row(static_cast<size_t>(s.axis_dim));
    for (int64_t o = 0; o < s.outer; ++o) {
        for (int64_t i = 0; i < s.inner; ++i) {
            const T* src = x + o * s.axis_dim * s.inner + i;
            for (int64_t a = 0; a < s.axis_dim; ++a) row[static_cast<size_t>(a)] = src[a * s.inner];
            std::iota(order.begin(), order.end(), int64_t(0));
            // The index breaks ties, so the comparison is a strict total order and the result deterministic.
            auto before = [&](int64_t a, int64_t b) {
                const T va = row[static_cast<size_t>(a)], vb = row[static_cast<size_t>(b)];
                // NaN counts as larger than every number, as in NumPy and PyTorch.
                const bool na = reduce::is_nan(va), nb = reduce::is_nan(vb);
                if (na != nb) return largest ? na : nb;
                if (!na && va != vb) return largest ? va > vb : va < vb;
                return a < b;
            };
            std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
            const int64_t dst = o * k * s.inner + i;
            for (int64_t j = 0; j < k; ++j) {
                const int64_t idx = order[static_cast<size_t>(j)];
                if (values) values[dst + j * s.inner] = row[static_cast<size_t>(idx)];
                if (indices) indices[dst + j * s.inner] = idx;
            }
        }
    }
}

template <class T>
void run_typed(ir::ComputeContext& ctx, const reduce::AxisSplit& s, int64_t k, bool largest) {
    top_k<T>(s, k, largest, ctx.input(0).data<T>(), ctx.has_output(0) ? ctx.output(0).data<T>() : nullptr,
             ctx.has_output(1) ? ctx.output(1).data<int64_t>() : nullptr);
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    RT_ASSIGN_OR_RETURN(const TopKParams p, params(ctx.node(), ctx.opset(), x.shape(), ctx.has_input(1),
                                                   ctx.has_input(1) ? &ctx.input(1) : nullptr));
    const reduce::AxisSplit s = reduce::split_at_axis(x.shape(), p.axis);
    const bool largest = ctx.node().attr_int("largest", 1) != 0;
    switch (x.dtype()) {
        case ir::DType::kFloat32:
            run_typed<float>(ctx, s, p.k, largest);
            break;
        case ir::DType::kFloat64:
            run_typed<double>(ctx, s, p.k, largest);
            break;
        case ir::DType::kInt32:
            run_typed<int32_t>(ctx, s, p.k, largest);
            break;
        case ir::DType::kInt64:
            run_typed<int64_t>(ctx, s, p.k, largest);
            break;
        case ir::DType::kInt8:
            run_typed<int8_t>(ctx, s, p.k, largest);
            break;
        case ir::DType::kUInt8:
            run_typed<uint8_t>(ctx, s, p.k, largest);
            break;
        default:
            return ctx.error(std::string("input type ") + data_type_name(x.dtype()) + " is not supported");
    }
    return Status();
}

}  // namespace

const ir::OpKernel kTopKKernel = {"TopK", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
