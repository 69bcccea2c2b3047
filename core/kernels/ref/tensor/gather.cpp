// Gather, GatherElements, GatherND: index-driven copies, moved by element size so every type works.
// Out-of-range indices are errors that name the node.
#include <cstring>

#include "core/kernels/ref/tensor/common.h"
#include "core/kernels/ref/tensor/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace tensor_ops;

Status check_index_type(const ir::Node& node, ir::DType t) {
    if (t != ir::DType::kInt32 && t != ir::DType::kInt64) {
        return node_error(node, std::string("indices must be int32 or int64, not ") + data_type_name(t));
    }
    return Status();
}

Status bad_index(const ir::Node& node, int64_t index, int64_t dim) {
    return node_error(node, "index " + std::to_string(index) + " is out of range for a dim of " + std::to_string(dim),
                      StatusCode::kInvalidArgument);
}

Status gather_infer(ir::InferContext& ctx) {
    RT_RETURN_IF_ERROR(check_index_type(ctx.node(), ctx.input_dtype(1)));
    const ir::Shape& data = ctx.input_shape(0);
    RT_ASSIGN_OR_RETURN(int axis, node_axis(ctx.node(), ctx.node().attr_int("axis", 0), ctx.input_rank(0)));
    if (data.empty()) return ctx.error("data must have rank >= 1");
    ir::Shape out(data.begin(), data.begin() + axis);
    out.insert(out.end(), ctx.input_shape(1).begin(), ctx.input_shape(1).end());
    out.insert(out.end(), data.begin() + axis + 1, data.end());
    ctx.set_output(0, ctx.input_dtype(0), out);
    return Status();
}

Status gather_compute(ir::ComputeContext& ctx) {
    const ir::Tensor& data = ctx.input(0);
    RT_ASSIGN_OR_RETURN(int axis, node_axis(ctx.node(), ctx.node().attr_int("axis", 0), data.rank()));
    const auto indices = read_indices(ctx.input(1));
    const ir::Shape& shape = data.shape();
    int64_t outer = 1;
    int64_t inner = 1;
    for (int d = 0; d < axis; ++d) outer *= shape[static_cast<size_t>(d)];
    for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
    const int64_t n = shape[static_cast<size_t>(axis)];
    const size_t row = static_cast<size_t>(inner) * data_type_size(data.dtype());
    const char* src = static_cast<const char*>(data.raw());
    char* dst = static_cast<char*>(ctx.output(0).raw());
    std::vector<int64_t> wrapped(indices.size());
    for (size_t k = 0; k < indices.size(); ++k) {
        wrapped[k] = indices[k];
        if (!wrap_index(wrapped[k], n)) return bad_index(ctx.node(), indices[k], n);
    }
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t idx : wrapped) {
            std::memcpy(dst, src + static_cast<size_t>(o * n + idx) * row, row);
            dst += row;
        }
    }
    return Status();
}

Status gather_elements_infer(ir::InferContext& ctx) {
    RT_RETURN_IF_ERROR(check_index_type(ctx.node(), ctx.input_dtype(1)));
    RT_RETURN_IF_ERROR(node_axis(ctx.node(), ctx.node().attr_int("axis", 0), ctx.input_rank(0)).status());
    if (ctx.input_rank(0) != ctx.input_rank(1) || ctx.input_rank(0) < 1) {
        return ctx.error("data " + ir::shape_str(ctx.input_shape(0)) + " and indices " +
                         ir::shape_str(ctx.input_shape(1)) + " must have the same rank >= 1");
    }
    ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(1));
    return Status();
}

// Calls fn(position in indices, element offset in data excluding the axis term) for every index.
template <class Fn>
void for_each_element_index(const ir::Shape& index_shape, const std::vector<int64_t>& data_strides, int axis, Fn&& fn) {
    const size_t rank = index_shape.size();
    const int64_t n = ir::shape_numel(index_shape);
    std::vector<int64_t> idx(rank, 0);
    int64_t base = 0;
    for (int64_t i = 0; i < n; ++i) {
        fn(i, base);
        for (size_t d = rank; d-- > 0;) {
            const int64_t step = static_cast<int>(d) == axis ? 0 : data_strides[d];
            base += step;
            if (++idx[d] < index_shape[d]) break;
            base -= step * idx[d];
            idx[d] = 0;
        }
    }
}

Status gather_elements_compute(ir::ComputeContext& ctx) {
    const ir::Tensor& data = ctx.input(0);
    const ir::Tensor& index_t = ctx.input(1);
    RT_ASSIGN_OR_RETURN(int axis, node_axis(ctx.node(), ctx.node().attr_int("axis", 0), data.rank()));
    const auto indices = read_indices(index_t);
    const auto strides = ir::shape_strides(data.shape());
    const int64_t n = data.shape()[static_cast<size_t>(axis)];
    const size_t es = data_type_size(data.dtype());
    const char* src = static_cast<const char*>(data.raw());
    char* dst = static_cast<char*>(ctx.output(0).raw());
    for (size_t d = 0; d < index_t.shape().size(); ++d) {
        if (static_cast<int>(d) != axis && index_t.shape()[d] > data.shape()[d]) {
            return ctx.error("indices " + ir::shape_str(index_t.shape()) + " exceed data " +
                             ir::shape_str(data.shape()));
        }
    }
    Status status;
    for_each_element_index(index_t.shape(), strides, axis, [&](int64_t i, int64_t base) {
        int64_t k = indices[static_cast<size_t>(i)];
        if (!wrap_index(k, n)) {
            if (status.is_ok()) status = bad_index(ctx.node(), indices[static_cast<size_t>(i)], n);
            return;
        }
        std::memcpy(dst + static_cast<size_t>(i) * es,
                    src + static_cast<size_t>(base + k * strides[static_cast<size_t>(axis)]) * es, es);
    });
    return status;
}

Status gather_nd_infer(ir::InferContext& ctx) {
    RT_RETURN_IF_ERROR(check_index_type(ctx.node(), ctx.input_dtype(1)));
    const ir::Shape& data = ctx.input_shape(0);
    const ir::Shape& idx = ctx.input_shape(1);
    const int64_t b = ctx.opset() >= 12 ? ctx.node().attr_int("batch_dims", 0) : 0;
    if (idx.empty() || b < 0 || b >= static_cast<int64_t>(idx.size()) || b >= static_cast<int64_t>(data.size())) {
        return ctx.error("indices " + ir::shape_str(idx) + " and batch_dims " + std::to_string(b) +
                         " do not fit data " + ir::shape_str(data));
    }
    const int64_t k = idx.back();
    if (k < 1 || b + k > static_cast<int64_t>(data.size())) {
        return ctx.error("index tuples of length " + std::to_string(k) + " do not fit data " + ir::shape_str(data));
    }
    for (int64_t d = 0; d < b; ++d) {
        if (idx[static_cast<size_t>(d)] != data[static_cast<size_t>(d)]) {
            return ctx.error("batch dims of indices " + ir::shape_str(idx) + " and data " + ir::shape_str(data) +
                             " differ");
        }
    }
    ir::Shape out(idx.begin(), idx.end() - 1);
    out.insert(out.end(), data.begin() + b + k, data.end());
    ctx.set_output(0, ctx.input_dtype(0), out);
    return Status();
}

Status gather_nd_compute(ir::ComputeContext& ctx) {
    const ir::Tensor& data = ctx.input(0);
    const ir::Tensor& index_t = ctx.input(1);
    const auto indices = read_indices(index_t);
    const ir::Shape& ds = data.shape();
    const ir::Shape& is = index_t.shape();
    const size_t b = static_cast<size_t>(ctx.opset() >= 12 ? ctx.node().attr_int("batch_dims", 0) : 0);
    const size_t k = static_cast<size_t>(is.back());
    const auto strides = ir::shape_strides(ds);
    int64_t batches = 1;
    for (size_t d = 0; d < b; ++d) batches *= ds[d];
    const int64_t tuples = ir::shape_numel(is) / static_cast<int64_t>(k) / std::max<int64_t>(batches, 1);
    const int64_t batch_stride = b > 0 ? strides[b - 1] : 0;
    const size_t es = data_type_size(data.dtype());
    const size_t slice = static_cast<size_t>(b + k < ds.size() ? strides[b + k - 1] : 1) * es;
    const char* src = static_cast<const char*>(data.raw());
    char* dst = static_cast<char*>(ctx.output(0).raw());
    const int64_t* tuple = indices.data();
    for (int64_t bi = 0; bi < batches; ++bi) {
        for (int64_t t = 0; t < tuples; ++t, tuple += k) {
            int64_t off = bi * batch_stride;
            for (size_t j = 0; j < k; ++j) {
                int64_t v = tuple[j];
                if (!wrap_index(v, ds[b + j])) return bad_index(ctx.node(), tuple[j], ds[b + j]);
                off += v * strides[b + j];
            }
            std::memcpy(dst, src + static_cast<size_t>(off) * es, slice);
            dst += slice;
        }
    }
    return Status();
}

}  // namespace

const ir::OpKernel kGatherKernel = {"Gather", "", gather_infer, gather_compute, ir::kOpNativeHalf};
const ir::OpKernel kGatherElementsKernel = {"GatherElements", "", gather_elements_infer, gather_elements_compute,
                                            ir::kOpNativeHalf};
const ir::OpKernel kGatherNDKernel = {"GatherND", "", gather_nd_infer, gather_nd_compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
