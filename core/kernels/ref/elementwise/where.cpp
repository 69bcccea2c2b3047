// Where: out = condition ? X : Y, all three broadcast together. It only selects elements, so it runs
// natively on every type (float16 included) by element size.
#include "core/kernels/ref/elementwise/common.h"
#include "core/kernels/ref/elementwise/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace ew;

Status infer(ir::InferContext& ctx) {
    if (ctx.num_inputs() != 3 || !ctx.has_input(1) || !ctx.has_input(2)) return ctx.error("expects 3 inputs");
    RT_RETURN_IF_ERROR(check_input_type(ctx, 0, kBool));
    RT_RETURN_IF_ERROR(check_input_type(ctx, 1, kAll));
    RT_RETURN_IF_ERROR(check_same_type(ctx, 1, 2));
    return set_broadcast_output(ctx, ctx.input_dtype(1), 0, 3);
}

template <class T>
void select(const ir::Tensor& cond, const ir::Tensor& x, const ir::Tensor& y, ir::Tensor& out) {
    const uint8_t* pc = cond.data<uint8_t>();
    const T* px = x.data<T>();
    const T* py = y.data<T>();
    T* po = out.data<T>();
    ew::for_each_row<3>(out.shape(), {&cond.shape(), &x.shape(), &y.shape()},
                        [&](int64_t o, int64_t n, const std::array<int64_t, 3>& off, const std::array<int64_t, 3>& st) {
                            for (int64_t i = 0; i < n; ++i) {
                                po[o + i] = pc[off[0] + i * st[0]] ? px[off[1] + i * st[1]] : py[off[2] + i * st[2]];
                            }
                        });
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& cond = ctx.input(0);
    const ir::Tensor& x = ctx.input(1);
    const ir::Tensor& y = ctx.input(2);
    ir::Tensor& out = ctx.output(0);
    switch (data_type_size(x.dtype())) {
        case 1:
            select<uint8_t>(cond, x, y, out);
            break;
        case 2:
            select<uint16_t>(cond, x, y, out);
            break;
        case 4:
            select<uint32_t>(cond, x, y, out);
            break;
        case 8:
            select<uint64_t>(cond, x, y, out);
            break;
        default:
            return ctx.error(std::string("unexpected input type ") + data_type_name(x.dtype()));
    }
    return Status();
}

}  // namespace

const ir::OpKernel kWhereKernel = {"Where", "", infer, compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
