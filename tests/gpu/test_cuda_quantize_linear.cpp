// The CUDA QuantizeLinear and DequantizeLinear kernels against the CPU reference: per tensor and per axis
// (axes 0, 1 and -3 of a 4-D tensor), int8 and uint8 (and int32 into DequantizeLinear), float32 and float16
// on the float side, scale and zero point as constants (copied at create) and as run-time inputs, values
// that saturate at both ends and exact .5 ties. Both sides round each operation once in float, so outputs
// must be equal bit for bit, not just close; a few hand-computed cases pin the ties and the saturation.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/gpu/cuda_case_check.h"
#include "tests/gpu/gpu_test_util.h"

namespace {

using namespace rtinfer::testing::cases;
namespace ir = rtinfer::ir;
using rtinfer::DataType;
using rtinfer::StatusCode;

// The reference and CUDA outputs, required to be identical bytes.
void check_bits(const Case& c) {
    SCOPED_TRACE(describe(c));
    const ir::Node node = make_node(c);
    auto want = run_reference(c, node);
    ASSERT_TRUE(want.has_value()) << want.status().to_string();
    auto got = run_cuda(c, node, want->dtype(), want->shape());
    ASSERT_TRUE(got.has_value()) << got.status().to_string();
    EXPECT_TRUE(close(*got, *want));
    EXPECT_EQ(std::memcmp(got->raw(), want->raw(), want->nbytes()), 0) << "not bit-identical to the reference";
}

// Runs only the CUDA kernel, for hand-computed expectations.
std::vector<double> cuda_values(const Case& c, DataType out_dtype) {
    auto got = run_cuda(c, make_node(c), out_dtype, c.inputs[0].t.shape());
    EXPECT_TRUE(got.has_value()) << got.status().to_string();
    return got.has_value() ? ir::to_doubles(*got) : std::vector<double>();
}

// A scale or zero point input, as a constant or as run-time data.
In param(ir::Tensor t, bool as_constant) {
    return as_constant ? constant(std::move(t)) : data(std::move(t));
}

Attrs axis_attr(int64_t axis) {
    return {{"axis", attr_i(axis)}};
}

// x / scale reaches about +-400: well past both ends of int8 and uint8.
constexpr double kSpan = 40.0;
constexpr float kScale = 0.1f;

TEST(CudaQuantizeLinear, PerTensorInt8AndUint8) {
    RT_REQUIRE_GPU();
    uint32_t seed = 1;
    for (DataType xt : {DataType::kFloat32, DataType::kFloat16}) {
        for (bool as_constant : {true, false}) {
            const ir::Tensor x = random_tensor(xt, {2, 3, 5, 7}, -kSpan, kSpan, seed++);
            const ir::Tensor scale = float_values(DataType::kFloat32, {}, {kScale});
            check_bits({"QuantizeLinear",
                        {data(x), param(scale, as_constant),
                         param(int_values<int8_t>(DataType::kInt8, {}, {3}), as_constant)},
                        {},
                        13});
            check_bits({"QuantizeLinear",
                        {data(x), param(scale, as_constant),
                         param(int_values<uint8_t>(DataType::kUInt8, {}, {128}), as_constant)},
                        {},
                        13});
            // No zero point: uint8 with zero point 0 (opset 10 semantics).
            check_bits({"QuantizeLinear", {data(x), param(scale, as_constant)}, {}, 10});
        }
    }
    // A float16 scale read at run time.
    check_bits({"QuantizeLinear",
                {data(random_tensor(DataType::kFloat16, {4, 33}, -kSpan, kSpan, seed++)),
                 data(float_values(DataType::kFloat16, {}, {0.125f})),
                 data(int_values<int8_t>(DataType::kInt8, {}, {-7}))},
                {},
                19});
}

TEST(CudaQuantizeLinear, PerAxisOn4DTensor) {
    RT_REQUIRE_GPU();
    const ir::Shape shape = {3, 4, 5, 6};
    uint32_t seed = 100;
    for (int64_t axis : {0, 1, -3}) {
        const int64_t dim = shape[static_cast<size_t>(axis < 0 ? axis + 4 : axis)];
        for (DataType xt : {DataType::kFloat32, DataType::kFloat16}) {
            for (bool as_constant : {true, false}) {
                const ir::Tensor x = random_tensor(xt, shape, -kSpan / 2, kSpan / 2, seed++);
                const ir::Tensor scale = random_tensor(DataType::kFloat32, {dim}, 0.05, 0.5, seed++);
                check_bits({"QuantizeLinear",
                            {data(x), param(scale, as_constant),
                             param(random_tensor(DataType::kInt8, {dim}, -20, 20, seed++), as_constant)},
                            axis_attr(axis),
                            13});
                check_bits({"QuantizeLinear",
                            {data(x), param(scale, as_constant),
                             param(random_tensor(DataType::kUInt8, {dim}, 100, 150, seed++), as_constant)},
                            axis_attr(axis),
                            13});
            }
        }
    }
}

TEST(CudaQuantizeLinear, TiesRoundToEvenAndSaturate) {
    RT_REQUIRE_GPU();
    // scale 0.5 makes x / scale exact: 0.5, 1.5, -0.5, -1.5, 2.5, -2.5, 126.5, then saturating values.
    const std::vector<float> xs = {0.25f, 0.75f, -0.25f, -0.75f, 1.25f, -1.25f, 63.25f, 150.0f, -100.0f};
    for (DataType xt : {DataType::kFloat32, DataType::kFloat16}) {
        SCOPED_TRACE(rtinfer::data_type_name(xt));
        const ir::Tensor x = float_values(xt, {9}, xs);
        const ir::Tensor scale = float_values(DataType::kFloat32, {}, {0.5f});
        const Case s8{"QuantizeLinear",
                      {data(x), constant(scale), constant(int_values<int8_t>(DataType::kInt8, {}, {0}))},
                      {},
                      13};
        EXPECT_EQ(cuda_values(s8, DataType::kInt8), (std::vector<double>{0, 2, 0, -2, 2, -2, 126, 127, -128}));
        check_bits(s8);
        const Case u8{"QuantizeLinear",
                      {data(x), constant(scale), constant(int_values<uint8_t>(DataType::kUInt8, {}, {10}))},
                      {},
                      13};
        EXPECT_EQ(cuda_values(u8, DataType::kUInt8), (std::vector<double>{10, 12, 10, 8, 12, 8, 136, 255, 0}));
        check_bits(u8);
    }
}

TEST(CudaDequantizeLinear, PerTensor) {
    RT_REQUIRE_GPU();
    uint32_t seed = 200;
    for (bool as_constant : {true, false}) {
        const ir::Tensor scale = float_values(DataType::kFloat32, {}, {0.37f});
        check_bits({"DequantizeLinear",
                    {data(random_tensor(DataType::kInt8, {2, 3, 5, 7}, -128, 127, seed++)), param(scale, as_constant),
                     param(int_values<int8_t>(DataType::kInt8, {}, {-5}), as_constant)},
                    {},
                    13});
        check_bits({"DequantizeLinear",
                    {data(random_tensor(DataType::kUInt8, {2, 3, 5, 7}, 1, 255, seed++)), param(scale, as_constant),
                     param(int_values<uint8_t>(DataType::kUInt8, {}, {131}), as_constant)},
                    {},
                    13});
        check_bits({"DequantizeLinear",
                    {data(random_tensor(DataType::kUInt8, {70}, 1, 255, seed++)), param(scale, as_constant)},
                    {},
                    10});
        // int32 (bias-like) values whose difference with the zero point leaves int32 and float's 24 bits.
        check_bits({"DequantizeLinear",
                    {data(random_tensor(DataType::kInt32, {3, 41}, -2e9, 2e9, seed++)), param(scale, as_constant),
                     param(int_values<int32_t>(DataType::kInt32, {}, {1999999999}), as_constant)},
                    {},
                    13});
    }
}

TEST(CudaDequantizeLinear, PerAxisOn4DTensor) {
    RT_REQUIRE_GPU();
    const ir::Shape shape = {3, 4, 5, 6};
    uint32_t seed = 300;
    for (int64_t axis : {0, 1, -3}) {
        const int64_t dim = shape[static_cast<size_t>(axis < 0 ? axis + 4 : axis)];
        for (bool as_constant : {true, false}) {
            const ir::Tensor scale = random_tensor(DataType::kFloat32, {dim}, 0.05, 2.0, seed++);
            check_bits({"DequantizeLinear",
                        {data(random_tensor(DataType::kInt8, shape, -128, 127, seed++)), param(scale, as_constant),
                         param(random_tensor(DataType::kInt8, {dim}, -20, 20, seed++), as_constant)},
                        axis_attr(axis),
                        13});
            check_bits({"DequantizeLinear",
                        {data(random_tensor(DataType::kUInt8, shape, 1, 255, seed++)), param(scale, as_constant),
                         param(random_tensor(DataType::kUInt8, {dim}, 100, 150, seed++), as_constant)},
                        axis_attr(axis),
                        13});
        }
    }
}

// From opset 19 the output takes the scale's type: a float16 scale gives a float16 output.
TEST(CudaDequantizeLinear, Float16Output) {
    RT_REQUIRE_GPU();
    uint32_t seed = 400;
    for (bool as_constant : {true, false}) {
        check_bits({"DequantizeLinear",
                    {data(random_tensor(DataType::kInt8, {2, 3, 5, 7}, -128, 127, seed++)),
                     param(float_values(DataType::kFloat16, {}, {0.0123f}), as_constant),
                     param(int_values<int8_t>(DataType::kInt8, {}, {9}), as_constant)},
                    {},
                    19});
        check_bits({"DequantizeLinear",
                    {data(random_tensor(DataType::kUInt8, {3, 4, 5, 6}, 1, 255, seed++)),
                     param(random_tensor(DataType::kFloat16, {4}, 0.05, 3.0, seed++), as_constant),
                     param(random_tensor(DataType::kUInt8, {4}, 100, 150, seed++), as_constant)},
                    axis_attr(1),
                    19});
    }
    // Hand-computed: (x - zp) * scale, rounded to float16 once.
    const Case c{"DequantizeLinear",
                 {data(int_values<int8_t>(DataType::kInt8, {4}, {-128, 127, 5, -3})),
                  constant(float_values(DataType::kFloat16, {}, {0.5f})),
                  constant(int_values<int8_t>(DataType::kInt8, {}, {-3}))},
                 {},
                 19};
    EXPECT_EQ(cuda_values(c, DataType::kFloat16), (std::vector<double>{-62.5, 65.0, 4.0, 0.0}));
}

// Declined at create (before any CUDA call, so no GPU is needed): the node then runs on the reference.
TEST(CudaQuantizeLinearCreate, UnsupportedVariantsAreDeclined) {
    const ir::Tensor x = random_tensor(DataType::kFloat32, {2, 6}, -4, 4, 500);
    // Blocked quantization (opset 21): a scale per 2 elements along axis 1.
    const ir::Tensor block_scale = random_tensor(DataType::kFloat32, {2, 3}, 0.05, 0.5, 501);
    check_unsupported({"QuantizeLinear",
                       {data(x), constant(block_scale), constant(random_tensor(DataType::kInt8, {2, 3}, -5, 5, 502))},
                       {{"axis", attr_i(1)}, {"block_size", attr_i(2)}},
                       21});
    check_unsupported({"DequantizeLinear",
                       {data(random_tensor(DataType::kInt8, {2, 6}, -100, 100, 503)), constant(block_scale)},
                       {{"axis", attr_i(1)}, {"block_size", attr_i(2)}},
                       21});
    // int32 into QuantizeLinear and float64 on either side.
    check_unsupported({"QuantizeLinear",
                       {data(random_tensor(DataType::kInt32, {2, 6}, -100, 100, 504)),
                        constant(float_values(DataType::kFloat32, {}, {0.5f}))},
                       {},
                       13});
    ir::Tensor x64(DataType::kFloat64, {3});
    for (int i = 0; i < 3; ++i) x64.data<double>()[i] = 1.5 * (i + 1);
    check_unsupported({"QuantizeLinear", {data(x64), constant(float_values(DataType::kFloat32, {}, {0.5f}))}, {}, 13});
    ir::Tensor scale64(DataType::kFloat64, {});
    scale64.data<double>()[0] = 0.25;
    check_unsupported({"DequantizeLinear", {data(random_tensor(DataType::kInt8, {3}, -9, 9, 505)), constant(scale64)},
                       {},
                       19});
}

TEST(CudaQuantizeLinearCreate, DeclineNamesTheNode) {
    const Case c{"QuantizeLinear",
                 {data(random_tensor(DataType::kFloat32, {2, 6}, -4, 4, 600)),
                  constant(random_tensor(DataType::kFloat32, {2, 3}, 0.05, 0.5, 601))},
                 {{"axis", attr_i(1)}, {"block_size", attr_i(2)}},
                 21};
    auto got = run_cuda(c, make_node(c), DataType::kUInt8, {2, 6});
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.status().code(), StatusCode::kUnsupported);
    EXPECT_NE(got.status().message().find(make_node(c).name), std::string::npos) << got.status().message();
    EXPECT_NE(got.status().message().find("block_size 2"), std::string::npos) << got.status().message();
}

}  // namespace
