// The reduce family's CUDA kernels against the CPU reference on random non-zero data: float32 within 1e-5 and
// float16 within 5e-3 of the reference (relative to the largest reference value), indices exact. Outputs are
// poisoned (0xFF bytes) before each run so that unwritten elements fail.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/ir/half.h"
#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/cuda_op.h"
#include "core/kernels/ref/ref_backend.h"
#include "tests/gpu/gpu_test_util.h"

namespace {

namespace ir = rtinfer::ir;
namespace cuda = rtinfer::cuda;
using ir::DType;
using ir::Shape;
using ir::Tensor;
using rtinfer::Status;
using rtinfer::StatusCode;
using Attrs = std::map<std::string, ir::Attribute>;

ir::Attribute attr_i(int64_t v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInt;
    a.i = v;
    return a;
}
ir::Attribute attr_ints(std::vector<int64_t> v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInts;
    a.ints = std::move(v);
    return a;
}

struct Rng {
    uint32_t state;
    uint32_t next() {
        state = state * 1664525u + 1013904223u;
        return state >> 8;
    }
    // Non-zero, in [-2, -0.1] or [0.1, 2].
    float value() {
        const float mag = 0.1f + 1.9f * static_cast<float>(next() % 10000) / 10000.0f;
        return next() % 2 ? mag : -mag;
    }
};

Tensor random_tensor(DType t, Shape shape, uint32_t seed) {
    Rng rng{seed * 2654435761u + 17u};
    Tensor x(t, std::move(shape));
    for (int64_t i = 0; i < x.numel(); ++i) {
        switch (t) {
            case DType::kFloat32:
                x.data<float>()[i] = rng.value();
                break;
            case DType::kFloat16:
                x.data<uint16_t>()[i] = ir::float_to_half(rng.value());
                break;
            // Distinct high and low words, so moving 4-byte halves instead of 8-byte elements shows.
            case DType::kInt64:
                x.data<int64_t>()[i] = (static_cast<int64_t>(rng.next()) << 32) + 1 + rng.next() % 1000000;
                break;
            case DType::kInt32:
                x.data<int32_t>()[i] = static_cast<int32_t>(1 + rng.next() % 100000);
                break;
            case DType::kUInt8:
                x.data<uint8_t>()[i] = static_cast<uint8_t>(1 + rng.next() % 250);
                break;
            case DType::kBool:
                x.data<uint8_t>()[i] = static_cast<uint8_t>(rng.next() % 2);
                break;
            default:
                break;
        }
    }
    return x;
}

Tensor i64s(const std::vector<int64_t>& values) {
    return Tensor::from_int64s(values, {static_cast<int64_t>(values.size())});
}

struct Stream {
    cudaStream_t s = nullptr;
    Stream() { cudaStreamCreate(&s); }
    ~Stream() {
        if (s) cudaStreamDestroy(s);
    }
};

// One node run by the reference and by the CUDA kernel. Undefined inputs are omitted optional inputs;
// `constants` marks the inputs create() sees with their value (shape-like inputs).
struct Case {
    Case(std::string op_, int64_t opset_, std::vector<Tensor> inputs_, std::vector<bool> constants_ = {},
         Attrs attrs_ = {})
        : op(std::move(op_)),
          opset(opset_),
          inputs(std::move(inputs_)),
          constants(std::move(constants_)),
          attrs(std::move(attrs_)) {}
    std::string op;
    int64_t opset = 13;
    std::vector<Tensor> inputs;
    std::vector<bool> constants;
    Attrs attrs;
    size_t num_outputs = 1;
    bool in_place = false;  // output 0 shares input 0's buffer
};

ir::Node make_node(const Case& c) {
    ir::Node node;
    node.name = "node_under_test";
    node.op_type = c.op;
    for (size_t i = 0; i < c.inputs.size(); ++i)
        node.inputs.push_back(c.inputs[i].defined() ? "in" + std::to_string(i) : "");
    for (size_t i = 0; i < c.num_outputs; ++i) node.outputs.push_back("out" + std::to_string(i));
    node.attrs = c.attrs;
    return node;
}

std::vector<const Tensor*> input_ptrs(const Case& c) {
    std::vector<const Tensor*> ptrs;
    for (const Tensor& t : c.inputs) ptrs.push_back(t.defined() ? &t : nullptr);
    return ptrs;
}

// Runs the CUDA kernel with outputs shaped like `ref`; fills `got`.
Status run_cuda(const Case& c, const ir::Node& node, const std::vector<Tensor>& ref, std::vector<Tensor>& got) {
    const cuda::CudaKernel* kernel = cuda::cuda_registry().find("", c.op);
    if (!kernel) return Status(StatusCode::kNotFound, "no CUDA kernel for " + c.op);
    std::vector<ir::InputInfo> infos(c.inputs.size());
    for (size_t i = 0; i < c.inputs.size(); ++i) {
        if (!c.inputs[i].defined()) continue;
        const bool constant = i < c.constants.size() && c.constants[i];
        infos[i] = ir::InputInfo{c.inputs[i].dtype(), c.inputs[i].shape(), true, constant ? &c.inputs[i] : nullptr};
    }
    std::vector<ir::OutputInfo> outs(ref.size());
    for (size_t i = 0; i < ref.size(); ++i) outs[i] = ir::OutputInfo{ref[i].dtype(), ref[i].shape(), true};
    const cuda::OpSetup setup{node, c.opset, infos, outs};
    Stream stream;
    cuda::CudaLibs libs;
    libs.stream = stream.s;
    RT_ASSIGN_OR_RETURN(auto op, kernel->create(setup, libs));

    std::vector<cuda::DeviceBuffer> buffers;
    std::vector<cuda::DeviceTensor> din(c.inputs.size());
    for (size_t i = 0; i < c.inputs.size(); ++i) {
        const Tensor& t = c.inputs[i];
        if (!t.defined()) continue;
        RT_ASSIGN_OR_RETURN(auto b, cuda::DeviceBuffer::allocate(std::max<size_t>(t.nbytes(), 1)));
        RT_CUDA_CHECK(cudaMemcpy(b.get(), t.raw(), t.nbytes(), cudaMemcpyHostToDevice));
        din[i] = cuda::DeviceTensor{b.get(), t.dtype(), t.shape()};
        buffers.push_back(std::move(b));
    }
    std::vector<cuda::DeviceTensor> dout(ref.size());
    for (size_t i = 0; i < ref.size(); ++i) {
        if (i == 0 && c.in_place) {
            dout[0] = cuda::DeviceTensor{din[0].data, ref[0].dtype(), ref[0].shape()};
            continue;
        }
        RT_ASSIGN_OR_RETURN(auto b, cuda::DeviceBuffer::allocate(std::max<size_t>(ref[i].nbytes(), 1)));
        RT_CUDA_CHECK(cudaMemset(b.get(), 0xFF, std::max<size_t>(ref[i].nbytes(), 1)));
        dout[i] = cuda::DeviceTensor{b.get(), ref[i].dtype(), ref[i].shape()};
        buffers.push_back(std::move(b));
    }
    cuda::DeviceBuffer workspace;
    if (op->workspace_bytes()) {
        RT_ASSIGN_OR_RETURN(workspace, cuda::DeviceBuffer::allocate(op->workspace_bytes()));
    }
    RT_RETURN_IF_ERROR(op->enqueue(din, dout, workspace.get(), libs));
    RT_CUDA_CHECK(cudaStreamSynchronize(stream.s));
    RT_CUDA_CHECK(cudaGetLastError());
    got.clear();
    for (size_t i = 0; i < ref.size(); ++i) {
        Tensor t(ref[i].dtype(), ref[i].shape());
        RT_CUDA_CHECK(cudaMemcpy(t.raw(), dout[i].data, t.nbytes(), cudaMemcpyDeviceToHost));
        got.push_back(t);
    }
    return Status();
}

void expect_match(const Tensor& ref, const Tensor& got, double tol, const std::string& what) {
    ASSERT_EQ(ref.dtype(), got.dtype()) << what;
    ASSERT_EQ(ref.shape(), got.shape()) << what;
    if (tol == 0.0) {
        ASSERT_EQ(std::memcmp(ref.raw(), got.raw(), ref.nbytes()), 0) << what << ": bytes differ";
        return;
    }
    const auto r = ir::to_doubles(ref);
    const auto g = ir::to_doubles(got);
    double scale = 0.0;
    double err = 0.0;
    for (size_t i = 0; i < r.size(); ++i) {
        ASSERT_EQ(std::isnan(r[i]), std::isnan(g[i]))
            << what << ": element " << i << " is " << g[i] << ", want " << r[i];
        if (std::isnan(r[i])) continue;
        scale = std::max(scale, std::fabs(r[i]));
        err = std::max(err, std::fabs(r[i] - g[i]));
    }
    EXPECT_LE(err, tol * std::max(scale, 1e-30)) << what << ": max abs error " << err << " over max |ref| " << scale;
}

// Runs a case on both backends and compares every output (tol 0: byte-exact).
void check(const Case& c, double tol = 0.0) {
    const ir::Node node = make_node(c);
    const ir::OpKernel* ref_kernel = rtinfer::ref::reference_registry().find("", c.op);
    ASSERT_NE(ref_kernel, nullptr) << c.op;
    std::vector<Tensor> ref;
    const Status rs = rtinfer::ref::evaluate_node(*ref_kernel, node, c.opset, input_ptrs(c), ref);
    ASSERT_TRUE(rs.is_ok()) << rs.to_string();
    std::vector<Tensor> got;
    const Status gs = run_cuda(c, node, ref, got);
    ASSERT_TRUE(gs.is_ok()) << gs.to_string();
    for (size_t i = 0; i < ref.size(); ++i) {
        const std::string what = c.op + " output " + std::to_string(i) + " " + ir::shape_str(ref[i].shape()) + " " +
                                 rtinfer::data_type_name(ref[i].dtype());
        expect_match(ref[i], got[i], tol, what);
    }
}

// create() must leave the node to the reference kernel.
void expect_unsupported(const Case& c) {
    const ir::Node node = make_node(c);
    const ir::OpKernel* ref_kernel = rtinfer::ref::reference_registry().find("", c.op);
    ASSERT_NE(ref_kernel, nullptr);
    std::vector<Tensor> ref;
    ASSERT_TRUE(rtinfer::ref::evaluate_node(*ref_kernel, node, c.opset, input_ptrs(c), ref).is_ok());
    std::vector<Tensor> got;
    const Status s = run_cuda(c, node, ref, got);
    EXPECT_EQ(s.code(), StatusCode::kUnsupported) << s.to_string();
    if (s.code() == StatusCode::kUnsupported) {
        EXPECT_NE(s.message().find("node_under_test"), std::string::npos) << s.message();
    }
}

// Uniform in [lo, hi] (kept away from zero by the callers).
Tensor ranged(DType t, Shape shape, uint32_t seed, float lo, float hi) {
    Rng rng{seed * 2654435761u + 29u};
    Tensor x(t, std::move(shape));
    for (int64_t i = 0; i < x.numel(); ++i) {
        const float v = lo + (hi - lo) * static_cast<float>(rng.next() % 100000) / 100000.0f;
        if (t == DType::kFloat16) {
            x.data<uint16_t>()[i] = ir::float_to_half(v);
        } else {
            x.data<float>()[i] = v;
        }
    }
    return x;
}

// Few distinct values, so ties are common.
Tensor few_values(DType t, Shape shape, uint32_t seed) {
    static const float kValues[] = {-1.0f, -0.5f, 0.25f, 0.5f, 1.0f, 2.0f};
    Rng rng{seed * 2654435761u + 31u};
    Tensor x(t, std::move(shape));
    for (int64_t i = 0; i < x.numel(); ++i) {
        const float v = kValues[rng.next() % 6];
        if (t == DType::kFloat16) {
            x.data<uint16_t>()[i] = ir::float_to_half(v);
        } else {
            x.data<float>()[i] = v;
        }
    }
    return x;
}

double tol_for(DType t) {
    return t == DType::kFloat32 ? 1e-5 : 5e-3;
}

const DType kFloatTypes[] = {DType::kFloat32, DType::kFloat16};

TEST(CudaReduce, SoftmaxAndLogSoftmax) {
    RT_REQUIRE_GPU();
    uint32_t seed = 1;
    for (const char* op : {"Softmax", "LogSoftmax"}) {
        for (DType t : kFloatTypes) {
            const double tol = tol_for(t);
            check({op, 13, {random_tensor(t, {3, 37}, seed++)}}, tol);                                   // warp rows
            check({op, 13, {random_tensor(t, {2, 5, 1500}, seed++)}, {}, {{"axis", attr_i(-1)}}}, tol);  // block rows
            check({op, 13, {random_tensor(t, {2, 33, 7}, seed++)}, {}, {{"axis", attr_i(1)}}}, tol);     // columns
            check({op, 13, {random_tensor(t, {33, 2}, seed++)}, {}, {{"axis", attr_i(-2)}}}, tol);
            check({op, 11, {random_tensor(t, {2, 3, 4, 5}, seed++)}}, tol);  // coerced to [2, 60]
            check({op, 11, {random_tensor(t, {2, 3, 4, 5}, seed++)}, {}, {{"axis", attr_i(-2)}}}, tol);
            check({op, 13, {ranged(t, {4, 100}, seed++, -80.0f, 80.0f)}}, tol);  // exp would overflow unshifted
        }
    }
}

const char* const kReduceOps[] = {"ReduceSum",       "ReduceMean", "ReduceMax", "ReduceMin",    "ReduceProd",
                                  "ReduceSumSquare", "ReduceL1",   "ReduceL2",  "ReduceLogSum", "ReduceLogSumExp"};

Tensor reduce_input(const std::string& op, DType t, Shape shape, uint32_t seed) {
    if (op == "ReduceLogSum") return ranged(t, std::move(shape), seed, 0.1f, 2.0f);
    if (op == "ReduceProd") return ranged(t, std::move(shape), seed, 0.95f, 1.05f);
    return random_tensor(t, std::move(shape), seed);
}

TEST(CudaReduce, ReduceOpsOverContiguousAxes) {
    RT_REQUIRE_GPU();
    uint32_t seed = 100;
    for (const char* op : kReduceOps) {
        for (DType t : kFloatTypes) {
            const double tol = tol_for(t);
            auto x = [&](Shape s) { return reduce_input(op, t, std::move(s), seed++); };
            check({op, 11, {x({4, 37, 5})}, {}, {{"axes", attr_ints({1})}}}, tol);                         // columns
            check({op, 11, {x({5, 37})}, {}, {{"axes", attr_ints({-1})}, {"keepdims", attr_i(0)}}}, tol);  // warp
            check({op, 11, {x({2, 3000})}, {}, {{"axes", attr_ints({1})}}}, tol);                          // block
            check({op, 11, {x({6, 7, 9})}, {}, {{"axes", attr_ints({0, 1})}}}, tol);
            check({op, 11, {x({3, 5, 7})}}, tol);  // every axis
            check({op, 11, {x({3, 1, 5, 1, 4})}, {}, {{"axes", attr_ints({0, 2})}, {"keepdims", attr_i(0)}}}, tol);
            check({op, 11, {x({3, 1, 4})}, {}, {{"axes", attr_ints({1})}}}, tol);  // a size-1 axis
            check({op, 18, {x({4, 6, 10}), i64s({2})}, {false, true}}, tol);       // axes as an input
            check({op, 18, {x({4, 6, 10}), i64s({-3, -2})}, {false, true}, {{"keepdims", attr_i(0)}}}, tol);
            Case noop{op, 18, {x({3, 4})}, {}, {{"noop_with_empty_axes", attr_i(1)}}};
            check(noop, tol);
        }
    }
    check({"ReduceSum", 13, {random_tensor(DType::kFloat32, {4, 6, 10}, 1), i64s({-2})}, {false, true}}, 1e-5);
    expect_unsupported(
        {"ReduceSum", 11, {random_tensor(DType::kFloat32, {3, 4, 5}, 2)}, {}, {{"axes", attr_ints({0, 2})}}});
    expect_unsupported({"ReduceMean", 18, {random_tensor(DType::kFloat32, {3, 4, 5}, 3), i64s({1})}, {false, false}});
}

TEST(CudaReduce, ArgMaxArgMinWithTies) {
    RT_REQUIRE_GPU();
    uint32_t seed = 200;
    for (const char* op : {"ArgMax", "ArgMin"}) {
        for (DType t : kFloatTypes) {
            for (int64_t last : {0, 1}) {
                const Attrs tail = {{"axis", attr_i(-1)}, {"select_last_index", attr_i(last)}};
                check({op, 13, {few_values(t, {5, 37}, seed++)}, {}, tail});  // warp rows
                check({op, 13, {few_values(t, {3, 2000}, seed++)}, {}, tail});
                check({op,
                       13,
                       {few_values(t, {4, 9, 6}, seed++)},
                       {},
                       {{"axis", attr_i(1)}, {"keepdims", attr_i(0)}, {"select_last_index", attr_i(last)}}});
                check({op, 13, {random_tensor(t, {7, 33}, seed++)}, {}, {{"axis", attr_i(0)}}});
            }
        }
    }
}

TEST(CudaReduce, TopKSmallK) {
    RT_REQUIRE_GPU();
    uint32_t seed = 300;
    for (DType t : kFloatTypes) {
        Case largest{"TopK", 11, {random_tensor(t, {3, 100}, seed++), i64s({5})}, {false, true}};
        largest.num_outputs = 2;
        check(largest);
        Case smallest{
            "TopK", 11, {few_values(t, {2, 1000}, seed++), i64s({64})}, {false, true}, {{"largest", attr_i(0)}}};
        smallest.num_outputs = 2;
        check(smallest);
        Case ties{"TopK", 11, {few_values(t, {4, 2, 33}, seed++), i64s({7})}, {false, true}, {{"axis", attr_i(-1)}}};
        ties.num_outputs = 2;
        check(ties);
        Case old{"TopK", 9, {random_tensor(t, {6, 40}, seed++)}, {}, {{"k", attr_i(3)}}};
        old.num_outputs = 2;
        check(old);
    }
    Case big_k{"TopK", 11, {random_tensor(DType::kFloat32, {2, 100}, 1), i64s({65})}, {false, true}};
    big_k.num_outputs = 2;
    expect_unsupported(big_k);
    Case first_axis{
        "TopK", 11, {random_tensor(DType::kFloat32, {5, 4}, 2), i64s({2})}, {false, true}, {{"axis", attr_i(0)}}};
    first_axis.num_outputs = 2;
    expect_unsupported(first_axis);
}

}  // namespace
