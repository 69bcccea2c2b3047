// PRelu: y = x < 0 ? slope * x : x, with slope broadcast to x's shape (unidirectional).
#include "core/kernels/ref/elementwise/common.h"
#include "core/kernels/ref/elementwise/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace ew;

// Integers are allowed from opset 16.
constexpr uint32_t kPReluTypes =
    kFloats | type_bit(DType::kInt32) | type_bit(DType::kInt64) | type_bit(DType::kInt8) | type_bit(DType::kUInt8);

struct PRelu {
    template <class T>
    T operator()(T x, T slope) const {
        return x < T(0) ? static_cast<T>(slope * x) : x;
    }
};

Status infer(ir::InferContext& ctx) {
    if (ctx.num_inputs() != 2 || !ctx.has_input(1)) return ctx.error("expects inputs X and slope");
    RT_RETURN_IF_ERROR(check_input_type(ctx, 0, kPReluTypes));
    RT_RETURN_IF_ERROR(check_same_type(ctx, 0, 1));
    RT_ASSIGN_OR_RETURN(ir::Shape shape, broadcast_inputs(ctx, 0, 2));
    if (ctx.input(0).shape_known && shape != ctx.input_shape(0)) {
        return ctx.error("slope " + ir::shape_str(ctx.input_shape(1)) + " does not broadcast to X " +
                         ir::shape_str(ctx.input_shape(0)));
    }
    set_same_shape_output(ctx, ctx.input_dtype(0));
    return Status();
}

}  // namespace

const ir::OpKernel kPReluKernel = {"PRelu", "", infer, binary_compute<PRelu, kPReluTypes>, ir::kOpNone};

}  // namespace rtinfer::ref
