// rtinfer.PointwiseChain on CUDA against the reference kernel: chains made by passes::fuse_pointwise_chain from
// small graphs, random non-zero data, float32 and float16, with operands that broadcast (a scalar immediate, a
// run-time scalar, per-channel [C, 1, 1], per-last-dim, a full run-time tensor), shapes that take the wide (4
// or 2 elements per thread) and the one-element path, a misaligned input, and every op a chain takes. Outputs
// are poisoned before each of two launches. Tolerances: float32 |cuda - ref| <= 1e-5 |ref| + 1e-6 max|ref|
// (see test_cuda_elementwise.cpp), float16 5e-3 |ref| + 5e-4 max|ref| (both round once, from float). Then a
// CUDA engine built from ONNX, fp32 and fp16, against the CPU engine, and the chain surviving save and load.
#include <gtest/gtest.h>

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "core/ir/op.h"
#include "core/ir/shape_inference.h"
#include "core/ir/shape_util.h"
#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/cuda_op.h"
#include "core/kernels/ref/ref_backend.h"
#include "core/passes/passes.h"
#include "rtinfer/builder.h"
#include "tests/gpu/cuda_libs.h"
#include "tests/gpu/engine_check.h"
#include "tests/gpu/gpu_test_util.h"
#include "tests/unit/graph_builders.h"
#include "tests/unit/pointwise_chain_cases.h"
#include "tests/unit/plugin_test_util.h"

namespace ir = rtinfer::ir;
namespace cu = rtinfer::cuda;
using rtinfer::DataType;
using rtinfer::Status;
using namespace rtinfer::testing;

namespace {

const DataType kBoth[] = {DataType::kFloat32, DataType::kFloat16};

// Runs the pass on g (shapes inferred) and returns its one PointwiseChain node, with `steps` steps.
const ir::Node* fuse_one(ir::Graph& g, size_t steps) {
    Status s = rtinfer::ir::infer_shapes(g, rtinfer::ref::reference_registry());
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    int chains = 0;
    s = rtinfer::passes::fuse_pointwise_chain(g, &chains);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    EXPECT_EQ(chains, 1);
    EXPECT_EQ(g.nodes.size(), 1u);
    if (chains != 1 || g.nodes.size() != 1) return nullptr;
    EXPECT_EQ(g.nodes[0].attr_ints("ops").size(), steps);
    return &g.nodes[0];
}

// The chain node of g on CUDA against the reference. Run-time inputs come from `values` (float32, converted
// to dtype); constants from the graph. Every input is on the device, as the runtime provides constants too;
// `misalign` offsets the first run-time input's pointer by one element.
void check_chain(const ir::Graph& g, const ir::Node& node, const std::map<std::string, ir::Tensor>& values,
                 DataType dtype, bool misalign = false) {
    const bool half = dtype == DataType::kFloat16;
    std::vector<ir::Tensor> inputs;
    std::vector<bool> constant;
    for (const std::string& name : node.inputs) {
        const ir::Value& v = g.at(name);
        constant.push_back(v.is_constant());
        inputs.push_back(v.is_constant() ? v.constant : cast_to(values.at(name), dtype));
        ASSERT_EQ(inputs.back().dtype(), dtype) << name;
    }
    std::vector<const ir::Tensor*> ptrs;
    for (const ir::Tensor& t : inputs) ptrs.push_back(&t);
    const ir::OpKernel* kernel = rtinfer::ref::reference_registry().find(node.domain, node.op_type);
    ASSERT_NE(kernel, nullptr);
    std::vector<ir::Tensor> expected;
    Status s = rtinfer::ref::evaluate_node(*kernel, node, 1, ptrs, expected);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    ASSERT_EQ(expected[0].shape(), g.at(node.outputs[0]).shape);

    std::vector<ir::InputInfo> infos;
    for (size_t k = 0; k < inputs.size(); ++k) {
        infos.push_back({dtype, inputs[k].shape(), true, constant[k] ? &inputs[k] : nullptr});
    }
    const cu::CudaKernel* ck = cu::cuda_registry().find(node.domain, node.op_type);
    ASSERT_NE(ck, nullptr);
    cu::OpSetup setup{node, 1, infos, {{dtype, expected[0].shape(), true}}};
    const cu::CudaLibs& libs = rtinfer::testing::test_cuda_libs();
    auto op = ck->create(setup, libs);
    ASSERT_TRUE(op.has_value()) << op.status().to_string();

    std::vector<cu::DeviceBuffer> buffers;
    std::vector<cu::DeviceTensor> d_in;
    bool shifted = false;
    for (const ir::Tensor& t : inputs) {
        const bool shift = misalign && !shifted && !constant[d_in.size()];
        shifted = shifted || shift;
        const size_t pad = shift ? rtinfer::data_type_size(dtype) : 0;
        auto b = cu::DeviceBuffer::allocate(t.nbytes() + pad);
        ASSERT_TRUE(b.has_value());
        char* p = static_cast<char*>(b->get()) + pad;
        ASSERT_EQ(cudaMemcpy(p, t.raw(), t.nbytes(), cudaMemcpyHostToDevice), cudaSuccess);
        d_in.push_back({p, dtype, t.shape()});
        buffers.push_back(std::move(*b));
    }
    ASSERT_EQ(shifted, misalign);
    cu::DeviceTensor y{nullptr, dtype, expected[0].shape()};
    auto yb = cu::DeviceBuffer::allocate(y.nbytes());
    ASSERT_TRUE(yb.has_value());
    y.data = yb->get();

    const std::vector<double> e = ir::to_doubles(expected[0]);
    double scale = 0;
    for (double v : e) scale = std::max(scale, std::fabs(v));
    ASSERT_GT(scale, 0.05);
    for (int run = 0; run < 2; ++run) {
        ASSERT_EQ(cudaMemset(y.data, 0xFF, y.nbytes()), cudaSuccess);  // NaN in both types
        s = (*op)->enqueue(d_in, {y}, nullptr, libs);
        ASSERT_TRUE(s.is_ok()) << s.to_string();
        ASSERT_EQ(cudaStreamSynchronize(libs.stream), cudaSuccess);
        ir::Tensor got(dtype, y.shape);
        ASSERT_EQ(cudaMemcpy(got.raw(), y.data, got.nbytes(), cudaMemcpyDeviceToHost), cudaSuccess);
        const std::vector<double> a = ir::to_doubles(got);
        const double rel = half ? 5e-3 : 1e-5, abs = (half ? 5e-4 : 1e-6) * scale;
        int bad = 0;
        for (size_t i = 0; i < e.size(); ++i) {
            const double d = std::fabs(a[i] - e[i]);
            if (!(d <= rel * std::fabs(e[i]) + abs) && bad++ < 3) {
                ADD_FAILURE() << "run " << run << " element " << i << ": got " << a[i] << ", expected " << e[i];
            }
        }
        EXPECT_EQ(bad, 0) << "run " << run;
    }
}

}  // namespace

TEST(CudaPointwiseChain, BroadcastOperandsMatchTheReference) {
    RT_REQUIRE_GPU();
    // Inner dims that group by 4, by 2, and not at all; a rank-5 shape.
    for (const ir::Shape& shape : broadcast_chain_shapes()) {
        for (DataType dtype : kBoth) {
            for (bool misalign : {false, true}) {
                SCOPED_TRACE(ir::shape_str(shape) + (dtype == DataType::kFloat16 ? " fp16" : " fp32") +
                             (misalign ? " misaligned" : ""));
                ir::Graph g = broadcast_chain_graph(shape, dtype);
                const ir::Node* n = fuse_one(g, 8);
                ASSERT_NE(n, nullptr);
                EXPECT_EQ(n->inputs, (std::vector<std::string>{"x", "scale", "bias", "z", "t"}));
                check_chain(g, *n, broadcast_chain_inputs(shape), dtype, misalign);
            }
        }
    }
}

TEST(CudaPointwiseChain, EveryUnaryOpMatchesTheReference) {
    RT_REQUIRE_GPU();
    for (const UnaryChainCase& c : unary_chain_cases()) {
        for (DataType dtype : kBoth) {
            SCOPED_TRACE(c.op + (dtype == DataType::kFloat16 ? " fp16" : " fp32"));
            ir::Graph g = unary_chain_graph(c, dtype);
            const ir::Node* n = fuse_one(g, 4);
            ASSERT_NE(n, nullptr);
            check_chain(g, *n, {{"x", unary_chain_input(c)}}, dtype);
        }
    }
}

TEST(CudaPointwiseChain, EveryBinaryOpMatchesTheReference) {
    RT_REQUIRE_GPU();
    for (const BinaryChainCase& c : binary_chain_cases()) {
        for (DataType dtype : kBoth) {
            SCOPED_TRACE(c.op + " " + c.b + (c.three ? " 3" : "") + (dtype == DataType::kFloat16 ? " fp16" : " fp32"));
            ir::Graph g = binary_chain_graph(c, dtype);
            const ir::Node* n = fuse_one(g, c.three ? 5 : 4);
            ASSERT_NE(n, nullptr);
            check_chain(g, *n, binary_chain_inputs(), dtype);
        }
    }
}

namespace {

// x [1, 16, 8, 8] -> x * scale + bias (per channel) -> SiLU as Sigmoid and Mul -> + x -> y: one chain of five.
rtinfer::testing::OnnxMaker chain_model() {
    rtinfer::testing::OnnxMaker m;
    m.input("x", {1, 16, 8, 8});
    m.output("y", {1, 16, 8, 8});
    auto init = [&](const std::string& name, unsigned seed) {
        auto* t = m.g().add_initializer();
        t->set_name(name);
        t->set_data_type(::onnx::TensorProto::FLOAT);
        for (int64_t d : {16, 1, 1}) t->add_dims(d);
        const ir::Tensor v = random_tensor({16}, seed);
        for (int64_t i = 0; i < 16; ++i) t->add_float_data(v.data<float>()[i]);
    };
    init("scale", 1);
    init("bias", 2);
    m.node("Mul", {"x", "scale"}, {"m"}, "scale_mul");
    m.node("Add", {"m", "bias"}, {"a"}, "bias_add");
    m.node("Sigmoid", {"a"}, {"s"}, "silu_sigmoid");
    m.node("Mul", {"a", "s"}, {"silu"}, "silu_mul");
    m.node("Add", {"silu", "x"}, {"y"}, "residual");
    return m;
}

}  // namespace

TEST(CudaPointwiseChain, EngineMatchesTheCpuEngine) {
    RT_REQUIRE_GPU();
    const rtinfer::testing::OnnxMaker model = chain_model();
    const ir::Tensor x = random_tensor({1, 16, 8, 8}, 11);
    const std::vector<float> in(x.data<float>(), x.data<float>() + x.numel());
    auto cpu = model.build();
    ASSERT_TRUE(cpu.has_value()) << cpu.status().to_string();
    for (const auto& layer : (*cpu)->layers()) EXPECT_NE(layer.op_type, "PointwiseChain");  // CUDA builds only
    const EngineInputs inputs = {{"x", in}};
    std::vector<float> want(in.size());
    run_cpu_engine(model, rtinfer::BuilderConfig(), inputs, &want);

    for (bool fp16 : {false, true}) {
        SCOPED_TRACE(fp16 ? "fp16" : "fp32");
        rtinfer::BuilderConfig config;
        config.backend = rtinfer::Backend::kCuda;
        config.fp16 = fp16;
        auto built = model.build(config);
        ASSERT_TRUE(built.has_value()) << built.status().to_string();
        // The chain's program is in node attributes: it must survive the engine file.
        auto bytes = (*built)->serialize();
        ASSERT_TRUE(bytes.has_value()) << bytes.status().to_string();
        auto engine = rtinfer::Engine::load_memory(bytes->data(), bytes->size());
        ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
        int chains = 0;
        for (const auto& layer : (*engine)->layers()) chains += layer.op_type == "PointwiseChain";
        EXPECT_EQ(chains, 1);
        expect_cuda_engine_matches(**engine, inputs, want, fp16 ? 5e-3 : 1e-5);
    }
}
