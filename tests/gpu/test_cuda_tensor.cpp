// The tensor family's CUDA kernels against the CPU reference on random non-zero data: data movement must be
// byte-exact for every dtype, Resize's linear mode within 1e-5 (float32) / 5e-3 (float16) of the reference.
// Outputs are poisoned (0xFF bytes) before each run so that unwritten elements fail.
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
ir::Attribute attr_f(float v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kFloat;
    a.f = v;
    return a;
}
ir::Attribute attr_ints(std::vector<int64_t> v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInts;
    a.ints = std::move(v);
    return a;
}
ir::Attribute attr_floats(std::vector<float> v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kFloats;
    a.floats = std::move(v);
    return a;
}
ir::Attribute attr_s(std::string v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kString;
    a.s = std::move(v);
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

Tensor ints(DType t, const std::vector<int64_t>& values, Shape shape) {
    Tensor x(t, std::move(shape));
    for (size_t i = 0; i < values.size(); ++i) {
        if (t == DType::kInt32) {
            x.data<int32_t>()[i] = static_cast<int32_t>(values[i]);
        } else {
            x.data<int64_t>()[i] = values[i];
        }
    }
    return x;
}
Tensor i64s(const std::vector<int64_t>& values) {
    return Tensor::from_int64s(values, {static_cast<int64_t>(values.size())});
}
Tensor f32s(const std::vector<float>& values) {
    return Tensor::from_floats(values, {static_cast<int64_t>(values.size())});
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

const DType kMoveTypes[] = {DType::kFloat32, DType::kInt64, DType::kFloat16, DType::kUInt8, DType::kBool};

TEST(CudaTensor, ReshapeFamilyCopiesBytes) {
    RT_REQUIRE_GPU();
    uint32_t seed = 1;
    for (DType t : kMoveTypes) {
        check({"Reshape", 14, {random_tensor(t, {2, 3, 37}, seed++), i64s({6, -1})}, {false, true}});
        check({"Flatten", 13, {random_tensor(t, {2, 3, 5, 7}, seed++)}, {}, {{"axis", attr_i(-2)}}});
        check({"Squeeze", 13, {random_tensor(t, {3, 1, 33, 1}, seed++), i64s({-1, 1})}, {false, true}});
        check({"Unsqueeze", 11, {random_tensor(t, {3, 33}, seed++)}, {}, {{"axes", attr_ints({0, -1})}}});
        check({"Identity", 16, {random_tensor(t, {65, 3}, seed++)}});
    }
    Case in_place{"Reshape", 14, {random_tensor(DType::kFloat32, {4, 9}, 99), i64s({9, 4})}, {false, true}};
    in_place.in_place = true;
    check(in_place);
}

TEST(CudaTensor, DropoutIsIdentityWithTrueMask) {
    RT_REQUIRE_GPU();
    Case c{"Dropout", 13, {random_tensor(DType::kFloat32, {3, 41}, 5)}};
    c.num_outputs = 2;
    check(c);
    Case old{"Dropout", 7, {random_tensor(DType::kFloat16, {3, 41}, 6)}};
    old.num_outputs = 2;  // the mask has the input's type before opset 10
    check(old);
    Case off{"Dropout", 13, {random_tensor(DType::kInt64, {17}, 7), f32s({0.3f}), Tensor()}};
    off.constants = {false, true, false};
    check(off);
    Tensor training(DType::kBool, {});
    training.data<uint8_t>()[0] = 1;
    Case train{"Dropout", 13, {random_tensor(DType::kFloat32, {17}, 8), f32s({0.0f}), training}};
    train.constants = {false, true, true};
    check(train);  // ratio 0 in training mode still copies
}

TEST(CudaTensor, TransposeTiledAndStrided) {
    RT_REQUIRE_GPU();
    struct P {
        Shape shape;
        std::vector<int64_t> perm;
    };
    const std::vector<P> cases = {
        {{3, 37, 45}, {0, 2, 1}},                  // tiled, batched
        {{70, 33}, {1, 0}},                        // tiled, odd sizes
        {{2, 33, 17, 40}, {0, 2, 3, 1}},           // NCHW -> NHWC: merges to a tiled swap
        {{2, 40, 17, 33}, {0, 3, 1, 2}},           // NHWC -> NCHW
        {{2, 3, 4, 5}, {0, 1, 3, 2}},              // narrow planes: strided
        {{2, 3, 2, 4, 3, 5}, {5, 1, 3, 0, 4, 2}},  // 6-D
        {{5, 1, 7, 1, 3}, {4, 3, 0, 2, 1}},        // size-1 dims
        {{4, 6, 8}, {0, 1, 2}},                    // identity
    };
    uint32_t seed = 100;
    for (DType t : kMoveTypes) {
        for (const P& p : cases)
            check({"Transpose", 13, {random_tensor(t, p.shape, seed++)}, {}, {{"perm", attr_ints(p.perm)}}});
        check({"Transpose", 13, {random_tensor(t, {5, 6, 7}, seed++)}});  // default: reversed
    }
}

TEST(CudaTensor, SliceStepsAndClamps) {
    RT_REQUIRE_GPU();
    uint32_t seed = 200;
    for (DType t : {DType::kFloat32, DType::kInt64, DType::kFloat16, DType::kUInt8}) {
        const Tensor x = random_tensor(t, {5, 37, 9}, seed++);
        check({"Slice", 13, {x, i64s({1, -30}), i64s({4, 1000})}, {false, true, true}});
        check({"Slice",
               13,
               {x, i64s({-1, 20}), i64s({-1000, 2}), i64s({-1, 1}), i64s({-2, -3})},
               {false, true, true, true, true}});
        check({"Slice",
               13,
               {x, i64s({0, 3, 1}), i64s({5, 36, 8}), i64s({0, 1, 2}), i64s({2, 5, 3})},
               {false, true, true, true, true}});
        check({"Slice", 13, {x, i64s({7}), i64s({3}), i64s({2})}, {false, true, true, true}});  // empty
        check({"Slice", 9, {x}, {}, {{"starts", attr_ints({1})}, {"ends", attr_ints({-1})}, {"axes", attr_ints({1})}}});
    }
    expect_unsupported(
        {"Slice", 13, {random_tensor(DType::kFloat32, {4, 4}, 1), i64s({1}), i64s({3})}, {false, false, true}});
}

TEST(CudaTensor, ConcatAndSplit) {
    RT_REQUIRE_GPU();
    uint32_t seed = 300;
    for (DType t : kMoveTypes) {
        check({"Concat",
               13,
               {random_tensor(t, {2, 3, 5}, seed++), random_tensor(t, {2, 7, 5}, seed++),
                random_tensor(t, {2, 1, 5}, seed++)},
               {},
               {{"axis", attr_i(1)}}});
        check({"Concat",
               13,
               {random_tensor(t, {3, 33}, seed++), random_tensor(t, {3, 17}, seed++)},
               {},
               {{"axis", attr_i(-1)}}});
        check({"Concat",
               13,
               {random_tensor(t, {4, 9}, seed++), random_tensor(t, {1, 9}, seed++)},
               {},
               {{"axis", attr_i(0)}}});

        Case s13{"Split",
                 13,
                 {random_tensor(t, {3, 37, 5}, seed++), i64s({10, 20, 7})},
                 {false, true},
                 {{"axis", attr_i(-2)}}};
        s13.num_outputs = 3;
        check(s13);
        Case s11{
            "Split", 11, {random_tensor(t, {6, 35}, seed++)}, {}, {{"axis", attr_i(1)}, {"split", attr_ints({1, 34})}}};
        s11.num_outputs = 2;
        check(s11);
        Case s18{"Split", 18, {random_tensor(t, {33, 4}, seed++)}, {}, {{"num_outputs", attr_i(4)}}};
        s18.num_outputs = 4;  // 9, 9, 9, 6
        check(s18);
    }
}

TEST(CudaTensor, GatherAxesAndIndexTypes) {
    RT_REQUIRE_GPU();
    uint32_t seed = 400;
    for (DType t : kMoveTypes) {
        for (DType it : {DType::kInt64, DType::kInt32}) {
            const Tensor x = random_tensor(t, {7, 5, 33}, seed++);
            check({"Gather", 13, {x, ints(it, {0, -1, 3, 3, -7, 6}, {2, 3})}, {}, {{"axis", attr_i(0)}}});
            check({"Gather", 13, {x, ints(it, {4, -5, 2}, {3})}, {}, {{"axis", attr_i(1)}}});
            check({"Gather", 13, {x, ints(it, {32, 0, -33, 17}, {2, 2})}, {}, {{"axis", attr_i(-1)}}});
            check({"Gather", 13, {x, ints(it, {-2}, {})}, {}, {{"axis", attr_i(0)}}});  // scalar index
        }
    }
}

TEST(CudaTensor, PadModes) {
    RT_REQUIRE_GPU();
    uint32_t seed = 500;
    for (DType t : {DType::kFloat32, DType::kInt64, DType::kFloat16, DType::kUInt8}) {
        const Tensor x = random_tensor(t, {2, 3, 7, 9}, seed++);
        Tensor value(t, {});
        std::memcpy(value.raw(), random_tensor(t, {1}, seed++).raw(), rtinfer::data_type_size(t));
        check({"Pad", 13, {x, i64s({0, 1, 2, 3, 0, 2, 1, 4}), value}, {false, true, true}});
        check({"Pad", 13, {x, i64s({0, 0, -2, 3, 0, 0, 1, -4})}, {false, true}});  // crop and pad
        for (const char* mode : {"reflect", "edge"}) {
            check({"Pad", 13, {x, i64s({0, 0, 3, 5, 0, 0, 6, 2})}, {false, true}, {{"mode", attr_s(mode)}}});
        }
        check({"Pad", 19, {x, i64s({0, 0, 9, 10, 0, 0, 8, 11})}, {false, true}, {{"mode", attr_s("wrap")}}});
        check({"Pad", 18, {x, i64s({2, 1, 3, 4}), Tensor(), i64s({-1, 1})}, {false, true, false, true}});
        // Channels-last 3 -> 8 channels with a fill value: the 16-byte row kernel for 2-byte types.
        const Tensor nhwc = random_tensor(t, {2, 5, 7, 3}, seed++);
        check({"Pad", 13, {nhwc, i64s({0, 0, 0, 0, 0, 0, 0, 5}), value}, {false, true, true}});
    }
    check({"Pad",
           2,
           {random_tensor(DType::kFloat32, {3, 5}, 1)},
           {},
           {{"pads", attr_ints({1, 2, 3, 4})}, {"value", attr_f(1.5f)}}});
    expect_unsupported({"Pad", 13, {random_tensor(DType::kFloat32, {3, 5}, 2), i64s({1, 1, 1, 1})}, {false, false}});
}

TEST(CudaTensor, ExpandAndTile) {
    RT_REQUIRE_GPU();
    uint32_t seed = 600;
    for (DType t : kMoveTypes) {
        check({"Expand", 13, {random_tensor(t, {3, 1, 5}, seed++), i64s({2, 3, 4, 5})}, {false, true}});
        check({"Expand", 13, {random_tensor(t, {1}, seed++), i64s({7, 33})}, {false, true}});
        check({"Expand", 13, {random_tensor(t, {4, 1}, seed++), i64s({4, 37})}, {false, true}});
        check({"Tile", 13, {random_tensor(t, {2, 3, 5}, seed++), i64s({2, 1, 3})}, {false, true}});
        check({"Tile", 13, {random_tensor(t, {33}, seed++), i64s({3})}, {false, true}});
    }
}

TEST(CudaTensor, DepthToSpaceAndBack) {
    RT_REQUIRE_GPU();
    uint32_t seed = 700;
    for (DType t : {DType::kFloat32, DType::kInt64, DType::kFloat16}) {
        const Tensor x = random_tensor(t, {2, 12, 5, 7}, seed++);
        check({"DepthToSpace", 13, {x}, {}, {{"blocksize", attr_i(2)}, {"mode", attr_s("DCR")}}});
        check({"DepthToSpace", 13, {x}, {}, {{"blocksize", attr_i(2)}, {"mode", attr_s("CRD")}}});
        check({"SpaceToDepth", 13, {random_tensor(t, {2, 3, 9, 12}, seed++)}, {}, {{"blocksize", attr_i(3)}}});
    }
}

TEST(CudaTensor, ResizeNearestAndLinear) {
    RT_REQUIRE_GPU();
    uint32_t seed = 800;
    const Tensor none;
    struct M {
        const char* mode;
        const char* coord;
        const char* nearest;
    };
    const std::vector<M> modes = {
        {"nearest", "asymmetric", "floor"},
        {"nearest", "half_pixel", "round_prefer_floor"},
        {"nearest", "align_corners", "round_prefer_ceil"},
        {"nearest", "pytorch_half_pixel", "ceil"},
        {"linear", "half_pixel", "round_prefer_floor"},
        {"linear", "align_corners", "round_prefer_floor"},
        {"linear", "asymmetric", "round_prefer_floor"},
        {"linear", "pytorch_half_pixel", "round_prefer_floor"},
    };
    for (DType t : {DType::kFloat32, DType::kFloat16}) {
        const double tol = t == DType::kFloat32 ? 1e-5 : 5e-3;
        for (const M& m : modes) {
            const Attrs attrs = {{"mode", attr_s(m.mode)},
                                 {"coordinate_transformation_mode", attr_s(m.coord)},
                                 {"nearest_mode", attr_s(m.nearest)}};
            const Tensor x = random_tensor(t, {2, 3, 7, 9}, seed++);
            const bool linear = std::string(m.mode) == "linear";
            check({"Resize", 13, {x, none, f32s({1, 1, 2, 1.5f})}, {false, false, true}, attrs}, linear ? tol : 0.0);
            check({"Resize", 13, {x, none, none, i64s({2, 3, 4, 17})}, {false, false, false, true}, attrs},
                  linear ? tol : 0.0);
            check({"Resize", 13, {x, none, none, i64s({2, 3, 1, 5})}, {false, false, false, true}, attrs},
                  linear ? tol : 0.0);
        }
    }
    // Nearest moves bytes, so integer images resize too.
    check({"Resize",
           13,
           {random_tensor(DType::kUInt8, {1, 3, 5, 6}, 1), none, f32s({1, 1, 3, 0.5f})},
           {false, false, true},
           {{"mode", attr_s("nearest")}}});
    check({"Upsample",
           9,
           {random_tensor(DType::kInt64, {1, 2, 3, 4}, 2), f32s({1, 1, 2, 3})},
           {false, true},
           {{"mode", attr_s("nearest")}}});
    check({"Upsample",
           7,
           {random_tensor(DType::kFloat32, {1, 2, 3, 4}, 3)},
           {},
           {{"mode", attr_s("linear")}, {"scales", attr_floats({1, 1, 2, 2})}}},
          1e-5);
    const Tensor x = random_tensor(DType::kFloat32, {1, 2, 4, 4}, 4);
    expect_unsupported(
        {"Resize", 13, {x, none, f32s({1, 1, 2, 2})}, {false, false, true}, {{"mode", attr_s("cubic")}}});
    expect_unsupported({"Resize", 13, {x, none, f32s({1, 2, 2, 2})}, {false, false, true}, {}});
    expect_unsupported({"Resize", 13, {x, none, f32s({1, 1, 2, 2})}, {false, false, false}, {}});
}

}  // namespace
