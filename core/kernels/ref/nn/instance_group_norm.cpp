// InstanceNormalization and GroupNormalization: normalize X [N, C, ...] over each (n, group of channels)
// block, then scale and shift. InstanceNormalization is the case of one channel per group.
// GroupNormalization's scale and bias are per group in opset 18 and per channel from opset 21; the kernel
// tells the two apart by their size (num_groups or C), which is unambiguous for every valid model.
#include <cmath>
#include <string>
#include <vector>

#include "core/kernels/ref/nn/kernels.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::ref {
namespace {

int64_t groups_of(const ir::Node& node, const ir::Shape& x, bool instance) {
    return instance ? x[1] : node.attr_int("num_groups", 0);
}

template <bool kInstance>
Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!nn::is_float(t)) return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    const ir::Shape& x = ctx.input_shape(0);
    if (x.size() < 2) return ctx.error("input X has shape " + ir::shape_str(x) + ", expected [N, C, ...]");
    if (!ctx.has_input(1) || !ctx.has_input(2)) return ctx.error("expects inputs X, scale and B");
    const int64_t channels = x[1];
    if (kInstance) {
        RT_RETURN_IF_ERROR(nn::check_vector(ctx, 1, channels, "scale"));
        RT_RETURN_IF_ERROR(nn::check_vector(ctx, 2, channels, "B"));
    } else {
        if (!ctx.node().has_attr("num_groups")) return ctx.error("the num_groups attribute is required");
        const int64_t groups = groups_of(ctx.node(), x, false);
        if (groups <= 0 || (channels >= 0 && channels % groups != 0)) {
            return ctx.error("num_groups " + std::to_string(groups) + " does not divide the " +
                             std::to_string(channels) + " channels of X " + ir::shape_str(x));
        }
        for (size_t i = 1; i < 3; ++i) {
            const ir::Shape& s = ctx.input_shape(i);
            const int64_t n = ir::shape_numel(s);
            if (s.size() > 1 || (n != groups && n != channels)) {
                return ctx.error(std::string(i == 1 ? "scale" : "bias") + " has shape " + ir::shape_str(s) +
                                 ", expected [" + std::to_string(ctx.opset() >= 21 ? channels : groups) + "]");
            }
        }
    }
    ctx.set_output(0, t, x);
    return Status();
}

template <class T>
void normalize(const T* x, T* y, int64_t batch, int64_t channels, int64_t groups, int64_t inner,
               const std::vector<double>& scale, const std::vector<double>& bias, double epsilon) {
    const int64_t per_group = channels / groups;
    const int64_t block = per_group * inner;
    const bool per_channel = static_cast<int64_t>(scale.size()) == channels;
    for (int64_t n = 0; n < batch; ++n) {
        for (int64_t g = 0; g < groups; ++g) {
            const T* p = x + (n * channels + g * per_group) * inner;
            T* q = y + (n * channels + g * per_group) * inner;
            double sum = 0.0, sq = 0.0;
            for (int64_t i = 0; i < block; ++i) sum += static_cast<double>(p[i]);
            const double mean = block > 0 ? sum / static_cast<double>(block) : 0.0;
            for (int64_t i = 0; i < block; ++i) sq += (p[i] - mean) * (p[i] - mean);
            const double inv = 1.0 / std::sqrt((block > 0 ? sq / static_cast<double>(block) : 0.0) + epsilon);
            for (int64_t c = 0; c < per_group; ++c) {
                const size_t j = static_cast<size_t>(per_channel ? g * per_group + c : g);
                const double k = inv * scale[j], shift = bias[j] - mean * k;
                for (int64_t i = c * inner; i < (c + 1) * inner; ++i) q[i] = static_cast<T>(p[i] * k + shift);
            }
        }
    }
}

template <bool kInstance>
Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    const int64_t batch = x.dim(0), channels = x.dim(1);
    const int64_t inner = batch * channels == 0 ? 0 : x.numel() / (batch * channels);
    const int64_t groups = groups_of(ctx.node(), x.shape(), kInstance);
    const std::vector<double> scale = ir::to_doubles(ctx.input(1));
    const std::vector<double> bias = ir::to_doubles(ctx.input(2));
    const double epsilon = ctx.node().attr_float("epsilon", 1e-5f);
    switch (x.dtype()) {
        case ir::DType::kFloat32:
            normalize(x.data<float>(), ctx.output(0).data<float>(), batch, channels, groups, inner, scale, bias,
                      epsilon);
            break;
        case ir::DType::kFloat64:
            normalize(x.data<double>(), ctx.output(0).data<double>(), batch, channels, groups, inner, scale, bias,
                      epsilon);
            break;
        default:
            return ctx.error("unexpected input type");
    }
    return Status();
}

}  // namespace

const ir::OpKernel kInstanceNormalizationKernel = {"InstanceNormalization", "", infer<true>, compute<true>,
                                                   ir::kOpNone};
const ir::OpKernel kGroupNormalizationKernel = {"GroupNormalization", "", infer<false>, compute<false>, ir::kOpNone};

}  // namespace rtinfer::ref
