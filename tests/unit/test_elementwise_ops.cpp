// The elementwise reference kernels against values computed here independently: std:: math on doubles,
// explicit index arithmetic for broadcasting, hand-written tables for integer and opset semantics.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/ir/half.h"
#include "core/ir/shape_util.h"
#include "core/kernels/ref/ref_backend.h"

namespace ir = rtinfer::ir;
using rtinfer::DataType;
using rtinfer::Expected;
using rtinfer::StatusCode;

namespace {

using Attrs = std::map<std::string, ir::Attribute>;

ir::Attribute attr_f(float v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kFloat;
    a.f = v;
    return a;
}
ir::Attribute attr_i(int64_t v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInt;
    a.i = v;
    return a;
}
ir::Attribute attr_s(const std::string& v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kString;
    a.s = v;
    return a;
}

// Runs one node; a null input is an omitted optional input.
Expected<ir::Tensor> run(const std::string& op, const std::vector<const ir::Tensor*>& inputs, const Attrs& attrs = {},
                         int64_t opset = 17) {
    const ir::OpKernel* kernel = rtinfer::ref::reference_registry().find("", op);
    if (!kernel) return rtinfer::Status(StatusCode::kNotFound, "no kernel for " + op);
    ir::Node node;
    node.name = "test_" + op;
    node.op_type = op;
    for (size_t i = 0; i < inputs.size(); ++i) node.inputs.push_back(inputs[i] ? "in" + std::to_string(i) : "");
    node.outputs = {"out"};
    node.attrs = attrs;
    std::vector<ir::Tensor> outputs;
    RT_RETURN_IF_ERROR(rtinfer::ref::evaluate_node(*kernel, node, opset, inputs, outputs));
    return outputs[0];
}

template <class T>
ir::Tensor make(DataType dtype, ir::Shape shape, const std::vector<T>& values) {
    ir::Tensor t(dtype, std::move(shape));
    EXPECT_EQ(static_cast<size_t>(t.numel()), values.size());
    EXPECT_EQ(sizeof(T), rtinfer::data_type_size(dtype));
    std::memcpy(t.raw(), values.data(), values.size() * sizeof(T));
    return t;
}

// clang-format off
ir::Tensor floats(ir::Shape shape, const std::vector<float>& v) { return make(DataType::kFloat32, shape, v); }
ir::Tensor int32s(ir::Shape shape, const std::vector<int32_t>& v) { return make(DataType::kInt32, shape, v); }
ir::Tensor int64s(ir::Shape shape, const std::vector<int64_t>& v) { return make(DataType::kInt64, shape, v); }
ir::Tensor bools(ir::Shape shape, const std::vector<uint8_t>& v) { return make(DataType::kBool, shape, v); }
// clang-format on

// Uniform in [lo, hi], never closer to zero than 0.05 (so no test passes on zeros).
ir::Tensor random_floats(ir::Shape shape, double lo, double hi, uint32_t seed, DataType dtype = DataType::kFloat32) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<double> dist(lo, hi);
    std::vector<double> v(static_cast<size_t>(ir::shape_numel(shape)));
    for (double& x : v) {
        do {
            x = dist(gen);
        } while (std::fabs(x) < 0.05);
    }
    if (dtype == DataType::kFloat64) return make(dtype, shape, v);
    std::vector<float> f(v.begin(), v.end());
    return make(DataType::kFloat32, shape, f);
}

// The offset of output element `i` in an input of shape `in` broadcast to `out`, by explicit unraveling.
int64_t broadcast_offset(int64_t i, const ir::Shape& out, const ir::Shape& in) {
    int64_t offset = 0;
    int64_t stride = 1;
    for (size_t k = 0; k < out.size(); ++k) {
        const size_t d = out.size() - 1 - k;
        const int64_t coord = i % out[d];
        i /= out[d];
        if (k < in.size()) {
            const int64_t dim = in[in.size() - 1 - k];
            if (dim != 1) offset += coord * stride;
            stride *= dim;
        }
    }
    return offset;
}

void expect_near_all(const ir::Tensor& got, const std::vector<double>& want, double rel, const std::string& what) {
    const std::vector<double> g = ir::to_doubles(got);
    ASSERT_EQ(g.size(), want.size()) << what;
    for (size_t i = 0; i < g.size(); ++i) {
        if (std::isnan(want[i])) {
            EXPECT_TRUE(std::isnan(g[i])) << what << " at " << i;
            continue;
        }
        EXPECT_NEAR(g[i], want[i], rel * std::max(1.0, std::fabs(want[i]))) << what << " at " << i;
    }
}

template <class T>
std::vector<T> values_of(const ir::Tensor& t) {
    return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

// ---- unary -------------------------------------------------------------------------------------------

struct UnaryCase {
    const char* op;
    double lo, hi;
    std::function<double(double)> fn;
    Attrs attrs;
};

double softplus_ref(double x) {
    return std::log(1.0 + std::exp(x));
}

// clang-format off
std::vector<UnaryCase> unary_cases() {
    const double pi = 3.14159265358979323846;
    return {
        {"Abs", -5, 5, [](double x) { return std::fabs(x); }, {}},
        {"Neg", -5, 5, [](double x) { return -x; }, {}},
        {"Exp", -5, 5, [](double x) { return std::exp(x); }, {}},
        {"Log", 0.1, 20, [](double x) { return std::log(x); }, {}},
        {"Sqrt", 0.1, 20, [](double x) { return std::sqrt(x); }, {}},
        {"Reciprocal", 0.5, 4, [](double x) { return 1.0 / x; }, {}},
        {"Floor", -5, 5, [](double x) { return std::floor(x); }, {}},
        {"Ceil", -5, 5, [](double x) { return std::ceil(x); }, {}},
        {"Sign", -5, 5, [](double x) { return x > 0 ? 1.0 : -1.0; }, {}},
        {"Sin", -4, 4, [](double x) { return std::sin(x); }, {}},
        {"Cos", -4, 4, [](double x) { return std::cos(x); }, {}},
        {"Tan", -1.4, 1.4, [](double x) { return std::tan(x); }, {}},
        {"Asin", -0.99, 0.99, [](double x) { return std::asin(x); }, {}},
        {"Acos", -0.99, 0.99, [](double x) { return std::acos(x); }, {}},
        {"Atan", -5, 5, [](double x) { return std::atan(x); }, {}},
        {"Sinh", -3, 3, [](double x) { return std::sinh(x); }, {}},
        {"Cosh", -3, 3, [](double x) { return std::cosh(x); }, {}},
        {"Asinh", -5, 5, [](double x) { return std::asinh(x); }, {}},
        {"Acosh", 1.01, 9, [](double x) { return std::acosh(x); }, {}},
        {"Atanh", -0.95, 0.95, [](double x) { return std::atanh(x); }, {}},
        {"Erf", -3, 3, [](double x) { return std::erf(x); }, {}},
        {"Relu", -5, 5, [](double x) { return x > 0 ? x : 0.0; }, {}},
        {"LeakyRelu", -5, 5, [](double x) { return x > 0 ? x : double(0.01f) * x; }, {}},
        {"LeakyRelu", -5, 5, [](double x) { return x > 0 ? x : double(0.3f) * x; }, {{"alpha", attr_f(0.3f)}}},
        {"Elu", -5, 5, [](double x) { return x > 0 ? x : std::exp(x) - 1.0; }, {}},
        {"Elu", -5, 5, [](double x) { return x > 0 ? x : 2.0 * (std::exp(x) - 1.0); }, {{"alpha", attr_f(2.0f)}}},
        {"Selu", -5, 5,
         [](double x) {
             const double a = 1.67326319217681884765625, g = 1.05070102214813232421875;
             return x > 0 ? g * x : g * (a * std::exp(x) - a);
         },
         {}},
        {"Selu", -5, 5, [](double x) { return x > 0 ? 3.0 * x : 3.0 * (2.0 * std::exp(x) - 2.0); },
         {{"alpha", attr_f(2.0f)}, {"gamma", attr_f(3.0f)}}},
        {"Celu", -5, 5, [](double x) { return std::max(0.0, x) + std::min(0.0, std::exp(x) - 1.0); }, {}},
        {"Celu", -5, 5, [](double x) { return std::max(0.0, x) + std::min(0.0, 2.0 * (std::exp(x / 2.0) - 1.0)); },
         {{"alpha", attr_f(2.0f)}}},
        {"Sigmoid", -20, 20, [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, {}},
        {"HardSigmoid", -5, 5, [](double x) { return std::clamp(double(0.2f) * x + 0.5, 0.0, 1.0); }, {}},
        {"HardSigmoid", -5, 5, [](double x) { return std::clamp(0.5 * x + double(0.6f), 0.0, 1.0); },
         {{"alpha", attr_f(0.5f)}, {"beta", attr_f(0.6f)}}},
        {"HardSwish", -5, 5, [](double x) { return x * std::clamp(x / 6.0 + 0.5, 0.0, 1.0); }, {}},
        {"Tanh", -4, 4, [](double x) { return std::tanh(x); }, {}},
        {"Softplus", -10, 10, softplus_ref, {}},
        {"Softsign", -5, 5, [](double x) { return x / (1.0 + std::fabs(x)); }, {}},
        {"ThresholdedRelu", -5, 5, [](double x) { return x > 1.0 ? x : 0.0; }, {}},
        {"ThresholdedRelu", -5, 5, [](double x) { return x > 2.0 ? x : 0.0; }, {{"alpha", attr_f(2.0f)}}},
        {"Shrink", -3, 3, [](double x) { return x < -0.5 ? x : x > 0.5 ? x : 0.0; }, {}},
        {"Shrink", -3, 3, [](double x) { return x < -1.5 ? x + 0.25 : x > 1.5 ? x - 0.25 : 0.0; },
         {{"bias", attr_f(0.25f)}, {"lambd", attr_f(1.5f)}}},
        {"Gelu", -5, 5, [](double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }, {}},
        {"Gelu", -5, 5,
         [pi](double x) { return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / pi) * (x + 0.044715 * x * x * x))); },
         {{"approximate", attr_s("tanh")}}},
        {"Mish", -5, 5, [](double x) { return x * std::tanh(softplus_ref(x)); }, {}},
    };
}
// clang-format on

TEST(ElementwiseUnary, FloatOpsMatchStdMath) {
    uint32_t seed = 1;
    for (const UnaryCase& c : unary_cases()) {
        for (DataType dt : {DataType::kFloat32, DataType::kFloat64}) {
            const ir::Tensor x = random_floats({2, 3, 4}, c.lo, c.hi, seed++, dt);
            auto y = run(c.op, {&x}, c.attrs);
            ASSERT_TRUE(y.has_value()) << c.op << ": " << y.status().to_string();
            EXPECT_EQ(y->dtype(), dt) << c.op;
            EXPECT_EQ(y->shape(), x.shape()) << c.op;
            std::vector<double> want;
            for (double v : ir::to_doubles(x)) want.push_back(c.fn(v));
            expect_near_all(*y, want, dt == DataType::kFloat32 ? 2e-6 : 1e-12, c.op);
        }
    }
}

TEST(ElementwiseUnary, Float16GoesThroughFloat32) {
    const ir::Tensor x32 = random_floats({3, 5}, -3, 3, 77);
    auto x16 = ir::cast_tensor(x32, DataType::kFloat16);
    ASSERT_TRUE(x16.has_value());
    auto y = run("Sigmoid", {&*x16});
    ASSERT_TRUE(y.has_value()) << y.status().to_string();
    EXPECT_EQ(y->dtype(), DataType::kFloat16);
    std::vector<double> want;
    for (double v : ir::to_doubles(*x16)) want.push_back(1.0 / (1.0 + std::exp(-v)));
    expect_near_all(*y, want, 1e-3, "Sigmoid fp16");
}

TEST(ElementwiseUnary, RoundIsHalfToEven) {
    const ir::Tensor x = floats({9}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 2.4f, 2.6f, -2.6f});
    auto y = run("Round", {&x});
    ASSERT_TRUE(y.has_value());
    EXPECT_EQ(values_of<float>(*y), (std::vector<float>{0, 2, 2, -0.0f, -2, -2, 2, 3, -3}));
}

TEST(ElementwiseUnary, IntegerAbsNegSign) {
    const ir::Tensor x = int32s({5}, {-7, 3, -1, 9, -2147483647});
    EXPECT_EQ(values_of<int32_t>(*run("Abs", {&x})), (std::vector<int32_t>{7, 3, 1, 9, 2147483647}));
    EXPECT_EQ(values_of<int32_t>(*run("Neg", {&x})), (std::vector<int32_t>{7, -3, 1, -9, 2147483647}));
    EXPECT_EQ(values_of<int32_t>(*run("Sign", {&x})), (std::vector<int32_t>{-1, 1, -1, 1, -1}));
    EXPECT_EQ(values_of<int32_t>(*run("Relu", {&x}, {}, 14)), (std::vector<int32_t>{0, 3, 0, 9, 0}));
    const ir::Tensor i8 = make<int8_t>(DataType::kInt8, {3}, {-128, -5, 6});
    EXPECT_EQ(values_of<int8_t>(*run("Abs", {&i8})), (std::vector<int8_t>{-128, 5, 6}));  // wraps, as in C
    const ir::Tensor u8 = make<uint8_t>(DataType::kUInt8, {3}, {200, 1, 7});
    EXPECT_EQ(values_of<uint8_t>(*run("Abs", {&u8})), (std::vector<uint8_t>{200, 1, 7}));
    EXPECT_EQ(run("Neg", {&u8}).status().code(), StatusCode::kUnsupported);  // Neg has no unsigned types
}

TEST(ElementwiseUnary, PredicatesGiveBool) {
    const float inf = std::numeric_limits<float>::infinity();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const ir::Tensor x = floats({5}, {1.5f, inf, -inf, nan, -2.0f});
    auto isnan = run("IsNaN", {&x});
    ASSERT_TRUE(isnan.has_value());
    EXPECT_EQ(isnan->dtype(), DataType::kBool);
    EXPECT_EQ(values_of<uint8_t>(*isnan), (std::vector<uint8_t>{0, 0, 0, 1, 0}));
    EXPECT_EQ(values_of<uint8_t>(*run("IsInf", {&x})), (std::vector<uint8_t>{0, 1, 1, 0, 0}));
    EXPECT_EQ(values_of<uint8_t>(*run("IsInf", {&x}, {{"detect_negative", attr_i(0)}})),
              (std::vector<uint8_t>{0, 1, 0, 0, 0}));
    EXPECT_EQ(values_of<uint8_t>(*run("IsInf", {&x}, {{"detect_positive", attr_i(0)}})),
              (std::vector<uint8_t>{0, 0, 1, 0, 0}));
}

TEST(ElementwiseUnary, NotAndBitwiseNot) {
    const ir::Tensor b = bools({4}, {1, 0, 0, 1});
    auto n = run("Not", {&b});
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(n->dtype(), DataType::kBool);
    EXPECT_EQ(values_of<uint8_t>(*n), (std::vector<uint8_t>{0, 1, 1, 0}));
    const ir::Tensor f = floats({1}, {1.0f});
    EXPECT_EQ(run("Not", {&f}).status().code(), StatusCode::kUnsupported);
    const ir::Tensor u8 = make<uint8_t>(DataType::kUInt8, {3}, {0, 5, 255});
    EXPECT_EQ(values_of<uint8_t>(*run("BitwiseNot", {&u8})), (std::vector<uint8_t>{255, 250, 0}));
    const ir::Tensor i32 = int32s({3}, {0, 5, -1});
    EXPECT_EQ(values_of<int32_t>(*run("BitwiseNot", {&i32})), (std::vector<int32_t>{-1, -6, 0}));
}

TEST(ElementwiseUnary, PReluBroadcastsSlopeToX) {
    const ir::Tensor x = random_floats({2, 3, 4}, -2, 2, 5);
    const ir::Tensor slope = random_floats({3, 1}, 0.1, 0.9, 6);
    auto y = run("PRelu", {&x, &slope});
    ASSERT_TRUE(y.has_value()) << y.status().to_string();
    const auto xv = ir::to_doubles(x), sv = ir::to_doubles(slope);
    std::vector<double> want;
    for (int64_t i = 0; i < 24; ++i) {
        const double v = xv[static_cast<size_t>(i)];
        want.push_back(v < 0 ? v * sv[static_cast<size_t>(broadcast_offset(i, x.shape(), slope.shape()))] : v);
    }
    expect_near_all(*y, want, 1e-6, "PRelu");
    const ir::Tensor wide = random_floats({5, 2, 3, 4}, 0.1, 0.9, 7);
    auto bad = run("PRelu", {&x, &wide});
    ASSERT_FALSE(bad.has_value());
    EXPECT_NE(bad.status().message().find("test_PRelu"), std::string::npos);
}

TEST(ElementwiseUnary, GeluRejectsUnknownApproximation) {
    const ir::Tensor x = floats({1}, {1.0f});
    auto y = run("Gelu", {&x}, {{"approximate", attr_s("fast")}}, 20);
    ASSERT_FALSE(y.has_value());
    EXPECT_NE(y.status().message().find("test_Gelu"), std::string::npos);
}

// ---- binary ------------------------------------------------------------------------------------------

struct BinaryCase {
    const char* op;
    std::function<double(double, double)> fn;
};

TEST(ElementwiseBinary, FloatArithmeticBroadcasts) {
    // clang-format off
    const std::vector<BinaryCase> ops = {
        {"Add", [](double a, double b) { return a + b; }},
        {"Sub", [](double a, double b) { return a - b; }},
        {"Mul", [](double a, double b) { return a * b; }},
        {"Div", [](double a, double b) { return a / b; }},
        {"Pow", [](double a, double b) { return std::pow(a, b); }},
    };
    const std::vector<std::pair<ir::Shape, ir::Shape>> shapes = {
        {{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {4}}, {{2, 3, 4}, {3, 1}}, {{2, 3, 4}, {}},   {{}, {2, 3, 4}},
        {{2, 1, 4}, {3, 1}},    {{4}, {2, 3, 4}}, {{1, 3, 1}, {2, 1, 5}}, {{2, 3, 4}, {2, 1, 4}},
    };
    // clang-format on
    uint32_t seed = 100;
    for (const auto& c : ops) {
        for (const auto& [sa, sb] : shapes) {
            const bool pow = std::string(c.op) == "Pow";
            const ir::Tensor a = random_floats(sa, pow ? 0.2 : -4, 4, seed++);
            const ir::Tensor b = random_floats(sb, pow ? -2 : -4, pow ? 2 : 4, seed++);
            auto y = run(c.op, {&a, &b});
            const std::string what = std::string(c.op) + " " + ir::shape_str(sa) + " " + ir::shape_str(sb);
            ASSERT_TRUE(y.has_value()) << what << ": " << y.status().to_string();
            const ir::Shape out = *ir::broadcast_shapes(sa, sb);
            EXPECT_EQ(y->shape(), out) << what;
            const auto av = ir::to_doubles(a), bv = ir::to_doubles(b);
            std::vector<double> want;
            for (int64_t i = 0; i < ir::shape_numel(out); ++i) {
                want.push_back(c.fn(av[static_cast<size_t>(broadcast_offset(i, out, sa))],
                                    bv[static_cast<size_t>(broadcast_offset(i, out, sb))]));
            }
            expect_near_all(*y, want, 2e-6, what);
        }
    }
}

TEST(ElementwiseBinary, IntegerArithmetic) {
    const ir::Tensor a = int32s({6}, {7, -7, 7, -7, 100, -2147483647 - 1});
    const ir::Tensor b = int32s({6}, {2, 2, -2, -2, 7, -1});
    EXPECT_EQ(values_of<int32_t>(*run("Div", {&a, &b})), (std::vector<int32_t>{3, -3, -3, 3, 14, -2147483647 - 1}));
    EXPECT_EQ(values_of<int32_t>(*run("Add", {&a, &b})), (std::vector<int32_t>{9, -5, 5, -9, 107, 2147483647}));
    EXPECT_EQ(values_of<int32_t>(*run("Mul", {&a, &b})),
              (std::vector<int32_t>{14, -14, -14, 14, 700, -2147483647 - 1}));
    const ir::Tensor u = make<uint8_t>(DataType::kUInt8, {3}, {250, 3, 9});
    const ir::Tensor v = make<uint8_t>(DataType::kUInt8, {3}, {10, 5, 2});
    EXPECT_EQ(values_of<uint8_t>(*run("Add", {&u, &v})), (std::vector<uint8_t>{4, 8, 11}));
    EXPECT_EQ(values_of<uint8_t>(*run("Sub", {&u, &v})), (std::vector<uint8_t>{240, 254, 7}));
    EXPECT_EQ(values_of<uint8_t>(*run("Div", {&u, &v})), (std::vector<uint8_t>{25, 0, 4}));
    const ir::Tensor big = int64s({2}, {int64_t{1} << 40, -(int64_t{3} << 35)});
    const ir::Tensor k = int64s({}, {3});
    EXPECT_EQ(values_of<int64_t>(*run("Mul", {&big, &k})),
              (std::vector<int64_t>{int64_t{3} << 40, -(int64_t{9} << 35)}));
}

TEST(ElementwiseBinary, IntegerDivisionByZeroIsAnError) {
    const ir::Tensor a = int32s({2}, {1, 2});
    const ir::Tensor b = int32s({2}, {1, 0});
    for (const char* op : {"Div", "Mod"}) {
        auto y = run(op, {&a, &b});
        ASSERT_FALSE(y.has_value()) << op;
        EXPECT_NE(y.status().message().find(std::string("test_") + op), std::string::npos);
    }
}

TEST(ElementwiseBinary, ModSignFollowsFmodAttribute) {
    const ir::Tensor a = int32s({6}, {7, -7, 7, -7, 6, -2147483647 - 1});
    const ir::Tensor b = int32s({6}, {3, 3, -3, -3, 3, -1});
    // fmod = 0: the sign of the divisor (Python %)
    EXPECT_EQ(values_of<int32_t>(*run("Mod", {&a, &b})), (std::vector<int32_t>{1, 2, -2, -1, 0, 0}));
    // fmod = 1: the sign of the dividend (C %)
    EXPECT_EQ(values_of<int32_t>(*run("Mod", {&a, &b}, {{"fmod", attr_i(1)}})),
              (std::vector<int32_t>{1, -1, 1, -1, 0, 0}));
    const ir::Tensor i8a = make<int8_t>(DataType::kInt8, {2, 2}, {-4, 7, 3, -3});
    const ir::Tensor i8b = make<int8_t>(DataType::kInt8, {2}, {3, -5});  // broadcast over rows
    EXPECT_EQ(values_of<int8_t>(*run("Mod", {&i8a, &i8b})), (std::vector<int8_t>{2, -3, 0, -3}));
    const ir::Tensor fa = random_floats({2, 3, 4}, -10, 10, 31);
    const ir::Tensor fb = random_floats({4}, -3, 3, 32);
    auto y = run("Mod", {&fa, &fb}, {{"fmod", attr_i(1)}});
    ASSERT_TRUE(y.has_value());
    const auto av = ir::to_doubles(fa), bv = ir::to_doubles(fb);
    std::vector<double> want;
    for (size_t i = 0; i < 24; ++i) want.push_back(std::fmod(av[i], bv[i % 4]));
    expect_near_all(*y, want, 1e-5, "Mod float");
    auto bad = run("Mod", {&fa, &fb});  // fmod = 0 is not allowed for floats
    ASSERT_FALSE(bad.has_value());
    EXPECT_NE(bad.status().message().find("test_Mod"), std::string::npos);
}

TEST(ElementwiseBinary, PowMixedTypesKeepsBaseType) {
    const ir::Tensor base = floats({4}, {1.5f, -2.0f, 3.0f, 0.5f});
    const ir::Tensor e64 = int64s({4}, {2, 3, -1, 4});
    auto y = run("Pow", {&base, &e64});
    ASSERT_TRUE(y.has_value()) << y.status().to_string();
    EXPECT_EQ(y->dtype(), DataType::kFloat32);
    expect_near_all(*y, {2.25, -8.0, 1.0 / 3.0, 0.0625}, 1e-6, "Pow f32^i64");

    const ir::Tensor ib = int32s({5}, {3, -2, 2, 1, -1});
    const ir::Tensor ie = int32s({5}, {4, 3, -1, -5, -3});
    auto yi = run("Pow", {&ib, &ie});
    ASSERT_TRUE(yi.has_value());
    EXPECT_EQ(yi->dtype(), DataType::kInt32);
    EXPECT_EQ(values_of<int32_t>(*yi), (std::vector<int32_t>{81, -8, 0, 1, -1}));

    const ir::Tensor big = int64s({1}, {3});
    const ir::Tensor e40 = int64s({1}, {39});
    EXPECT_EQ(values_of<int64_t>(*run("Pow", {&big, &e40}))[0], 4052555153018976267LL);  // exact, not via double

    const ir::Tensor fe = floats({}, {0.5f});
    const ir::Tensor i64b = int64s({3}, {4, 9, 10});
    EXPECT_EQ(values_of<int64_t>(*run("Pow", {&i64b, &fe})), (std::vector<int64_t>{2, 3, 3}));

    const ir::Tensor x = random_floats({2, 3, 4}, -3, 3, 9);
    const ir::Tensor two = floats({}, {2.0f});
    auto sq = run("Pow", {&x, &two});
    ASSERT_TRUE(sq.has_value());
    std::vector<double> want;
    for (double v : ir::to_doubles(x)) want.push_back(static_cast<double>(static_cast<float>(v * v)));
    expect_near_all(*sq, want, 0, "Pow x^2");
}

TEST(ElementwiseBinary, IncompatibleShapesNameTheNode) {
    const ir::Tensor a = random_floats({2, 3, 4}, -1, 1, 1);
    const ir::Tensor b = random_floats({3}, -1, 1, 2);
    for (const char* op : {"Add", "Sub", "Mul", "Div", "Pow", "Equal", "Less", "Max", "Sum"}) {
        auto y = run(op, {&a, &b});
        ASSERT_FALSE(y.has_value()) << op;
        EXPECT_EQ(y.status().code(), StatusCode::kInvalidModel) << op;
        EXPECT_NE(y.status().message().find(std::string("'test_") + op + "'"), std::string::npos)
            << y.status().message();
    }
    const ir::Tensor i = int32s({4}, {1, 2, 3, 4});
    auto mixed = run("Add", {&a, &i});
    ASSERT_FALSE(mixed.has_value());
    EXPECT_NE(mixed.status().message().find("test_Add"), std::string::npos);
    const ir::Tensor t = bools({1}, {1});
    EXPECT_EQ(run("Add", {&t, &t}).status().code(), StatusCode::kUnsupported);
}

TEST(ElementwiseBinary, Float16InputsProduceFloat16) {
    const ir::Tensor a = random_floats({2, 3, 4}, -4, 4, 41);
    const ir::Tensor b = random_floats({3, 1}, -4, 4, 42);
    auto a16 = ir::cast_tensor(a, DataType::kFloat16);
    auto b16 = ir::cast_tensor(b, DataType::kFloat16);
    auto y = run("Mul", {&*a16, &*b16});
    ASSERT_TRUE(y.has_value()) << y.status().to_string();
    EXPECT_EQ(y->dtype(), DataType::kFloat16);
    const auto av = ir::to_doubles(*a16), bv = ir::to_doubles(*b16);
    std::vector<double> want;
    for (int64_t i = 0; i < 24; ++i) {
        want.push_back(av[static_cast<size_t>(i)] * bv[static_cast<size_t>(broadcast_offset(i, {2, 3, 4}, {3, 1}))]);
    }
    expect_near_all(*y, want, 1e-3, "Mul fp16");
}

// ---- variadic ----------------------------------------------------------------------------------------

TEST(ElementwiseVariadic, MaxMinSumMeanBroadcastAnyCount) {
    const ir::Tensor a = random_floats({3, 1}, -5, 5, 51);
    const ir::Tensor b = random_floats({2, 3, 4}, -5, 5, 52);
    const ir::Tensor c = random_floats({4}, -5, 5, 53);
    const std::vector<const ir::Tensor*> all = {&a, &b, &c};
    for (size_t count = 1; count <= 3; ++count) {
        const std::vector<const ir::Tensor*> ins(all.begin(), all.begin() + static_cast<long>(count));
        ir::Shape shape = ins[0]->shape();
        for (const auto* t : ins) shape = *ir::broadcast_shapes(shape, t->shape());
        for (const char* op : {"Max", "Min", "Sum", "Mean"}) {
            auto y = run(op, ins);
            ASSERT_TRUE(y.has_value()) << op << " " << count << ": " << y.status().to_string();
            EXPECT_EQ(y->shape(), shape);
            std::vector<double> want;
            for (int64_t i = 0; i < ir::shape_numel(shape); ++i) {
                std::vector<double> v;
                for (const auto* t : ins) {
                    v.push_back(ir::to_doubles(*t)[static_cast<size_t>(broadcast_offset(i, shape, t->shape()))]);
                }
                double r = v[0];
                for (size_t k = 1; k < v.size(); ++k) {
                    const std::string o = op;
                    r = o == "Max" ? std::max(r, v[k]) : o == "Min" ? std::min(r, v[k]) : r + v[k];
                }
                if (std::string(op) == "Mean") r /= static_cast<double>(v.size());
                want.push_back(r);
            }
            expect_near_all(*y, want, 2e-6, std::string(op) + " x" + std::to_string(count));
        }
    }
}

TEST(ElementwiseVariadic, OutputMayShareALaterInputsBuffer) {
    const ir::Tensor a = random_floats({2, 3}, -5, 5, 54);
    const ir::Tensor b = random_floats({3}, -5, 5, 55);
    ir::Tensor c = random_floats({2, 3}, -5, 5, 56);
    const auto av = ir::to_doubles(a), bv = ir::to_doubles(b), cv = ir::to_doubles(c);
    std::vector<double> want;
    for (size_t i = 0; i < 6; ++i) want.push_back(av[i] + bv[i % 3] + cv[i]);
    ir::Node node;
    node.name = "sum";
    node.op_type = "Sum";
    node.inputs = {"a", "b", "c"};
    node.outputs = {"c"};
    std::vector<ir::Tensor> outputs = {c};  // the output is written into c's buffer
    const ir::OpKernel* sum = rtinfer::ref::reference_registry().find("", "Sum");
    ASSERT_TRUE(rtinfer::ref::compute_node(*sum, node, 13, {&a, &b, &c}, outputs).is_ok());
    EXPECT_EQ(outputs[0].raw(), c.raw());
    expect_near_all(c, want, 1e-6, "Sum in place");
}

TEST(ElementwiseVariadic, IntegerMaxMinAndNaN) {
    const ir::Tensor a = int64s({3}, {5, -9, 3});
    const ir::Tensor b = int64s({3}, {-2, 4, 3});
    const ir::Tensor c = int64s({1}, {0});
    EXPECT_EQ(values_of<int64_t>(*run("Max", {&a, &b, &c})), (std::vector<int64_t>{5, 4, 3}));
    EXPECT_EQ(values_of<int64_t>(*run("Min", {&a, &b, &c})), (std::vector<int64_t>{-2, -9, 0}));
    EXPECT_EQ(run("Sum", {&a, &b}).status().code(), StatusCode::kUnsupported);  // Sum is float-only
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const ir::Tensor f = floats({2}, {nan, 1.0f});
    const ir::Tensor g = floats({2}, {2.0f, nan});
    auto mx = run("Max", {&f, &g});
    ASSERT_TRUE(mx.has_value());
    EXPECT_TRUE(std::isnan(values_of<float>(*mx)[0]));
    EXPECT_TRUE(std::isnan(values_of<float>(*mx)[1]));
}

// ---- comparison and logical ---------------------------------------------------------------------------

TEST(ElementwiseCompare, OutputsBoolWithBroadcast) {
    const std::vector<BinaryCase> ops = {
        {"Equal", [](double a, double b) { return a == b; }},
        {"Less", [](double a, double b) { return a < b; }},
        {"LessOrEqual", [](double a, double b) { return a <= b; }},
        {"Greater", [](double a, double b) { return a > b; }},
        {"GreaterOrEqual", [](double a, double b) { return a >= b; }},
    };
    // Small integers so that equality occurs often.
    const ir::Tensor a = int32s({2, 3, 2}, {1, 2, 3, 4, 5, 6, 3, 2, 1, -1, -2, 4});
    const ir::Tensor b = int32s({3, 1}, {2, 4, -1});
    const ir::Tensor fa = *ir::cast_tensor(a, DataType::kFloat32);
    const ir::Tensor fb = *ir::cast_tensor(b, DataType::kFloat32);
    const ir::Shape out = {2, 3, 2};
    for (const auto& c : ops) {
        for (auto [x, y] : {std::make_pair(&a, &b), std::make_pair(&fa, &fb)}) {
            auto r = run(c.op, {x, y});
            ASSERT_TRUE(r.has_value()) << c.op << ": " << r.status().to_string();
            EXPECT_EQ(r->dtype(), DataType::kBool) << c.op;
            EXPECT_EQ(r->shape(), out);
            const auto xv = ir::to_doubles(*x), yv = ir::to_doubles(*y);
            std::vector<uint8_t> want;
            for (int64_t i = 0; i < 12; ++i) {
                const double yi = yv[static_cast<size_t>(broadcast_offset(i, out, y->shape()))];
                want.push_back(static_cast<uint8_t>(c.fn(xv[static_cast<size_t>(i)], yi)));
            }
            EXPECT_EQ(values_of<uint8_t>(*r), want) << c.op;
        }
    }
    const ir::Tensor p = bools({4}, {1, 0, 1, 0});
    const ir::Tensor q = bools({4}, {1, 1, 0, 0});
    EXPECT_EQ(values_of<uint8_t>(*run("Equal", {&p, &q})), (std::vector<uint8_t>{1, 0, 0, 1}));
    EXPECT_EQ(run("Less", {&p, &q}).status().code(), StatusCode::kUnsupported);
}

TEST(ElementwiseLogical, BoolOpsAndBitOps) {
    const ir::Tensor p = bools({2, 2}, {1, 0, 1, 0});
    const ir::Tensor q = bools({2, 1}, {1, 0});
    EXPECT_EQ(values_of<uint8_t>(*run("And", {&p, &q})), (std::vector<uint8_t>{1, 0, 0, 0}));
    EXPECT_EQ(values_of<uint8_t>(*run("Or", {&p, &q})), (std::vector<uint8_t>{1, 1, 1, 0}));
    EXPECT_EQ(values_of<uint8_t>(*run("Xor", {&p, &q})), (std::vector<uint8_t>{0, 1, 1, 0}));
    EXPECT_EQ(run("And", {&p, &q})->dtype(), DataType::kBool);
    const ir::Tensor i = int32s({2}, {1, 1});
    EXPECT_EQ(run("And", {&i, &i}).status().code(), StatusCode::kUnsupported);

    const ir::Tensor a = int32s({3}, {0x0f0f, -1, 12});
    const ir::Tensor b = int32s({}, {0x00ff});
    EXPECT_EQ(values_of<int32_t>(*run("BitwiseAnd", {&a, &b})), (std::vector<int32_t>{0x000f, 0xff, 12}));
    EXPECT_EQ(values_of<int32_t>(*run("BitwiseOr", {&a, &b})), (std::vector<int32_t>{0x0fff, -1, 0xff}));
    EXPECT_EQ(values_of<int32_t>(*run("BitwiseXor", {&a, &b})), (std::vector<int32_t>{0x0ff0, ~0xff, 0xf3}));

    const ir::Tensor x = make<uint8_t>(DataType::kUInt8, {4}, {16, 4, 255, 1});
    const ir::Tensor s = make<uint8_t>(DataType::kUInt8, {4}, {1, 2, 4, 9});
    EXPECT_EQ(values_of<uint8_t>(*run("BitShift", {&x, &s}, {{"direction", attr_s("LEFT")}})),
              (std::vector<uint8_t>{32, 16, 240, 0}));
    EXPECT_EQ(values_of<uint8_t>(*run("BitShift", {&x, &s}, {{"direction", attr_s("RIGHT")}})),
              (std::vector<uint8_t>{8, 1, 15, 0}));
    auto bad = run("BitShift", {&x, &s}, {{"direction", attr_s("UP")}});
    ASSERT_FALSE(bad.has_value());
    EXPECT_NE(bad.status().message().find("test_BitShift"), std::string::npos);
}

// ---- Where, Clip, Cast --------------------------------------------------------------------------------

TEST(ElementwiseWhere, ThreeWayBroadcast) {
    const ir::Tensor cond = bools({2, 1, 4}, {1, 0, 1, 1, 0, 0, 1, 0});
    const ir::Tensor x = random_floats({3, 1}, -5, 5, 61);
    const ir::Tensor y = floats({}, {-100.0f});
    auto r = run("Where", {&cond, &x, &y});
    ASSERT_TRUE(r.has_value()) << r.status().to_string();
    const ir::Shape out = {2, 3, 4};
    EXPECT_EQ(r->shape(), out);
    const auto cv = ir::to_doubles(cond), xv = ir::to_doubles(x);
    std::vector<double> want;
    for (int64_t i = 0; i < 24; ++i) {
        const bool c = cv[static_cast<size_t>(broadcast_offset(i, out, cond.shape()))] != 0;
        want.push_back(c ? xv[static_cast<size_t>(broadcast_offset(i, out, x.shape()))] : -100.0);
    }
    expect_near_all(*r, want, 0, "Where");

    // float16 is selected bit for bit; int64 and bool work as well.
    const ir::Tensor h = make<uint16_t>(DataType::kFloat16, {4}, {0x3c00, 0x7e01, 0xfc00, 0x0001});
    const ir::Tensor hz = make<uint16_t>(DataType::kFloat16, {}, {0xc000});
    auto rh = run("Where", {&cond, &h, &hz});
    ASSERT_TRUE(rh.has_value());
    EXPECT_EQ(rh->dtype(), DataType::kFloat16);
    EXPECT_EQ(values_of<uint16_t>(*rh),
              (std::vector<uint16_t>{0x3c00, 0xc000, 0xfc00, 0x0001, 0xc000, 0xc000, 0xfc00, 0xc000}));
    const ir::Tensor l = int64s({4}, {int64_t{1} << 50, 2, 3, 4});
    const ir::Tensor lz = int64s({1}, {-7});
    EXPECT_EQ(values_of<int64_t>(*run("Where", {&cond, &l, &lz})),
              (std::vector<int64_t>{int64_t{1} << 50, -7, 3, 4, -7, -7, 3, -7}));
    auto bad = run("Where", {&x, &x, &y});
    EXPECT_EQ(bad.status().code(), StatusCode::kUnsupported);  // condition must be bool
}

TEST(ElementwiseClip, AttributesBeforeOpset11InputsAfter) {
    const ir::Tensor x = random_floats({2, 3, 4}, -5, 5, 71);
    const auto xv = ir::to_doubles(x);
    auto clip_ref = [&](double lo, double hi) {
        std::vector<double> v;
        for (double e : xv) v.push_back(std::min(std::max(e, lo), hi));
        return v;
    };
    for (int64_t opset : {6, 7, 10}) {
        auto y = run("Clip", {&x}, {{"min", attr_f(-1.5f)}, {"max", attr_f(2.0f)}}, opset);
        ASSERT_TRUE(y.has_value()) << y.status().to_string();
        expect_near_all(*y, clip_ref(-1.5, 2.0), 0, "Clip attrs");
        auto only_max = run("Clip", {&x}, {{"max", attr_f(0.5f)}}, opset);
        expect_near_all(*only_max, clip_ref(-1e30, 0.5), 0, "Clip max attr");
    }
    const ir::Tensor lo = floats({}, {-1.5f});
    const ir::Tensor hi = floats({}, {2.0f});
    for (int64_t opset : {11, 12, 13, 21}) {
        auto y = run("Clip", {&x, &lo, &hi}, {}, opset);
        ASSERT_TRUE(y.has_value()) << y.status().to_string();
        expect_near_all(*y, clip_ref(-1.5, 2.0), 0, "Clip inputs");
        // Attributes are ignored from opset 11; an omitted min is no bound.
        auto only_max = run("Clip", {&x, nullptr, &hi}, {{"min", attr_f(0.0f)}}, opset);
        ASSERT_TRUE(only_max.has_value()) << only_max.status().to_string();
        expect_near_all(*only_max, clip_ref(-1e30, 2.0), 0, "Clip max input");
        auto none = run("Clip", {&x}, {}, opset);
        expect_near_all(*none, xv, 0, "Clip no bounds");
    }
    // min > max: everything becomes max.
    const ir::Tensor big = floats({}, {3.0f});
    auto swapped = run("Clip", {&x, &big, &hi}, {}, 13);
    expect_near_all(*swapped, std::vector<double>(24, 2.0), 0, "Clip min>max");
    // Integers from opset 12.
    const ir::Tensor i = int32s({5}, {-100, -3, 0, 4, 100});
    const ir::Tensor ilo = int32s({}, {-3});
    const ir::Tensor ihi = int32s({}, {10});
    EXPECT_EQ(values_of<int32_t>(*run("Clip", {&i, &ilo, &ihi}, {}, 13)), (std::vector<int32_t>{-3, -3, 0, 4, 10}));
    // Bounds must be scalars of x's type.
    const ir::Tensor vec = floats({2}, {0.0f, 1.0f});
    EXPECT_FALSE(run("Clip", {&x, &vec}, {}, 13).has_value());
    EXPECT_FALSE(run("Clip", {&i, &lo}, {}, 13).has_value());
}

// ONNX TensorProto.DataType codes.
const std::vector<std::pair<DataType, int64_t>>& onnx_codes() {
    static const std::vector<std::pair<DataType, int64_t>> codes = {
        {DataType::kFloat32, 1}, {DataType::kUInt8, 2}, {DataType::kInt8, 3},     {DataType::kInt32, 6},
        {DataType::kInt64, 7},   {DataType::kBool, 9},  {DataType::kFloat16, 10}, {DataType::kFloat64, 11}};
    return codes;
}

TEST(ElementwiseCast, BetweenAllTypes) {
    // Values every type holds exactly (bool keeps only zero / non-zero).
    const std::vector<double> values = {0, 1, 2, 7, 100, 0, 3, 1};
    for (const auto& from_entry : onnx_codes()) {
        const DataType from = from_entry.first;
        const ir::Tensor src = *ir::cast_tensor(make(DataType::kFloat64, {2, 4}, values), from);
        for (const auto& [to, code] : onnx_codes()) {
            auto y = run("Cast", {&src}, {{"to", attr_i(code)}}, 13);
            ASSERT_TRUE(y.has_value()) << data_type_name(from) << "->" << data_type_name(to) << ": "
                                       << y.status().to_string();
            EXPECT_EQ(y->dtype(), to);
            EXPECT_EQ(y->shape(), src.shape());
            std::vector<double> want;
            for (double v : values) want.push_back(from == DataType::kBool || to == DataType::kBool ? (v != 0) : v);
            EXPECT_EQ(ir::to_doubles(*y), want) << data_type_name(from) << "->" << data_type_name(to);
            auto like = run("CastLike", {&src, &*y}, {}, 15);
            ASSERT_TRUE(like.has_value());
            EXPECT_EQ(like->dtype(), to);
            EXPECT_EQ(ir::to_doubles(*like), want);
        }
    }
}

TEST(ElementwiseCast, Float16RoundingAndTruncation) {
    const ir::Tensor f = floats({5}, {0.1f, 1.0f / 3.0f, 65504.0f, 70000.0f, -2.75f});
    auto h = run("Cast", {&f}, {{"to", attr_i(10)}});
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(values_of<uint16_t>(*h), (std::vector<uint16_t>{0x2e66, 0x3555, 0x7bff, 0x7c00, 0xc180}));
    auto back = run("Cast", {&*h}, {{"to", attr_i(1)}});
    EXPECT_EQ(values_of<float>(*back)[4], -2.75f);
    EXPECT_FLOAT_EQ(values_of<float>(*back)[0], rtinfer::ir::half_to_float(0x2e66));
    auto i = run("Cast", {&f}, {{"to", attr_i(6)}});
    EXPECT_EQ(values_of<int32_t>(*i), (std::vector<int32_t>{0, 0, 65504, 70000, -2}));  // toward zero
    auto hi = run("Cast", {&*h}, {{"to", attr_i(7)}});
    EXPECT_EQ(values_of<int64_t>(*hi)[4], -2);
    const ir::Tensor dbl = make<double>(DataType::kFloat64, {2}, {0.1, -0.0});
    auto b = run("Cast", {&dbl}, {{"to", attr_i(9)}});
    EXPECT_EQ(values_of<uint8_t>(*b), (std::vector<uint8_t>{1, 0}));
    // Types rtinfer lacks and a missing `to` are errors naming the node.
    for (const Attrs& attrs : {Attrs{{"to", attr_i(8)}}, Attrs{{"to", attr_i(16)}}, Attrs{}}) {
        auto bad = run("Cast", {&f}, attrs);
        ASSERT_FALSE(bad.has_value());
        EXPECT_NE(bad.status().message().find("test_Cast"), std::string::npos);
    }
    // saturate (opset 19) does not change casts between our types.
    auto sat = run("Cast", {&f}, {{"to", attr_i(10)}, {"saturate", attr_i(0)}}, 19);
    EXPECT_EQ(values_of<uint16_t>(*sat), values_of<uint16_t>(*h));
}

// ---- shape inference without values ------------------------------------------------------------------

TEST(ElementwiseInfer, UnknownShapesStayUnknown) {
    const ir::OpKernel* add = rtinfer::ref::reference_registry().find("", "Add");
    ASSERT_NE(add, nullptr);
    ir::Node node;
    node.name = "n";
    node.op_type = "Add";
    node.inputs = {"a", "b"};
    node.outputs = {"c"};
    std::vector<ir::InputInfo> ins(2);
    ins[0] = ir::InputInfo{DataType::kFloat32, {-1, 4}, false, nullptr};
    ins[1] = ir::InputInfo{DataType::kFloat32, {3, 1, 4}, true, nullptr};
    ir::InferContext ctx(node, 17, ins, 1);
    ASSERT_TRUE(add->infer(ctx).is_ok());
    EXPECT_FALSE(ctx.outputs()[0].shape_known);
    EXPECT_EQ(ctx.outputs()[0].shape.size(), 3u);

    ins[0] = ir::InputInfo{DataType::kFloat32, {-1, 3, 4}, true, nullptr};  // a dynamic batch dimension
    ins[1] = ir::InputInfo{DataType::kFloat32, {4}, true, nullptr};
    ir::InferContext dyn(node, 17, ins, 1);
    ASSERT_TRUE(add->infer(dyn).is_ok());
    EXPECT_EQ(dyn.outputs()[0].shape, (ir::Shape{-1, 3, 4}));
}

TEST(ElementwiseRegistry, EveryOpOfTheFamilyIsRegistered) {
    // clang-format off
    for (const char* op :
         {"Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Tan",
          "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Erf", "IsNaN", "IsInf", "Not",
          "BitwiseNot", "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "HardSwish",
          "Tanh", "Softplus", "Softsign", "ThresholdedRelu", "Shrink", "Gelu", "Mish", "Add", "Sub", "Mul", "Div",
          "Pow", "Mod", "Max", "Min", "Sum", "Mean", "BitShift", "And", "Or", "Xor", "BitwiseAnd", "BitwiseOr",
          "BitwiseXor", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Where", "Clip", "Cast",
          "CastLike"}) {
        // clang-format on
        EXPECT_NE(rtinfer::ref::reference_registry().find("", op), nullptr) << op;
    }
}

}  // namespace
