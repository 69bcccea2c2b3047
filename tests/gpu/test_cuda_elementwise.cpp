// The elementwise CUDA kernels against the CPU reference kernels: random non-zero data, float32 and float16,
// broadcast shapes (equal, row, crossed, scalar, per-channel, 6-D), integer arithmetic and bool outputs
// compared exactly. Outputs are poisoned (NaN / 0xA5 bytes) before every launch and each op is enqueued
// twice, so elements a kernel leaves unwritten fail.
//
// Tolerances: float32 |cuda - ref| <= 1e-5 * |ref| + 1e-6 * max|ref|. CUDA's expf/tanhf/erff/powf/sinf are
// within 1-4 ulp (~2.4e-7 relative each) of the correctly rounded result and the host libm is within about
// one, so composed ops (Mish, Gelu, Softplus, Celu) stay far below 1e-5 relative; the absolute term, a
// millionth of the tensor's magnitude, only covers outputs near a zero crossing (Sin near pi, Gelu and
// Mish for negative x, Sub of near-equal values) where the last-ulp differences of the inputs of a final
// add or multiply are large relative to a tiny result. float16: 5e-3 relative + 5e-4 * max|ref|, the
// rounding to half being the same on both sides (round to nearest even, computed in float).
#include <gtest/gtest.h>

#include <cuda_runtime.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/ir/half.h"
#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/cuda_op.h"
#include "core/kernels/cuda/elementwise/common.h"
#include "core/kernels/ref/ref_backend.h"
#include "tests/gpu/cuda_case_check.h"
#include "tests/gpu/gpu_test_util.h"

namespace ir = rtinfer::ir;
namespace cu = rtinfer::cuda;
using rtinfer::DataType;
using rtinfer::Expected;
using rtinfer::Status;
using rtinfer::StatusCode;

namespace {

using namespace rtinfer::testing::cases;

const DataType kFloatTypes[] = {DataType::kFloat32, DataType::kFloat16};
const DataType kIntTypes[] = {DataType::kInt32, DataType::kInt64};

// Broadcast pairs of input shapes: equal, row, crossed, scalar either side, per-channel, 6-D alternating,
// and shapes for the float16 group paths.
const std::vector<std::pair<ir::Shape, ir::Shape>> kShapePairs = {
    {{2, 3, 33}, {2, 3, 33}},
    {{2, 3, 4}, {4}},
    {{2, 1, 4}, {3, 1}},
    {{2, 3, 4}, {}},
    {{}, {2, 3, 4}},
    {{2, 3, 17, 9}, {3, 1, 1}},
    {{1, 3, 1, 1}, {2, 3, 5, 7}},
    {{2, 1, 2, 1, 3, 1}, {1, 2, 1, 3, 1, 2}},
    {{1}, {1}},
    // float16 runs these through groups of 8 or 2 halves: per-channel scale in channels-last, a broadcast
    // inner dim, a crossed pair whose broadcast operand has an odd outer stride, equal shapes.
    {{2, 5, 6, 8}, {2, 1, 1, 8}},
    {{4, 6}, {4, 1}},
    {{1, 8}, {3, 1}},
    {{3, 16}, {3, 1}},
    {{2, 4, 8}, {2, 4, 8}},
};

// ---- unary -------------------------------------------------------------------------------------------

struct UnaryCase {
    std::string op;
    Attrs attrs;
    double lo;
    double hi;
};

TEST(CudaElementwise, UnaryFloatOps) {
    RT_REQUIRE_GPU();
    const std::vector<UnaryCase> cases = {
        {"Relu", {}, -4, 4},
        {"LeakyRelu", {{"alpha", attr_f(0.2f)}}, -4, 4},
        {"Elu", {{"alpha", attr_f(0.7f)}}, -4, 4},
        {"Selu", {}, -4, 4},
        {"Celu", {{"alpha", attr_f(1.3f)}}, -4, 4},
        {"Sigmoid", {}, -8, 8},
        {"HardSigmoid", {{"alpha", attr_f(0.3f)}, {"beta", attr_f(0.4f)}}, -4, 4},
        {"HardSwish", {}, -5, 5},
        {"Tanh", {}, -4, 4},
        {"Softplus", {}, -10, 10},
        {"Softsign", {}, -4, 4},
        {"Gelu", {}, -4, 4},
        {"Gelu", {{"approximate", attr_s("tanh")}}, -4, 4},
        {"Mish", {}, -6, 6},
        {"Erf", {}, -3, 3},
        {"Exp", {}, -5, 5},
        {"Log", {}, 0.05, 20},
        {"Sqrt", {}, 0.05, 20},
        {"Reciprocal", {}, -4, 4},
        {"Neg", {}, -4, 4},
        {"Abs", {}, -4, 4},
        {"Floor", {}, -4, 4},
        {"Ceil", {}, -4, 4},
        {"Round", {}, -4, 4},
        {"Sign", {}, -4, 4},
        {"Sin", {}, -6, 6},
        {"Cos", {}, -6, 6},
    };
    uint32_t seed = 1;
    for (const UnaryCase& u : cases) {
        for (DataType t : kFloatTypes) {
            check({u.op, {data(random_tensor(t, {2, 3, 33, 17}, u.lo, u.hi, seed++))}, u.attrs});
        }
    }
}

TEST(CudaElementwise, RoundHalfToEven) {
    RT_REQUIRE_GPU();
    const std::vector<float> v = {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 3.5f, 0.49999997f, -3.7f, 4.2f, 1e7f + 0.5f};
    for (DataType t : kFloatTypes) check({"Round", {data(float_values(t, {11}, v))}});
    // The reference is checked against numpy's rounding in the unit tests; pin the float32 result here too.
    Case c{"Round", {data(float_values(DataType::kFloat32, {11}, v))}};
    const ir::Node node = make_node(c);
    Expected<ir::Tensor> got = run_cuda(c, node, DataType::kFloat32, {11});
    ASSERT_TRUE(got.has_value()) << got.status().to_string();
    const std::vector<float> want = {-2, -2, -0.0f, 0, 2, 2, 4, 0, -4, 4, 1e7f};
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got->data<float>()[i], want[i]) << "element " << i;
}

TEST(CudaElementwise, UnaryIntegerOpsAreExact) {
    RT_REQUIRE_GPU();
    uint32_t seed = 100;
    for (const char* op : {"Neg", "Abs", "Sign", "Relu"}) {
        for (DataType t : kIntTypes) check({op, {data(random_tensor(t, {3, 5, 7}, -100000, 100000, seed++))}});
    }
    // The most negative value wraps in Neg and Abs, as in the reference.
    const int64_t lo64 = std::numeric_limits<int64_t>::min();
    const int32_t lo32 = std::numeric_limits<int32_t>::min();
    for (const char* op : {"Neg", "Abs"}) {
        check({op, {data(int_values<int64_t>(DataType::kInt64, {3}, {lo64, -7, 9}))}});
        check({op, {data(int_values<int32_t>(DataType::kInt32, {3}, {lo32, -7, 9}))}});
    }
}

TEST(CudaElementwise, Not) {
    RT_REQUIRE_GPU();
    check({"Not", {data(random_tensor(DataType::kBool, {4, 33, 9}, 0, 1, 7))}});
}

TEST(CudaElementwise, Clip) {
    RT_REQUIRE_GPU();
    uint32_t seed = 200;
    for (DataType t : kFloatTypes) {
        const ir::Shape shape = {2, 3, 4, 9};
        // Attributes before opset 11.
        check({"Clip",
               {data(random_tensor(t, shape, -4, 4, seed++))},
               {{"min", attr_f(-1.5f)}, {"max", attr_f(2.f)}},
               6});
        check({"Clip", {data(random_tensor(t, shape, -4, 4, seed++))}, {{"max", attr_f(0.5f)}}, 6});
        // Inputs from 11: constants, run-time scalars, one of them, none, and min > max (all become max).
        const ir::Tensor lo = float_values(t, {}, {-1.25f});
        const ir::Tensor hi = float_values(t, {}, {2.5f});
        check({"Clip", {data(random_tensor(t, shape, -4, 4, seed++)), constant(lo), constant(hi)}, {}, 13});
        check({"Clip", {data(random_tensor(t, shape, -4, 4, seed++)), data(lo), data(hi)}, {}, 13});
        check({"Clip", {data(random_tensor(t, shape, -4, 4, seed++)), constant(lo), data(hi)}, {}, 13});
        check({"Clip", {data(random_tensor(t, shape, -4, 4, seed++)), absent(), data(hi)}, {}, 13});
        check({"Clip", {data(random_tensor(t, shape, -4, 4, seed++)), data(lo)}, {}, 13});
        check({"Clip", {data(random_tensor(t, shape, -4, 4, seed++))}, {}, 13});
        check({"Clip", {data(random_tensor(t, shape, -4, 4, seed++)), constant(hi), constant(lo)}, {}, 13});
    }
    for (DataType t : kIntTypes) {
        const ir::Tensor lo =
            t == DataType::kInt32 ? int_values<int32_t>(t, {}, {-50}) : int_values<int64_t>(t, {}, {-50});
        const ir::Tensor hi =
            t == DataType::kInt32 ? int_values<int32_t>(t, {}, {70}) : int_values<int64_t>(t, {}, {70});
        check({"Clip", {data(random_tensor(t, {5, 31}, -100, 100, seed++)), constant(lo), data(hi)}, {}, 13});
        check({"Clip", {data(random_tensor(t, {5, 31}, -100, 100, seed++)), data(lo), absent()}, {}, 13});
    }
}

TEST(CudaElementwise, PReluSlopeBroadcast) {
    RT_REQUIRE_GPU();
    uint32_t seed = 300;
    for (DataType t : kFloatTypes) {
        for (const ir::Shape& slope : {ir::Shape{3, 1, 1}, ir::Shape{5}, ir::Shape{1}, ir::Shape{2, 3, 4, 5}}) {
            check({"PRelu",
                   {data(random_tensor(t, {2, 3, 4, 5}, -4, 4, seed++)),
                    data(random_tensor(t, slope, 0.05, 1, seed++))}});
        }
    }
}

// ---- binary ------------------------------------------------------------------------------------------

TEST(CudaElementwise, BinaryFloatArithmeticBroadcast) {
    RT_REQUIRE_GPU();
    uint32_t seed = 400;
    for (const char* op : {"Add", "Sub", "Mul", "Div", "Pow"}) {
        for (DataType t : kFloatTypes) {
            for (const auto& [sa, sb] : kShapePairs) {
                // Pow: a positive base, so that fractional exponents give numbers.
                const bool pow = std::string(op) == "Pow";
                check({op,
                       {data(random_tensor(t, sa, pow ? 0.1 : -4, 4, seed++)),
                        data(random_tensor(t, sb, pow ? -2 : -4, pow ? 2 : 4, seed++))}});
            }
        }
    }
    for (DataType t : kFloatTypes) {
        for (const auto& [sa, sb] : kShapePairs) {
            check({"Mod",
                   {data(random_tensor(t, sa, -10, 10, seed++)), data(random_tensor(t, sb, -3, 3, seed++))},
                   {{"fmod", attr_i(1)}}});
        }
    }
}

TEST(CudaElementwise, PowConstantExponent) {
    RT_REQUIRE_GPU();
    uint32_t seed = 500;
    for (DataType t : kFloatTypes) {
        for (float e : {2.0f, 0.5f, 3.0f, -1.5f, 1.0f}) {
            // Negative bases too for the integral exponents.
            const double lo = e == 2.0f || e == 3.0f || e == 1.0f ? -3 : 0.1;
            check({"Pow", {data(random_tensor(t, {4, 7, 9}, lo, 3, seed++)), constant(float_values(t, {}, {e}))}});
        }
        // An exponent of another type (int64), and one of shape [1, 1] that only adds dims to the output.
        check({"Pow",
               {data(random_tensor(t, {4, 9}, -3, 3, seed++)),
                constant(int_values<int64_t>(DataType::kInt64, {}, {3}))}});
        check({"Pow", {data(random_tensor(t, {9}, -3, 3, seed++)), constant(float_values(t, {1, 1}, {2.0f}))}});
    }
}

TEST(CudaElementwise, IntegerArithmeticIsExact) {
    RT_REQUIRE_GPU();
    uint32_t seed = 600;
    for (DataType t : kIntTypes) {
        for (const auto& [sa, sb] : kShapePairs) {
            for (const char* op : {"Add", "Sub", "Mul", "Max", "Min"}) {
                check({op,
                       {data(random_tensor(t, sa, -100000, 100000, seed++)),
                        data(random_tensor(t, sb, -100000, 100000, seed++))}});
            }
            // Div and Mod with a constant divisor, negative ones included.
            for (int64_t fmod : {0, 1}) {
                check({"Mod",
                       {data(random_tensor(t, sa, -1000, 1000, seed++)), constant(random_tensor(t, sb, -9, 9, seed++))},
                       {{"fmod", attr_i(fmod)}}});
            }
            check({"Div",
                   {data(random_tensor(t, sa, -1000, 1000, seed++)), constant(random_tensor(t, sb, -9, 9, seed++))}});
        }
    }
    // Wrap-around: overflowing Add and Mul, and the most negative value divided by -1.
    const int64_t big = std::numeric_limits<int64_t>::max();
    const int64_t low = std::numeric_limits<int64_t>::min();
    const ir::Tensor a = int_values<int64_t>(DataType::kInt64, {4}, {big, low, big - 3, -5});
    for (const char* op : {"Add", "Sub", "Mul"}) {
        check({op, {data(a), data(int_values<int64_t>(DataType::kInt64, {4}, {7, -2, 5, 3}))}});
    }
    check({"Div", {data(a), constant(int_values<int64_t>(DataType::kInt64, {4}, {-1, -1, 2, -3}))}});
    check({"Mod", {data(a), constant(int_values<int64_t>(DataType::kInt64, {4}, {-1, 7, -2, 3}))}});
}

TEST(CudaElementwiseCreate, IntegerDivisionDeclinedWhenTheDivisorCouldBeZero) {
    const ir::Tensor a = random_tensor(DataType::kInt64, {2, 3}, -100, 100, 1);
    // Known only at run time: the reference must report division by zero, which a kernel cannot.
    check_unsupported({"Div", {data(a), data(random_tensor(DataType::kInt64, {3}, -5, 5, 2))}});
    check_unsupported({"Mod", {data(a), data(random_tensor(DataType::kInt64, {3}, -5, 5, 3))}});
    check_unsupported({"Div", {data(a), constant(int_values<int64_t>(DataType::kInt64, {3}, {1, 0, 2}))}});
}

TEST(CudaElementwiseCreate, UnsupportedTypesAndRanksAreDeclined) {
    ir::Tensor d(DataType::kFloat64, {2, 3});
    d.data<double>()[0] = 1.5;
    check_unsupported({"Add", {data(d), data(d)}});
    check_unsupported({"Sigmoid", {data(random_tensor(DataType::kInt64, {4}, -5, 5, 4))}});
    // 8 alternating broadcast dims do not coalesce below the kernel's 6.
    check_unsupported({"Add",
                       {data(random_tensor(DataType::kFloat32, {2, 1, 2, 1, 2, 1, 2, 1}, -1, 1, 5)),
                        data(random_tensor(DataType::kFloat32, {1, 2, 1, 2, 1, 2, 1, 2}, -1, 1, 6))}});
}

// The broadcast index tables create() builds; no GPU needed.
TEST(CudaElementwiseCreate, BroadcastCoalescesDims) {
    ir::Node node;
    node.name = "n";
    node.op_type = "Add";
    const cu::OpSetup setup{node, 20, {}, {}};
    namespace ew = cu::ew;
    // Equal shapes and scalars: flat, no index math.
    auto flat = ew::make_broadcast<2>(setup, {2, 3, 4}, {{2, 3, 4}, {}});
    ASSERT_TRUE(flat.has_value());
    EXPECT_EQ(flat->rank, 0);
    EXPECT_EQ(flat->flat[0], 1);
    EXPECT_EQ(flat->flat[1], 0);
    // A row: [6, 4] with the row's stride 0 on the outer dim.
    auto row = ew::make_broadcast<2>(setup, {2, 3, 4}, {{2, 3, 4}, {4}});
    ASSERT_TRUE(row.has_value());
    ASSERT_EQ(row->rank, 2);
    EXPECT_EQ(row->dims[0], 6);
    EXPECT_EQ(row->dims[1], 4);
    EXPECT_EQ(row->strides[1][0], 0);
    EXPECT_EQ(row->strides[1][1], 1);
    // Per-channel: [2, 3, 35], the channel operand strided on the middle dim only.
    auto chan = ew::make_broadcast<2>(setup, {2, 3, 5, 7}, {{2, 3, 5, 7}, {3, 1, 1}});
    ASSERT_TRUE(chan.has_value());
    ASSERT_EQ(chan->rank, 3);
    EXPECT_EQ(chan->dims[2], 35);
    EXPECT_EQ(chan->strides[1][0], 0);
    EXPECT_EQ(chan->strides[1][1], 1);
    EXPECT_EQ(chan->strides[1][2], 0);
    EXPECT_EQ(chan->strides[0][1], 35);
    for (int d = 0; d < 3; ++d) {
        for (uint32_t x : {0u, 34u, 35u, 209u, 2147483647u}) {
            const uint32_t q =
                static_cast<uint32_t>(((static_cast<uint64_t>(x) * chan->magic[d] >> 32) + x) >> chan->shift[d]);
            EXPECT_EQ(q, x / static_cast<uint32_t>(chan->dims[d])) << "x " << x << " dim " << chan->dims[d];
        }
    }
    // Shapes that do not broadcast to the output are an error, not a silent misread.
    auto bad = ew::make_broadcast<2>(setup, {2, 3, 4}, {{2, 3, 4}, {3}});
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidModel);
}

TEST(CudaElementwise, HighRankShapesThatCoalesce) {
    RT_REQUIRE_GPU();
    // Rank 8, but only two distinct dims after merging.
    check({"Mul",
           {data(random_tensor(DataType::kFloat32, {2, 2, 2, 2, 3, 1, 1, 1}, -2, 2, 7)),
            data(random_tensor(DataType::kFloat32, {1, 1, 1, 1, 1, 2, 2, 2}, -2, 2, 8))}});
}

TEST(CudaElementwise, Comparisons) {
    RT_REQUIRE_GPU();
    uint32_t seed = 700;
    // Small integral values, so that ties (where the five ops differ) are common.
    for (const char* op : {"Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"}) {
        for (DataType t : {DataType::kFloat32, DataType::kFloat16, DataType::kInt32, DataType::kInt64}) {
            for (const auto& [sa, sb] : kShapePairs) {
                ir::Tensor a = random_tensor(t, sa, -3, 3, seed++);
                ir::Tensor b = random_tensor(t, sb, -3, 3, seed++);
                if (is_float(t)) {
                    // Round to integers: floats only, so the tie structure matches the integer runs.
                    for (ir::Tensor* x : {&a, &b}) {
                        std::vector<double> v = ir::to_doubles(*x);
                        std::vector<float> r;
                        for (double e : v) r.push_back(static_cast<float>(e < 0 ? std::floor(e) : std::ceil(e)));
                        *x = float_values(t, x->shape(), r);
                    }
                }
                check({op, {data(a), data(b)}});
            }
        }
    }
    check({"Equal",
           {data(random_tensor(DataType::kBool, {2, 3, 4}, 0, 1, seed++)),
            data(random_tensor(DataType::kBool, {3, 1}, 0, 1, seed++))}});
}

TEST(CudaElementwise, LogicalOps) {
    RT_REQUIRE_GPU();
    uint32_t seed = 800;
    for (const char* op : {"And", "Or", "Xor"}) {
        for (const auto& [sa, sb] : kShapePairs) {
            check({op,
                   {data(random_tensor(DataType::kBool, sa, 0, 1, seed++)),
                    data(random_tensor(DataType::kBool, sb, 0, 1, seed++))}});
        }
    }
}

TEST(CudaElementwise, WhereThreeWayBroadcast) {
    RT_REQUIRE_GPU();
    uint32_t seed = 900;
    const std::vector<std::vector<ir::Shape>> shapes = {
        {{2, 3, 4}, {2, 3, 4}, {2, 3, 4}}, {{2, 1, 4}, {3, 1}, {}}, {{4}, {2, 3, 1}, {3, 4}}, {{}, {2, 3, 4}, {4}}};
    for (DataType t : {DataType::kFloat32, DataType::kFloat16, DataType::kInt32, DataType::kInt64, DataType::kBool,
                       DataType::kUInt8}) {
        for (const auto& s : shapes) {
            check({"Where",
                   {data(random_tensor(DataType::kBool, s[0], 0, 1, seed++)),
                    data(random_tensor(t, s[1], 1, 100, seed++)), data(random_tensor(t, s[2], -100, -1, seed++))}});
        }
    }
}

// ---- variadic ----------------------------------------------------------------------------------------

TEST(CudaElementwise, VariadicFold) {
    RT_REQUIRE_GPU();
    uint32_t seed = 1000;
    // The first pair ([4], [3, 1]) broadcasts to less than the output; later inputs widen it.
    const std::vector<std::vector<ir::Shape>> lists = {
        {{2, 3, 4}}, {{2, 3, 4}, {4}}, {{4}, {3, 1}, {2, 3, 4}}, {{2, 3, 4}, {4}, {3, 1}, {2, 1, 1}}};
    for (const char* op : {"Max", "Min", "Sum", "Mean"}) {
        const bool floats_only = std::string(op) == "Sum" || std::string(op) == "Mean";
        for (DataType t : {DataType::kFloat32, DataType::kFloat16, DataType::kInt32, DataType::kInt64}) {
            if (floats_only && !is_float(t)) continue;
            for (const auto& shapes : lists) {
                Case c{op};
                for (const ir::Shape& s : shapes) c.inputs.push_back(data(random_tensor(t, s, -50, 50, seed++)));
                check(c);
            }
        }
    }
}

TEST(CudaElementwise, VariadicFoldInPlace) {
    RT_REQUIRE_GPU();
    // The output shares input 2's buffer, which the fold reads after writing the output once.
    for (const char* op : {"Sum", "Max", "Mean"}) {
        Case c{op};
        c.inputs = {data(random_tensor(DataType::kFloat32, {4}, -5, 5, 11)),
                    data(random_tensor(DataType::kFloat32, {3, 4}, -5, 5, 12)),
                    data(random_tensor(DataType::kFloat32, {2, 3, 4}, -5, 5, 13))};
        c.alias_output_to = 2;
        check(c);
    }
}

// ---- cast --------------------------------------------------------------------------------------------

TEST(CudaElementwise, CastAllPairs) {
    RT_REQUIRE_GPU();
    // TensorProto.DataType codes.
    const std::vector<std::pair<DataType, int64_t>> types = {
        {DataType::kFloat32, 1}, {DataType::kFloat16, 10}, {DataType::kInt8, 3}, {DataType::kUInt8, 2},
        {DataType::kInt32, 6},   {DataType::kInt64, 7},    {DataType::kBool, 9}};
    uint32_t seed = 1100;
    for (const auto& [from, from_code] : types) {
        for (const auto& [to, to_code] : types) {
            (void)from_code;
            // Values the target holds (out-of-range float to integer conversion is undefined in C++).
            double lo = -100;
            double hi = 100;
            if (to == DataType::kUInt8 || from == DataType::kUInt8) lo = 1;
            if (from == DataType::kUInt8) hi = 250;
            if (from == DataType::kInt32 && !is_float(to) && to != DataType::kInt8 && to != DataType::kUInt8) {
                lo = -100000;
                hi = 100000;
            }
            if (from == DataType::kInt64 && to == DataType::kInt64) {
                lo = -1e15;
                hi = 1e15;
            }
            check({"Cast", {data(random_tensor(from, {3, 5, 17}, lo, hi, seed++))}, {{"to", attr_i(to_code)}}});
        }
    }
    // Integers that float32 and float16 must round, and integer narrowing that wraps.
    check({"Cast",
           {data(int_values<int64_t>(DataType::kInt64, {4}, {16777217, -16777219, 65519, 70000}))},
           {{"to", attr_i(1)}}});
    check({"Cast",
           {data(int_values<int64_t>(DataType::kInt64, {4}, {2049, 65519, 70000, -2051}))},
           {{"to", attr_i(10)}}});
    check({"Cast", {data(int_values<int64_t>(DataType::kInt64, {3}, {300, -129, 4294967297}))}, {{"to", attr_i(3)}}});
    check({"Cast", {data(int_values<int32_t>(DataType::kInt32, {3}, {300, -1, 256}))}, {{"to", attr_i(2)}}});
    check({"Cast",
           {data(float_values(DataType::kFloat32, {4}, {70000.f, 1e-8f, -65520.f, 0.1f}))},
           {{"to", attr_i(10)}}});
}

TEST(CudaElementwise, CastLike) {
    RT_REQUIRE_GPU();
    check({"CastLike",
           {data(random_tensor(DataType::kFloat32, {3, 7}, -100, 100, 1)),
            data(random_tensor(DataType::kInt64, {1}, 1, 2, 2))}});
    check({"CastLike",
           {data(random_tensor(DataType::kInt32, {3, 7}, -100, 100, 3)),
            data(random_tensor(DataType::kFloat16, {2}, 1, 2, 4))}});
    check({"CastLike",
           {data(random_tensor(DataType::kFloat16, {3, 7}, -100, 100, 5)),
            data(random_tensor(DataType::kBool, {2}, 0, 1, 6))}});
}

}  // namespace
