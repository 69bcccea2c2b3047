// Unique: the distinct elements (or slices along axis) with first-occurrence indices, inverse indices
// and counts. sorted=1 orders them ascending (slices lexicographically), sorted=0 by first occurrence.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "core/kernels/ref/tensor/common.h"
#include "core/kernels/ref/tensor/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace tensor_ops;

Status infer(ir::InferContext& ctx) {
    int rank = 1;
    if (ctx.node().has_attr("axis")) {
        RT_RETURN_IF_ERROR(node_axis(ctx.node(), ctx.node().attr_int("axis", 0), ctx.input_rank(0)).status());
        rank = ctx.input_rank(0);
    }
    ctx.set_output_unknown(0, ctx.input_dtype(0), rank);
    for (size_t i = 1; i < 4 && i < ctx.num_outputs(); ++i) ctx.set_output_unknown(i, ir::DType::kInt64, 1);
    return Status();
}

// Slice i of [outer, n, inner] is elements (o, i, j); slices compare lexicographically in (o, j) order.
template <class T>
int compare_slices(const T* x, int64_t n, int64_t inner, int64_t outer, int64_t a, int64_t b) {
    for (int64_t o = 0; o < outer; ++o) {
        const T* pa = x + (o * n + a) * inner;
        const T* pb = x + (o * n + b) * inner;
        for (int64_t j = 0; j < inner; ++j) {
            if (pa[j] < pb[j]) return -1;
            if (pb[j] < pa[j]) return 1;
        }
    }
    return 0;
}

// Groups of equal slices: `order` sorted with ties by index, group_of[i] = group of slice i.
template <class T>
void group_slices(const T* x, int64_t n, int64_t inner, int64_t outer, std::vector<int64_t>& order,
                  std::vector<int64_t>& group_start) {
    order.resize(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return compare_slices(x, n, inner, outer, a, b) < 0; });
    group_start.clear();
    for (size_t i = 0; i < order.size(); ++i) {
        if (i == 0 || compare_slices(x, n, inner, outer, order[i - 1], order[i]) != 0) {
            group_start.push_back(static_cast<int64_t>(i));
        }
    }
    group_start.push_back(n);
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    const bool has_axis = ctx.node().has_attr("axis");
    int axis = 0;
    if (has_axis) {
        RT_ASSIGN_OR_RETURN(axis, node_axis(ctx.node(), ctx.node().attr_int("axis", 0), x.rank()));
    }
    const ir::Shape shape = has_axis ? x.shape() : ir::Shape{x.numel()};
    const int64_t n = shape[static_cast<size_t>(axis)];
    int64_t outer = 1;
    int64_t inner = 1;
    for (int d = 0; d < axis; ++d) outer *= shape[static_cast<size_t>(d)];
    for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];

    std::vector<int64_t> order;
    std::vector<int64_t> group_start;
    switch (x.dtype()) {
        case ir::DType::kFloat32: group_slices(x.data<float>(), n, inner, outer, order, group_start); break;
        case ir::DType::kFloat64: group_slices(x.data<double>(), n, inner, outer, order, group_start); break;
        case ir::DType::kInt8: group_slices(x.data<int8_t>(), n, inner, outer, order, group_start); break;
        case ir::DType::kUInt8:
        case ir::DType::kBool: group_slices(x.data<uint8_t>(), n, inner, outer, order, group_start); break;
        case ir::DType::kInt32: group_slices(x.data<int32_t>(), n, inner, outer, order, group_start); break;
        case ir::DType::kInt64: group_slices(x.data<int64_t>(), n, inner, outer, order, group_start); break;
        default: return ctx.error(std::string("type ") + data_type_name(x.dtype()) + " is not supported");
    }
    const size_t groups = group_start.size() - 1;
    // Each group's first occurrence is its first member: the sort kept equal slices in index order.
    std::vector<size_t> out_order(groups);
    std::iota(out_order.begin(), out_order.end(), 0);
    if (ctx.node().attr_int("sorted", 1) == 0) {
        std::sort(out_order.begin(), out_order.end(), [&](size_t a, size_t b) {
            return order[static_cast<size_t>(group_start[a])] < order[static_cast<size_t>(group_start[b])];
        });
    }
    ir::Shape y_shape = shape;
    y_shape[static_cast<size_t>(axis)] = static_cast<int64_t>(groups);
    ir::Tensor& y = ctx.allocate_output(0, x.dtype(), y_shape);
    const size_t es = data_type_size(x.dtype());
    const size_t row = static_cast<size_t>(inner) * es;
    const char* src = static_cast<const char*>(x.raw());
    char* dst = static_cast<char*>(y.raw());
    for (int64_t o = 0; o < outer; ++o) {
        for (size_t g : out_order) {
            const int64_t first = order[static_cast<size_t>(group_start[g])];
            std::memcpy(dst, src + static_cast<size_t>(o * n + first) * row, row);
            dst += row;
        }
    }
    const int64_t u = static_cast<int64_t>(groups);
    if (ctx.has_output(1)) {
        int64_t* p = ctx.allocate_output(1, ir::DType::kInt64, {u}).data<int64_t>();
        for (size_t k = 0; k < groups; ++k) p[k] = order[static_cast<size_t>(group_start[out_order[k]])];
    }
    if (ctx.has_output(2)) {
        int64_t* p = ctx.allocate_output(2, ir::DType::kInt64, {n}).data<int64_t>();
        for (size_t k = 0; k < groups; ++k) {
            const size_t g = out_order[k];
            for (int64_t i = group_start[g]; i < group_start[g + 1]; ++i)
                p[order[static_cast<size_t>(i)]] = static_cast<int64_t>(k);
        }
    }
    if (ctx.has_output(3)) {
        int64_t* p = ctx.allocate_output(3, ir::DType::kInt64, {u}).data<int64_t>();
        for (size_t k = 0; k < groups; ++k) p[k] = group_start[out_order[k] + 1] - group_start[out_order[k]];
    }
    return Status();
}

}  // namespace

const ir::OpKernel kUniqueKernel = {"Unique", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
