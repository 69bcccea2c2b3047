// The reduce family of reference kernels against values computed independently here, in double precision,
// on random non-zero inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "core/ir/op.h"
#include "core/kernels/ref/ref_backend.h"

namespace rtinfer {
namespace {

using ir::DType;
using ir::Shape;
using ir::Tensor;

// ---- building and running one node ----

ir::Attribute attr_i(int64_t v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInt;
    a.i = v;
    return a;
}
ir::Attribute attr_is(std::vector<int64_t> v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInts;
    a.ints = std::move(v);
    return a;
}
ir::Attribute attr_s(std::string v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kString;
    a.s = std::move(v);
    return a;
}

ir::Node make_node(const std::string& op, size_t num_inputs, size_t num_outputs,
                   std::map<std::string, ir::Attribute> attrs = {}) {
    ir::Node n;
    n.name = "test_" + op;
    n.op_type = op;
    for (size_t i = 0; i < num_inputs; ++i) n.inputs.push_back("in" + std::to_string(i));
    for (size_t i = 0; i < num_outputs; ++i) n.outputs.push_back("out" + std::to_string(i));
    n.attrs = std::move(attrs);
    return n;
}

// Runs a node through the registry; inputs may contain nullptr for omitted optional inputs.
Status run_node(const ir::Node& node, int64_t opset, const std::vector<const Tensor*>& inputs,
                std::vector<Tensor>& outputs) {
    const ir::OpKernel* k = ref::reference_registry().find("", node.op_type);
    if (!k) return Status(StatusCode::kUnsupported, "no kernel for " + node.op_type);
    ir::Node n = node;
    for (size_t i = 0; i < inputs.size() && i < n.inputs.size(); ++i) {
        if (!inputs[i]) n.inputs[i].clear();
    }
    return ref::evaluate_node(*k, n, opset, inputs, outputs);
}

Tensor run_one(const ir::Node& node, int64_t opset, const std::vector<const Tensor*>& inputs) {
    std::vector<Tensor> outs;
    const Status s = run_node(node, opset, inputs, outs);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return outs.empty() ? Tensor() : outs[0];
}

// ---- data ----

std::mt19937& rng() {
    static std::mt19937 gen(20240611);
    return gen;
}

// Uniform magnitudes in [0.1, 2] with random signs (all positive if positive): never zero.
Tensor random_tensor(Shape shape, bool positive = false, DType dtype = DType::kFloat32) {
    Tensor t(dtype, std::move(shape));
    std::uniform_real_distribution<double> mag(0.1, 2.0);
    std::bernoulli_distribution sign(0.5);
    for (int64_t i = 0; i < t.numel(); ++i) {
        double v = mag(rng());
        if (!positive && sign(rng())) v = -v;
        if (dtype == DType::kFloat32) t.data<float>()[i] = static_cast<float>(v);
        if (dtype == DType::kFloat64) t.data<double>()[i] = v;
    }
    return t;
}

Tensor random_ints(Shape shape, int lo, int hi, DType dtype) {
    Tensor t(dtype, std::move(shape));
    std::uniform_int_distribution<int> d(lo, hi);
    for (int64_t i = 0; i < t.numel(); ++i) {
        int v = d(rng());
        if (v == 0) v = hi;
        if (dtype == DType::kInt32) t.data<int32_t>()[i] = v;
        if (dtype == DType::kInt64) t.data<int64_t>()[i] = v;
    }
    return t;
}

Tensor floats(std::vector<float> v, Shape shape) {
    return Tensor::from_floats(v, std::move(shape));
}
Tensor int64s(std::vector<int64_t> v, Shape shape) {
    return Tensor::from_int64s(v, std::move(shape));
}

std::vector<double> values(const Tensor& t) {
    return ir::to_doubles(t);
}

void expect_near_all(const std::vector<double>& got, const std::vector<double>& want, double rtol,
                     const std::string& what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < got.size(); ++i) {
        if (std::isinf(want[i]) || std::isnan(want[i])) {
            EXPECT_TRUE(std::isnan(want[i]) ? std::isnan(got[i]) : got[i] == want[i]) << what << " at " << i;
        } else {
            EXPECT_NEAR(got[i], want[i], rtol * std::max(1.0, std::fabs(want[i]))) << what << " at " << i;
        }
    }
}

// Multi-index of a flat row-major index.
std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
    std::vector<int64_t> idx(shape.size());
    for (size_t d = shape.size(); d-- > 0;) {
        idx[d] = flat % shape[d];
        flat /= shape[d];
    }
    return idx;
}

// ---- Reduce ops ----

using ListFn = std::function<double(const std::vector<double>&)>;

double sum_of(const std::vector<double>& v) {
    return std::accumulate(v.begin(), v.end(), 0.0);
}

// A reduction as a fold: acc = step(acc, x) from init, then finish(acc, count).
struct ReduceCase {
    const char* op;
    double init;
    double (*step)(double, double);
    double (*finish)(double, double);
    bool positive_input;
    ListFn fn() const {
        return [c = *this](const std::vector<double>& v) {
            double acc = c.init;
            for (double x : v) acc = c.step(acc, x);
            return c.finish(acc, static_cast<double>(v.size()));
        };
    }
};

using Fold = double (*)(double, double);
const Fold add = [](double a, double x) { return a + x; };
const Fold add_square = [](double a, double x) { return a + x * x; };
const Fold as_is = [](double a, double) { return a; };
const Fold log_of = [](double a, double) { return std::log(a); };

std::vector<ReduceCase> reduce_cases() {
    const double inf = std::numeric_limits<double>::infinity();
    return {{"ReduceSum", 0, add, as_is, false},
            {"ReduceMean", 0, add, [](double a, double n) { return a / n; }, false},
            {"ReduceMax", -inf, [](double a, double x) { return std::max(a, x); }, as_is, false},
            {"ReduceMin", inf, [](double a, double x) { return std::min(a, x); }, as_is, false},
            {"ReduceProd", 1, [](double a, double x) { return a * x; }, as_is, false},
            {"ReduceL1", 0, [](double a, double x) { return a + std::fabs(x); }, as_is, false},
            {"ReduceL2", 0, add_square, [](double a, double) { return std::sqrt(a); }, false},
            {"ReduceLogSum", 0, add, log_of, true},
            {"ReduceLogSumExp", 0, [](double a, double x) { return a + std::exp(x); }, log_of, false},
            {"ReduceSumSquare", 0, add_square, as_is, false}};
}

// Reduces by gathering every input element into the list of its output element, then applying fn.
std::vector<double> reference_reduce(const Tensor& x, const std::vector<int64_t>& axes, const ListFn& fn) {
    const int rank = x.rank();
    std::vector<bool> red(rank, axes.empty());
    for (int64_t a : axes) red[a < 0 ? a + rank : a] = true;
    Shape out_shape;
    for (int d = 0; d < rank; ++d) out_shape.push_back(red[d] ? 1 : x.dim(d));
    std::vector<std::vector<double>> lists((ir::shape_numel(out_shape)));
    const std::vector<double> xv = values(x);
    for (int64_t i = 0; i < x.numel(); ++i) {
        std::vector<int64_t> idx = unravel(i, x.shape());
        int64_t o = 0;
        for (int d = 0; d < rank; ++d) o = o * out_shape[d] + (red[d] ? 0 : idx[d]);
        lists[o].push_back(xv[i]);
    }
    std::vector<double> out;
    for (const auto& l : lists) out.push_back(fn(l));
    return out;
}

Shape expected_reduce_shape(const Shape& in, const std::vector<int64_t>& axes, bool keepdims) {
    Shape out;
    const int rank = static_cast<int>(in.size());
    for (int d = 0; d < rank; ++d) {
        bool r = axes.empty();
        for (int64_t a : axes) r = r || (a < 0 ? a + rank : a) == d;
        if (!r)
            out.push_back(in[d]);
        else if (keepdims)
            out.push_back(1);
    }
    return out;
}

TEST(ReduceOps, AllOpsAxesKeepdimsAttributeAndInputForms) {
    const std::vector<std::vector<int64_t>> axes_sets = {{}, {0}, {1}, {2}, {-1}, {0, 2}, {-2, -1}, {0, 1, 2}};
    int checked = 0;
    for (const ReduceCase& c : reduce_cases()) {
        const Tensor x = random_tensor({3, 4, 5}, c.positive_input);
        const int64_t input_opset = std::string(c.op) == "ReduceSum" ? 13 : 18;
        for (const auto& axes : axes_sets) {
            const std::vector<double> want = reference_reduce(x, axes, c.fn());
            for (int keep = 0; keep <= 1; ++keep) {
                const std::string what =
                    std::string(c.op) + " axes " + ir::shape_str(axes) + " keepdims " + std::to_string(keep);
                // Axes as an attribute (opset 11).
                std::map<std::string, ir::Attribute> attrs = {{"keepdims", attr_i(keep)}};
                if (!axes.empty()) attrs["axes"] = attr_is(axes);
                Tensor y = run_one(make_node(c.op, 1, 1, attrs), 11, {&x});
                EXPECT_EQ(y.shape(), expected_reduce_shape(x.shape(), axes, keep)) << what;
                expect_near_all(values(y), want, 1e-5, what + " (attribute)");
                // Axes as an input (opset 13 for ReduceSum, 18 for the others).
                const Tensor axes_t = int64s(axes, {static_cast<int64_t>(axes.size())});
                y = run_one(make_node(c.op, 2, 1, {{"keepdims", attr_i(keep)}}), input_opset, {&x, &axes_t});
                EXPECT_EQ(y.shape(), expected_reduce_shape(x.shape(), axes, keep)) << what;
                expect_near_all(values(y), want, 1e-5, what + " (input)");
                ++checked;
            }
        }
    }
    EXPECT_EQ(checked, 10 * 8 * 2);
}

TEST(ReduceOps, DoubleAndIntegerTypes) {
    const Tensor xd = random_tensor({4, 6}, false, DType::kFloat64);
    for (const ReduceCase& c : reduce_cases()) {
        if (c.positive_input) continue;
        const Tensor y = run_one(make_node(c.op, 1, 1, {{"axes", attr_is({1})}}), 13, {&xd});
        EXPECT_EQ(y.dtype(), DType::kFloat64);
        expect_near_all(values(y), reference_reduce(xd, {1}, c.fn()), 1e-12, std::string(c.op) + " double");
    }
    for (DType t : {DType::kInt32, DType::kInt64}) {
        const Tensor xi = random_ints({3, 5}, -9, 9, t);
        for (const char* op : {"ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceSumSquare"}) {
            const ReduceCase* c = nullptr;
            const auto cases = reduce_cases();
            for (const auto& rc : cases) {
                if (std::string(rc.op) == op) c = &rc;
            }
            const Tensor y = run_one(make_node(op, 1, 1, {{"axes", attr_is({0})}, {"keepdims", attr_i(0)}}), 13, {&xi});
            EXPECT_EQ(y.dtype(), t);
            expect_near_all(values(y), reference_reduce(xi, {0}, c->fn()), 0, std::string(op) + " int");
        }
        // Integer mean truncates like a cast of the exact mean.
        const Tensor m = run_one(make_node("ReduceMean", 1, 1, {{"axes", attr_is({1})}}), 13, {&xi});
        const std::vector<double> want = reference_reduce(xi, {1}, [](const std::vector<double>& v) {
            return std::trunc(sum_of(v) / static_cast<double>(v.size()));
        });
        expect_near_all(values(m), want, 0, "ReduceMean int");
    }
}

TEST(ReduceOps, EmptyAxesReduceAllOrNothing) {
    const Tensor x = random_tensor({2, 3, 4});
    const Tensor no_axes = int64s({}, {0});
    // Empty axes: everything is reduced.
    Tensor y = run_one(make_node("ReduceSum", 2, 1, {{"keepdims", attr_i(1)}}), 13, {&x, &no_axes});
    EXPECT_EQ(y.shape(), (Shape{1, 1, 1}));
    EXPECT_NEAR(values(y)[0], sum_of(values(x)), 1e-5);
    y = run_one(make_node("ReduceMax", 2, 1, {{"keepdims", attr_i(0)}}), 18, {&x, nullptr});
    EXPECT_EQ(y.shape(), Shape{});
    const auto xv = values(x);
    EXPECT_EQ(values(y)[0], *std::max_element(xv.begin(), xv.end()));
    // noop_with_empty_axes: the input comes back unchanged, for an empty or an omitted axes input.
    for (const char* op : {"ReduceSum", "ReduceL2", "ReduceSumSquare"}) {
        const int64_t opset = std::string(op) == "ReduceSum" ? 13 : 18;
        for (const Tensor* axes : {&no_axes, static_cast<const Tensor*>(nullptr)}) {
            y = run_one(make_node(op, 2, 1, {{"noop_with_empty_axes", attr_i(1)}}), opset, {&x, axes});
            EXPECT_EQ(y.shape(), x.shape()) << op;
            expect_near_all(values(y), values(x), 0, op);
        }
    }
}

TEST(ReduceOps, ZeroSizeDimensionGivesIdentity) {
    const Tensor x(DType::kFloat32, {2, 0, 3});
    const double inf = std::numeric_limits<double>::infinity();
    const std::vector<std::pair<const char*, double>> identities = {
        {"ReduceSum", 0.0},        {"ReduceProd", 1.0},         {"ReduceMax", -inf},      {"ReduceMin", inf},
        {"ReduceL1", 0.0},         {"ReduceL2", 0.0},           {"ReduceSumSquare", 0.0}, {"ReduceLogSum", -inf},
        {"ReduceLogSumExp", -inf}, {"ReduceMean", std::nan("")}};
    for (const auto& [op, identity] : identities) {
        const Tensor y = run_one(make_node(op, 1, 1, {{"axes", attr_is({1})}, {"keepdims", attr_i(0)}}), 13, {&x});
        EXPECT_EQ(y.shape(), (Shape{2, 3})) << op;
        expect_near_all(values(y), std::vector<double>(6, identity), 0, op);
    }
    const Tensor xi(DType::kInt32, {0, 2});
    const Tensor yi = run_one(make_node("ReduceMax", 1, 1, {{"axes", attr_is({0})}}), 13, {&xi});
    EXPECT_EQ(values(yi), std::vector<double>(2, std::numeric_limits<int32_t>::lowest()));
}

TEST(ReduceOps, ErrorsNameTheNode) {
    const Tensor x = random_tensor({2, 3});
    std::vector<Tensor> outs;
    Status s = run_node(make_node("ReduceSum", 1, 1, {{"axes", attr_is({2})}}), 11, {&x}, outs);
    EXPECT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("test_ReduceSum"), std::string::npos) << s.message();
    s = run_node(make_node("ReduceMax", 1, 1, {{"axes", attr_is({1, -1})}}), 13, {&x}, outs);
    EXPECT_NE(s.message().find("test_ReduceMax"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("repeated"), std::string::npos) << s.message();
    // An axes input not known at build time is refused by infer.
    const ir::Node node = make_node("ReduceMean", 2, 1);
    ir::InferContext ctx(
        node, 18, {ir::InputInfo{DType::kFloat32, {2, 3}, true, &x}, ir::InputInfo{DType::kInt64, {1}, true, nullptr}},
        1);
    s = ref::reference_registry().find("", "ReduceMean")->infer(ctx);
    EXPECT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("test_ReduceMean"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("constant"), std::string::npos) << s.message();
}

TEST(ReduceOps, Float16InputsRunThroughFloat32) {
    const Tensor x32 = random_tensor({2, 3, 4}, true);
    auto x16 = ir::cast_tensor(x32, DType::kFloat16);
    ASSERT_TRUE(x16.has_value());
    const auto xv = values(*x16);  // the float16-rounded inputs
    Tensor y = run_one(make_node("ReduceMean", 1, 1, {{"axes", attr_is({-1})}}), 13, {&*x16});
    EXPECT_EQ(y.dtype(), DType::kFloat16);
    Tensor xr(DType::kFloat64, x32.shape());
    for (size_t i = 0; i < xv.size(); ++i) xr.data<double>()[i] = xv[i];
    expect_near_all(values(y), reference_reduce(xr, {-1}, reduce_cases()[1].fn()), 2e-3, "ReduceMean float16");
    y = run_one(make_node("Softmax", 1, 1), 13, {&*x16});
    EXPECT_EQ(y.dtype(), DType::kFloat16);
    EXPECT_EQ(y.shape(), x32.shape());
    double row = 0;
    for (int k = 0; k < 4; ++k) row += values(y)[k];
    EXPECT_NEAR(row, 1.0, 2e-3);
    std::vector<Tensor> outs;
    const Tensor k = int64s({2}, {1});
    ASSERT_TRUE(run_node(make_node("TopK", 2, 2), 11, {&*x16, &k}, outs).is_ok());
    EXPECT_EQ(outs[0].dtype(), DType::kFloat16);
    EXPECT_EQ(outs[1].dtype(), DType::kInt64);
}

// ---- ArgMax / ArgMin ----

TEST(ReduceOps, ArgMaxArgMinAxesKeepdims) {
    const Tensor x = random_tensor({3, 4, 5});
    const auto xv = values(x);
    for (const char* op : {"ArgMax", "ArgMin"}) {
        const bool is_max = std::string(op) == "ArgMax";
        for (int64_t axis : {0, 1, 2, -1}) {
            for (int keep = 0; keep <= 1; ++keep) {
                const Tensor y =
                    run_one(make_node(op, 1, 1, {{"axis", attr_i(axis)}, {"keepdims", attr_i(keep)}}), 13, {&x});
                EXPECT_EQ(y.dtype(), DType::kInt64);
                EXPECT_EQ(y.shape(), expected_reduce_shape(x.shape(), {axis}, keep));
                // Reference: lists of (value, index along the axis) per output element.
                const int a = static_cast<int>(axis < 0 ? axis + 3 : axis);
                std::vector<int64_t> want((y.numel()), -1);
                std::vector<double> best(want.size());
                for (int64_t i = 0; i < x.numel(); ++i) {
                    auto idx = unravel(i, x.shape());
                    const int64_t along = idx[a];
                    idx[a] = 0;
                    int64_t o = 0;
                    for (int d = 0; d < 3; ++d) o = o * (d == a ? 1 : x.dim(d)) + idx[d];
                    const double v = xv[i];
                    auto& w = want[o];
                    if (w < 0 || (is_max ? v > best[o] : v < best[o])) {
                        w = along;
                        best[o] = v;
                    }
                }
                EXPECT_EQ(std::vector<int64_t>(y.data<int64_t>(), y.data<int64_t>() + y.numel()), want)
                    << op << " axis " << axis;
            }
        }
    }
}

TEST(ReduceOps, ArgMaxSelectLastIndexOnTies) {
    const Tensor x = floats({2, 5, 5, 1, -3, 7, -3, 7, -3, 0}, {2, 5});
    Tensor y = run_one(make_node("ArgMax", 1, 1, {{"axis", attr_i(1)}, {"keepdims", attr_i(0)}}), 13, {&x});
    EXPECT_EQ(values(y), (std::vector<double>{1, 0}));
    y = run_one(
        make_node("ArgMax", 1, 1, {{"axis", attr_i(1)}, {"keepdims", attr_i(0)}, {"select_last_index", attr_i(1)}}), 13,
        {&x});
    EXPECT_EQ(values(y), (std::vector<double>{2, 2}));
    y = run_one(make_node("ArgMin", 1, 1, {{"axis", attr_i(1)}, {"select_last_index", attr_i(1)}}), 13, {&x});
    EXPECT_EQ(y.shape(), (Shape{2, 1}));
    EXPECT_EQ(values(y), (std::vector<double>{4, 3}));
    y = run_one(make_node("ArgMin", 1, 1, {{"axis", attr_i(1)}}), 13, {&x});
    EXPECT_EQ(values(y), (std::vector<double>{4, 1}));
}

// ---- Softmax / LogSoftmax / Hardmax ----

// Normalizes groups of elements: group_of(flat index) names the group, fn maps a group's values to outputs.
std::vector<double> reference_grouped(const Tensor& x,
                                      const std::function<int64_t(const std::vector<int64_t>&)>& group_of,
                                      const std::function<std::vector<double>(const std::vector<double>&)>& fn) {
    const auto xv = values(x);
    std::map<int64_t, std::vector<int64_t>> groups;
    for (int64_t i = 0; i < x.numel(); ++i) groups[group_of(unravel(i, x.shape()))].push_back(i);
    std::vector<double> out(xv.size());
    for (const auto& [g, members] : groups) {
        std::vector<double> v;
        for (int64_t i : members) v.push_back(xv[i]);
        const auto r = fn(v);
        for (size_t k = 0; k < members.size(); ++k) out[members[k]] = r[k];
    }
    return out;
}

std::vector<double> softmax_ref(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += std::exp(x);
    std::vector<double> r;
    for (double x : v) r.push_back(std::exp(x) / s);
    return r;
}
std::vector<double> log_softmax_ref(const std::vector<double>& v) {
    const double m = *std::max_element(v.begin(), v.end());
    double s = 0;
    for (double x : v) s += std::exp(x - m);
    std::vector<double> r;
    for (double x : v) r.push_back(x - m - std::log(s));
    return r;
}
std::vector<double> hardmax_ref(const std::vector<double>& v) {
    std::vector<double> r(v.size(), 0.0);
    r[std::max_element(v.begin(), v.end()) - v.begin()] = 1.0;
    return r;
}

TEST(ReduceOps, SoftmaxFamilyOpset11CoercesTo2dOpset13UsesOneAxis) {
    const Tensor x = random_tensor({2, 3, 4});
    using VecFn = std::vector<double> (*)(const std::vector<double>&);
    const std::vector<std::pair<const char*, VecFn>> ops = {
        {"Softmax", softmax_ref}, {"LogSoftmax", log_softmax_ref}, {"Hardmax", hardmax_ref}};
    for (const auto& [op, fn] : ops) {
        for (int64_t axis : {0, 1, 2, -1}) {
            const int a = static_cast<int>(axis < 0 ? axis + 3 : axis);
            // Opset 11: one group per index of the leading dims [0, a).
            auto coerced = [a](const std::vector<int64_t>& idx) {
                int64_t g = 0;
                for (int d = 0; d < a; ++d) g = g * 10 + idx[d];
                return g;
            };
            // Opset 13: one group per index of all dims but a.
            auto single = [a](const std::vector<int64_t>& idx) {
                int64_t g = 0;
                for (int d = 0; d < 3; ++d) g = g * 10 + (d == a ? 0 : idx[d]);
                return g;
            };
            const std::string what = std::string(op) + " axis " + std::to_string(axis);
            Tensor y = run_one(make_node(op, 1, 1, {{"axis", attr_i(axis)}}), 11, {&x});
            expect_near_all(values(y), reference_grouped(x, coerced, fn), 1e-5, what + " opset 11");
            y = run_one(make_node(op, 1, 1, {{"axis", attr_i(axis)}}), 13, {&x});
            expect_near_all(values(y), reference_grouped(x, single, fn), 1e-5, what + " opset 13");
        }
        // Defaults: axis 1 (coerced) before 13, axis -1 from 13; they differ on a 3-D input.
        Tensor y11 = run_one(make_node(op, 1, 1), 11, {&x});
        expect_near_all(values(y11),
                        reference_grouped(
                            x, [](const std::vector<int64_t>& i) { return i[0]; }, fn),
                        1e-5, std::string(op) + " default opset 11");
        Tensor y13 = run_one(make_node(op, 1, 1), 13, {&x});
        expect_near_all(values(y13),
                        reference_grouped(
                            x, [](const std::vector<int64_t>& i) { return i[0] * 10 + i[1]; }, fn),
                        1e-5, std::string(op) + " default opset 13");
    }
}

TEST(ReduceOps, SoftmaxLargeValuesAndHardmaxTies) {
    const Tensor x = floats({1000, 1001, 1002, -1000}, {1, 4});
    const Tensor y = run_one(make_node("Softmax", 1, 1), 13, {&x});
    const std::vector<double> shifted = {0, 1, 2, -2000};
    expect_near_all(values(y), softmax_ref(shifted), 1e-6, "softmax large");
    const Tensor ly = run_one(make_node("LogSoftmax", 1, 1), 13, {&x});
    expect_near_all(values(ly), log_softmax_ref({0, 1, 2, -2000}), 1e-5, "log softmax large");
    const Tensor t = floats({3, 7, 7, 1}, {1, 4});
    EXPECT_EQ(values(run_one(make_node("Hardmax", 1, 1), 13, {&t})), (std::vector<double>{0, 1, 0, 0}));
}

// ---- TopK ----

// Reference: stable sort of (value, index) along the axis, the lower index first on ties.
void check_top_k(const Tensor& x, int64_t k, int64_t axis, bool largest, int64_t opset) {
    const int rank = x.rank();
    const int a = static_cast<int>(axis < 0 ? axis + rank : axis);
    std::map<std::string, ir::Attribute> attrs = {{"axis", attr_i(axis)}};
    if (opset >= 11) attrs["largest"] = attr_i(largest ? 1 : 0);
    const Tensor k_t = int64s({k}, {1});
    std::vector<Tensor> outs;
    Status s;
    if (opset < 10) {
        attrs["k"] = attr_i(k);
        s = run_node(make_node("TopK", 1, 2, attrs), opset, {&x}, outs);
    } else {
        s = run_node(make_node("TopK", 2, 2, attrs), opset, {&x, &k_t}, outs);
    }
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    Shape out_shape = x.shape();
    out_shape[a] = k;
    ASSERT_EQ(outs[0].shape(), out_shape);
    ASSERT_EQ(outs[1].shape(), out_shape);
    ASSERT_EQ(outs[1].dtype(), DType::kInt64);
    const auto xv = values(x), yv = values(outs[0]);
    const int64_t* yi = outs[1].data<int64_t>();
    const auto strides = ir::shape_strides(x.shape());
    const auto out_strides = ir::shape_strides(out_shape);
    for (int64_t o = 0; o < outs[0].numel(); ++o) {
        auto idx = unravel(o, out_shape);
        if (idx[a] != 0) continue;
        int64_t base = 0;
        for (int d = 0; d < rank; ++d) base += idx[d] * strides[d];
        std::vector<std::pair<double, int64_t>> row;
        for (int64_t j = 0; j < x.dim(a); ++j) row.push_back({xv[base + j * strides[static_cast<size_t>(a)]], j});
        std::stable_sort(row.begin(), row.end(), [largest](const auto& p, const auto& q) {
            return largest ? p.first > q.first : p.first < q.first;
        });
        for (int64_t j = 0; j < k; ++j) {
            const int64_t at = o + j * out_strides[a];
            EXPECT_EQ(yv[at], row[j].first) << "k " << k << " axis " << axis;
            EXPECT_EQ(yi[at], row[j].second) << "k " << k << " axis " << axis;
        }
    }
}

TEST(ReduceOps, TopKRandomAxesLargestSmallestAndKEqualsN) {
    const Tensor x = random_tensor({3, 4, 5});
    for (int64_t axis : {0, 1, 2, -1}) {
        const int64_t n = x.dim(static_cast<int>(axis < 0 ? axis + 3 : axis));
        for (int64_t k : {int64_t(1), int64_t(2), n}) {
            check_top_k(x, k, axis, true, 11);
            check_top_k(x, k, axis, false, 11);
        }
    }
    check_top_k(x, 3, 1, true, 1);    // k as an attribute
    check_top_k(x, 3, -1, true, 10);  // k as an input, no `largest` yet
}

TEST(ReduceOps, TopKTiesKeepTheLowerIndexFirst) {
    const Tensor x = floats({5, 1, 5, 3, 5, 1}, {1, 6});
    const Tensor k = int64s({6}, {1});
    std::vector<Tensor> outs;
    ASSERT_TRUE(run_node(make_node("TopK", 2, 2), 11, {&x, &k}, outs).is_ok());
    EXPECT_EQ(values(outs[0]), (std::vector<double>{5, 5, 5, 3, 1, 1}));
    EXPECT_EQ(values(outs[1]), (std::vector<double>{0, 2, 4, 3, 1, 5}));
    ASSERT_TRUE(run_node(make_node("TopK", 2, 2, {{"largest", attr_i(0)}}), 11, {&x, &k}, outs).is_ok());
    EXPECT_EQ(values(outs[0]), (std::vector<double>{1, 1, 3, 5, 5, 5}));
    EXPECT_EQ(values(outs[1]), (std::vector<double>{1, 5, 3, 0, 2, 4}));
    check_top_k(random_ints({4, 6}, -3, 3, DType::kInt64), 4, 1, true, 11);  // many ties among integers
    const Tensor too_big = int64s({7}, {1});
    const Status s = run_node(make_node("TopK", 2, 2), 11, {&x, &too_big}, outs);
    EXPECT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("test_TopK"), std::string::npos) << s.message();
}

// ---- CumSum ----

TEST(ReduceOps, CumSumExclusiveReverseAxes) {
    const Tensor x = random_tensor({3, 4});
    const auto xv = values(x);
    for (int64_t axis : {0, 1, -1}) {
        const int a = static_cast<int>(axis < 0 ? axis + 2 : axis);
        for (int exclusive = 0; exclusive <= 1; ++exclusive) {
            for (int reverse = 0; reverse <= 1; ++reverse) {
                std::vector<double> want(xv.size());
                for (int64_t i = 0; i < x.numel(); ++i) {
                    const auto idx = unravel(i, x.shape());
                    double s = 0;
                    for (int64_t j = 0; j < x.dim(a); ++j) {
                        const int64_t me = idx[a];
                        const bool take = reverse ? (exclusive ? j > me : j >= me) : (exclusive ? j < me : j <= me);
                        auto jdx = idx;
                        jdx[a] = j;
                        if (take) s += xv[jdx[0] * x.dim(1) + jdx[1]];
                    }
                    want[i] = s;
                }
                const Tensor axis_t = int64s({axis}, {});
                const Tensor y =
                    run_one(make_node("CumSum", 2, 1, {{"exclusive", attr_i(exclusive)}, {"reverse", attr_i(reverse)}}),
                            14, {&x, &axis_t});
                expect_near_all(values(y), want, 1e-5,
                                "axis " + std::to_string(axis) + " exclusive " + std::to_string(exclusive) +
                                    " reverse " + std::to_string(reverse));
            }
        }
    }
    Tensor xi(DType::kInt32, {5});
    for (int i = 0; i < 5; ++i) xi.data<int32_t>()[i] = i + 1;
    Tensor axis32(DType::kInt32, {1});
    const Tensor y =
        run_one(make_node("CumSum", 2, 1, {{"exclusive", attr_i(1)}, {"reverse", attr_i(1)}}), 11, {&xi, &axis32});
    EXPECT_EQ(y.dtype(), DType::kInt32);
    EXPECT_EQ(values(y), (std::vector<double>{14, 12, 9, 5, 0}));
}

// ---- Einsum ----

Tensor run_einsum(const std::string& eq, const std::vector<const Tensor*>& in) {
    return run_one(make_node("Einsum", in.size(), 1, {{"equation", attr_s(eq)}}), 12, in);
}

TEST(ReduceOps, EinsumMatmulBatchDiagonalTraceTransposeDot) {
    const Tensor a = random_tensor({3, 4}), b = random_tensor({4, 5});
    const auto av = values(a), bv = values(b);
    std::vector<double> want(15, 0.0);
    for (int i = 0; i < 3; ++i)
        for (int k = 0; k < 5; ++k)
            for (int j = 0; j < 4; ++j) want[i * 5 + k] += av[i * 4 + j] * bv[j * 5 + k];
    Tensor y = run_einsum("ij,jk->ik", {&a, &b});
    EXPECT_EQ(y.shape(), (Shape{3, 5}));
    expect_near_all(values(y), want, 1e-5, "ij,jk->ik");
    y = run_einsum("ij,jk", {&a, &b});  // implicit output: ik
    expect_near_all(values(y), want, 1e-5, "ij,jk");

    const Tensor ba = random_tensor({2, 3, 4}), bb = random_tensor({2, 4, 5});
    const auto bav = values(ba), bbv = values(bb);
    std::vector<double> bwant(30, 0.0);
    for (int n = 0; n < 2; ++n)
        for (int i = 0; i < 3; ++i)
            for (int k = 0; k < 5; ++k)
                for (int j = 0; j < 4; ++j)
                    bwant[(n * 3 + i) * 5 + k] += bav[(n * 3 + i) * 4 + j] * bbv[(n * 4 + j) * 5 + k];
    y = run_einsum("bij,bjk->bik", {&ba, &bb});
    EXPECT_EQ(y.shape(), (Shape{2, 3, 5}));
    expect_near_all(values(y), bwant, 1e-5, "bij,bjk->bik");
    y = run_einsum("...ij,...jk->...ik", {&ba, &bb});
    expect_near_all(values(y), bwant, 1e-5, "...ij,...jk->...ik");

    const Tensor sq = random_tensor({4, 4});
    const auto sv = values(sq);
    y = run_einsum("ii->i", {&sq});
    EXPECT_EQ(y.shape(), (Shape{4}));
    expect_near_all(values(y), {sv[0], sv[5], sv[10], sv[15]}, 1e-6, "ii->i");
    y = run_einsum("ii", {&sq});
    EXPECT_EQ(y.shape(), Shape{});
    expect_near_all(values(y), {sv[0] + sv[5] + sv[10] + sv[15]}, 1e-5, "ii");

    const Tensor t = random_tensor({2, 3, 4});
    const auto tv = values(t);
    std::vector<double> twant;
    for (int n = 0; n < 2; ++n)
        for (int j = 0; j < 4; ++j)
            for (int i = 0; i < 3; ++i) twant.push_back(tv[(n * 3 + i) * 4 + j]);
    y = run_einsum("...ij->...ji", {&t});
    EXPECT_EQ(y.shape(), (Shape{2, 4, 3}));
    expect_near_all(values(y), twant, 0, "...ij->...ji");

    const Tensor u = random_tensor({6}), v = random_tensor({6});
    double dot = 0;
    for (int i = 0; i < 6; ++i) dot += values(u)[i] * values(v)[i];
    y = run_einsum("i,i", {&u, &v});
    EXPECT_EQ(y.shape(), Shape{});
    expect_near_all(values(y), {dot}, 1e-5, "i,i");
    // Three operands and an outer product.
    y = run_einsum("i,j->ij", {&u, &v});
    EXPECT_EQ(y.shape(), (Shape{6, 6}));
    EXPECT_NEAR(values(y)[2 * 6 + 3], values(u)[2] * values(v)[3], 1e-6);
    y = run_einsum("i,i,i->", {&u, &v, &u});
    double tri = 0;
    for (int i = 0; i < 6; ++i) tri += values(u)[i] * values(u)[i] * values(v)[i];
    expect_near_all(values(y), {tri}, 1e-5, "i,i,i->");
}

TEST(ReduceOps, EinsumEllipsisBroadcastAndErrors) {
    const Tensor a = random_tensor({2, 1, 3, 4}), b = random_tensor({5, 4, 2});
    const Tensor y = run_einsum("...ij,...jk->...ik", {&a, &b});
    ASSERT_EQ(y.shape(), (Shape{2, 5, 3, 2}));
    const auto av = values(a), bv = values(b), yv = values(y);
    for (int n = 0; n < 2; ++n)
        for (int m = 0; m < 5; ++m)
            for (int i = 0; i < 3; ++i)
                for (int k = 0; k < 2; ++k) {
                    double s = 0;
                    for (int j = 0; j < 4; ++j) s += av[(n * 3 + i) * 4 + j] * bv[(m * 4 + j) * 2 + k];
                    EXPECT_NEAR(yv[((n * 5 + m) * 3 + i) * 2 + k], s, 1e-5);
                }
    std::vector<Tensor> outs;
    const Tensor c = random_tensor({3, 5});
    Status s = run_node(make_node("Einsum", 2, 1, {{"equation", attr_s("ij,jk->ik")}}), 12, {&c, &c}, outs);
    EXPECT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("test_Einsum"), std::string::npos) << s.message();
    s = run_node(make_node("Einsum", 1, 1, {{"equation", attr_s("ijk->i")}}), 12, {&c}, outs);
    EXPECT_FALSE(s.is_ok());
}

// ---- Losses ----

struct LossRef {
    std::vector<double> per_element;  // (N, D)
    double sum = 0;
    double weight_sum = 0;
};

// logp (N, C, D) flat; targets (N, D).
LossRef nll_ref(const std::vector<double>& logp, int64_t n, int64_t c, int64_t d, const std::vector<int64_t>& target,
                const std::vector<double>* weight, const int64_t* ignore_index) {
    LossRef r;
    for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < d; ++j) {
            const int64_t t = target[i * d + j];
            double l = 0, w = 0;
            if (!ignore_index || t != *ignore_index) {
                w = weight ? (*weight)[t] : 1.0;
                l = -logp[(i * c + t) * d + j] * w;
            }
            r.per_element.push_back(l);
            r.sum += l;
            r.weight_sum += w;
        }
    }
    return r;
}

TEST(ReduceOps, LossesReductionsWeightsIgnoreIndexNd) {
    const int64_t n = 3, c = 4, d1 = 2, d2 = 3, d = d1 * d2;
    const Tensor x = random_tensor({n, c, d1, d2});
    const Tensor w = random_tensor({c}, true);
    Tensor target(DType::kInt64, {n, d1, d2});
    std::uniform_int_distribution<int64_t> cls(0, c - 1);
    for (int64_t i = 0; i < target.numel(); ++i) target.data<int64_t>()[i] = cls(rng());
    const int64_t ii = target.data<int64_t>()[1];  // a class that occurs, so ignoring it matters
    const auto xv = values(x);
    std::vector<double> logp(xv.size());
    for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < d; ++j) {
            double s = 0;
            for (int64_t k = 0; k < c; ++k) s += std::exp(xv[(i * c + k) * d + j]);
            for (int64_t k = 0; k < c; ++k) {
                logp[(i * c + k) * d + j] = xv[(i * c + k) * d + j] - std::log(s);
            }
        }
    }
    const std::vector<int64_t> tv(target.data<int64_t>(), target.data<int64_t>() + target.numel());
    const std::vector<double> wv = values(w);
    int checked = 0;
    for (const char* op : {"NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"}) {
        const bool sce = std::string(op) == "SoftmaxCrossEntropyLoss";
        const std::vector<double>& lp = sce ? logp : xv;
        for (const char* red : {"none", "sum", "mean"}) {
            for (bool use_w : {false, true}) {
                for (bool use_ii : {false, true}) {
                    std::map<std::string, ir::Attribute> attrs = {{"reduction", attr_s(red)}};
                    if (use_ii) attrs["ignore_index"] = attr_i(ii);
                    const LossRef r = nll_ref(lp, n, c, d, tv, use_w ? &wv : nullptr, use_ii ? &ii : nullptr);
                    std::vector<Tensor> outs;
                    const Status s =
                        run_node(make_node(op, 3, sce ? 2 : 1, attrs), 13, {&x, &target, use_w ? &w : nullptr}, outs);
                    ASSERT_TRUE(s.is_ok()) << s.to_string();
                    const std::string what =
                        std::string(op) + " " + red + (use_w ? " weight" : "") + (use_ii ? " ii" : "");
                    if (std::string(red) == "none") {
                        EXPECT_EQ(outs[0].shape(), target.shape()) << what;
                        expect_near_all(values(outs[0]), r.per_element, 1e-5, what);
                    } else {
                        EXPECT_EQ(outs[0].shape(), Shape{}) << what;
                        const double want = std::string(red) == "sum" ? r.sum : r.sum / r.weight_sum;
                        expect_near_all(values(outs[0]), {want}, 1e-5, what);
                    }
                    if (sce) {
                        EXPECT_EQ(outs[1].shape(), x.shape());
                        expect_near_all(values(outs[1]), logp, 1e-5, what + " log_prob");
                    }
                    ++checked;
                }
            }
        }
    }
    EXPECT_EQ(checked, 24);
}

TEST(ReduceOps, LossTwoDimensionalInputAndBadTarget) {
    const Tensor x = random_tensor({4, 3});
    const Tensor target = int64s({2, 0, 1, 2}, {4});
    const auto xv = values(x);
    const Tensor y = run_one(make_node("NegativeLogLikelihoodLoss", 2, 1), 13, {&x, &target});
    const double want = -(xv[2] + xv[3] + xv[7] + xv[11]) / 4.0;
    expect_near_all(values(y), {want}, 1e-6, "NC mean");
    const Tensor bad = int64s({2, 0, 3, 2}, {4});
    std::vector<Tensor> outs;
    const Status s = run_node(make_node("NegativeLogLikelihoodLoss", 2, 1), 13, {&x, &bad}, outs);
    EXPECT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("test_NegativeLogLikelihoodLoss"), std::string::npos) << s.message();
}

// ---- Det ----

double det_laplace(const std::vector<double>& m, int64_t n) {
    if (n == 1) return m[0];
    double det = 0;
    for (int64_t col = 0; col < n; ++col) {
        std::vector<double> minor;
        for (int64_t r = 1; r < n; ++r)
            for (int64_t k = 0; k < n; ++k)
                if (k != col) minor.push_back(m[r * n + k]);
        det += (col % 2 ? -1.0 : 1.0) * m[col] * det_laplace(minor, n - 1);
    }
    return det;
}

TEST(ReduceOps, DetBatchedAgainstCofactorExpansion) {
    const Tensor x = random_tensor({2, 3, 4, 4});
    const Tensor y = run_one(make_node("Det", 1, 1), 11, {&x});
    ASSERT_EQ(y.shape(), (Shape{2, 3}));
    const auto xv = values(x);
    for (int b = 0; b < 6; ++b) {
        const std::vector<double> m(xv.begin() + b * 16, xv.begin() + (b + 1) * 16);
        EXPECT_NEAR(values(y)[b], det_laplace(m, 4), 1e-4 * std::max(1.0, std::fabs(det_laplace(m, 4))));
    }
    const Tensor singular = floats({1, 2, 2, 4}, {2, 2});
    EXPECT_EQ(values(run_one(make_node("Det", 1, 1), 11, {&singular}))[0], 0.0);
    const Tensor swap = floats({0, 1, 1, 0}, {2, 2});
    EXPECT_EQ(values(run_one(make_node("Det", 1, 1), 11, {&swap}))[0], -1.0);
}

}  // namespace
}  // namespace rtinfer
