// Scatter (the deprecated name of ScatterElements), ScatterElements and ScatterND, with the reduction
// attribute (none/add/mul from opset 16, max/min from 18). Output = data, then updates written or combined
// in index order, so duplicate indices reduce as the spec's reference loop does.
#include <algorithm>
#include <cstring>

#include "core/ir/half.h"
#include "core/kernels/ref/tensor/common.h"
#include "core/kernels/ref/tensor/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace tensor_ops;

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

Expected<Reduction> reduction_of(const ir::Node& node, int64_t opset) {
    if (node.op_type == "Scatter" || opset < 16) return Reduction::kNone;
    const std::string r = node.attr_string("reduction", "none");
    if (r == "none") return Reduction::kNone;
    if (r == "add") return Reduction::kAdd;
    if (r == "mul") return Reduction::kMul;
    if (r == "max" && opset >= 18) return Reduction::kMax;
    if (r == "min" && opset >= 18) return Reduction::kMin;
    return node_error(node, "reduction '" + r + "' is not supported", StatusCode::kUnsupported);
}

template <class T>
T reduce(Reduction r, T a, T b) {
    switch (r) {
        case Reduction::kAdd: return static_cast<T>(a + b);
        case Reduction::kMul: return static_cast<T>(a * b);
        case Reduction::kMax: return std::max(a, b);
        case Reduction::kMin: return std::min(a, b);
        case Reduction::kNone: break;
    }
    return b;
}

template <class T>
void combine_as(Reduction r, void* dst, const void* src) {
    T a;
    T b;
    std::memcpy(&a, dst, sizeof(T));
    std::memcpy(&b, src, sizeof(T));
    a = reduce(r, a, b);
    std::memcpy(dst, &a, sizeof(T));
}

// dst[0] = reduce(dst[0], src[0]) for one element of type t.
void combine(ir::DType t, Reduction r, void* dst, const void* src) {
    switch (t) {
        case ir::DType::kFloat32: combine_as<float>(r, dst, src); break;
        case ir::DType::kFloat64: combine_as<double>(r, dst, src); break;
        case ir::DType::kInt8: combine_as<int8_t>(r, dst, src); break;
        case ir::DType::kUInt8: combine_as<uint8_t>(r, dst, src); break;
        case ir::DType::kInt32: combine_as<int32_t>(r, dst, src); break;
        case ir::DType::kInt64: combine_as<int64_t>(r, dst, src); break;
        case ir::DType::kBool: {
            uint8_t a = *static_cast<uint8_t*>(dst) != 0;
            const uint8_t b = *static_cast<const uint8_t*>(src) != 0;
            a = (r == Reduction::kAdd || r == Reduction::kMax) ? (a | b) : (a & b);
            *static_cast<uint8_t*>(dst) = a;
            break;
        }
        case ir::DType::kFloat16: {
            uint16_t a;
            uint16_t b;
            std::memcpy(&a, dst, 2);
            std::memcpy(&b, src, 2);
            a = ir::float_to_half(reduce(r, ir::half_to_float(a), ir::half_to_float(b)));
            std::memcpy(dst, &a, 2);
            break;
        }
        case ir::DType::kUndefined: break;
    }
}

// Writes count elements of src into dst, combining with the reduction.
void apply(ir::DType t, Reduction r, char* dst, const char* src, int64_t count) {
    const size_t es = data_type_size(t);
    if (r == Reduction::kNone) {
        std::memcpy(dst, src, static_cast<size_t>(count) * es);
        return;
    }
    for (int64_t i = 0; i < count; ++i)
        combine(t, r, dst + static_cast<size_t>(i) * es, src + static_cast<size_t>(i) * es);
}

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

Status scatter_elements_infer(ir::InferContext& ctx) {
    RT_RETURN_IF_ERROR(reduction_of(ctx.node(), ctx.opset()).status());
    RT_RETURN_IF_ERROR(check_index_type(ctx.node(), ctx.input_dtype(1)));
    RT_RETURN_IF_ERROR(node_axis(ctx.node(), ctx.node().attr_int("axis", 0), ctx.input_rank(0)).status());
    if (ctx.input_shape(1) != ctx.input_shape(2) || ctx.input_rank(1) != ctx.input_rank(0)) {
        return ctx.error("indices " + ir::shape_str(ctx.input_shape(1)) + " and updates " +
                         ir::shape_str(ctx.input_shape(2)) + " must match each other and the rank of data " +
                         ir::shape_str(ctx.input_shape(0)));
    }
    if (ctx.input_dtype(2) != ctx.input_dtype(0)) return ctx.error("updates and data differ in type");
    ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
    return Status();
}

Status scatter_elements_compute(ir::ComputeContext& ctx) {
    const ir::Tensor& data = ctx.input(0);
    const ir::Tensor& index_t = ctx.input(1);
    const ir::Tensor& updates = ctx.input(2);
    ir::Tensor& out = ctx.output(0);
    RT_ASSIGN_OR_RETURN(Reduction r, reduction_of(ctx.node(), ctx.opset()));
    RT_ASSIGN_OR_RETURN(int axis, node_axis(ctx.node(), ctx.node().attr_int("axis", 0), data.rank()));
    copy_bytes(data, out);
    const auto indices = read_indices(index_t);
    const auto strides = ir::shape_strides(data.shape());
    const ir::Shape& is = index_t.shape();
    for (size_t d = 0; d < is.size(); ++d) {
        if (static_cast<int>(d) != axis && is[d] > data.shape()[d]) {
            return ctx.error("indices " + ir::shape_str(is) + " exceed data " + ir::shape_str(data.shape()));
        }
    }
    const size_t es = data_type_size(data.dtype());
    const int64_t n = data.shape()[static_cast<size_t>(axis)];
    const char* src = static_cast<const char*>(updates.raw());
    char* dst = static_cast<char*>(out.raw());
    const size_t rank = is.size();
    std::vector<int64_t> pos(rank, 0);
    for (int64_t i = 0; i < index_t.numel(); ++i) {
        int64_t k = indices[static_cast<size_t>(i)];
        if (!wrap_index(k, n)) return bad_index(ctx.node(), indices[static_cast<size_t>(i)], n);
        int64_t off = 0;
        for (size_t d = 0; d < rank; ++d) off += (static_cast<int>(d) == axis ? k : pos[d]) * strides[d];
        apply(data.dtype(), r, dst + static_cast<size_t>(off) * es, src + static_cast<size_t>(i) * es, 1);
        for (size_t d = rank; d-- > 0;) {
            if (++pos[d] < is[d]) break;
            pos[d] = 0;
        }
    }
    return Status();
}

Status scatter_nd_infer(ir::InferContext& ctx) {
    RT_RETURN_IF_ERROR(reduction_of(ctx.node(), ctx.opset()).status());
    RT_RETURN_IF_ERROR(check_index_type(ctx.node(), ctx.input_dtype(1)));
    const ir::Shape& data = ctx.input_shape(0);
    const ir::Shape& idx = ctx.input_shape(1);
    const ir::Shape& upd = ctx.input_shape(2);
    const int64_t k = idx.empty() ? 0 : idx.back();
    if (idx.empty() || k < 1 || k > static_cast<int64_t>(data.size())) {
        return ctx.error("indices " + ir::shape_str(idx) + " do not fit data " + ir::shape_str(data));
    }
    ir::Shape expected(idx.begin(), idx.end() - 1);
    expected.insert(expected.end(), data.begin() + k, data.end());
    if (upd != expected) {
        return ctx.error("updates " + ir::shape_str(upd) + " must have shape " + ir::shape_str(expected));
    }
    if (ctx.input_dtype(2) != ctx.input_dtype(0)) return ctx.error("updates and data differ in type");
    ctx.set_output(0, ctx.input_dtype(0), data);
    return Status();
}

Status scatter_nd_compute(ir::ComputeContext& ctx) {
    const ir::Tensor& data = ctx.input(0);
    const ir::Tensor& index_t = ctx.input(1);
    const ir::Tensor& updates = ctx.input(2);
    ir::Tensor& out = ctx.output(0);
    RT_ASSIGN_OR_RETURN(Reduction r, reduction_of(ctx.node(), ctx.opset()));
    copy_bytes(data, out);
    const auto indices = read_indices(index_t);
    const ir::Shape& ds = data.shape();
    const size_t k = static_cast<size_t>(index_t.shape().back());
    const auto strides = ir::shape_strides(ds);
    const int64_t slice = k < ds.size() ? strides[k - 1] : 1;
    const int64_t tuples = index_t.numel() / static_cast<int64_t>(k);
    const size_t es = data_type_size(data.dtype());
    const char* src = static_cast<const char*>(updates.raw());
    char* dst = static_cast<char*>(out.raw());
    for (int64_t t = 0; t < tuples; ++t) {
        int64_t off = 0;
        for (size_t j = 0; j < k; ++j) {
            int64_t v = indices[static_cast<size_t>(t) * k + j];
            if (!wrap_index(v, ds[j])) return bad_index(ctx.node(), indices[static_cast<size_t>(t) * k + j], ds[j]);
            off += v * strides[j];
        }
        apply(data.dtype(), r, dst + static_cast<size_t>(off) * es, src + static_cast<size_t>(t * slice) * es, slice);
    }
    return Status();
}

}  // namespace

const ir::OpKernel kScatterKernel = {"Scatter", "", scatter_elements_infer, scatter_elements_compute,
                                     ir::kOpNativeHalf};
const ir::OpKernel kScatterElementsKernel = {"ScatterElements", "", scatter_elements_infer, scatter_elements_compute,
                                             ir::kOpNativeHalf};
const ir::OpKernel kScatterNDKernel = {"ScatterND", "", scatter_nd_infer, scatter_nd_compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
