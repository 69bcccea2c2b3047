// The tensor family's reference kernels on random non-zero data, checked against expectations computed
// here independently (index maps written out by hand or with plain loops), across dtypes and opsets.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "core/ir/half.h"
#include "core/kernels/ref/ref_backend.h"
#include "core/kernels/ref/tensor/strided_copy.h"

namespace {

namespace ir = rtinfer::ir;
using ir::DType;
using ir::Shape;
using ir::Tensor;
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
ir::Attribute attr_f(float v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kFloat;
    a.f = v;
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
ir::Attribute attr_t(Tensor t) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kTensor;
    a.t = std::move(t);
    return a;
}

// Runs one node named "node_under_test"; nullptr inputs are omitted optional inputs.
rtinfer::Expected<std::vector<Tensor>> run(const std::string& op, int64_t opset, std::vector<const Tensor*> inputs,
                                           size_t num_outputs, Attrs attrs = {}) {
    ir::Node node;
    node.name = "node_under_test";
    node.op_type = op;
    for (size_t i = 0; i < inputs.size(); ++i) node.inputs.push_back(inputs[i] ? "in" + std::to_string(i) : "");
    for (size_t i = 0; i < num_outputs; ++i) node.outputs.push_back("out" + std::to_string(i));
    node.attrs = std::move(attrs);
    const ir::OpKernel* kernel = rtinfer::ref::reference_registry().find("", op);
    if (!kernel) return rtinfer::Status(rtinfer::StatusCode::kUnsupported, "no kernel for " + op);
    std::vector<Tensor> outputs;
    RT_RETURN_IF_ERROR(rtinfer::ref::evaluate_node(*kernel, node, opset, inputs, outputs));
    return outputs;
}

// The single output of a node that must succeed.
Tensor run1(const std::string& op, int64_t opset, std::vector<const Tensor*> inputs, Attrs attrs = {}) {
    auto r = run(op, opset, std::move(inputs), 1, std::move(attrs));
    EXPECT_TRUE(r.has_value()) << op << ": " << r.status().to_string();
    return r.has_value() ? r.value()[0] : Tensor();
}

struct Rng {
    uint32_t state;
    uint32_t next() {
        state = state * 1664525u + 1013904223u;
        return state >> 8;
    }
    // Non-zero, in [-5, -0.5] or [0.5, 5].
    float value() {
        const float mag = 0.5f + 4.5f * static_cast<float>(next() % 10000) / 10000.0f;
        return next() % 2 ? mag : -mag;
    }
};

Tensor random_tensor(DType t, Shape shape, uint32_t seed) {
    Rng rng{seed * 2654435761u + 17u};
    Tensor x(t, std::move(shape));
    for (int64_t i = 0; i < x.numel(); ++i) {
        switch (t) {
            case DType::kFloat32: x.data<float>()[i] = rng.value(); break;
            case DType::kFloat64: x.data<double>()[i] = rng.value(); break;
            case DType::kFloat16: x.data<uint16_t>()[i] = ir::float_to_half(rng.value()); break;
            case DType::kInt64: x.data<int64_t>()[i] = static_cast<int64_t>(rng.value() * 1000.0f) * 1000003; break;
            case DType::kInt32: x.data<int32_t>()[i] = static_cast<int32_t>(rng.value() * 1000.0f); break;
            case DType::kInt8: x.data<int8_t>()[i] = static_cast<int8_t>(rng.value() * 20.0f); break;
            case DType::kUInt8: x.data<uint8_t>()[i] = static_cast<uint8_t>(1 + rng.next() % 255); break;
            case DType::kBool: x.data<uint8_t>()[i] = static_cast<uint8_t>(rng.next() % 2); break;
            default: break;
        }
    }
    return x;
}

const DType kAllTypes[] = {DType::kFloat32, DType::kInt64, DType::kFloat16, DType::kBool};

std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
    std::vector<int64_t> idx(shape.size());
    for (size_t d = shape.size(); d-- > 0;) {
        idx[d] = flat % shape[d];
        flat /= shape[d];
    }
    return idx;
}

int64_t ravel(const std::vector<int64_t>& idx, const Shape& shape) {
    int64_t flat = 0;
    for (size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + idx[d];
    return flat;
}

// A tensor of out_shape whose element at each index is src's element at source(index) (a flat index), or
// `fill`'s first element where source returns -1.
Tensor map_elements(const Tensor& src, const Shape& out_shape,
                    const std::function<int64_t(const std::vector<int64_t>&)>& source, const Tensor* fill = nullptr) {
    Tensor out(src.dtype(), out_shape);
    const size_t es = rtinfer::data_type_size(src.dtype());
    for (int64_t i = 0; i < out.numel(); ++i) {
        const int64_t s = source(unravel(i, out_shape));
        const void* from = s < 0 ? fill->raw() : static_cast<const char*>(src.raw()) + static_cast<size_t>(s) * es;
        std::memcpy(static_cast<char*>(out.raw()) + static_cast<size_t>(i) * es, from, es);
    }
    return out;
}

void expect_same(const Tensor& got, const Tensor& want, const std::string& what = "") {
    ASSERT_EQ(got.dtype(), want.dtype()) << what;
    ASSERT_EQ(got.shape(), want.shape()) << what << " got " << ir::shape_str(got.shape());
    EXPECT_EQ(0, std::memcmp(got.raw(), want.raw(), want.nbytes())) << what;
}

void expect_floats(const Tensor& got, const Shape& shape, const std::vector<float>& want, float tol = 1e-5f) {
    ASSERT_EQ(got.shape(), shape);
    const auto g = ir::to_doubles(got);
    ASSERT_EQ(g.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(g[i], want[i], tol) << "element " << i;
}

void expect_ints(const Tensor& got, const Shape& shape, const std::vector<int64_t>& want) {
    ASSERT_EQ(got.shape(), shape);
    EXPECT_EQ(ir::to_int64s(got), want);
}

Tensor ints(const std::vector<int64_t>& v) {
    return Tensor::from_int64s(v, {static_cast<int64_t>(v.size())});
}
Tensor scalar_int(int64_t v) {
    return Tensor::from_int64s({v}, {});
}
Tensor floats(const std::vector<float>& v, Shape shape) {
    return Tensor::from_floats(v, std::move(shape));
}

// ---------------------------------------------------------------------------------------------------------
// The shared strided copy

TEST(TensorOpsStridedCopy, TransposesEveryPermutationOfRank4ForEveryElementSize) {
    const Shape shape = {3, 37, 5, 41};  // sizes past one tile so the tiled path runs
    for (DType t : {DType::kUInt8, DType::kFloat16, DType::kFloat32, DType::kInt64}) {
        const Tensor x = random_tensor(t, shape, 3);
        std::vector<int64_t> perm = {0, 1, 2, 3};
        do {
            Shape out_shape(4);
            for (size_t i = 0; i < 4; ++i) out_shape[i] = shape[static_cast<size_t>(perm[i])];
            Tensor got(t, out_shape);
            rtinfer::ref::tensor_ops::transpose_copy(x.raw(), shape, perm, rtinfer::data_type_size(t), got.raw());
            const Tensor want = map_elements(x, out_shape, [&](const std::vector<int64_t>& o) {
                std::vector<int64_t> in(4);
                for (size_t i = 0; i < 4; ++i) in[static_cast<size_t>(perm[i])] = o[i];
                return ravel(in, shape);
            });
            expect_same(got, want, "perm " + ir::shape_str(perm));
        } while (std::next_permutation(perm.begin(), perm.end()));
    }
}

TEST(TensorOpsStridedCopy, HandlesBroadcastAndReversedStrides) {
    const Tensor x = random_tensor(DType::kFloat32, {4, 6}, 5);
    // out[i][j][k] = x[3 - i][k] (reversed rows, j broadcast)
    Tensor got(DType::kFloat32, {4, 3, 6});
    using rtinfer::ref::tensor_ops::CopyDim;
    rtinfer::ref::tensor_ops::strided_copy({CopyDim{4, -6, 18}, CopyDim{3, 0, 6}, CopyDim{6, 1, 1}}, 4,
                                           x.data<float>() + 18, got.raw());
    const Tensor want = map_elements(x, {4, 3, 6}, [](const std::vector<int64_t>& o) { return (3 - o[0]) * 6 + o[2]; });
    expect_same(got, want);
}

// ---------------------------------------------------------------------------------------------------------
// Shape-only ops

TEST(TensorOpsReshape, CopiesZeroDimsAndInfersMinusOne) {
    for (DType t : kAllTypes) {
        const Tensor x = random_tensor(t, {2, 3, 4}, 1);
        const Tensor shape = ints({0, -1, 2});
        const Tensor y = run1("Reshape", 13, {&x, &shape});
        ASSERT_EQ(y.shape(), (Shape{2, 6, 2}));
        EXPECT_EQ(0, std::memcmp(y.raw(), x.raw(), x.nbytes()));
    }
}

TEST(TensorOpsReshape, AllowZeroKeepsZeroAsADim) {
    const Tensor x(DType::kFloat32, {0, 3});
    const Tensor shape = ints({3, 0});
    EXPECT_EQ(run1("Reshape", 14, {&x, &shape}, {{"allowzero", attr_i(1)}}).shape(), (Shape{3, 0}));
    // Without allowzero (or before opset 14) 0 copies the input dim: [3, 3] holds 9 elements, not 0.
    auto copied = run("Reshape", 13, {&x, &shape}, 1, {{"allowzero", attr_i(1)}});
    EXPECT_FALSE(copied.has_value());
    const Tensor both = ints({0, -1});
    EXPECT_FALSE(run("Reshape", 14, {&x, &both}, 1, {{"allowzero", attr_i(1)}}).has_value());
}

TEST(TensorOpsReshape, BadElementCountNamesTheNode) {
    const Tensor x = random_tensor(DType::kFloat32, {2, 3}, 2);
    const Tensor shape = ints({4, -1});
    auto r = run("Reshape", 13, {&x, &shape}, 1);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.status().message().find("node_under_test"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("[2,3]"), std::string::npos) << r.status().message();
    const Tensor two_unknown = ints({-1, -1});
    EXPECT_FALSE(run("Reshape", 13, {&x, &two_unknown}, 1).has_value());
    EXPECT_FALSE(run("Reshape", 13, {&x, nullptr}, 1).has_value());
}

TEST(TensorOpsReshape, FlattenSplitsAtAxis) {
    const Tensor x = random_tensor(DType::kInt64, {2, 3, 4, 5}, 3);
    EXPECT_EQ(run1("Flatten", 13, {&x}).shape(), (Shape{2, 60}));
    EXPECT_EQ(run1("Flatten", 13, {&x}, {{"axis", attr_i(0)}}).shape(), (Shape{1, 120}));
    EXPECT_EQ(run1("Flatten", 13, {&x}, {{"axis", attr_i(-1)}}).shape(), (Shape{24, 5}));
    const Tensor y = run1("Flatten", 13, {&x}, {{"axis", attr_i(4)}});
    EXPECT_EQ(y.shape(), (Shape{120, 1}));
    EXPECT_EQ(0, std::memcmp(y.raw(), x.raw(), x.nbytes()));
    EXPECT_FALSE(run("Flatten", 13, {&x}, 1, {{"axis", attr_i(5)}}).has_value());
}

TEST(TensorOpsReshape, SqueezeAxesAttributeBefore13InputFrom13) {
    const Tensor x = random_tensor(DType::kFloat16, {1, 3, 1, 2}, 4);
    EXPECT_EQ(run1("Squeeze", 11, {&x}, {{"axes", attr_ints({-2})}}).shape(), (Shape{1, 3, 2}));
    const Tensor axes = ints({0, -2});
    const Tensor y = run1("Squeeze", 13, {&x, &axes});
    EXPECT_EQ(y.shape(), (Shape{3, 2}));
    EXPECT_EQ(0, std::memcmp(y.raw(), x.raw(), x.nbytes()));
    EXPECT_EQ(run1("Squeeze", 13, {&x}).shape(), (Shape{3, 2}));
    // At 13 the attribute is no longer read: all size-1 dims go.
    EXPECT_EQ(run1("Squeeze", 13, {&x}, {{"axes", attr_ints({0})}}).shape(), (Shape{3, 2}));
    const Tensor none = ints({});
    EXPECT_EQ(run1("Squeeze", 13, {&x, &none}).shape(), (Shape{3, 2}));
    const Tensor bad = ints({1});
    EXPECT_FALSE(run("Squeeze", 13, {&x, &bad}, 1).has_value());
}

TEST(TensorOpsReshape, UnsqueezeInsertsAtOutputPositions) {
    const Tensor x = random_tensor(DType::kBool, {3, 4}, 5);
    EXPECT_EQ(run1("Unsqueeze", 11, {&x}, {{"axes", attr_ints({0, 3})}}).shape(), (Shape{1, 3, 4, 1}));
    const Tensor axes = ints({-1, 1});
    const Tensor y = run1("Unsqueeze", 13, {&x, &axes});
    EXPECT_EQ(y.shape(), (Shape{3, 1, 4, 1}));
    EXPECT_EQ(0, std::memcmp(y.raw(), x.raw(), x.nbytes()));
    const Tensor repeated = ints({1, -3});
    EXPECT_FALSE(run("Unsqueeze", 13, {&x, &repeated}, 1).has_value());
}

TEST(TensorOpsShape, ShapeHonoursStartAndEndFrom15) {
    const Tensor x = random_tensor(DType::kFloat32, {2, 3, 5, 7}, 6);
    expect_ints(run1("Shape", 13, {&x}), {4}, {2, 3, 5, 7});
    expect_ints(run1("Shape", 15, {&x}, {{"start", attr_i(1)}, {"end", attr_i(-1)}}), {2}, {3, 5});
    expect_ints(run1("Shape", 15, {&x}, {{"start", attr_i(-10)}, {"end", attr_i(10)}}), {4}, {2, 3, 5, 7});
    expect_ints(run1("Shape", 15, {&x}, {{"start", attr_i(3)}, {"end", attr_i(1)}}), {0}, {});
    // Before 15 start/end do not exist.
    expect_ints(run1("Shape", 13, {&x}, {{"start", attr_i(2)}}), {4}, {2, 3, 5, 7});
    expect_ints(run1("Size", 13, {&x}), {}, {210});
}

TEST(TensorOpsConstant, EveryValueAttribute) {
    const Tensor t = random_tensor(DType::kFloat16, {2, 3}, 7);
    expect_same(run1("Constant", 13, {}, {{"value", attr_t(t)}}), t);
    expect_floats(run1("Constant", 13, {}, {{"value_float", attr_f(2.5f)}}), {}, {2.5f});
    expect_floats(run1("Constant", 13, {}, {{"value_floats", attr_floats({1.5f, -2.0f})}}), {2}, {1.5f, -2.0f});
    expect_ints(run1("Constant", 13, {}, {{"value_int", attr_i(-7)}}), {}, {-7});
    expect_ints(run1("Constant", 13, {}, {{"value_ints", attr_ints({4, 5, 6})}}), {3}, {4, 5, 6});
    auto s = run("Constant", 13, {}, 1, {{"value_string", attr_s("hi")}});
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.status().code(), rtinfer::StatusCode::kUnsupported);
}

TEST(TensorOpsConstant, ConstantOfShapeFillsWithTheValueType) {
    const Tensor shape = ints({2, 3});
    const Tensor y = run1("ConstantOfShape", 13, {&shape});
    expect_floats(y, {2, 3}, std::vector<float>(6, 0.0f));
    const Tensor v = Tensor::from_int64s({-9}, {1});
    expect_ints(run1("ConstantOfShape", 13, {&shape}, {{"value", attr_t(v)}}), {2, 3}, std::vector<int64_t>(6, -9));
    Tensor h(DType::kFloat16, {1});
    h.data<uint16_t>()[0] = ir::float_to_half(1.5f);
    const Tensor yh = run1("ConstantOfShape", 13, {&shape}, {{"value", attr_t(h)}});
    ASSERT_EQ(yh.dtype(), DType::kFloat16);
    for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(yh.data<uint16_t>()[i], ir::float_to_half(1.5f));
    const Tensor empty = ints({});
    EXPECT_EQ(run1("ConstantOfShape", 13, {&empty}).shape(), Shape{});
}

TEST(TensorOpsIdentity, IdentityAndDropoutPassDataThrough) {
    for (DType t : kAllTypes) {
        const Tensor x = random_tensor(t, {3, 5}, 8);
        expect_same(run1("Identity", 13, {&x}), x);
        expect_same(run1("Dropout", 13, {&x}), x);
    }
    const Tensor x = random_tensor(DType::kFloat32, {3, 5}, 9);
    const Tensor ratio = floats({0.3f}, {});
    auto r = run("Dropout", 13, {&x, &ratio}, 2);
    ASSERT_TRUE(r.has_value());
    expect_same(r.value()[0], x);
    ASSERT_EQ(r.value()[1].dtype(), DType::kBool);
    expect_ints(r.value()[1], {3, 5}, std::vector<int64_t>(15, 1));
    // Opset 7's mask has the input's type.
    auto old = run("Dropout", 7, {&x}, 2, {{"ratio", attr_f(0.5f)}});
    ASSERT_TRUE(old.has_value());
    expect_floats(old.value()[1], {3, 5}, std::vector<float>(15, 1.0f));
    Tensor training(DType::kBool, {});
    training.data<uint8_t>()[0] = 1;
    auto t = run("Dropout", 13, {&x, &ratio, &training}, 1);
    ASSERT_FALSE(t.has_value());
    EXPECT_EQ(t.status().code(), rtinfer::StatusCode::kUnsupported);
}

// Runs infer alone; inputs without a value are only known at run time.
std::vector<ir::OutputInfo> infer_only(const std::string& op, int64_t opset, std::vector<ir::InputInfo> inputs,
                                       size_t num_outputs, rtinfer::Status& status, Attrs attrs = {}) {
    ir::Node node;
    node.name = "node_under_test";
    node.op_type = op;
    for (size_t i = 0; i < inputs.size(); ++i) node.inputs.push_back("in" + std::to_string(i));
    for (size_t i = 0; i < num_outputs; ++i) node.outputs.push_back("out" + std::to_string(i));
    node.attrs = std::move(attrs);
    ir::InferContext ctx(node, opset, std::move(inputs), num_outputs);
    status = rtinfer::ref::reference_registry().find("", op)->infer(ctx);
    return ctx.outputs();
}

TEST(TensorOpsInfer, ShapeInputsKnownOnlyAtRunTimeMakeOutputsDataDependent) {
    const ir::InputInfo x{DType::kFloat32, {2, 3, 4}, true, nullptr};
    rtinfer::Status s;
    auto r = infer_only("Reshape", 13, {x, ir::InputInfo{DType::kInt64, {2}, true, nullptr}}, 1, s);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    EXPECT_FALSE(r[0].shape_known);
    EXPECT_EQ(r[0].dtype, DType::kFloat32);
    EXPECT_EQ(r[0].shape.size(), 2u);
    const ir::InputInfo idx{DType::kInt64, {1}, true, nullptr};
    r = infer_only("Slice", 13, {x, idx, idx}, 1, s);
    ASSERT_TRUE(s.is_ok());
    EXPECT_FALSE(r[0].shape_known);
    EXPECT_EQ(r[0].shape.size(), 3u);
    r = infer_only("Unsqueeze", 13, {x, ir::InputInfo{DType::kInt64, {2}, true, nullptr}}, 1, s);
    ASSERT_TRUE(s.is_ok());
    EXPECT_EQ(r[0].shape.size(), 5u);
    r = infer_only("Split", 13, {x, ir::InputInfo{DType::kInt64, {2}, true, nullptr}}, 2, s, {{"axis", attr_i(1)}});
    ASSERT_TRUE(s.is_ok());
    EXPECT_FALSE(r[1].shape_known);
    // With the value known, the shape is known too.
    const Tensor shape = ints({6, -1});
    r = infer_only("Reshape", 13, {x, ir::InputInfo{DType::kInt64, {2}, true, &shape}}, 1, s);
    ASSERT_TRUE(s.is_ok());
    EXPECT_TRUE(r[0].shape_known);
    EXPECT_EQ(r[0].shape, (Shape{6, 4}));
    // NonZero's output is always data-dependent.
    r = infer_only("NonZero", 13, {x}, 1, s);
    ASSERT_TRUE(s.is_ok());
    EXPECT_FALSE(r[0].shape_known);
    EXPECT_EQ(r[0].dtype, DType::kInt64);
    EXPECT_EQ(r[0].shape.size(), 2u);
}

TEST(TensorOpsInfer, DataDependentOutputsComputeAtRunTime) {
    // evaluate_node is what the runtime's dynamic mode runs: every value is known there.
    const Tensor x = random_tensor(DType::kFloat16, {2, 6}, 46);
    const Tensor shape = ints({3, -1});
    const Tensor y = run1("Reshape", 13, {&x, &shape});
    EXPECT_EQ(y.shape(), (Shape{3, 4}));
    EXPECT_EQ(0, std::memcmp(y.raw(), x.raw(), x.nbytes()));
    auto missing = run("Reshape", 13, {&x, nullptr}, 1);
    ASSERT_FALSE(missing.has_value());
    EXPECT_NE(missing.status().message().find("node_under_test"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------------------
// Data movement

TEST(TensorOpsTranspose, MatchesIndexLoopsForEveryType) {
    for (DType t : kAllTypes) {
        const Tensor x = random_tensor(t, {2, 3, 4, 5}, 10);
        const Tensor y = run1("Transpose", 13, {&x}, {{"perm", attr_ints({2, 0, 3, 1})}});
        const Tensor want = map_elements(x, {4, 2, 5, 3}, [](const std::vector<int64_t>& o) {
            return ravel({o[1], o[3], o[0], o[2]}, {2, 3, 4, 5});
        });
        expect_same(y, want, rtinfer::data_type_name(t));
        const Tensor rev = run1("Transpose", 13, {&x});
        const Tensor want_rev = map_elements(x, {5, 4, 3, 2}, [](const std::vector<int64_t>& o) {
            return ravel({o[3], o[2], o[1], o[0]}, {2, 3, 4, 5});
        });
        expect_same(rev, want_rev);
    }
    const Tensor x = random_tensor(DType::kFloat32, {2, 3}, 11);
    EXPECT_FALSE(run("Transpose", 13, {&x}, 1, {{"perm", attr_ints({0, 0})}}).has_value());
}

// Element of x [5, 6] at the rows/cols lists.
Tensor pick_2d(const Tensor& x, const std::vector<int64_t>& rows, const std::vector<int64_t>& cols) {
    return map_elements(x, {static_cast<int64_t>(rows.size()), static_cast<int64_t>(cols.size())},
                        [&](const std::vector<int64_t>& o) {
                            return rows[static_cast<size_t>(o[0])] * x.shape()[1] + cols[static_cast<size_t>(o[1])];
                        });
}

TEST(TensorOpsSlice, InputsFrom10WithNegativeStepsAndClamping) {
    for (DType t : kAllTypes) {
        const Tensor x = random_tensor(t, {5, 6}, 12);
        const Tensor starts = ints({-1, 1});
        const Tensor ends = ints({-1000, 1000});
        const Tensor axes = ints({0, -1});
        const Tensor steps = ints({-2, 2});
        expect_same(run1("Slice", 13, {&x, &starts, &ends, &axes, &steps}), pick_2d(x, {4, 2, 0}, {1, 3, 5}));
        // Default axes and steps; ends past the dim clamp.
        const Tensor s2 = ints({1, 2});
        const Tensor e2 = ints({3, 100});
        expect_same(run1("Slice", 10, {&x, &s2, &e2}), pick_2d(x, {1, 2}, {2, 3, 4, 5}));
        // INT64_MAX start with a negative step starts at the last element.
        const Tensor s3 = ints({INT64_MAX});
        const Tensor e3 = ints({INT64_MIN});
        const Tensor a3 = ints({1});
        const Tensor st3 = ints({-1});
        expect_same(run1("Slice", 13, {&x, &s3, &e3, &a3, &st3}), pick_2d(x, {0, 1, 2, 3, 4}, {5, 4, 3, 2, 1, 0}));
    }
}

TEST(TensorOpsSlice, AttributesBefore10) {
    const Tensor x = random_tensor(DType::kInt64, {5, 6}, 13);
    const Tensor y = run1("Slice", 9, {&x},
                          {{"starts", attr_ints({1, -3})}, {"ends", attr_ints({4, -1})}, {"axes", attr_ints({0, 1})}});
    expect_same(y, pick_2d(x, {1, 2, 3}, {3, 4}));
    // An empty result is a zero-sized dim, not an error.
    const Tensor empty = run1("Slice", 9, {&x}, {{"starts", attr_ints({4})}, {"ends", attr_ints({2})}});
    EXPECT_EQ(empty.shape(), (Shape{0, 6}));
    const Tensor s = ints({0});
    const Tensor e = ints({1});
    const Tensor zero = ints({0});
    EXPECT_FALSE(run("Slice", 13, {&x, &s, &e, nullptr, &zero}, 1).has_value());
}

TEST(TensorOpsConcat, JoinsAlongNegativeAxisForEveryType) {
    for (DType t : kAllTypes) {
        const Tensor a = random_tensor(t, {2, 3, 1}, 14);
        const Tensor b = random_tensor(t, {2, 3, 4}, 15);
        const Tensor c = random_tensor(t, {2, 3, 2}, 16);
        const Tensor y = run1("Concat", 13, {&a, &b, &c}, {{"axis", attr_i(-1)}});
        ASSERT_EQ(y.shape(), (Shape{2, 3, 7}));
        const size_t es = rtinfer::data_type_size(t);
        for (int64_t i = 0; i < y.numel(); ++i) {
            const auto o = unravel(i, y.shape());
            const Tensor* src = o[2] < 1 ? &a : o[2] < 5 ? &b : &c;
            const int64_t k = o[2] < 1 ? o[2] : o[2] < 5 ? o[2] - 1 : o[2] - 5;
            const int64_t flat = ravel({o[0], o[1], k}, src->shape());
            EXPECT_EQ(0, std::memcmp(static_cast<const char*>(y.raw()) + i * es,
                                     static_cast<const char*>(src->raw()) + flat * es, es));
        }
        const Tensor y0 = run1("Concat", 13, {&b, &b}, {{"axis", attr_i(0)}});
        ASSERT_EQ(y0.shape(), (Shape{4, 3, 4}));
        EXPECT_EQ(0, std::memcmp(y0.raw(), b.raw(), b.nbytes()));
        EXPECT_EQ(0, std::memcmp(static_cast<const char*>(y0.raw()) + b.nbytes(), b.raw(), b.nbytes()));
    }
    const Tensor a = random_tensor(DType::kFloat32, {2, 3}, 17);
    const Tensor b = random_tensor(DType::kFloat32, {3, 3}, 18);
    EXPECT_FALSE(run("Concat", 13, {&a, &b}, 1, {{"axis", attr_i(1)}}).has_value());
}

// Checks that outputs are consecutive column bands of x [4, 7] with the given widths.
void expect_column_bands(const Tensor& x, const std::vector<Tensor>& outs, const std::vector<int64_t>& widths) {
    ASSERT_EQ(outs.size(), widths.size());
    int64_t at = 0;
    for (size_t k = 0; k < outs.size(); ++k) {
        std::vector<int64_t> cols(static_cast<size_t>(widths[k]));
        std::iota(cols.begin(), cols.end(), at);
        expect_same(outs[k], pick_2d(x, {0, 1, 2, 3}, cols), "output " + std::to_string(k));
        at += widths[k];
    }
}

TEST(TensorOpsSplit, SizesFromAttributeInputOrNumOutputs) {
    for (DType t : kAllTypes) {
        const Tensor x = random_tensor(t, {4, 7}, 19);
        auto a11 = run("Split", 11, {&x}, 3, {{"axis", attr_i(1)}, {"split", attr_ints({2, 4, 1})}});
        ASSERT_TRUE(a11.has_value()) << a11.status().to_string();
        expect_column_bands(x, a11.value(), {2, 4, 1});
        const Tensor split = ints({3, 0, 4});
        auto i13 = run("Split", 13, {&x, &split}, 3, {{"axis", attr_i(-1)}});
        ASSERT_TRUE(i13.has_value()) << i13.status().to_string();
        expect_column_bands(x, i13.value(), {3, 0, 4});
        auto n18 = run("Split", 18, {&x}, 3, {{"axis", attr_i(1)}, {"num_outputs", attr_i(3)}});
        ASSERT_TRUE(n18.has_value()) << n18.status().to_string();
        expect_column_bands(x, n18.value(), {3, 3, 1});
    }
    const Tensor x = random_tensor(DType::kFloat32, {4, 7}, 20);
    // Before 18 an uneven equal split is an error; at 13 the split attribute is not read.
    EXPECT_FALSE(run("Split", 13, {&x}, 3, {{"axis", attr_i(1)}}).has_value());
    EXPECT_FALSE(run("Split", 13, {&x}, 3, {{"axis", attr_i(1)}, {"split", attr_ints({2, 4, 1})}}).has_value());
    auto even = run("Split", 13, {&x}, 2, {{"axis", attr_i(0)}});
    ASSERT_TRUE(even.has_value());
    EXPECT_EQ(0, std::memcmp(even.value()[1].raw(), x.data<float>() + 14, 14 * sizeof(float)));
    const Tensor bad = ints({3, 3});
    EXPECT_FALSE(run("Split", 13, {&x, &bad}, 2, {{"axis", attr_i(1)}}).has_value());
}

// Pad expectations from per-axis maps of output position -> input index (-1 = constant).
Tensor padded(const Tensor& x, const std::vector<std::vector<int64_t>>& maps, const Tensor& fill) {
    Shape out;
    for (const auto& m : maps) out.push_back(static_cast<int64_t>(m.size()));
    return map_elements(
        x, out,
        [&](const std::vector<int64_t>& o) -> int64_t {
            std::vector<int64_t> in(o.size());
            for (size_t d = 0; d < o.size(); ++d) {
                in[d] = maps[d][static_cast<size_t>(o[d])];
                if (in[d] < 0) return -1;
            }
            return ravel(in, x.shape());
        },
        &fill);
}

TEST(TensorOpsPad, ConstantAttributeBefore11InputsFrom11) {
    for (DType t : kAllTypes) {
        const Tensor x = random_tensor(t, {2, 3}, 21);
        Tensor fill(t, {});
        rtinfer::ir::Tensor one = random_tensor(t, {1}, 22);
        std::memcpy(fill.raw(), one.raw(), rtinfer::data_type_size(t));
        const Tensor pads = ints({1, 0, 0, 2});
        const Tensor want = padded(x, {{-1, 0, 1}, {0, 1, 2, -1, -1}}, fill);
        expect_same(run1("Pad", 11, {&x, &pads, &fill}), want, rtinfer::data_type_name(t));
        // Negative pads crop.
        const Tensor crop = ints({0, -1, 1, 1});
        const Tensor zero(t, {});
        expect_same(run1("Pad", 13, {&x, &crop}), padded(x, {{0, 1, -1}, {1, 2, -1}}, zero));
    }
    const Tensor x = random_tensor(DType::kFloat32, {2, 3}, 23);
    const Tensor fill = floats({2.5f}, {});
    const Tensor y = run1("Pad", 2, {&x}, {{"pads", attr_ints({0, 1, 1, 0})}, {"value", attr_f(2.5f)}});
    expect_same(y, padded(x, {{0, 1, -1}, {-1, 0, 1, 2}}, fill));
}

TEST(TensorOpsPad, ReflectEdgeWrapAndAxes) {
    for (DType t : kAllTypes) {
        const Tensor x = random_tensor(t, {3, 4}, 24);
        const Tensor none(t, {});
        const Tensor pads = ints({2, 1, 1, 2});
        expect_same(run1("Pad", 11, {&x, &pads}, {{"mode", attr_s("reflect")}}),
                    padded(x, {{2, 1, 0, 1, 2, 1}, {1, 0, 1, 2, 3, 2, 1}}, none), "reflect");
        expect_same(run1("Pad", 11, {&x, &pads}, {{"mode", attr_s("edge")}}),
                    padded(x, {{0, 0, 0, 1, 2, 2}, {0, 0, 1, 2, 3, 3, 3}}, none), "edge");
        expect_same(run1("Pad", 19, {&x, &pads}, {{"mode", attr_s("wrap")}}),
                    padded(x, {{1, 2, 0, 1, 2, 0}, {3, 0, 1, 2, 3, 0, 1}}, none), "wrap");
        // Opset 18 axes: pads apply to the listed axes only.
        const Tensor axis_pads = ints({1, 2});
        const Tensor axes = ints({-1});
        expect_same(run1("Pad", 18, {&x, &axis_pads, nullptr, &axes}, {{"mode", attr_s("edge")}}),
                    padded(x, {{0, 1, 2}, {0, 0, 1, 2, 3, 3, 3}}, none), "axes");
    }
    const Tensor x = random_tensor(DType::kFloat32, {3, 4}, 25);
    const Tensor pads = ints({0, 0, 0, 1});
    EXPECT_FALSE(run("Pad", 18, {&x, &pads}, 1, {{"mode", attr_s("wrap")}}).has_value());
    const Tensor short_pads = ints({1, 1});
    EXPECT_FALSE(run("Pad", 11, {&x, &short_pads}, 1).has_value());
}

TEST(TensorOpsExpand, BroadcastsBothWays) {
    for (DType t : kAllTypes) {
        const Tensor x = random_tensor(t, {3, 1}, 26);
        const Tensor shape = ints({2, 1, 4});
        expect_same(run1("Expand", 13, {&x, &shape}),
                    map_elements(x, {2, 3, 4}, [](const std::vector<int64_t>& o) { return o[1]; }));
    }
    const Tensor x = random_tensor(DType::kFloat32, {3, 2}, 27);
    const Tensor bad = ints({4, 2});
    EXPECT_FALSE(run("Expand", 13, {&x, &bad}, 1).has_value());
}

TEST(TensorOpsTile, RepeatsEachAxis) {
    for (DType t : kAllTypes) {
        const Tensor x = random_tensor(t, {2, 3}, 28);
        const Tensor reps = ints({3, 2});
        expect_same(run1("Tile", 13, {&x, &reps}),
                    map_elements(x, {6, 6}, [](const std::vector<int64_t>& o) { return (o[0] % 2) * 3 + o[1] % 3; }));
    }
}

TEST(TensorOpsDepthToSpace, DcrCrdAndSpaceToDepthInverse) {
    for (DType t : kAllTypes) {
        const Tensor x = random_tensor(t, {2, 8, 2, 3}, 29);
        const int64_t b = 2;
        const Tensor dcr = run1("DepthToSpace", 13, {&x}, {{"blocksize", attr_i(b)}});
        expect_same(dcr, map_elements(x, {2, 2, 4, 6}, [&](const std::vector<int64_t>& o) {
                        const int64_t c = (o[2] % b * b + o[3] % b) * 2 + o[1];
                        return ravel({o[0], c, o[2] / b, o[3] / b}, x.shape());
                    }));
        const Tensor crd = run1("DepthToSpace", 13, {&x}, {{"blocksize", attr_i(b)}, {"mode", attr_s("CRD")}});
        expect_same(crd, map_elements(x, {2, 2, 4, 6}, [&](const std::vector<int64_t>& o) {
                        const int64_t c = o[1] * b * b + o[2] % b * b + o[3] % b;
                        return ravel({o[0], c, o[2] / b, o[3] / b}, x.shape());
                    }));
        expect_same(run1("SpaceToDepth", 13, {&dcr}, {{"blocksize", attr_i(b)}}), x);
    }
}

// ---------------------------------------------------------------------------------------------------------
// Index-driven ops

TEST(TensorOpsGather, NegativeIndicesAlongAnAxis) {
    for (DType t : kAllTypes) {
        const Tensor x = random_tensor(t, {3, 5, 2}, 30);
        Tensor idx(DType::kInt32, {2, 2});
        const int32_t iv[] = {4, -1, 0, -5};
        std::memcpy(idx.raw(), iv, sizeof iv);
        const Tensor y = run1("Gather", 13, {&x, &idx}, {{"axis", attr_i(-2)}});
        expect_same(y, map_elements(x, {3, 2, 2, 2}, [&](const std::vector<int64_t>& o) {
                        int64_t k = iv[o[1] * 2 + o[2]];
                        if (k < 0) k += 5;
                        return ravel({o[0], k, o[3]}, x.shape());
                    }));
    }
    const Tensor x = random_tensor(DType::kFloat32, {3, 5}, 31);
    const Tensor bad = ints({5});
    auto r = run("Gather", 13, {&x, &bad}, 1, {{"axis", attr_i(1)}});
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.status().message().find("node_under_test"), std::string::npos);
}

TEST(TensorOpsGather, GatherElementsAndGatherNDWithBatchDims) {
    const Tensor x = random_tensor(DType::kFloat16, {3, 4}, 32);
    const Tensor idx = Tensor::from_int64s({3, 0, -1, 2, 1, 1}, {3, 2});
    expect_same(run1("GatherElements", 13, {&x, &idx}, {{"axis", attr_i(1)}}),
                map_elements(x, {3, 2}, [](const std::vector<int64_t>& o) {
                    const int64_t k[] = {3, 0, 3, 2, 1, 1};
                    return o[0] * 4 + k[o[0] * 2 + o[1]];
                }));
    const Tensor idx0 = Tensor::from_int64s({2, 0, 1, 2}, {1, 4});
    expect_same(run1("GatherElements", 13, {&x, &idx0}, {{"axis", attr_i(0)}}),
                map_elements(x, {1, 4}, [](const std::vector<int64_t>& o) {
                    const int64_t k[] = {2, 0, 1, 2};
                    return k[o[1]] * 4 + o[1];
                }));

    const Tensor d = random_tensor(DType::kInt64, {2, 3, 4}, 33);
    const Tensor nd = Tensor::from_int64s({1, 2, 0, -1}, {2, 2});
    expect_same(run1("GatherND", 13, {&d, &nd}), map_elements(d, {2, 4}, [](const std::vector<int64_t>& o) {
                    return o[0] == 0 ? ravel({1, 2, o[1]}, {2, 3, 4}) : ravel({0, 2, o[1]}, {2, 3, 4});
                }));
    // batch_dims = 1: each batch entry indexes its own [3, 4] block.
    const Tensor nb = Tensor::from_int64s({2, 1, 0, 3}, {2, 1, 2});
    expect_same(run1("GatherND", 13, {&d, &nb}, {{"batch_dims", attr_i(1)}}),
                map_elements(d, {2, 1}, [](const std::vector<int64_t>& o) {
                    return o[0] == 0 ? ravel({0, 2, 1}, {2, 3, 4}) : ravel({1, 0, 3}, {2, 3, 4});
                }));
}

TEST(TensorOpsScatter, ElementsWithEveryReduction) {
    const Tensor data = floats({1, 2, 3, 4, 5, 6}, {2, 3});
    const Tensor idx = Tensor::from_int64s({2, 2, -3, 0}, {2, 2});
    const Tensor upd = floats({10, 20, 30, 40}, {2, 2});
    const Attrs axis1 = {{"axis", attr_i(1)}};
    // Row 0 gets 10 and 20 at column 2; row 1 gets 30 then 40 at column 0.
    expect_floats(run1("ScatterElements", 13, {&data, &idx, &upd}, axis1), {2, 3}, {1, 2, 20, 40, 5, 6});
    expect_floats(run1("Scatter", 9, {&data, &idx, &upd}, axis1), {2, 3}, {1, 2, 20, 40, 5, 6});
    auto with = [&](const char* r) {
        Attrs a = axis1;
        a["reduction"] = attr_s(r);
        return run1("ScatterElements", 18, {&data, &idx, &upd}, a);
    };
    expect_floats(with("add"), {2, 3}, {1, 2, 33, 74, 5, 6});
    expect_floats(with("mul"), {2, 3}, {1, 2, 600, 4 * 30 * 40, 5, 6});
    expect_floats(with("max"), {2, 3}, {1, 2, 20, 40, 5, 6});
    expect_floats(with("min"), {2, 3}, {1, 2, 3, 4, 5, 6});
    Attrs max16 = axis1;
    max16["reduction"] = attr_s("max");
    EXPECT_FALSE(run("ScatterElements", 16, {&data, &idx, &upd}, 1, max16).has_value());

    const Tensor di = Tensor::from_int64s({7, 8, 9}, {3});
    const Tensor ii = Tensor::from_int64s({1, 1}, {2});
    const Tensor ui = Tensor::from_int64s({5, 6}, {2});
    Tensor half_data(DType::kFloat16, {3});
    for (int i = 0; i < 3; ++i) half_data.data<uint16_t>()[i] = ir::float_to_half(1.5f * (i + 1));
    Tensor half_upd(DType::kFloat16, {2});
    half_upd.data<uint16_t>()[0] = ir::float_to_half(0.5f);
    half_upd.data<uint16_t>()[1] = ir::float_to_half(0.25f);
    expect_ints(run1("ScatterElements", 16, {&di, &ii, &ui}, {{"reduction", attr_s("add")}}), {3}, {7, 19, 9});
    expect_floats(run1("ScatterElements", 16, {&half_data, &ii, &half_upd}, {{"reduction", attr_s("add")}}), {3},
                  {1.5f, 3.75f, 4.5f});
}

TEST(TensorOpsScatter, NDSlicesWithReduction) {
    const Tensor data = random_tensor(DType::kFloat32, {3, 2}, 34);
    const Tensor idx = Tensor::from_int64s({2, 0, 2}, {3, 1});
    const Tensor upd = floats({1, 2, 3, 4, 5, 6}, {3, 2});
    const float* d = data.data<float>();
    expect_floats(run1("ScatterND", 13, {&data, &idx, &upd}), {3, 2}, {3, 4, d[2], d[3], 5, 6});
    expect_floats(run1("ScatterND", 16, {&data, &idx, &upd}, {{"reduction", attr_s("add")}}), {3, 2},
                  {d[0] + 3, d[1] + 4, d[2], d[3], d[4] + 1 + 5, d[5] + 2 + 6}, 1e-5f);
    expect_floats(run1("ScatterND", 18, {&data, &idx, &upd}, {{"reduction", attr_s("min")}}), {3, 2},
                  {std::min(d[0], 3.0f), std::min(d[1], 4.0f), d[2], d[3], std::min({d[4], 1.0f, 5.0f}),
                   std::min({d[5], 2.0f, 6.0f})});
    const Tensor bool_data = random_tensor(DType::kBool, {3, 2}, 35);
    const Tensor bool_upd = random_tensor(DType::kBool, {1, 2}, 36);
    const Tensor one = Tensor::from_int64s({1}, {1, 1});
    Tensor want = bool_data.clone();
    std::memcpy(want.data<uint8_t>() + 2, bool_upd.raw(), 2);
    expect_same(run1("ScatterND", 13, {&bool_data, &one, &bool_upd}), want);
}

// ---------------------------------------------------------------------------------------------------------
// Generators and data-dependent outputs

TEST(TensorOpsRange, FloatAndIntWithNegativeDelta) {
    const Tensor s = floats({1.0f}, {});
    const Tensor l = floats({2.2f}, {});
    const Tensor d = floats({0.5f}, {});
    expect_floats(run1("Range", 11, {&s, &l, &d}), {3}, {1.0f, 1.5f, 2.0f});
    const Tensor si = scalar_int(10);
    const Tensor li = scalar_int(3);
    const Tensor di = scalar_int(-3);
    expect_ints(run1("Range", 11, {&si, &li, &di}), {3}, {10, 7, 4});
    const Tensor up = scalar_int(3);
    expect_ints(run1("Range", 11, {&si, &up, &up}), {0}, {});
    const Tensor zero = scalar_int(0);
    EXPECT_FALSE(run("Range", 11, {&si, &li, &zero}, 1).has_value());
}

TEST(TensorOpsOneHot, AxisAndNegativeIndices) {
    const Tensor idx = Tensor::from_int64s({0, -1, 5, 2}, {2, 2});
    const Tensor depth = floats({3.0f}, {});
    const Tensor values = floats({-2.0f, 7.0f}, {2});
    // axis = 1: out[i][d][j] = on where idx[i][j] (wrapped) == d; 5 is out of range -> all off.
    expect_floats(run1("OneHot", 11, {&idx, &depth, &values}, {{"axis", attr_i(1)}}), {2, 3, 2},
                  {7, -2, -2, -2, -2, 7, -2, -2, -2, -2, -2, 7});
    expect_floats(run1("OneHot", 11, {&idx, &depth, &values}), {2, 2, 3},
                  {7, -2, -2, -2, -2, 7, -2, -2, -2, -2, -2, 7});
}

TEST(TensorOpsNonZero, CoordinatesInRowMajorOrder) {
    Tensor x(DType::kFloat16, {2, 3});
    const float v[] = {0, 1.5f, 0, -2, 0, 3};
    for (int i = 0; i < 6; ++i) x.data<uint16_t>()[i] = ir::float_to_half(v[i]);
    expect_ints(run1("NonZero", 13, {&x}), {2, 3}, {0, 1, 1, 1, 0, 2});
    const Tensor b = random_tensor(DType::kBool, {17}, 37);
    std::vector<int64_t> want;
    for (int64_t i = 0; i < 17; ++i) {
        if (b.data<uint8_t>()[i]) want.push_back(i);
    }
    expect_ints(run1("NonZero", 13, {&b}), {1, static_cast<int64_t>(want.size())}, want);
}

TEST(TensorOpsCompress, WithAndWithoutAxis) {
    for (DType t : kAllTypes) {
        const Tensor x = random_tensor(t, {3, 4}, 38);
        Tensor cond(DType::kBool, {3});
        cond.data<uint8_t>()[0] = 1;
        cond.data<uint8_t>()[2] = 1;
        expect_same(run1("Compress", 11, {&x, &cond}, {{"axis", attr_i(-2)}}), pick_2d(x, {0, 2}, {0, 1, 2, 3}));
        expect_same(run1("Compress", 11, {&x, &cond}),
                    map_elements(x, {2}, [](const std::vector<int64_t>& o) { return o[0] * 2; }));
    }
}

TEST(TensorOpsTrilu, UpperAndLowerWithK) {
    for (DType t : kAllTypes) {
        const Tensor x = random_tensor(t, {2, 3, 4}, 39);
        const Tensor zero(t, {1});
        for (int64_t k : {-1, 0, 2}) {
            const Tensor kt = scalar_int(k);
            const Tensor up = run1("Trilu", 14, {&x, &kt});
            expect_same(
                up,
                map_elements(
                    x, x.shape(),
                    [&](const std::vector<int64_t>& o) { return o[2] - o[1] >= k ? ravel(o, x.shape()) : -1; }, &zero));
            const Tensor low = run1("Trilu", 14, {&x, &kt}, {{"upper", attr_i(0)}});
            expect_same(
                low,
                map_elements(
                    x, x.shape(),
                    [&](const std::vector<int64_t>& o) { return o[2] - o[1] <= k ? ravel(o, x.shape()) : -1; }, &zero));
        }
        expect_same(run1("Trilu", 14, {&x}),
                    map_elements(
                        x, x.shape(),
                        [&](const std::vector<int64_t>& o) { return o[2] >= o[1] ? ravel(o, x.shape()) : -1; }, &zero));
    }
}

TEST(TensorOpsEyeLike, ShiftedDiagonalAndDtype) {
    const Tensor x = random_tensor(DType::kInt64, {3, 4}, 40);
    expect_ints(run1("EyeLike", 9, {&x}, {{"k", attr_i(1)}}), {3, 4}, {0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1});
    const Tensor h = run1("EyeLike", 9, {&x}, {{"k", attr_i(-1)}, {"dtype", attr_i(10)}});
    ASSERT_EQ(h.dtype(), DType::kFloat16);
    expect_floats(h, {3, 4}, {0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0});
}

TEST(TensorOpsReverseSequence, TimeMajorAndBatchMajor) {
    const Tensor x = random_tensor(DType::kFloat32, {4, 3, 2}, 41);
    const Tensor lens = ints({4, 1, 2});
    expect_same(run1("ReverseSequence", 10, {&x, &lens}), map_elements(x, x.shape(), [](const std::vector<int64_t>& o) {
                    const int64_t len[] = {4, 1, 2};
                    const int64_t t = o[0] < len[o[1]] ? len[o[1]] - 1 - o[0] : o[0];
                    return ravel({t, o[1], o[2]}, {4, 3, 2});
                }));
    const Tensor xb = random_tensor(DType::kInt64, {2, 3}, 42);
    const Tensor lb = ints({3, 2});
    expect_ints(run1("ReverseSequence", 10, {&xb, &lb}, {{"batch_axis", attr_i(0)}, {"time_axis", attr_i(1)}}), {2, 3},
                {xb.data<int64_t>()[2], xb.data<int64_t>()[1], xb.data<int64_t>()[0], xb.data<int64_t>()[4],
                 xb.data<int64_t>()[3], xb.data<int64_t>()[5]});
}

TEST(TensorOpsUnique, SortedUnsortedAndAxis) {
    const Tensor x = floats({2, 1, 1, 3, 4, 3}, {6});
    auto s = run("Unique", 11, {&x}, 4);
    ASSERT_TRUE(s.has_value()) << s.status().to_string();
    expect_floats(s.value()[0], {4}, {1, 2, 3, 4});
    expect_ints(s.value()[1], {4}, {1, 0, 3, 4});
    expect_ints(s.value()[2], {6}, {1, 0, 0, 2, 3, 2});
    expect_ints(s.value()[3], {4}, {2, 1, 2, 1});
    auto u = run("Unique", 11, {&x}, 4, {{"sorted", attr_i(0)}});
    ASSERT_TRUE(u.has_value());
    expect_floats(u.value()[0], {4}, {2, 1, 3, 4});
    expect_ints(u.value()[1], {4}, {0, 1, 3, 4});
    expect_ints(u.value()[2], {6}, {0, 1, 1, 2, 3, 2});
    expect_ints(u.value()[3], {4}, {1, 2, 2, 1});
    // Rows of a matrix: [1,0,0] twice, [2,3,4] once; sorted lexicographically.
    const Tensor m = Tensor::from_int64s({2, 3, 4, 1, 0, 0, 1, 0, 0}, {3, 3});
    auto r = run("Unique", 11, {&m}, 4, {{"axis", attr_i(-2)}});
    ASSERT_TRUE(r.has_value());
    expect_ints(r.value()[0], {2, 3}, {1, 0, 0, 2, 3, 4});
    expect_ints(r.value()[1], {2}, {1, 0});
    expect_ints(r.value()[2], {3}, {1, 0, 0});
    expect_ints(r.value()[3], {2}, {2, 1});
}

// ---------------------------------------------------------------------------------------------------------
// Resize and Upsample

TEST(TensorOpsResize, LinearHalfPixel2x2To4x4) {
    const Tensor x = floats({1, 2, 3, 4}, {1, 1, 2, 2});
    const Tensor scales = floats({1, 1, 2, 2}, {4});
    const Tensor y = run1("Resize", 13, {&x, nullptr, &scales}, {{"mode", attr_s("linear")}});
    expect_floats(y, {1, 1, 4, 4},
                  {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4});
    // Sizes give the same result; align_corners spans the corners exactly.
    const Tensor sizes = ints({1, 1, 4, 4});
    expect_same(run1("Resize", 13, {&x, nullptr, nullptr, &sizes}, {{"mode", attr_s("linear")}}), y);
    const Tensor ac = run1("Resize", 11, {&x, nullptr, &scales},
                           {{"mode", attr_s("linear")}, {"coordinate_transformation_mode", attr_s("align_corners")}});
    // Source coordinates o / 3 on both axes: row r is row 0 plus 2r/3, column c adds c/3.
    const float t = 1.0f / 3.0f;
    expect_floats(
        ac, {1, 1, 4, 4},
        {1, 1 + t, 1 + 2 * t, 2, 1 + 2 * t, 2, 2 + t, 2 + 2 * t, 2 + t, 2 + 2 * t, 3, 3 + t, 3, 3 + t, 3 + 2 * t, 4});
}

TEST(TensorOpsResize, NearestAsymmetricModes) {
    const Tensor x = floats({1, 2, 3, 4}, {1, 1, 2, 2});
    const Tensor scales = floats({1, 1, 2, 2}, {4});
    const Attrs asym = {{"coordinate_transformation_mode", attr_s("asymmetric")}};
    expect_floats(run1("Resize", 13, {&x, nullptr, &scales}, asym), {1, 1, 4, 4},
                  {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
    Attrs ceil = asym;
    ceil["nearest_mode"] = attr_s("round_prefer_ceil");
    expect_floats(run1("Resize", 13, {&x, nullptr, &scales}, ceil), {1, 1, 4, 4},
                  {1, 2, 2, 2, 3, 4, 4, 4, 3, 4, 4, 4, 3, 4, 4, 4});
    // Nearest only moves values, so float16 data comes back bit-exact.
    Tensor h(DType::kFloat16, {1, 1, 2, 2});
    for (int i = 0; i < 4; ++i) h.data<uint16_t>()[i] = ir::float_to_half(0.1f * (i + 1));
    const Tensor yh = run1("Resize", 13, {&h, nullptr, &scales}, asym);
    ASSERT_EQ(yh.dtype(), DType::kFloat16);
    EXPECT_EQ(yh.data<uint16_t>()[15], h.data<uint16_t>()[3]);
    EXPECT_EQ(yh.data<uint16_t>()[1], h.data<uint16_t>()[0]);
}

TEST(TensorOpsResize, CubicMatchesTheKeysKernel) {
    const Tensor x = random_tensor(DType::kFloat32, {1, 5}, 43);
    const Tensor scales = floats({1.0f, 2.0f}, {2});
    const Tensor y = run1("Resize", 13, {&x, nullptr, &scales}, {{"mode", attr_s("cubic")}});
    const double a = -0.75;
    auto w = [&](double t) {
        t = std::fabs(t);
        if (t <= 1) return (a + 2) * t * t * t - (a + 3) * t * t + 1;
        if (t < 2) return a * t * t * t - 5 * a * t * t + 8 * a * t - 4 * a;
        return 0.0;
    };
    std::vector<float> want;
    for (int o = 0; o < 10; ++o) {
        const double src = (o + 0.5) / 2.0 - 0.5;
        double acc = 0;
        for (int i = -3; i <= 8; ++i) acc += w(src - i) * x.data<float>()[std::clamp(i, 0, 4)];
        want.push_back(static_cast<float>(acc));
    }
    expect_floats(y, {1, 10}, want, 1e-4f);
}

TEST(TensorOpsResize, SizesAxesAspectRatioAndCrop) {
    const Tensor x = random_tensor(DType::kFloat32, {1, 2, 4, 6}, 44);
    // Opset 18 axes: sizes name only H and W; not_larger keeps the aspect ratio (scale = min(2/4, 6/6)).
    const Tensor sizes = ints({2, 6});
    const Tensor y = run1("Resize", 18, {&x, nullptr, nullptr, &sizes},
                          {{"axes", attr_ints({2, 3})}, {"keep_aspect_ratio_policy", attr_s("not_larger")}});
    EXPECT_EQ(y.shape(), (Shape{1, 2, 2, 3}));
    // Nearest half_pixel at scale 0.5 reads x = 2o + 0.5, which round_prefer_floor takes to 2o.
    expect_same(y, map_elements(x, {1, 2, 2, 3}, [](const std::vector<int64_t>& o) {
                    return ravel({0, o[1], 2 * o[2], 2 * o[3]}, {1, 2, 4, 6});
                }));
    // tf_crop_and_resize: points outside the box read the extrapolation value.
    const Tensor one = floats({1, 2, 3, 4}, {1, 1, 1, 4});
    const Tensor roi = floats({0, 0, 0, 0.5f, 1, 1, 1, 1.5f}, {8});
    const Tensor size4 = ints({1, 1, 1, 3});
    const Tensor c = run1("Resize", 13, {&one, &roi, nullptr, &size4},
                          {{"mode", attr_s("linear")},
                           {"coordinate_transformation_mode", attr_s("tf_crop_and_resize")},
                           {"extrapolation_value", attr_f(-9.0f)}});
    // x = 1.5 + o * 1.5: 1.5, 3.0, 4.5 (outside [0, 3]).
    expect_floats(c, {1, 1, 1, 3}, {2.5f, 4.0f, -9.0f});
}

TEST(TensorOpsResize, AntialiasAndHalfPixelSymmetric) {
    // Linear antialias at scale 0.5 widens the triangle to 4 taps: weights 1,3,3,1 (/8) around each output.
    const Tensor x = floats({1, 2, 4, 8, 16, 32, 64, 128}, {1, 8});
    const Tensor scales = floats({1.0f, 0.5f}, {2});
    const Tensor y = run1("Resize", 18, {&x, nullptr, &scales}, {{"mode", attr_s("linear")}, {"antialias", attr_i(1)}});
    auto at = [&](int i) { return x.data<float>()[std::clamp(i, 0, 7)]; };
    std::vector<float> want;
    for (int o = 0; o < 4; ++o) {
        const int c = 2 * o;  // source centre at 2o + 0.5
        want.push_back((at(c - 1) + 3 * at(c) + 3 * at(c + 1) + at(c + 2)) / 8.0f);
    }
    expect_floats(y, {1, 4}, want, 1e-4f);
    // half_pixel_symmetric equals half_pixel when the output size is exact.
    const Tensor s2 = floats({1.0f, 2.0f}, {2});
    const Attrs sym = {{"mode", attr_s("linear")}, {"coordinate_transformation_mode", attr_s("half_pixel_symmetric")}};
    expect_same(run1("Resize", 19, {&x, nullptr, &s2}, sym),
                run1("Resize", 19, {&x, nullptr, &s2}, {{"mode", attr_s("linear")}}));
    EXPECT_FALSE(run("Resize", 18, {&x, nullptr, &s2}, 1, sym).has_value());
}

TEST(TensorOpsResize, UpsampleAttributeAt7InputAt9AndResize10) {
    const Tensor x = random_tensor(DType::kInt64, {1, 2, 3}, 45);
    const auto repeat =
        map_elements(x, {1, 4, 6}, [](const std::vector<int64_t>& o) { return o[1] / 2 * 3 + o[2] / 2; });
    expect_same(run1("Upsample", 7, {&x}, {{"scales", attr_floats({1, 2, 2})}}), repeat);
    const Tensor scales = floats({1, 2, 2}, {3});
    expect_same(run1("Upsample", 9, {&x, &scales}), repeat);
    expect_same(run1("Resize", 10, {&x, &scales}), repeat);
    // Linear in the legacy versions is asymmetric: x / 2 with the right edge clamped.
    const Tensor f = floats({1, 3}, {1, 2});
    const Tensor s = floats({1, 2}, {2});
    expect_floats(run1("Upsample", 9, {&f, &s}, {{"mode", attr_s("linear")}}), {1, 4}, {1, 2, 3, 3});
}

}  // namespace
