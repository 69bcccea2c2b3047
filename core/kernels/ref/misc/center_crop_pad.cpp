// CenterCropPad (opset 18): crops or zero-pads the chosen axes to the requested sizes around the center
// (extra elements go to the end on odd differences). Pure data movement, so float16 is copied as is.
#include <cstring>
#include <vector>

#include "core/ir/shape_util.h"
#include "core/kernels/ref/misc/kernels.h"
#include "core/kernels/ref/misc/misc_util.h"

namespace rtinfer::ref {
namespace {

template <class Ctx>
Status output_shape(const Ctx& ctx, const ir::Shape& in, const ir::Tensor& shape_t, ir::Shape& out) {
    const std::vector<int64_t> sizes = ir::to_int64s(shape_t);
    const int rank = static_cast<int>(in.size());
    std::vector<int64_t> axes = ctx.node().attr_ints("axes");
    if (axes.empty()) {
        for (int i = 0; i < rank; ++i) axes.push_back(i);
    }
    if (axes.size() != sizes.size()) {
        return ctx.error("shape has " + std::to_string(sizes.size()) + " values for " + std::to_string(axes.size()) +
                         " axes");
    }
    out = in;
    std::vector<bool> seen(in.size(), false);
    for (size_t i = 0; i < axes.size(); ++i) {
        auto a = ir::normalize_axis(axes[i], rank);
        if (!a) return ctx.error(a.status().message());
        if (seen[static_cast<size_t>(*a)]) return ctx.error("axes repeat axis " + std::to_string(*a));
        seen[static_cast<size_t>(*a)] = true;
        if (sizes[i] < 0) return ctx.error("shape must not be negative");
        out[static_cast<size_t>(*a)] = sizes[i];
    }
    return Status();
}

Status infer(ir::InferContext& ctx) {
    if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.error("needs input_data and shape");
    const ir::Tensor* shape_t = ctx.input_value(1);
    if (!shape_t) return ctx.error("shape must be a constant or computable at build time");
    ir::Shape out;
    RT_RETURN_IF_ERROR(output_shape(ctx, ctx.input_shape(0), *shape_t, out));
    ctx.set_output(0, ctx.input_dtype(0), out);
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    ir::Shape out_shape;
    RT_RETURN_IF_ERROR(output_shape(ctx, x.shape(), ctx.input(1), out_shape));
    ir::Tensor& y = ctx.output(0);
    const size_t esize = data_type_size(x.dtype());
    std::memset(y.raw(), 0, y.nbytes());
    const size_t rank = out_shape.size();
    // Per axis: the first input index copied and the first output index written, and the copied length.
    std::vector<int64_t> in_start(rank), out_start(rank), len(rank);
    for (size_t d = 0; d < rank; ++d) {
        const int64_t a = x.shape()[d], b = out_shape[d];
        in_start[d] = a > b ? (a - b) / 2 : 0;
        out_start[d] = b > a ? (b - a) / 2 : 0;
        len[d] = a < b ? a : b;
    }
    const int64_t count = ir::shape_numel(len);
    if (count == 0) return Status();
    const auto in_strides = ir::shape_strides(x.shape());
    const auto out_strides = ir::shape_strides(out_shape);
    const char* src = static_cast<const char*>(x.raw());
    char* dst = static_cast<char*>(y.raw());
    std::vector<int64_t> idx(rank, 0);
    for (int64_t i = 0; i < count; ++i) {
        int64_t si = 0, di = 0;
        for (size_t d = 0; d < rank; ++d) {
            si += (in_start[d] + idx[d]) * in_strides[d];
            di += (out_start[d] + idx[d]) * out_strides[d];
        }
        std::memcpy(dst + static_cast<size_t>(di) * esize, src + static_cast<size_t>(si) * esize, esize);
        for (size_t d = rank; d-- > 0;) {
            if (++idx[d] < len[d]) break;
            idx[d] = 0;
        }
    }
    return Status();
}

}  // namespace

const ir::OpKernel kCenterCropPadKernel = {"CenterCropPad", "", infer, compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
