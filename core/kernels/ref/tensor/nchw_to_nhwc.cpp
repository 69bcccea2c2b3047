// rtinfer.NchwToNhwc: X [N, C, H, W] -> Y [N, H, W, channels] with the channels past C zero; float16 when the
// attribute to_half is 1, else X's type. What fuse_input_reformat makes of the Cast -> Transpose -> Pad
// chain that turns a float32 NCHW image into the float16 channels-last input of the first convolution.
#include <string>

#include "core/ir/half.h"
#include "core/kernels/ref/tensor/kernels.h"

namespace rtinfer::ref {
namespace {

bool is_float(ir::DType t) {
    return t == ir::DType::kFloat32 || t == ir::DType::kFloat16 || t == ir::DType::kFloat64;
}

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!is_float(t)) return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    const ir::Shape& x = ctx.input_shape(0);
    if (x.size() != 4) return ctx.error("X must be 4-D (NCHW)");
    const int64_t channels = ctx.node().attr_int("channels", x[1]);
    if (channels < x[1])
        return ctx.error("channels " + std::to_string(channels) + " is below X's " + std::to_string(x[1]));
    ctx.set_output(0, ctx.node().attr_int("to_half", 0) != 0 ? ir::DType::kFloat16 : t, {x[0], x[2], x[3], channels});
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    ir::Tensor& y = ctx.output(0);
    const std::vector<double> v = ir::to_doubles(x);
    const int64_t n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3), cy = y.dim(3);
    for (int64_t b = 0; b < n; ++b) {
        for (int64_t i = 0; i < hw; ++i) {
            for (int64_t ch = 0; ch < cy; ++ch) {
                const double value = ch < c ? v[static_cast<size_t>((b * c + ch) * hw + i)] : 0.0;
                const int64_t at = (b * hw + i) * cy + ch;
                switch (y.dtype()) {
                    case ir::DType::kFloat16:
                        y.data<uint16_t>()[at] = ir::float_to_half(static_cast<float>(value));
                        break;
                    case ir::DType::kFloat32:
                        y.data<float>()[at] = static_cast<float>(value);
                        break;
                    case ir::DType::kFloat64:
                        y.data<double>()[at] = value;
                        break;
                    default:
                        return ctx.error("unexpected output type");
                }
            }
        }
    }
    return Status();
}

}  // namespace

const ir::OpKernel kNchwToNhwcKernel = {"NchwToNhwc", ir::kRtinferDomain, infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
