// rtinfer.Int8Conv on CUDA (the int8 tensor-core kernel) against its CPU reference on random int8 data:
// 3x3 / 1x1 / strided / dilated geometries, channel counts that are and are not multiples of the tiles,
// int8, float16 and float32 outputs and residuals, ReLU, Clip and the smooth activations, every tile shape (RTINFER_INT8_CONV_TILE)
// and the measured choice. Both sides compute the int32 sum exactly and round each float step once in the
// same order, so int8 outputs must be equal byte for byte.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "core/ir/op.h"
#include "core/kernels/cuda/nn/int8_conv.h"
#include "tests/gpu/cuda_case_check.h"
#include "tests/gpu/gpu_test_util.h"

namespace {

using namespace rtinfer::testing::cases;
namespace ir = rtinfer::ir;
using rtinfer::DataType;
using rtinfer::StatusCode;

struct Geometry {
    int64_t n, h, w, c, m, k;
    int64_t stride, pad, dilation;
};

enum class Out { kInt8, kHalf, kFloat };

// Per-channel rescales between a / 2 and 3a / 2 (random_tensor keeps values away from zero, too far for these).
ir::Tensor alpha_values(int64_t m, double a) {
    std::vector<float> v(static_cast<size_t>(m));
    for (int64_t i = 0; i < m; ++i) v[static_cast<size_t>(i)] = static_cast<float>(a * (0.5 + double(i % 11) / 10.0));
    return float_values(DataType::kFloat32, {m}, v);
}

Case make_case(const Geometry& g, Out out, DataType z_type, bool bias, int activation, uint32_t seed) {
    Attrs attrs = {{"kernel_shape", ir::ints_attribute({g.k, g.k})},
                   {"strides", ir::ints_attribute({g.stride, g.stride})},
                   {"pads", ir::ints_attribute({g.pad, g.pad, g.pad, g.pad})},
                   {"dilations", ir::ints_attribute({g.dilation, g.dilation})}};
    if (activation != 0) attrs["rt_int8_activation"] = attr_i(activation);
    if (activation == 2) {
        attrs["rt_int8_clip_min"] = attr_f(-1.0f);
        attrs["rt_int8_clip_max"] = attr_f(2.0f);
    }
    if (out == Out::kInt8) attrs["rt_output_scale"] = attr_f(0.03f);
    if (out == Out::kHalf) attrs["rt_output_type"] = attr_i(10);
    const int64_t oh = (g.h + 2 * g.pad - g.dilation * (g.k - 1) - 1) / g.stride + 1;
    const int64_t ow = (g.w + 2 * g.pad - g.dilation * (g.k - 1) - 1) / g.stride + 1;
    // alpha of about 1 / (127 * 127 * sqrt(taps)): sums reach a few units, int8 outputs saturate now and then.
    const double a = 3.0 / (127.0 * 127.0 * std::sqrt(double(g.k * g.k * g.c)));
    std::vector<In> ins = {data(random_tensor(DataType::kInt8, {g.n, g.h, g.w, g.c}, -127, 127, seed)),
                           constant(random_tensor(DataType::kInt8, {g.m, g.k, g.k, g.c}, -127, 127, seed + 1)),
                           constant(alpha_values(g.m, a)),
                           bias ? constant(random_tensor(DataType::kFloat32, {g.m}, -1.0, 1.0, seed + 3)) : absent(),
                           absent()};
    if (z_type != DataType::kUndefined) {
        const bool int8 = z_type == DataType::kInt8;
        ins[4] = data(random_tensor(z_type, {g.n, oh, ow, g.m}, int8 ? -127 : -2.0, int8 ? 127 : 2.0, seed + 4));
        if (int8) attrs["rt_z_scale"] = attr_f(0.02f);
    }
    Case c("Int8Conv", std::move(ins), std::move(attrs));
    c.domain = ir::kRtinferDomain;
    return c;
}

// Runs the case on the reference and on CUDA with each tile forced, then with the measured choice.
void check_every_tile(const Case& c) {
    SCOPED_TRACE(describe(c));
    const ir::Node node = make_node(c);
    auto want = run_reference(c, node);
    ASSERT_TRUE(want.has_value()) << want.status().to_string();
    for (int tile = -1; tile < rtinfer::cuda::nn::int8_conv_tile_count(); ++tile) {
        SCOPED_TRACE(tile < 0 ? std::string("measured tile") : rtinfer::cuda::nn::int8_conv_tile_name(tile));
        if (tile >= 0) {
            setenv("RTINFER_INT8_CONV_TILE", std::to_string(tile).c_str(), 1);
        } else {
            unsetenv("RTINFER_INT8_CONV_TILE");
        }
        auto got = run_cuda(c, node, want->dtype(), want->shape());
        unsetenv("RTINFER_INT8_CONV_TILE");
        ASSERT_TRUE(got.has_value()) << got.status().to_string();
        EXPECT_TRUE(close(*got, *want));
        if (want->dtype() == DataType::kInt8) {
            EXPECT_EQ(std::memcmp(got->raw(), want->raw(), want->nbytes()), 0);
        }
    }
}

#define RT_REQUIRE_INT8_CONV()                                                                     \
    do {                                                                                           \
        RT_REQUIRE_GPU();                                                                          \
        if (!rtinfer::cuda::nn::int8_conv_supported())                                             \
            GTEST_SKIP() << "the int8 tensor-core convolution needs compute capability 8.0 or newer"; \
    } while (0)

TEST(CudaInt8Conv, ResidualBlockShapesInt8Out) {
    RT_REQUIRE_INT8_CONV();
    // 3x3, int8 residual and output, ReLU: the body of a ResNet block.
    check_every_tile(make_case({2, 14, 14, 64, 64, 3, 1, 1, 1}, Out::kInt8, DataType::kInt8, true, 1, 10));
    // 1x1 expansion with more outputs than one tile and a count that is no multiple of 64.
    check_every_tile(make_case({2, 7, 9, 64, 136, 1, 1, 0, 1}, Out::kInt8, DataType::kUndefined, true, 1, 20));
}

TEST(CudaInt8Conv, StridedAndDilatedWithFloatOutputs) {
    RT_REQUIRE_INT8_CONV();
    // Strided 1x1 (a downsample), float16 output and residual.
    check_every_tile(make_case({3, 12, 10, 32, 40, 1, 2, 0, 1}, Out::kHalf, DataType::kFloat16, true, 0, 30));
    // 3x3 stride 2, 48 channels: a 64-byte step of the reduction spans two taps; float32 out, Clip.
    check_every_tile(make_case({2, 11, 13, 48, 24, 3, 2, 1, 1}, Out::kFloat, DataType::kFloat32, false, 2, 40));
    // Dilated 3x3 on 16 channels: four taps per step.
    check_every_tile(make_case({1, 9, 9, 16, 8, 3, 1, 2, 2}, Out::kInt8, DataType::kUndefined, false, 1, 50));
}

TEST(CudaInt8Conv, SmoothActivationsWithFloatOutputs) {
    RT_REQUIRE_INT8_CONV();
    // Sigmoid, SiLU and HardSwish (codes 3, 4, 5: a detector's layers), float32 out: within float rounding of
    // the reference's std::exp.
    for (int act : {3, 4, 5}) {
        check_every_tile(make_case({2, 10, 10, 32, 48, 3, 1, 1, 1}, Out::kFloat, DataType::kUndefined, true, act, 100 + act));
    }
}

TEST(CudaInt8Conv, LargeLayerInt8Out) {
    RT_REQUIRE_INT8_CONV();
    // A ResNet-50 stage-3 3x3 layer at batch 4: many tiles in both directions.
    check_every_tile(make_case({4, 14, 14, 256, 256, 3, 1, 1, 1}, Out::kInt8, DataType::kInt8, true, 1, 60));
}

TEST(CudaInt8Conv, DeclinesWhatTheKernelCannotTake) {
    RT_REQUIRE_INT8_CONV();
    // 8 input channels: not a multiple of 16.
    check_unsupported(make_case({1, 6, 6, 8, 16, 3, 1, 1, 1}, Out::kInt8, DataType::kUndefined, true, 1, 70));
    // 12 outputs: not a multiple of 8.
    check_unsupported(make_case({1, 6, 6, 16, 12, 1, 1, 0, 1}, Out::kInt8, DataType::kUndefined, true, 0, 80));
    // GELU does not fuse.
    check_unsupported(make_case({1, 6, 6, 16, 16, 1, 1, 0, 1}, Out::kHalf, DataType::kUndefined, true, 7, 90));
}

}  // namespace
