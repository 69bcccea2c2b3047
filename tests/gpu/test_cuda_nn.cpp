// The nn CUDA kernels against the CPU reference on random non-zero data: Conv (groups, depthwise, strides,
// dilations, asymmetric and automatic pads, 1-D/3-D, fused activations), ConvTranspose, pooling, Gemm, MatMul
// and the normalizations, in float32 (TF32 off; relative error <= 1e-5 of max |ref|) and float16 (<= 5e-3).
// Outputs and workspaces are poisoned with NaN bytes before every run so unwritten elements fail.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/ir/half.h"
#include "core/ir/op.h"
#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/cuda_op.h"
#include "core/kernels/ref/ref_backend.h"
#include "tests/gpu/cuda_libs.h"
#include "tests/gpu/gpu_test_util.h"

namespace {

using rtinfer::Status;
using rtinfer::StatusCode;
using rtinfer::cuda::CudaLibs;
using rtinfer::cuda::DeviceBuffer;
using rtinfer::cuda::DeviceTensor;
using rtinfer::ir::Attribute;
using rtinfer::ir::DType;
using rtinfer::ir::Node;
using rtinfer::ir::Shape;
using rtinfer::ir::Tensor;
using Attrs = std::map<std::string, Attribute>;
using Ints = std::vector<int64_t>;

constexpr double kTolF32 = 1e-5;
constexpr double kTolF16 = 5e-3;

Attribute attr_i(int64_t v) {
    Attribute a;
    a.kind = Attribute::Kind::kInt;
    a.i = v;
    return a;
}
Attribute attr_f(float v) {
    Attribute a;
    a.kind = Attribute::Kind::kFloat;
    a.f = v;
    return a;
}
Attribute attr_s(const std::string& v) {
    Attribute a;
    a.kind = Attribute::Kind::kString;
    a.s = v;
    return a;
}
Attribute attr_ints(const Ints& v) {
    Attribute a;
    a.kind = Attribute::Kind::kInts;
    a.ints = v;
    return a;
}

Node make_node(const std::string& op, size_t inputs, size_t outputs, Attrs attrs = {}) {
    Node n;
    n.name = "n_" + op;
    n.op_type = op;
    for (size_t i = 0; i < inputs; ++i) n.inputs.push_back("x" + std::to_string(i));
    for (size_t i = 0; i < outputs; ++i) n.outputs.push_back("y" + std::to_string(i));
    n.attrs = std::move(attrs);
    return n;
}

struct Rng {
    uint64_t state = 0x2545f4914f6cdd1dull;
    double uniform() {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<double>(state >> 11) / 9007199254740992.0;
    }
    // Magnitude in [0.1, 1], random sign.
    double nonzero() { return (uniform() < 0.5 ? -1.0 : 1.0) * (0.1 + 0.9 * uniform()); }
};

Tensor random_tensor(const Shape& shape, Rng& rng) {
    Tensor t(DType::kFloat32, shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(rng.nonzero());
    return t;
}

// Positive values (variances).
Tensor positive_tensor(const Shape& shape, Rng& rng) {
    Tensor t(DType::kFloat32, shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(0.2 + rng.uniform());
    return t;
}

Tensor to_half(const Tensor& t) {
    Tensor h(DType::kFloat16, t.shape());
    for (int64_t i = 0; i < t.numel(); ++i) h.data<uint16_t>()[i] = rtinfer::ir::float_to_half(t.data<float>()[i]);
    return h;
}

struct Input {
    Tensor value;  // float32
    bool constant = false;
};
Input runtime(Tensor t) {
    return Input{std::move(t), false};
}
Input constant(Tensor t) {
    return Input{std::move(t), true};
}

struct Outcome {
    Status created;
    std::vector<Tensor> expected;  // reference outputs
    std::vector<Tensor> actual;    // CUDA outputs, two runs each (runs[r][output])
    std::vector<std::vector<Tensor>> runs;
};

// Runs the node on the reference and on CUDA. In float16 the activations are float16 on both sides; constants
// reach the CUDA op as float32 (converted at create, as in an fp16 engine) and the reference as float16.
Outcome run_both(const Node& node, const std::vector<Input>& inputs, DType dtype, int64_t opset,
                 const Node* ref_node = nullptr) {
    Outcome out;
    const bool half = dtype == DType::kFloat16;
    std::vector<Tensor> ref_inputs;
    for (const Input& in : inputs) ref_inputs.push_back(half ? to_half(in.value) : in.value);
    std::vector<const Tensor*> ref_ptrs;
    for (const Tensor& t : ref_inputs) ref_ptrs.push_back(&t);
    const Node& rn = ref_node ? *ref_node : node;
    const rtinfer::ir::OpKernel* kernel = rtinfer::ref::reference_registry().find(node.domain, node.op_type);
    EXPECT_NE(kernel, nullptr);
    if (!kernel) return out;
    Status s = rtinfer::ref::evaluate_node(*kernel, rn, opset, ref_ptrs, out.expected);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    if (!s.is_ok()) return out;

    std::vector<rtinfer::ir::InputInfo> infos;
    for (size_t i = 0; i < inputs.size(); ++i) {
        rtinfer::ir::InputInfo info;
        info.shape = inputs[i].value.shape();
        info.dtype = inputs[i].constant ? DType::kFloat32 : dtype;
        info.value = inputs[i].constant ? &inputs[i].value : nullptr;
        infos.push_back(info);
    }
    std::vector<rtinfer::ir::OutputInfo> outs;
    for (const Tensor& t : out.expected) outs.push_back(rtinfer::ir::OutputInfo{t.dtype(), t.shape(), true});
    const rtinfer::cuda::CudaKernel* ck = rtinfer::cuda::cuda_registry().find(node.domain, node.op_type);
    EXPECT_NE(ck, nullptr) << node.op_type;
    if (!ck) return out;
    rtinfer::cuda::OpSetup setup{node, opset, infos, outs};
    const CudaLibs& libs = rtinfer::testing::test_cuda_libs();
    auto op = ck->create(setup, libs);
    out.created = op.status();
    if (!op) return out;

    std::vector<DeviceBuffer> buffers;
    std::vector<DeviceTensor> d_in, d_out;
    for (size_t i = 0; i < inputs.size(); ++i) {
        DeviceTensor d;
        d.dtype = dtype;
        d.shape = inputs[i].value.shape();
        if (!inputs[i].constant) {  // constants belong to the op: their device pointer stays null
            const Tensor& host = ref_inputs[i];
            auto b = DeviceBuffer::allocate(host.nbytes());
            EXPECT_TRUE(b.has_value());
            if (!b) return out;
            EXPECT_EQ(cudaMemcpy(b->get(), host.raw(), host.nbytes(), cudaMemcpyHostToDevice), cudaSuccess);
            d.data = b->get();
            buffers.push_back(std::move(*b));
        }
        d_in.push_back(d);
    }
    for (const Tensor& t : out.expected) {
        DeviceTensor d;
        d.dtype = t.dtype();
        d.shape = t.shape();
        if (t.defined()) {
            auto b = DeviceBuffer::allocate(t.nbytes());
            EXPECT_TRUE(b.has_value());
            if (!b) return out;
            d.data = b->get();
            buffers.push_back(std::move(*b));
        }
        d_out.push_back(d);
    }
    auto ws = DeviceBuffer::allocate((*op)->workspace_bytes());
    EXPECT_TRUE(ws.has_value());
    if (!ws) return out;
    for (int run = 0; run < 2; ++run) {
        for (const DeviceTensor& d : d_out) {
            if (d.data) cudaMemset(d.data, 0xFF, d.nbytes());
        }
        if (ws->get()) cudaMemset(ws->get(), 0xFF, ws->bytes());
        Status e = (*op)->enqueue(d_in, d_out, ws->get(), libs);
        EXPECT_TRUE(e.is_ok()) << e.to_string();
        EXPECT_EQ(cudaStreamSynchronize(libs.stream), cudaSuccess);
        std::vector<Tensor> results;
        for (size_t i = 0; i < d_out.size(); ++i) {
            Tensor t;
            if (d_out[i].data) {
                t = Tensor(out.expected[i].dtype(), out.expected[i].shape());
                EXPECT_EQ(cudaMemcpy(t.raw(), d_out[i].data, t.nbytes(), cudaMemcpyDeviceToHost), cudaSuccess);
            }
            results.push_back(t);
        }
        out.runs.push_back(results);
    }
    out.actual = out.runs.back();
    return out;
}

// max |a - b| / max |expected| over every output of every run; NaN-safe (a NaN fails).
void expect_close(const Outcome& o, double tol, const std::string& what) {
    ASSERT_TRUE(o.created.is_ok()) << what << ": " << o.created.to_string();
    ASSERT_EQ(o.runs.size(), 2u) << what;
    for (size_t r = 0; r < o.runs.size(); ++r) {
        for (size_t i = 0; i < o.expected.size(); ++i) {
            if (!o.expected[i].defined()) continue;
            const std::vector<double> e = rtinfer::ir::to_doubles(o.expected[i]);
            const std::vector<double> a = rtinfer::ir::to_doubles(o.runs[r][i]);
            ASSERT_EQ(e.size(), a.size());
            double scale = 0.0, err = 0.0;
            size_t worst = 0;
            for (size_t j = 0; j < e.size(); ++j) {
                scale = std::max(scale, std::fabs(e[j]));
                const double d = std::fabs(a[j] - e[j]);
                if (!(d <= err)) {
                    err = std::isnan(d) ? INFINITY : d;
                    worst = j;
                }
            }
            const double rel = err / std::max(scale, 1e-30);
            EXPECT_LE(rel, tol) << what << ": output " << i << " run " << r << " element " << worst << " got "
                                << a[worst] << " expected " << e[worst] << " (max |ref| " << scale << ")";
        }
    }
}

double tol_for(DType t) {
    return t == DType::kFloat16 ? kTolF16 : kTolF32;
}
const char* name_of(DType t) {
    return t == DType::kFloat16 ? "fp16" : "fp32";
}

void check(const Node& node, const std::vector<Input>& inputs, DType dtype, const std::string& what,
           int64_t opset = 17) {
    expect_close(run_both(node, inputs, dtype, opset), tol_for(dtype), what + " " + name_of(dtype));
}

const DType kBoth[] = {DType::kFloat32, DType::kFloat16};

// ---- Conv ----

struct ConvCase {
    std::string name;
    Shape x, w;
    Attrs attrs;
    bool bias = true;
    bool constant_weights = true;
};

std::vector<Input> conv_inputs(const ConvCase& c, Rng& rng, int64_t out_channels) {
    std::vector<Input> in = {runtime(random_tensor(c.x, rng)), Input{random_tensor(c.w, rng), c.constant_weights}};
    if (c.bias) in.push_back(constant(random_tensor({out_channels}, rng)));
    return in;
}

TEST(CudaNn, Conv) {
    RT_REQUIRE_GPU();
    const std::vector<ConvCase> cases = {
        {"3x3 pad 1 batch 2", {2, 3, 9, 8}, {4, 3, 3, 3}, {{"pads", attr_ints({1, 1, 1, 1})}}},
        {"groups 2 stride 2 dilation 2 asymmetric pads",
         {2, 4, 11, 10},
         {6, 2, 3, 3},
         {{"group", attr_i(2)},
          {"strides", attr_ints({2, 2})},
          {"dilations", attr_ints({2, 2})},
          {"pads", attr_ints({0, 1, 2, 0})}}},
        {"depthwise stride 2 SAME_UPPER",
         {2, 8, 8, 8},
         {8, 1, 3, 3},
         {{"group", attr_i(8)}, {"strides", attr_ints({2, 2})}, {"auto_pad", attr_s("SAME_UPPER")}}},
        {"SAME_LOWER 4x4", {1, 3, 7, 6}, {5, 3, 4, 4}, {{"auto_pad", attr_s("SAME_LOWER")}}},
        {"pointwise no bias", {2, 16, 5, 7}, {24, 16, 1, 1}, {}, false},
        {"pads larger at the start", {1, 2, 6, 6}, {3, 2, 3, 3}, {{"pads", attr_ints({2, 2, 1, 0})}}},
        {"1-D stride 2", {2, 3, 17}, {5, 3, 3}, {{"strides", attr_ints({2})}, {"pads", attr_ints({1, 1})}}},
        {"3-D", {1, 2, 4, 5, 6}, {3, 2, 2, 3, 3}, {{"pads", attr_ints({1, 1, 1, 1, 1, 1})}}},
        {"runtime weights",
         {2, 4, 6, 6},
         {4, 2, 3, 3},
         {{"group", attr_i(2)}, {"pads", attr_ints({1, 1, 1, 1})}},
         true,
         false},
        {"wide 5x5 valid", {1, 32, 12, 12}, {16, 32, 5, 5}, {}},
    };
    for (const ConvCase& c : cases) {
        for (DType t : kBoth) {
            Rng rng;
            const Node node = make_node("Conv", c.bias ? 3 : 2, 1, c.attrs);
            check(node, conv_inputs(c, rng, c.w[0]), t, "Conv " + c.name);
        }
    }
}

// The reference of a fused activation: the activation applied to the plain op's output.
double activation_ref(int kind, double x, double a, double b) {
    switch (kind) {
        case 1:
            return x > 0 ? x : 0;
        case 2:
            return std::min(std::max(x, a), b);
        case 3:
            return 1.0 / (1.0 + std::exp(-x));
        case 4:
            return x / (1.0 + std::exp(-x));
        case 5:
            return x * std::min(std::max(x / 6.0 + 0.5, 0.0), 1.0);
        case 6:
            return x >= 0 ? x : a * x;
        default:
            return x;
    }
}

void apply_activation(Tensor& t, int kind, double a, double b) {
    for (int64_t i = 0; i < t.numel(); ++i) {
        if (t.dtype() == DType::kFloat16) {
            const double v = rtinfer::ir::half_to_float(t.data<uint16_t>()[i]);
            t.data<uint16_t>()[i] = rtinfer::ir::float_to_half(static_cast<float>(activation_ref(kind, v, a, b)));
        } else {
            t.data<float>()[i] = static_cast<float>(activation_ref(kind, t.data<float>()[i], a, b));
        }
    }
}

void check_fused(const std::string& op, const Attrs& attrs, const std::vector<Input>& inputs, DType dtype) {
    struct Act {
        int kind;
        float a, b;
    };
    const Act acts[] = {{1, 0, 0}, {2, -0.5f, 0.75f}, {3, 0, 0}, {4, 0, 0}, {5, 0, 0}, {6, 0.2f, 0}};
    for (const Act& act : acts) {
        const Node plain = make_node(op, inputs.size(), 1, attrs);
        Node fused = plain;
        fused.attrs["rt_fused_activation"] = attr_i(act.kind);
        if (act.kind == 2) {
            fused.attrs["rt_clip_min"] = attr_f(act.a);
            fused.attrs["rt_clip_max"] = attr_f(act.b);
        }
        if (act.kind == 6) fused.attrs["rt_alpha"] = attr_f(act.a);
        Outcome o = run_both(fused, inputs, dtype, 17, &plain);
        for (Tensor& t : o.expected) apply_activation(t, act.kind, act.a, act.b);
        expect_close(o, tol_for(dtype), op + " fused activation " + std::to_string(act.kind) + " " + name_of(dtype));
    }
}

TEST(CudaNn, ConvFusedActivation) {
    RT_REQUIRE_GPU();
    for (DType t : kBoth) {
        Rng rng;
        const ConvCase c{"", {2, 4, 7, 7}, {6, 4, 3, 3}, {{"pads", attr_ints({1, 1, 1, 1})}}};
        check_fused("Conv", c.attrs, conv_inputs(c, rng, 6), t);
        // Without a bias the epilogue still runs for the activation alone.
        const ConvCase nb{"", {1, 4, 6, 6}, {4, 4, 3, 3}, {}, false};
        check_fused("Conv", nb.attrs, conv_inputs(nb, rng, 4), t);
    }
}

// rtinfer.NhwcConv: channels-last X [N,H,W,C] and OHWI weights, what convert_to_nhwc produces.
TEST(CudaNn, NhwcConv) {
    RT_REQUIRE_GPU();
    struct Case {
        std::string name;
        Shape x, w;  // NHWC, OHWI
        Attrs attrs;
    };
    const std::vector<Case> cases = {
        {"3x3 pad 1", {2, 9, 8, 16}, {32, 3, 3, 16}, {{"pads", attr_ints({1, 1, 1, 1})}}},
        {"7x7 stride 2 three channels", {2, 20, 18, 3}, {8, 7, 7, 3}, {{"strides", attr_ints({2, 2})}, {"pads", attr_ints({3, 3, 3, 3})}}},
        {"depthwise stride 2", {2, 10, 10, 24}, {24, 3, 3, 1}, {{"group", attr_i(24)}, {"strides", attr_ints({2, 2})}, {"pads", attr_ints({1, 1, 1, 1})}}},
        {"pointwise", {2, 7, 5, 40}, {24, 1, 1, 40}, {}},
        {"groups 2 dilation 2", {1, 12, 12, 8}, {8, 3, 3, 4}, {{"group", attr_i(2)}, {"dilations", attr_ints({2, 2})}, {"pads", attr_ints({2, 2, 2, 2})}}},
    };
    for (const Case& c : cases) {
        for (DType t : kBoth) {
            for (int act : {0, 1, 4}) {
                for (bool residual : {false, true}) {
                    Rng rng;
                    Node node = make_node("NhwcConv", residual ? 4 : 3, 1, c.attrs);
                    node.domain = rtinfer::ir::kRtinferDomain;
                    if (act) node.attrs["rt_fused_activation"] = attr_i(act);
                    std::vector<Input> in = {runtime(random_tensor(c.x, rng)), constant(random_tensor(c.w, rng)),
                                             constant(random_tensor({c.w[0]}, rng))};
                    if (residual) {  // Z has the output's shape: infer it from the reference
                        const Node plain = make_node("NhwcConv", 3, 1, c.attrs);
                        Outcome probe;
                        std::vector<const Tensor*> ptrs;
                        for (const Input& i : in) ptrs.push_back(&i.value);
                        Node ref_node = plain;
                        ref_node.domain = rtinfer::ir::kRtinferDomain;
                        const auto* k = rtinfer::ref::reference_registry().find(ref_node.domain, "NhwcConv");
                        ASSERT_NE(k, nullptr);
                        ASSERT_TRUE(rtinfer::ref::evaluate_node(*k, ref_node, 17, ptrs, probe.expected).is_ok());
                        in.push_back(runtime(random_tensor(probe.expected[0].shape(), rng)));
                    }
                    check(node, in, t,
                          "NhwcConv " + c.name + " act " + std::to_string(act) + (residual ? " residual" : ""));
                }
            }
        }
    }
}

// Pointwise channels-last convolutions on both paths the builder chooses between: cuBLASLt and cuDNN.
TEST(CudaNn, NhwcConvPointwiseOnEachPath) {
    RT_REQUIRE_GPU();
    for (const char* mode : {"force", "0"}) {
        setenv("RTINFER_CONV_GEMM", mode, 1);
        for (DType t : kBoth) {
            for (int act : {0, 1, 4}) {
                for (bool residual : {false, true}) {
                    Rng rng;
                    Node node = make_node("NhwcConv", residual ? 4 : 3, 1);
                    node.domain = rtinfer::ir::kRtinferDomain;
                    if (act) node.attrs["rt_fused_activation"] = attr_i(act);
                    std::vector<Input> in = {runtime(random_tensor({2, 5, 7, 48}, rng)),
                                             constant(random_tensor({32, 1, 1, 48}, rng)),
                                             constant(random_tensor({32}, rng))};
                    if (residual) in.push_back(runtime(random_tensor({2, 5, 7, 32}, rng)));
                    check(node, in, t,
                          std::string("NhwcConv 1x1 mode ") + mode + " act " + std::to_string(act) +
                              (residual ? " residual" : ""));
                }
            }
        }
    }
    unsetenv("RTINFER_CONV_GEMM");
}

// Depthwise channels-last convolutions on both paths: the direct kernels and cuDNN. Even channels (half2,
// float16 strips), odd channels, 3x3 and 5x5, 3x5 with dilation (generic), stride 2, with and without bias.
TEST(CudaNn, NhwcConvDepthwiseOnEachPath) {
    RT_REQUIRE_GPU();
    struct Case {
        std::string name;
        Shape x, w;
        Attrs attrs;
    };
    const std::vector<Case> cases = {
        {"3x3", {2, 9, 8, 32}, {32, 3, 3, 1}, {{"group", attr_i(32)}, {"pads", attr_ints({1, 1, 1, 1})}}},
        {"5x5 stride 2 odd channels", {1, 11, 10, 15}, {15, 5, 5, 1},
         {{"group", attr_i(15)}, {"strides", attr_ints({2, 2})}, {"pads", attr_ints({2, 2, 2, 2})}}},
        {"3x5 dilation 2", {2, 9, 12, 6}, {6, 3, 5, 1},
         {{"group", attr_i(6)}, {"dilations", attr_ints({2, 2})}, {"pads", attr_ints({2, 4, 2, 4})}}},
        // float16 strips of outputs along W: widths that leave partial strips, both strides, both sizes
        {"5x5", {1, 7, 9, 10}, {10, 5, 5, 1}, {{"group", attr_i(10)}, {"pads", attr_ints({2, 2, 2, 2})}}},
        {"5x5 stride 2", {2, 13, 11, 16}, {16, 5, 5, 1},
         {{"group", attr_i(16)}, {"strides", attr_ints({2, 2})}, {"pads", attr_ints({2, 2, 2, 2})}}},
        {"3x3 stride 2 no pad", {1, 9, 21, 8}, {8, 3, 3, 1}, {{"group", attr_i(8)}, {"strides", attr_ints({2, 2})}}},
    };
    for (const char* mode : {"force", "0"}) {
        setenv("RTINFER_CONV_DEPTHWISE", mode, 1);
        for (const Case& c : cases) {
            for (DType t : kBoth) {
                for (int act : {0, 2, 4}) {
                    for (bool bias : {false, true}) {
                        Rng rng;
                        Node node = make_node("NhwcConv", bias ? 3 : 2, 1, c.attrs);
                        node.domain = rtinfer::ir::kRtinferDomain;
                        if (act) node.attrs["rt_fused_activation"] = attr_i(act);
                        if (act == 2) {  // ReLU6
                            node.attrs["rt_clip_min"] = attr_f(0.0f);
                            node.attrs["rt_clip_max"] = attr_f(6.0f);
                        }
                        std::vector<Input> in = {runtime(random_tensor(c.x, rng)), constant(random_tensor(c.w, rng))};
                        if (bias) in.push_back(constant(random_tensor({c.w[0]}, rng)));
                        check(node, in, t,
                              "NhwcConv depthwise " + c.name + " mode " + mode + " act " + std::to_string(act) +
                                  (bias ? " bias" : ""));
                    }
                }
            }
        }
    }
    unsetenv("RTINFER_CONV_DEPTHWISE");
}

// A depthwise convolution that applies its producer's activation to X as it reads it (fuse_input_activation):
// ReLU6 (Clip) and SiLU, with a fused output activation and bias, even and odd channel counts.
TEST(CudaNn, NhwcConvDepthwiseInputActivation) {
    RT_REQUIRE_GPU();
    for (int64_t channels : {24, 7}) {
        for (int in_act : {2, 4}) {
            for (DType t : kBoth) {
                Rng rng;
                Node node = make_node("NhwcConv", 3, 1,
                                      {{"group", attr_i(channels)}, {"pads", attr_ints({1, 1, 1, 1})},
                                       {"strides", attr_ints({2, 2})}, {"rt_input_activation", attr_i(in_act)},
                                       {"rt_fused_activation", attr_i(4)}});
                node.domain = rtinfer::ir::kRtinferDomain;
                if (in_act == 2) {
                    node.attrs["rt_input_clip_min"] = attr_f(0.0f);
                    node.attrs["rt_input_clip_max"] = attr_f(0.5f);
                }
                check(node,
                      {runtime(random_tensor({2, 9, 10, channels}, rng)), constant(random_tensor({channels, 3, 3, 1}, rng)),
                       constant(random_tensor({channels}, rng))},
                      t, "NhwcConv depthwise input activation " + std::to_string(in_act) + " C " + std::to_string(channels));
            }
        }
    }
}

// Pointwise convolutions with few input channels on the direct float16 kernel: an odd pixel count (the last
// thread has one pixel), ReLU6 and SiLU fused, with and without bias and residual.
TEST(CudaNn, NhwcConvDirectPointwise) {
    RT_REQUIRE_GPU();
    setenv("RTINFER_CONV_POINTWISE", "force", 1);
    for (const auto& [k, m] : std::vector<std::pair<int64_t, int64_t>>{{16, 96}, {2, 6}, {32, 24}}) {
        for (int act : {0, 2, 4}) {
            // (bias, residual): Z comes after B, so a residual case has a bias too.
            for (const auto& [bias, residual] : std::vector<std::pair<bool, bool>>{{false, false}, {true, false}, {true, true}}) {
                {
                    Rng rng;
                    Node node = make_node("NhwcConv", residual ? 4 : (bias ? 3 : 2), 1);
                    node.domain = rtinfer::ir::kRtinferDomain;
                    if (act) node.attrs["rt_fused_activation"] = attr_i(act);
                    if (act == 2) {
                        node.attrs["rt_clip_min"] = attr_f(0.0f);
                        node.attrs["rt_clip_max"] = attr_f(6.0f);
                    }
                    std::vector<Input> in = {runtime(random_tensor({3, 5, 7, k}, rng)),
                                             constant(random_tensor({m, 1, 1, k}, rng))};
                    if (bias) in.push_back(constant(random_tensor({m}, rng)));
                    if (residual) in.push_back(runtime(random_tensor({3, 5, 7, m}, rng)));
                    check(node, in, DType::kFloat16,
                          "NhwcConv direct 1x1 K " + std::to_string(k) + " M " + std::to_string(m) + " act " +
                              std::to_string(act) + (bias ? " bias" : "") + (residual ? " residual" : ""));
                }
            }
        }
    }
    unsetenv("RTINFER_CONV_POINTWISE");
}

// The fused entry reformat of a channels-last region: NCHW -> NHWC, zero channels up to `channels`, float16
// output with to_half (the 16-byte store for 8 float16 channels) or the input's type.
TEST(CudaNn, NchwToNhwc) {
    RT_REQUIRE_GPU();
    for (int64_t channels : {3, 5, 8}) {
        for (int to_half : {0, 1}) {
            for (DType t : kBoth) {
                Rng rng;
                Node node = make_node("NchwToNhwc", 1, 1, {{"channels", attr_i(channels)}, {"to_half", attr_i(to_half)}});
                node.domain = rtinfer::ir::kRtinferDomain;
                check(node, {runtime(random_tensor({2, 3, 7, 9}, rng))}, t,
                      "NchwToNhwc channels " + std::to_string(channels) + " to_half " + std::to_string(to_half));
            }
        }
    }
}

TEST(CudaNn, NhwcGlobalAveragePool) {
    RT_REQUIRE_GPU();
    for (const Shape& x : {Shape{2, 7, 7, 64}, Shape{3, 5, 4, 3}, Shape{1, 1, 1, 8}, Shape{2, 56, 56, 144},
                           Shape{1, 112, 112, 32}, Shape{2, 3, 3, 1000}, Shape{1, 9, 9, 6}}) {
        for (DType t : kBoth) {
            Rng rng;
            Node node = make_node("NhwcGlobalAveragePool", 1, 1);
            node.domain = rtinfer::ir::kRtinferDomain;
            check(node, {runtime(random_tensor(x, rng))}, t, "NhwcGlobalAveragePool " + rtinfer::ir::shape_str(x));
        }
    }
}

TEST(CudaNn, ConvTranspose) {
    RT_REQUIRE_GPU();
    struct Case {
        std::string name;
        Shape x, w;
        Attrs attrs;
        bool bias = true;
    };
    const std::vector<Case> cases = {
        {"stride 2 pads 1 output_padding 1 batch 2",
         {2, 3, 4, 5},
         {3, 4, 3, 3},
         {{"strides", attr_ints({2, 2})}, {"pads", attr_ints({1, 1, 1, 1})}, {"output_padding", attr_ints({1, 1})}}},
        {"groups 2 dilation 2 asymmetric pads",
         {2, 4, 5, 4},
         {4, 3, 3, 3},
         {{"group", attr_i(2)},
          {"dilations", attr_ints({2, 2})},
          {"strides", attr_ints({2, 1})},
          {"pads", attr_ints({0, 1, 1, 0})}}},
        {"SAME_UPPER stride 2",
         {1, 2, 3, 4},
         {2, 3, 3, 3},
         {{"strides", attr_ints({2, 2})}, {"auto_pad", attr_s("SAME_UPPER")}}},
        {"output_shape",
         {1, 2, 3, 3},
         {2, 2, 3, 3},
         {{"strides", attr_ints({3, 2})}, {"output_shape", attr_ints({10, 8})}},
         false},
        {"depthwise", {2, 4, 5, 5}, {4, 1, 4, 4}, {{"group", attr_i(4)}, {"strides", attr_ints({2, 2})}}},
        {"1-D", {2, 3, 7}, {3, 2, 4}, {{"strides", attr_ints({3})}, {"pads", attr_ints({1, 2})}}},
    };
    for (const Case& c : cases) {
        for (DType t : kBoth) {
            Rng rng;
            const int64_t out_channels = c.w[1] * (c.attrs.count("group") ? c.attrs.at("group").i : 1);
            std::vector<Input> in = {runtime(random_tensor(c.x, rng)), constant(random_tensor(c.w, rng))};
            if (c.bias) in.push_back(constant(random_tensor({out_channels}, rng)));
            check(make_node("ConvTranspose", in.size(), 1, c.attrs), in, t, "ConvTranspose " + c.name);
        }
    }
}

// ---- Pooling ----

TEST(CudaNn, Pool) {
    RT_REQUIRE_GPU();
    struct Case {
        std::string op, name;
        Shape x;
        Attrs attrs;
    };
    const std::vector<Case> cases = {
        {"MaxPool",
         "3x3 stride 2 pad 1 batch 2",
         {2, 3, 9, 10},
         {{"kernel_shape", attr_ints({3, 3})}, {"strides", attr_ints({2, 2})}, {"pads", attr_ints({1, 1, 1, 1})}}},
        {"MaxPool",
         "ceil_mode",
         {1, 2, 8, 7},
         {{"kernel_shape", attr_ints({3, 3})}, {"strides", attr_ints({2, 2})}, {"ceil_mode", attr_i(1)}}},
        {"MaxPool",
         "dilations asymmetric pads",
         {2, 2, 9, 9},
         {{"kernel_shape", attr_ints({2, 3})}, {"dilations", attr_ints({2, 2})}, {"pads", attr_ints({0, 1, 2, 0})}}},
        {"MaxPool",
         "SAME_UPPER",
         {1, 3, 7, 8},
         {{"kernel_shape", attr_ints({3, 3})}, {"strides", attr_ints({2, 2})}, {"auto_pad", attr_s("SAME_UPPER")}}},
        {"MaxPool", "1-D", {2, 3, 11}, {{"kernel_shape", attr_ints({3})}, {"strides", attr_ints({2})}}},
        {"MaxPool",
         "3-D",
         {1, 2, 5, 6, 7},
         {{"kernel_shape", attr_ints({2, 2, 2})}, {"strides", attr_ints({2, 2, 2})}}},
        {"AveragePool",
         "exclude pad",
         {2, 3, 9, 10},
         {{"kernel_shape", attr_ints({3, 3})}, {"strides", attr_ints({2, 2})}, {"pads", attr_ints({1, 1, 1, 1})}}},
        {"AveragePool",
         "include pad",
         {2, 3, 9, 10},
         {{"kernel_shape", attr_ints({3, 3})},
          {"strides", attr_ints({2, 2})},
          {"pads", attr_ints({1, 1, 1, 1})},
          {"count_include_pad", attr_i(1)}}},
        {"AveragePool",
         "include pad ceil_mode asymmetric",
         {1, 2, 8, 9},
         {{"kernel_shape", attr_ints({3, 2})},
          {"strides", attr_ints({2, 2})},
          {"pads", attr_ints({1, 0, 0, 1})},
          {"ceil_mode", attr_i(1)},
          {"count_include_pad", attr_i(1)}}},
        {"AveragePool",
         "exclude pad ceil_mode",
         {1, 2, 8, 9},
         {{"kernel_shape", attr_ints({3, 3})}, {"strides", attr_ints({2, 2})}, {"ceil_mode", attr_i(1)}}},
        {"AveragePool", "1-D", {2, 3, 12}, {{"kernel_shape", attr_ints({4})}, {"strides", attr_ints({3})}}},
    };
    for (const Case& c : cases) {
        for (DType t : kBoth) {
            Rng rng;
            check(make_node(c.op, 1, 1, c.attrs), {runtime(random_tensor(c.x, rng))}, t, c.op + " " + c.name);
        }
    }
}

// Channels-last MaxPool (what convert_to_nhwc makes of MaxPool): X [N, H, W, C], even C (half2) and odd C.
TEST(CudaNn, NhwcMaxPool) {
    RT_REQUIRE_GPU();
    struct Case {
        std::string name;
        Shape x;
        Attrs attrs;
    };
    const std::vector<Case> cases = {
        {"3x3 stride 2 pad 1 (ResNet stem)",
         {2, 12, 11, 64},
         {{"kernel_shape", attr_ints({3, 3})}, {"strides", attr_ints({2, 2})}, {"pads", attr_ints({1, 1, 1, 1})}}},
        {"odd channels, ceil_mode",
         {1, 8, 7, 3},
         {{"kernel_shape", attr_ints({3, 3})}, {"strides", attr_ints({2, 2})}, {"ceil_mode", attr_i(1)}}},
        {"dilations, asymmetric pads",
         {2, 9, 9, 6},
         {{"kernel_shape", attr_ints({2, 3})}, {"dilations", attr_ints({2, 2})}, {"pads", attr_ints({0, 1, 2, 0})}}},
        {"SAME_UPPER", {1, 7, 8, 10}, {{"kernel_shape", attr_ints({3, 3})}, {"strides", attr_ints({2, 2})},
                                       {"auto_pad", attr_s("SAME_UPPER")}}},
    };
    for (const Case& c : cases) {
        for (DType t : kBoth) {
            Rng rng;
            Node node = make_node("NhwcMaxPool", 1, 1, c.attrs);
            node.domain = rtinfer::ir::kRtinferDomain;
            check(node, {runtime(random_tensor(c.x, rng))}, t, "NhwcMaxPool " + c.name);
        }
    }
}

TEST(CudaNn, GlobalPool) {
    RT_REQUIRE_GPU();
    for (const char* op : {"GlobalAveragePool", "GlobalMaxPool"}) {
        for (const Shape& x : {Shape{2, 3, 7, 9}, Shape{1, 4, 33, 35}, Shape{2, 5, 13}, Shape{1, 2, 2, 3, 4}}) {
            for (DType t : kBoth) {
                Rng rng;
                check(make_node(op, 1, 1), {runtime(random_tensor(x, rng))}, t,
                      std::string(op) + " " + rtinfer::ir::shape_str(x));
            }
        }
    }
}

TEST(CudaNn, MaxPoolIndicesIsUnsupported) {
    RT_REQUIRE_GPU();
    Rng rng;
    const Node node = make_node("MaxPool", 1, 2, {{"kernel_shape", attr_ints({2, 2})}});
    Outcome o = run_both(node, {runtime(random_tensor({1, 2, 4, 4}, rng))}, DType::kFloat32, 17);
    EXPECT_EQ(o.created.code(), StatusCode::kUnsupported) << o.created.to_string();
}

// ---- Gemm and MatMul ----

TEST(CudaNn, Gemm) {
    RT_REQUIRE_GPU();
    struct Case {
        std::string name;
        int64_t m, n, k;
        bool ta, tb;
        bool has_c;
        Shape c;
        float alpha, beta;
        bool c_constant = true;
    };
    const std::vector<Case> cases = {
        {"plain no C", 7, 13, 5, false, false, false, {}, 1.0f, 1.0f},
        {"bias [N] (epilogue)", 33, 40, 24, false, true, true, {40}, 1.0f, 1.0f},
        {"bias [1, N] alpha 0.5", 16, 24, 64, false, true, true, {1, 24}, 0.5f, 1.0f},
        {"bias [N] beta 2", 9, 11, 6, true, false, true, {11}, 1.0f, 2.0f},
        {"full C transA transB", 12, 10, 8, true, true, true, {12, 10}, 1.5f, -0.5f},
        {"C [M, 1]", 6, 9, 7, false, false, true, {6, 1}, 1.0f, 1.0f},
        {"scalar C", 5, 4, 3, false, true, true, {}, 1.0f, 0.75f},
        {"runtime bias [N]", 20, 30, 17, false, true, true, {30}, 1.0f, 1.0f, false},
        {"larger", 64, 96, 80, false, false, true, {96}, 1.0f, 1.0f},
    };
    for (const Case& c : cases) {
        for (DType t : kBoth) {
            Rng rng;
            Attrs attrs = {{"transA", attr_i(c.ta)},
                           {"transB", attr_i(c.tb)},
                           {"alpha", attr_f(c.alpha)},
                           {"beta", attr_f(c.beta)}};
            std::vector<Input> in = {runtime(random_tensor(c.ta ? Shape{c.k, c.m} : Shape{c.m, c.k}, rng)),
                                     constant(random_tensor(c.tb ? Shape{c.n, c.k} : Shape{c.k, c.n}, rng))};
            if (c.has_c) in.push_back(Input{random_tensor(c.c, rng), c.c_constant});
            check(make_node("Gemm", in.size(), 1, attrs), in, t, "Gemm " + c.name);
        }
    }
}

TEST(CudaNn, MatMul) {
    RT_REQUIRE_GPU();
    struct Case {
        std::string name;
        Shape a, b;
        bool b_constant = true;
    };
    const std::vector<Case> cases = {
        {"2-D", {7, 5}, {5, 9}},
        {"fold batches into M", {2, 3, 6, 8}, {8, 5}},
        {"same batches", {3, 4, 6}, {3, 6, 5}, false},
        {"one A for every batch", {4, 6}, {3, 6, 7}, false},
        {"broadcast batch dims", {2, 1, 4, 6}, {1, 3, 6, 5}, false},
        {"1-D A", {6}, {2, 6, 4}},
        {"1-D B", {3, 5, 6}, {6}},
        {"larger", {2, 64, 96}, {96, 48}},
    };
    for (const Case& c : cases) {
        for (DType t : kBoth) {
            Rng rng;
            std::vector<Input> in = {runtime(random_tensor(c.a, rng)), Input{random_tensor(c.b, rng), c.b_constant}};
            check(make_node("MatMul", 2, 1), in, t, "MatMul " + c.name);
        }
    }
}

TEST(CudaNn, GemmMatMulFusedActivation) {
    RT_REQUIRE_GPU();
    Rng rng;
    check_fused("Gemm", {{"transB", attr_i(1)}},
                {runtime(random_tensor({8, 12}, rng)), constant(random_tensor({10, 12}, rng)),
                 constant(random_tensor({10}, rng))},
                DType::kFloat32);
    check_fused("MatMul", {}, {runtime(random_tensor({2, 5, 6}, rng)), constant(random_tensor({6, 7}, rng))},
                DType::kFloat16);
}

// ---- Normalizations ----

TEST(CudaNn, BatchNormalization) {
    RT_REQUIRE_GPU();
    for (const Shape& x : {Shape{2, 4, 5, 6}, Shape{3, 4}, Shape{2, 3, 17}}) {
        for (DType t : kBoth) {
            Rng rng;
            const Shape c = {x[1]};
            std::vector<Input> in = {runtime(random_tensor(x, rng)), constant(random_tensor(c, rng)),
                                     constant(random_tensor(c, rng)), constant(random_tensor(c, rng)),
                                     constant(positive_tensor(c, rng))};
            check(make_node("BatchNormalization", 5, 1, {{"epsilon", attr_f(1e-3f)}}), in, t,
                  "BatchNormalization " + rtinfer::ir::shape_str(x));
        }
    }
    Rng rng;
    const Shape c = {3};
    check_fused("BatchNormalization", {},
                {runtime(random_tensor({2, 3, 4, 4}, rng)), constant(random_tensor(c, rng)),
                 constant(random_tensor(c, rng)), constant(random_tensor(c, rng)), constant(positive_tensor(c, rng))},
                DType::kFloat32);
}

TEST(CudaNn, LayerNormalization) {
    RT_REQUIRE_GPU();
    struct Case {
        std::string name;
        Shape x;
        int64_t axis;
        Shape scale;
        bool bias;
        size_t outputs;
    };
    const std::vector<Case> cases = {
        {"last axis", {2, 3, 16}, -1, {16}, true, 1},
        {"axis 1 with broadcast scale", {2, 3, 5, 8}, 1, {5, 1}, true, 1},
        {"no bias", {4, 33}, -1, {33}, false, 1},
        {"long rows", {3, 1000}, 1, {1000}, true, 1},
        {"Mean and InvStdDev outputs", {2, 4, 24}, 2, {24}, true, 3},
        // Rows of whole 16-byte vectors per lane: the warp-per-row kernel (ViT's 768, the 1024 limit, 256 in
        // float16 = one vector per lane), with a row count that leaves the last block partly empty.
        {"transformer rows", {3, 7, 768}, -1, {768}, true, 1},
        {"rows of 1024 with statistics", {5, 1024}, 1, {1024}, true, 3},
        {"rows of 256 without bias", {9, 256}, -1, {256}, false, 1},
    };
    for (const Case& c : cases) {
        for (DType t : kBoth) {
            Rng rng;
            std::vector<Input> in = {runtime(random_tensor(c.x, rng)), constant(random_tensor(c.scale, rng))};
            if (c.bias) in.push_back(constant(random_tensor(c.scale, rng)));
            check(make_node("LayerNormalization", in.size(), c.outputs, {{"axis", attr_i(c.axis)}}), in, t,
                  "LayerNormalization " + c.name);
        }
    }
}

TEST(CudaNn, InstanceAndGroupNormalization) {
    RT_REQUIRE_GPU();
    for (DType t : kBoth) {
        Rng rng;
        check(make_node("InstanceNormalization", 3, 1, {{"epsilon", attr_f(1e-4f)}}),
              {runtime(random_tensor({2, 3, 5, 7}, rng)), constant(random_tensor({3}, rng)),
               constant(random_tensor({3}, rng))},
              t, "InstanceNormalization");
        // Opset 21: per-channel scale and bias.
        check(make_node("GroupNormalization", 3, 1, {{"num_groups", attr_i(2)}}),
              {runtime(random_tensor({2, 6, 4, 5}, rng)), constant(random_tensor({6}, rng)),
               constant(random_tensor({6}, rng))},
              t, "GroupNormalization per channel", 21);
        // Opset 18: per-group scale and bias.
        check(make_node("GroupNormalization", 3, 1, {{"num_groups", attr_i(3)}}),
              {runtime(random_tensor({2, 6, 9}, rng)), constant(random_tensor({3}, rng)),
               constant(random_tensor({3}, rng))},
              t, "GroupNormalization per group", 18);
    }
}

TEST(CudaNn, BatchNormalizationTrainingIsUnsupported) {
    RT_REQUIRE_GPU();
    Rng rng;
    const Shape c = {2};
    const Node node = make_node("BatchNormalization", 5, 3, {{"training_mode", attr_i(1)}});
    Outcome o =
        run_both(node,
                 {runtime(random_tensor({2, 2, 3}, rng)), constant(random_tensor(c, rng)),
                  constant(random_tensor(c, rng)), constant(random_tensor(c, rng)), constant(positive_tensor(c, rng))},
                 DType::kFloat32, 15);
    EXPECT_EQ(o.created.code(), StatusCode::kUnsupported) << o.created.to_string();
}

}  // namespace
