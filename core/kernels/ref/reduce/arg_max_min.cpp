// ArgMax / ArgMin: the int64 index of the extreme value along one axis; the first one on ties, or the last
// with select_last_index (opset 12).
#include "core/ir/shape_util.h"
#include "core/kernels/ref/reduce/kernels.h"
#include "core/kernels/ref/reduce/reduce_util.h"

namespace rtinfer::ref {
namespace {

Expected<std::vector<bool>> reduced_axis(const ir::Node& node, int rank) {
    const int64_t axis = node.attr_int("axis", 0);
    auto a = ir::normalize_axis(axis, rank);
    if (!a || rank == 0) {
        return Status(StatusCode::kInvalidModel, node.describe() + ": axis " + std::to_string(axis) +
                                                     " is out of range for an input of rank " + std::to_string(rank));
    }
    std::vector<bool> reduced(static_cast<size_t>(rank), false);
    reduced[static_cast<size_t>(*a)] = true;
    return reduced;
}

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!reduce::is_numeric_type(t))
        return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    RT_ASSIGN_OR_RETURN(const std::vector<bool> reduced, reduced_axis(ctx.node(), ctx.input_rank(0)));
    const bool keepdims = ctx.node().attr_int("keepdims", 1) != 0;
    ctx.set_output(0, ir::DType::kInt64, reduce::reduced_shape(ctx.input_shape(0), reduced, keepdims));
    return Status();
}

// The plan reduces a single axis, so the r-th reduced element is index r along it.
template <class T, bool kMax>
void arg_extreme(const reduce::ReducePlan& plan, bool select_last, const T* x, int64_t* y) {
    for (int64_t o = 0; o < plan.out_count; ++o) {
        const T* base = x + plan.out_offsets[static_cast<size_t>(o)];
        int64_t best = 0;
        T best_v = base[0];
        for (int64_t r = 1; r < plan.red_count; ++r) {
            const T v = base[plan.red_offsets[static_cast<size_t>(r)]];
            const bool better =
                kMax ? (v > best_v || (select_last && v == best_v)) : (v < best_v || (select_last && v == best_v));
            if (better) {
                best = r;
                best_v = v;
            }
        }
        y[o] = best;
    }
}

template <bool kMax>
Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    ir::Tensor& y = ctx.output(0);
    RT_ASSIGN_OR_RETURN(const std::vector<bool> reduced, reduced_axis(ctx.node(), x.rank()));
    const reduce::ReducePlan plan = reduce::make_reduce_plan(x.shape(), reduced, true);
    if (plan.red_count == 0 && plan.out_count > 0) return ctx.error("cannot take the arg-extreme of an empty axis");
    const bool last = ctx.node().attr_int("select_last_index", 0) != 0;
    int64_t* out = y.data<int64_t>();
    switch (x.dtype()) {
        case ir::DType::kFloat32:
            arg_extreme<float, kMax>(plan, last, x.data<float>(), out);
            break;
        case ir::DType::kFloat64:
            arg_extreme<double, kMax>(plan, last, x.data<double>(), out);
            break;
        case ir::DType::kInt32:
            arg_extreme<int32_t, kMax>(plan, last, x.data<int32_t>(), out);
            break;
        case ir::DType::kInt64:
            arg_extreme<int64_t, kMax>(plan, last, x.data<int64_t>(), out);
            break;
        case ir::DType::kInt8:
            arg_extreme<int8_t, kMax>(plan, last, x.data<int8_t>(), out);
            break;
        case ir::DType::kUInt8:
            arg_extreme<uint8_t, kMax>(plan, last, x.data<uint8_t>(), out);
            break;
        default:
            return ctx.error(std::string("input type ") + data_type_name(x.dtype()) + " is not supported");
    }
    return Status();
}

}  // namespace

const ir::OpKernel kArgMaxKernel = {"ArgMax", "", infer, compute<true>, ir::kOpNone};
const ir::OpKernel kArgMinKernel = {"ArgMin", "", infer, compute<false>, ir::kOpNone};

}  // namespace rtinfer::ref
