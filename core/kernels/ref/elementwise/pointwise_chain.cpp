// rtinfer.PointwiseChain: the program of core/ir/pointwise_chain.h evaluated per output element, every input
// read broadcast to the output shape. Each step uses the formula of the reference kernel of the op it came
// from (activations.cpp, unary_math.cpp, binary_arith.cpp, pow.cpp, variadic.cpp, prelu.cpp, clip.cpp) in
// float, so a chain computes what its nodes computed one by one; float16 graphs are widened to float32 by the
// executor, the intermediate values then staying in float instead of being rounded to half between nodes.
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "core/ir/pointwise_chain.h"
#include "core/kernels/ref/elementwise/common.h"
#include "core/kernels/ref/elementwise/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace ew;
using ir::PointwiseOp;

float softplus(float x) {
    return x > 0.0f ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

float evaluate(PointwiseOp op, float a, float b, float p0, float p1) {
    switch (op) {
        case PointwiseOp::kRelu: return a < 0.0f ? 0.0f : a;
        case PointwiseOp::kSigmoid: {
            if (a >= 0.0f) return 1.0f / (1.0f + std::exp(-a));
            const float e = std::exp(a);
            return e / (1.0f + e);
        }
        case PointwiseOp::kTanh: return std::tanh(a);
        case PointwiseOp::kExp: return std::exp(a);
        case PointwiseOp::kLog: return std::log(a);
        case PointwiseOp::kSqrt: return std::sqrt(a);
        case PointwiseOp::kAbs: return std::fabs(a);
        case PointwiseOp::kNeg: return -a;
        case PointwiseOp::kErf: return std::erf(a);
        case PointwiseOp::kReciprocal: return 1.0f / a;
        case PointwiseOp::kClip: {
            const float v = a < p0 ? p0 : a;
            return p1 < v ? p1 : v;
        }
        case PointwiseOp::kLeakyRelu: return a < 0.0f ? p0 * a : a;
        case PointwiseOp::kHardSigmoid: return std::max(0.0f, std::min(1.0f, p0 * a + p1));
        case PointwiseOp::kHardSwish: return a * std::max(0.0f, std::min(1.0f, a / 6.0f + 0.5f));
        case PointwiseOp::kGelu: return 0.5f * a * (1.0f + std::erf(a * 0.7071067811865476f));
        case PointwiseOp::kGeluTanh:
            return 0.5f * a * (1.0f + std::tanh(0.7978845608028654f * (a + 0.044715f * a * a * a)));
        case PointwiseOp::kSoftplus: return softplus(a);
        case PointwiseOp::kElu: return a < 0.0f ? p0 * std::expm1(a) : a;
        case PointwiseOp::kSelu: return a > 0.0f ? p1 * a : p1 * p0 * std::expm1(a);
        case PointwiseOp::kSoftsign: return a / (1.0f + std::fabs(a));
        case PointwiseOp::kMish: return a * std::tanh(softplus(a));
        case PointwiseOp::kAdd: return a + b;
        case PointwiseOp::kSub: return a - b;
        case PointwiseOp::kMul: return a * b;
        case PointwiseOp::kDiv: return a / b;
        case PointwiseOp::kPow: return static_cast<float>(std::pow(static_cast<double>(a), static_cast<double>(b)));
        case PointwiseOp::kMax: return std::isnan(a) || std::isnan(b) ? a + b : (a < b ? b : a);
        case PointwiseOp::kMin: return std::isnan(a) || std::isnan(b) ? a + b : (b < a ? b : a);
        case PointwiseOp::kPRelu: return a < 0.0f ? b * a : a;
    }
    return a;
}

Status infer(ir::InferContext& ctx) {
    RT_RETURN_IF_ERROR(ir::read_pointwise_program(ctx.node(), ctx.num_inputs()).status());
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
        RT_RETURN_IF_ERROR(check_input_type(ctx, i, type_bit(DType::kFloat32) | type_bit(DType::kFloat16)));
        RT_RETURN_IF_ERROR(check_same_type(ctx, 0, i));
    }
    return set_broadcast_output(ctx, ctx.input_dtype(0), 0, ctx.num_inputs());
}

Status compute(ir::ComputeContext& ctx) {
    RT_ASSIGN_OR_RETURN(const std::vector<ir::PointwiseStep> steps,
                        ir::read_pointwise_program(ctx.node(), ctx.num_inputs()));
    constexpr size_t kInputs = ir::kMaxChainInputs;
    const size_t inputs = ctx.num_inputs();
    ir::Tensor& y = ctx.output(0);
    if (y.dtype() != DType::kFloat32) return ctx.error(std::string("unexpected type ") + data_type_name(y.dtype()));
    // Unused operand places read as scalars (stride 0) and are never dereferenced.
    const ir::Shape scalar;
    std::array<const ir::Shape*, kInputs> shapes;
    std::array<const float*, kInputs> data{};
    for (size_t k = 0; k < kInputs; ++k) {
        shapes[k] = k < inputs ? &ctx.input(k).shape() : &scalar;
        if (k < inputs) data[k] = ctx.input(k).data<float>();
    }
    float* out = y.data<float>();
    std::vector<float> slots(inputs + steps.size());
    for_each_row<kInputs>(y.shape(), shapes,
                          [&](int64_t o, int64_t n, const std::array<int64_t, kInputs>& off,
                              const std::array<int64_t, kInputs>& stride) {
                              for (int64_t r = 0; r < n; ++r) {
                                  for (size_t k = 0; k < inputs; ++k) slots[k] = data[k][off[k] + r * stride[k]];
                                  for (size_t j = 0; j < steps.size(); ++j) {
                                      const ir::PointwiseStep& s = steps[j];
                                      const float a = s.a >= 0 ? slots[static_cast<size_t>(s.a)] : s.p0;
                                      const float b = s.b >= 0 ? slots[static_cast<size_t>(s.b)] : s.p1;
                                      slots[inputs + j] = evaluate(s.op, a, b, s.p0, s.p1);
                                  }
                                  out[o + r] = slots.back();
                              }
                          });
    return Status();
}

}  // namespace

const ir::OpKernel kPointwiseChainKernel = {"PointwiseChain", ir::kRtinferDomain, infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
