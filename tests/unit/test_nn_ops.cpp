// The nn reference kernels against direct double-precision implementations written here (7-loop
// convolution, scatter-form transposed convolution, window-by-window pooling, ...) on random non-zero data,
// plus hand-computed cases for pooling edge rules and the errors' wording.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/ir/op.h"
#include "core/kernels/ref/ref_backend.h"

namespace {

using rtinfer::Status;
using rtinfer::ir::Attribute;
using rtinfer::ir::DType;
using rtinfer::ir::Node;
using rtinfer::ir::Shape;
using rtinfer::ir::Tensor;
using Attrs = std::map<std::string, Attribute>;
using Ints = std::vector<int64_t>;
using Doubles = std::vector<double>;

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

struct Rng {
    uint64_t state = 0x9e3779b97f4a7c15ull;
    double uniform() {  // [0, 1)
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<double>(state >> 11) / 9007199254740992.0;
    }
    // Non-zero: magnitude in [0.1, 1], random sign.
    double nonzero() { return (uniform() < 0.5 ? -1.0 : 1.0) * (0.1 + 0.9 * uniform()); }
    int64_t below(int64_t n) { return static_cast<int64_t>(uniform() * static_cast<double>(n)); }
};

Tensor random_tensor(const Shape& shape, Rng& rng, DType dtype = DType::kFloat32) {
    Tensor t(dtype, shape);
    for (int64_t i = 0; i < t.numel(); ++i) {
        const double v = rng.nonzero();
        switch (dtype) {
            case DType::kFloat32:
                t.data<float>()[i] = static_cast<float>(v);
                break;
            case DType::kFloat64:
                t.data<double>()[i] = v;
                break;
            case DType::kInt8:
                t.data<int8_t>()[i] = static_cast<int8_t>(rng.below(255) - 127);
                break;
            case DType::kUInt8:
                t.data<uint8_t>()[i] = static_cast<uint8_t>(rng.below(256));
                break;
            case DType::kInt32:
                t.data<int32_t>()[i] = static_cast<int32_t>(rng.below(19) - 9);
                break;
            case DType::kInt64:
                t.data<int64_t>()[i] = rng.below(19) - 9;
                break;
            default:
                break;
        }
    }
    return t;
}

Tensor scalar_of(DType dtype, double v) {
    Tensor t(dtype, {});
    switch (dtype) {
        case DType::kFloat32:
            t.data<float>()[0] = static_cast<float>(v);
            break;
        case DType::kInt8:
            t.data<int8_t>()[0] = static_cast<int8_t>(v);
            break;
        case DType::kUInt8:
            t.data<uint8_t>()[0] = static_cast<uint8_t>(v);
            break;
        default:
            break;
    }
    return t;
}

Node make_node(const std::string& op, size_t inputs, size_t outputs, Attrs attrs = {}) {
    Node n;
    n.name = "n_" + op;
    n.op_type = op;
    for (size_t i = 0; i < inputs; ++i) n.inputs.push_back("in" + std::to_string(i));
    for (size_t i = 0; i < outputs; ++i) n.outputs.push_back("out" + std::to_string(i));
    n.attrs = std::move(attrs);
    return n;
}

Status run(const Node& node, const std::vector<const Tensor*>& inputs, std::vector<Tensor>& outputs,
           int64_t opset = 17) {
    const rtinfer::ir::OpKernel* kernel = rtinfer::ref::reference_registry().find("", node.op_type);
    if (!kernel) return Status(rtinfer::StatusCode::kNotFound, "no kernel for " + node.op_type);
    return rtinfer::ref::evaluate_node(*kernel, node, opset, inputs, outputs);
}

// Runs a node that must succeed and returns its outputs.
std::vector<Tensor> run_ok(const Node& node, const std::vector<const Tensor*>& inputs, int64_t opset = 17) {
    std::vector<Tensor> outputs;
    const Status s = run(node, inputs, outputs, opset);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return outputs;
}

double rel_l2(const Tensor& got, const Doubles& want) {
    const Doubles g = rtinfer::ir::to_doubles(got);
    if (g.size() != want.size()) return std::numeric_limits<double>::infinity();
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < g.size(); ++i) {
        num += (g[i] - want[i]) * (g[i] - want[i]);
        den += want[i] * want[i];
    }
    return std::sqrt(num / std::max(den, 1e-30));
}

// ---- direct references, over 1-3 spatial dims seen as 3-D with leading unit dims ----

struct Geo {
    int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1};
    int64_t pb[3] = {0, 0, 0}, pe[3] = {0, 0, 0};
    int rank = 0;
    Shape out_dims() const { return Shape(out + 3 - rank, out + 3); }
};

// The spec's output-size rules for Conv and pooling, written with floating-point floor/ceil.
Geo conv_geo(const Ints& in, const Ints& k, Ints s, Ints d, Ints pads, const std::string& auto_pad = "NOTSET",
             bool ceil_mode = false) {
    const size_t r = in.size();
    if (s.empty()) s.assign(r, 1);
    if (d.empty()) d.assign(r, 1);
    if (pads.empty()) pads.assign(2 * r, 0);
    Geo g;
    g.rank = static_cast<int>(r);
    for (size_t i = 0; i < r; ++i) {
        const size_t j = 3 - r + i;
        g.in[j] = in[i];
        g.k[j] = k[i];
        g.s[j] = s[i];
        g.d[j] = d[i];
        const double eff = static_cast<double>((k[i] - 1) * d[i] + 1);
        if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
            g.out[j] = static_cast<int64_t>(std::ceil(static_cast<double>(in[i]) / s[i]));
            const int64_t total = std::max<int64_t>(0, (g.out[j] - 1) * s[i] + static_cast<int64_t>(eff) - in[i]);
            g.pb[j] = auto_pad == "SAME_UPPER" ? total / 2 : (total + 1) / 2;
            g.pe[j] = total - g.pb[j];
        } else if (auto_pad == "VALID") {
            g.out[j] = static_cast<int64_t>(std::ceil((in[i] - eff + 1) / s[i]));
        } else {
            g.pb[j] = pads[i];
            g.pe[j] = pads[r + i];
            const double v = (in[i] + pads[i] + pads[r + i] - eff) / s[i] + 1;
            g.out[j] = static_cast<int64_t>(ceil_mode ? std::ceil(v) : std::floor(v));
            if (ceil_mode && (g.out[j] - 1) * s[i] >= in[i] + pads[i]) --g.out[j];
        }
    }
    return g;
}

// y[n, m, o] = b[m] + sum over (c in m's group, taps) x[n, c, o * s - pb + k * d] * w[m, c, k].
Doubles conv_ref(const Tensor& x, const Tensor& w, const Tensor* b, int64_t group, const Geo& g) {
    const Doubles xv = rtinfer::ir::to_doubles(x), wv = rtinfer::ir::to_doubles(w);
    const Doubles bv = b ? rtinfer::ir::to_doubles(*b) : Doubles();
    const int64_t n_ = x.dim(0), c_ = x.dim(1), m_ = w.dim(0), cg = c_ / group, mg = m_ / group;
    Doubles y;
    for (int64_t n = 0; n < n_; ++n)
        for (int64_t m = 0; m < m_; ++m)
            for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
                for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
                    for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
                        double acc = bv.empty() ? 0.0 : bv[m];
                        for (int64_t c = 0; c < cg; ++c)
                            for (int64_t k0 = 0; k0 < g.k[0]; ++k0)
                                for (int64_t k1 = 0; k1 < g.k[1]; ++k1)
                                    for (int64_t k2 = 0; k2 < g.k[2]; ++k2) {
                                        const int64_t i0 = o0 * g.s[0] - g.pb[0] + k0 * g.d[0];
                                        const int64_t i1 = o1 * g.s[1] - g.pb[1] + k1 * g.d[1];
                                        const int64_t i2 = o2 * g.s[2] - g.pb[2] + k2 * g.d[2];
                                        if (i0 < 0 || i0 >= g.in[0] || i1 < 0 || i1 >= g.in[1] || i2 < 0 ||
                                            i2 >= g.in[2]) {
                                            continue;
                                        }
                                        const int64_t ci = (m / mg) * cg + c;
                                        acc += xv[(((n * c_ + ci) * g.in[0] + i0) * g.in[1] + i1) * g.in[2] + i2] *
                                               wv[(((m * cg + c) * g.k[0] + k0) * g.k[1] + k1) * g.k[2] + k2];
                                    }
                        y.push_back(acc);
                    }
    return y;
}

Shape concat(Shape a, const Shape& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

struct ConvCase {
    Shape x, w;
    Ints strides, dilations, pads;
    int64_t group = 1;
    std::string auto_pad = "NOTSET";
    bool bias = false;
    DType dtype = DType::kFloat32;
};

void check_conv(const ConvCase& c, Rng& rng) {
    Attrs attrs = {{"group", attr_i(c.group)}};
    if (!c.strides.empty()) attrs["strides"] = attr_ints(c.strides);
    if (!c.dilations.empty()) attrs["dilations"] = attr_ints(c.dilations);
    if (!c.pads.empty()) attrs["pads"] = attr_ints(c.pads);
    if (c.auto_pad != "NOTSET") attrs["auto_pad"] = attr_s(c.auto_pad);
    const Tensor x = random_tensor(c.x, rng, c.dtype), w = random_tensor(c.w, rng, c.dtype);
    const Tensor b = random_tensor({c.w[0]}, rng, c.dtype);
    const Node node = make_node("Conv", c.bias ? 3 : 2, 1, attrs);
    const auto out = run_ok(node, c.bias ? std::vector<const Tensor*>{&x, &w, &b} : std::vector<const Tensor*>{&x, &w});
    ASSERT_EQ(out.size(), 1u);
    const Geo g = conv_geo(Ints(c.x.begin() + 2, c.x.end()), Ints(c.w.begin() + 2, c.w.end()), c.strides, c.dilations,
                           c.pads, c.auto_pad);
    EXPECT_EQ(out[0].shape(), concat({c.x[0], c.w[0]}, g.out_dims()));
    EXPECT_EQ(out[0].dtype(), c.dtype);
    EXPECT_LE(rel_l2(out[0], conv_ref(x, w, c.bias ? &b : nullptr, c.group, g)), 1e-5) << rtinfer::ir::shape_str(c.x);
}

TEST(NnConv, MatchesDirectConvolution2D) {
    Rng rng;
    check_conv({{2, 3, 9, 11}, {4, 3, 3, 3}, {}, {}, {1, 1, 1, 1}, 1, "NOTSET", true}, rng);
    check_conv({{1, 3, 12, 10}, {5, 3, 3, 2}, {2, 3}, {2, 1}, {1, 0, 2, 1}}, rng);
    check_conv({{3, 8, 7, 7}, {16, 8, 1, 1}, {}, {}, {}, 1, "NOTSET", true}, rng);  // pointwise: no im2col
    check_conv({{2, 4, 8, 8}, {6, 4, 1, 1}, {2, 2}, {}, {}}, rng);                  // strided 1x1
    check_conv({{2, 3, 9, 11}, {4, 3, 3, 3}, {}, {}, {1, 1, 1, 1}, 1, "NOTSET", true, DType::kFloat64}, rng);
}

TEST(NnConv, GroupsAndDepthwise) {
    Rng rng;
    check_conv({{2, 4, 7, 9}, {6, 2, 3, 2}, {1, 2}, {}, {1, 1, 0, 1}, 2, "NOTSET", true}, rng);
    check_conv({{2, 5, 10, 10}, {5, 1, 3, 3}, {2, 2}, {}, {1, 1, 1, 1}, 5, "NOTSET", true}, rng);  // depthwise
    check_conv({{1, 6, 8, 8}, {12, 2, 3, 3}, {}, {2, 2}, {2, 2, 2, 2}, 3}, rng);
}

TEST(NnConv, AutoPad) {
    Rng rng;
    for (const char* mode : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
        check_conv({{2, 3, 9, 10}, {4, 3, 4, 3}, {2, 3}, {}, {}, 1, mode, true}, rng);
        check_conv({{1, 2, 11, 7}, {3, 2, 3, 2}, {2, 1}, {2, 1}, {}, 1, mode}, rng);
    }
}

TEST(NnConv, OneAndThreeSpatialDims) {
    Rng rng;
    check_conv({{2, 3, 17}, {4, 3, 5}, {3}, {2}, {2, 1}, 1, "NOTSET", true}, rng);
    check_conv({{3, 4, 12}, {4, 1, 3}, {}, {}, {1, 1}, 4}, rng);
    check_conv({{1, 2, 5, 6, 7}, {3, 2, 3, 2, 3}, {1, 2, 1}, {2, 1, 1}, {1, 0, 1, 1, 1, 0}, 1, "NOTSET", true}, rng);
    check_conv({{2, 2, 4, 5, 6}, {4, 1, 2, 3, 2}, {}, {}, {}, 2, "SAME_UPPER"}, rng);
}

TEST(NnConv, LargeImageInRowBands) {
    // The im2col matrix of this conv (144 x 65536 floats) is larger than the kernel's buffer budget, so the
    // output is computed in bands of rows; bands must join seamlessly.
    Rng rng;
    check_conv({{1, 16, 256, 256}, {4, 16, 3, 3}, {}, {}, {1, 1, 1, 1}, 1, "NOTSET", true}, rng);
    check_conv({{1, 8, 300, 200}, {2, 4, 3, 3}, {1, 2}, {2, 1}, {2, 1, 2, 1}, 2}, rng);
}

TEST(NnConv, Float16RunsThroughFloat) {
    Rng rng;
    const Tensor x32 = random_tensor({1, 2, 6, 6}, rng), w32 = random_tensor({3, 2, 3, 3}, rng);
    auto x16 = rtinfer::ir::cast_tensor(x32, DType::kFloat16), w16 = rtinfer::ir::cast_tensor(w32, DType::kFloat16);
    ASSERT_TRUE(x16.has_value() && w16.has_value());
    const auto out = run_ok(make_node("Conv", 2, 1, {{"pads", attr_ints({1, 1, 1, 1})}}), {&*x16, &*w16});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].dtype(), DType::kFloat16);
    const Geo g = conv_geo({6, 6}, {3, 3}, {}, {}, {1, 1, 1, 1});
    EXPECT_LE(rel_l2(out[0], conv_ref(*x16, *w16, nullptr, 1, g)), 2e-3);
}

TEST(NnConv, ErrorsNameTheNode) {
    Rng rng;
    const Tensor x = random_tensor({1, 3, 5, 5}, rng), w = random_tensor({4, 2, 3, 3}, rng);
    Node node = make_node("Conv", 2, 1);
    node.name = "conv_bad";
    std::vector<Tensor> out;
    Status s = run(node, {&x, &w}, out);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("node 'conv_bad' (Conv)"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("input channels 3"), std::string::npos) << s.message();

    const Tensor w2 = random_tensor({4, 3, 3, 3}, rng), b = random_tensor({5}, rng);
    s = run(make_node("Conv", 3, 1), {&x, &w2, &b}, out);
    EXPECT_FALSE(s.is_ok());
    s = run(make_node("Conv", 2, 1, {{"auto_pad", attr_s("SAME")}}), {&x, &w2}, out);
    EXPECT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("auto_pad"), std::string::npos);
    s = run(make_node("Conv", 2, 1, {{"kernel_shape", attr_ints({2, 2})}}), {&x, &w2}, out);
    EXPECT_FALSE(s.is_ok());
    s = run(make_node("Conv", 2, 1, {{"strides", attr_ints({1})}}), {&x, &w2}, out);
    EXPECT_FALSE(s.is_ok());
}

// ---- ConvTranspose ----

struct ConvTCase {
    Shape x, w;
    Ints strides, dilations, pads, output_padding, output_shape;
    int64_t group = 1;
    std::string auto_pad = "NOTSET";
    bool bias = false;
};

void check_conv_transpose(const ConvTCase& c, Rng& rng) {
    const size_t r = c.x.size() - 2;
    Attrs attrs = {{"group", attr_i(c.group)}};
    if (!c.strides.empty()) attrs["strides"] = attr_ints(c.strides);
    if (!c.dilations.empty()) attrs["dilations"] = attr_ints(c.dilations);
    if (!c.pads.empty()) attrs["pads"] = attr_ints(c.pads);
    if (!c.output_padding.empty()) attrs["output_padding"] = attr_ints(c.output_padding);
    if (!c.output_shape.empty()) attrs["output_shape"] = attr_ints(c.output_shape);
    if (c.auto_pad != "NOTSET") attrs["auto_pad"] = attr_s(c.auto_pad);
    const Tensor x = random_tensor(c.x, rng), w = random_tensor(c.w, rng);
    const int64_t m_ = c.w[1] * c.group;
    const Tensor b = random_tensor({m_}, rng);
    const auto out = run_ok(make_node("ConvTranspose", c.bias ? 3 : 2, 1, attrs),
                            c.bias ? std::vector<const Tensor*>{&x, &w, &b} : std::vector<const Tensor*>{&x, &w});
    ASSERT_EQ(out.size(), 1u);

    // Output size and pads by the spec's formulas.
    Ints out_dims, pb(r, 0);
    for (size_t i = 0; i < r; ++i) {
        const int64_t s = c.strides.empty() ? 1 : c.strides[i], d = c.dilations.empty() ? 1 : c.dilations[i];
        const int64_t op = c.output_padding.empty() ? 0 : c.output_padding[i];
        const int64_t full = s * (c.x[i + 2] - 1) + op + (c.w[i + 2] - 1) * d + 1;
        if (!c.output_shape.empty() || c.auto_pad != "NOTSET") {
            const int64_t target = c.output_shape.empty() ? c.x[i + 2] * s : c.output_shape[i];
            const int64_t total = full - target;
            const int64_t half = static_cast<int64_t>(std::floor(total / 2.0));  // python's //, as the spec
            pb[i] = c.auto_pad == "SAME_UPPER" ? half : total - half;
            out_dims.push_back(target);
        } else {
            pb[i] = c.pads.empty() ? 0 : c.pads[i];
            out_dims.push_back(full - pb[i] - (c.pads.empty() ? 0 : c.pads[r + i]));
        }
    }
    EXPECT_EQ(out[0].shape(), concat({c.x[0], m_}, out_dims));
    const Shape ys = out[0].shape();
    const Doubles xv = rtinfer::ir::to_doubles(x), wv = rtinfer::ir::to_doubles(w), bv = rtinfer::ir::to_doubles(b);
    Geo g = conv_geo(Ints(c.x.begin() + 2, c.x.end()), Ints(c.w.begin() + 2, c.w.end()), c.strides, c.dilations, {});
    Ints od(3, 1);
    for (size_t i = 0; i < r; ++i) {
        g.pb[3 - r + i] = pb[i];
        od[3 - r + i] = out_dims[i];
    }
    const int64_t cg = c.x[1] / c.group, mg = c.w[1], osz = od[0] * od[1] * od[2];
    Doubles y(static_cast<size_t>(c.x[0] * m_ * osz), 0.0);
    for (int64_t n = 0; n < c.x[0]; ++n)
        for (int64_t ch = 0; ch < c.x[1]; ++ch)
            for (int64_t i0 = 0; i0 < g.in[0]; ++i0)
                for (int64_t i1 = 0; i1 < g.in[1]; ++i1)
                    for (int64_t i2 = 0; i2 < g.in[2]; ++i2)
                        for (int64_t m = 0; m < mg; ++m)
                            for (int64_t k0 = 0; k0 < g.k[0]; ++k0)
                                for (int64_t k1 = 0; k1 < g.k[1]; ++k1)
                                    for (int64_t k2 = 0; k2 < g.k[2]; ++k2) {
                                        const int64_t o0 = i0 * g.s[0] - g.pb[0] + k0 * g.d[0];
                                        const int64_t o1 = i1 * g.s[1] - g.pb[1] + k1 * g.d[1];
                                        const int64_t o2 = i2 * g.s[2] - g.pb[2] + k2 * g.d[2];
                                        if (o0 < 0 || o0 >= od[0] || o1 < 0 || o1 >= od[1] || o2 < 0 || o2 >= od[2]) {
                                            continue;
                                        }
                                        const int64_t mo = (ch / cg) * mg + m;
                                        y[static_cast<size_t>((n * m_ + mo) * osz + (o0 * od[1] + o1) * od[2] + o2)] +=
                                            xv[(((n * c.x[1] + ch) * g.in[0] + i0) * g.in[1] + i1) * g.in[2] + i2] *
                                            wv[(((ch * mg + m) * g.k[0] + k0) * g.k[1] + k1) * g.k[2] + k2];
                                    }
    if (c.bias) {
        for (size_t i = 0; i < y.size(); ++i) y[i] += bv[(i / static_cast<size_t>(osz)) % static_cast<size_t>(m_)];
    }
    EXPECT_LE(rel_l2(out[0], y), 1e-5) << rtinfer::ir::shape_str(ys);
}

TEST(NnConvTranspose, MatchesScatterForm) {
    Rng rng;
    check_conv_transpose({{2, 3, 4, 5}, {3, 4, 3, 3}, {2, 2}, {}, {1, 1, 1, 1}, {1, 1}, {}, 1, "NOTSET", true}, rng);
    check_conv_transpose({{1, 4, 5, 4}, {4, 3, 2, 3}, {1, 2}, {2, 2}, {0, 1, 1, 0}, {}, {}, 2}, rng);
    check_conv_transpose({{2, 3, 6}, {3, 2, 4}, {3}, {}, {1, 2}, {2}, {}, 1, "NOTSET", true}, rng);
    check_conv_transpose({{1, 2, 3, 4, 3}, {2, 2, 2, 3, 2}, {2, 1, 2}, {1, 2, 1}, {}, {}, {}, 1}, rng);
    check_conv_transpose({{2, 6, 4, 4}, {6, 1, 3, 3}, {2, 2}, {}, {1, 1, 1, 1}, {1, 1}, {}, 6}, rng);  // depthwise
}

TEST(NnConvTranspose, OutputShapeAndAutoPad) {
    Rng rng;
    check_conv_transpose({{1, 2, 3, 3}, {2, 2, 3, 3}, {3, 2}, {}, {}, {}, {10, 8}}, rng);  // larger: pads at the end
    check_conv_transpose({{1, 2, 4, 5}, {2, 3, 3, 3}, {2, 2}, {}, {}, {}, {7, 9}}, rng);
    check_conv_transpose({{1, 2, 4, 5}, {2, 3, 4, 3}, {2, 2}, {}, {}, {}, {}, 1, "SAME_UPPER", true}, rng);
    check_conv_transpose({{1, 2, 4, 5}, {2, 3, 4, 3}, {2, 2}, {}, {}, {}, {}, 1, "SAME_LOWER"}, rng);
}

TEST(NnConvTranspose, HandComputed) {
    // x = [1, 2], w = [1, 10, 100], stride 2: y = [1, 10, 102, 20, 200].
    const Tensor x = Tensor::from_floats({1, 2}, {1, 1, 2}), w = Tensor::from_floats({1, 10, 100}, {1, 1, 3});
    const auto out = run_ok(make_node("ConvTranspose", 2, 1, {{"strides", attr_ints({2})}}), {&x, &w});
    EXPECT_EQ(out[0].shape(), (Shape{1, 1, 5}));
    EXPECT_LE(rel_l2(out[0], {1, 10, 102, 20, 200}), 1e-7);
}

// ---- MatMul and Gemm ----

// numpy matmul with broadcast batch dims, written with explicit index arithmetic.
Doubles matmul_ref(const Tensor& a, const Tensor& b, Shape& out_shape) {
    Shape as = a.shape(), bs = b.shape();
    const bool a1 = as.size() == 1, b1 = bs.size() == 1;
    if (a1) as.insert(as.begin(), 1);
    if (b1) bs.push_back(1);
    const size_t rank = std::max(as.size(), bs.size());
    while (as.size() < rank) as.insert(as.begin(), 1);
    while (bs.size() < rank) bs.insert(bs.begin(), 1);
    const int64_t m = as[rank - 2], k = as[rank - 1], n = bs[rank - 1];
    Shape batch;
    for (size_t i = 0; i + 2 < rank; ++i) batch.push_back(std::max(as[i], bs[i]));
    out_shape = batch;
    if (!a1) out_shape.push_back(m);
    if (!b1) out_shape.push_back(n);
    const Doubles av = rtinfer::ir::to_doubles(a), bv = rtinfer::ir::to_doubles(b);
    int64_t batches = 1;
    for (int64_t d : batch) batches *= d;
    Doubles y;
    for (int64_t t = 0; t < batches; ++t) {
        int64_t rem = t, ao = 0, bo = 0, astride = 1, bstride = 1;
        for (size_t i = batch.size(); i-- > 0;) {
            const int64_t idx = rem % batch[i];
            rem /= batch[i];
            ao += (as[i] == 1 ? 0 : idx) * astride;
            bo += (bs[i] == 1 ? 0 : idx) * bstride;
            astride *= as[i];
            bstride *= bs[i];
        }
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
                double acc = 0.0;
                for (int64_t p = 0; p < k; ++p) acc += av[(ao * m + i) * k + p] * bv[(bo * k + p) * n + j];
                y.push_back(acc);
            }
    }
    return y;
}

TEST(NnMatMul, BroadcastingAndVectors) {
    Rng rng;
    const std::vector<std::pair<Shape, Shape>> cases = {
        {{3, 4}, {4, 5}}, {{2, 3, 4}, {4, 5}}, {{2, 1, 3, 4}, {3, 4, 6}}, {{4}, {2, 4, 3}},       {{2, 3, 4}, {4}},
        {{7}, {7}},       {{1, 5}, {3, 5, 2}}, {{3, 2, 5}, {1, 5, 4}},    {{2, 64, 48}, {48, 40}}};
    for (DType t : {DType::kFloat32, DType::kFloat64, DType::kInt32, DType::kInt64}) {
        for (const auto& c : cases) {
            const Tensor a = random_tensor(c.first, rng, t), b = random_tensor(c.second, rng, t);
            const auto out = run_ok(make_node("MatMul", 2, 1), {&a, &b});
            ASSERT_EQ(out.size(), 1u);
            Shape want_shape;
            const Doubles want = matmul_ref(a, b, want_shape);
            EXPECT_EQ(out[0].shape(), want_shape);
            EXPECT_EQ(out[0].dtype(), t);
            EXPECT_LE(rel_l2(out[0], want), t == DType::kFloat32 ? 1e-5 : 1e-12)
                << rtinfer::ir::shape_str(c.first) << " x " << rtinfer::ir::shape_str(c.second);
        }
    }
}

TEST(NnMatMul, Errors) {
    Rng rng;
    const Tensor a = random_tensor({2, 3, 4}, rng), b = random_tensor({5, 6}, rng), c = random_tensor({3, 4, 2}, rng);
    std::vector<Tensor> out;
    Status s = run(make_node("MatMul", 2, 1), {&a, &b}, out);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("node 'n_MatMul'"), std::string::npos);
    EXPECT_NE(s.message().find("inner dimensions"), std::string::npos) << s.message();
    s = run(make_node("MatMul", 2, 1), {&a, &c}, out);  // batch 2 vs 3
    EXPECT_FALSE(s.is_ok());
}

TEST(NnGemm, TransposesAlphaBetaAndBiasBroadcast) {
    Rng rng;
    const int64_t m = 5, k = 7, n = 6;
    const std::vector<Shape> c_shapes = {{}, {1}, {n}, {m, 1}, {1, n}, {m, n}};
    for (DType t : {DType::kFloat32, DType::kFloat64, DType::kInt32}) {
        for (int ta = 0; ta < 2; ++ta) {
            for (int tb = 0; tb < 2; ++tb) {
                for (size_t ci = 0; ci <= c_shapes.size(); ++ci) {
                    const bool has_c = ci < c_shapes.size();
                    const Tensor a = random_tensor(ta ? Shape{k, m} : Shape{m, k}, rng, t);
                    const Tensor b = random_tensor(tb ? Shape{n, k} : Shape{k, n}, rng, t);
                    const Tensor c = random_tensor(has_c ? c_shapes[ci] : Shape{1}, rng, t);
                    const float alpha = t == DType::kInt32 ? 2.0f : 0.75f, beta = t == DType::kInt32 ? 3.0f : -1.5f;
                    const Attrs attrs = {{"transA", attr_i(ta)},
                                         {"transB", attr_i(tb)},
                                         {"alpha", attr_f(alpha)},
                                         {"beta", attr_f(beta)}};
                    const auto out =
                        run_ok(make_node("Gemm", has_c ? 3 : 2, 1, attrs),
                               has_c ? std::vector<const Tensor*>{&a, &b, &c} : std::vector<const Tensor*>{&a, &b});
                    ASSERT_EQ(out.size(), 1u);
                    EXPECT_EQ(out[0].shape(), (Shape{m, n}));
                    const Doubles av = rtinfer::ir::to_doubles(a), bv = rtinfer::ir::to_doubles(b);
                    const Doubles cv = rtinfer::ir::to_doubles(c);
                    Doubles want;
                    for (int64_t i = 0; i < m; ++i) {
                        for (int64_t j = 0; j < n; ++j) {
                            double acc = 0.0;
                            for (int64_t p = 0; p < k; ++p) {
                                acc += (ta ? av[p * m + i] : av[i * k + p]) * (tb ? bv[j * k + p] : bv[p * n + j]);
                            }
                            double cij = 0.0;
                            if (has_c) {
                                const Shape& cs = c_shapes[ci];
                                const int64_t ri = cs.size() == 2 && cs[0] != 1 ? i : 0;
                                const int64_t cj = !cs.empty() && cs.back() != 1 ? j : 0;
                                cij = cv[static_cast<size_t>(ri * (cs.empty() ? 1 : cs.back()) + cj)];
                            }
                            want.push_back(alpha * acc + beta * cij);
                        }
                    }
                    EXPECT_LE(rel_l2(out[0], want), 1e-5) << "transA=" << ta << " transB=" << tb << " C#" << ci;
                }
            }
        }
    }
}

TEST(NnGemm, Errors) {
    Rng rng;
    const Tensor a = random_tensor({3, 4}, rng), b = random_tensor({3, 5}, rng), c = random_tensor({2, 5}, rng);
    std::vector<Tensor> out;
    Status s = run(make_node("Gemm", 2, 1), {&a, &b}, out);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("inner dimensions"), std::string::npos) << s.message();
    EXPECT_TRUE(run(make_node("Gemm", 2, 1, {{"transA", attr_i(1)}}), {&a, &b}, out).is_ok());
    EXPECT_FALSE(run(make_node("Gemm", 3, 1, {{"transA", attr_i(1)}}), {&a, &b, &c}, out).is_ok());
    EXPECT_FALSE(run(make_node("Gemm", 2, 1, {{"transA", attr_i(1)}}), {&a, &b}, out, 9).is_ok());  // C needed
}

// ---- pooling ----

enum class PoolKind { kMax, kAverage, kLp };

struct PoolCase {
    Shape x;
    Ints kernel, strides, dilations, pads;
    std::string auto_pad = "NOTSET";
    bool ceil_mode = false;
    bool include_pad = false;
};

// Window by window: max / mean / Lp norm of the taps inside the input; count_include_pad counts the taps
// inside the padded input.
Doubles pool_ref(const Tensor& x, const Geo& g, PoolKind kind, bool include_pad, double p, Ints* argmax) {
    const Doubles xv = rtinfer::ir::to_doubles(x);
    const int64_t planes = x.dim(0) * x.dim(1), in_size = g.in[0] * g.in[1] * g.in[2];
    Doubles y;
    for (int64_t pl = 0; pl < planes; ++pl)
        for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
            for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
                for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
                    double best = -1e300, sum = 0.0;
                    int64_t count = 0, padded = 0, best_at = -1;
                    for (int64_t k0 = 0; k0 < g.k[0]; ++k0)
                        for (int64_t k1 = 0; k1 < g.k[1]; ++k1)
                            for (int64_t k2 = 0; k2 < g.k[2]; ++k2) {
                                const int64_t i[3] = {o0 * g.s[0] - g.pb[0] + k0 * g.d[0],
                                                      o1 * g.s[1] - g.pb[1] + k1 * g.d[1],
                                                      o2 * g.s[2] - g.pb[2] + k2 * g.d[2]};
                                bool inside = true, in_padded = true;
                                for (int d = 0; d < 3; ++d) {
                                    inside = inside && i[d] >= 0 && i[d] < g.in[d];
                                    in_padded = in_padded && i[d] >= -g.pb[d] && i[d] < g.in[d] + g.pe[d];
                                }
                                padded += in_padded;
                                if (!inside) continue;
                                const int64_t at = (i[0] * g.in[1] + i[1]) * g.in[2] + i[2];
                                const double v = xv[static_cast<size_t>(pl * in_size + at)];
                                ++count;
                                sum += kind == PoolKind::kLp ? std::pow(std::fabs(v), p) : v;
                                if (v > best) {
                                    best = v;
                                    best_at = pl * in_size + at;
                                }
                            }
                    if (argmax) argmax->push_back(best_at);
                    if (kind == PoolKind::kMax) y.push_back(best);
                    if (kind == PoolKind::kAverage)
                        y.push_back(sum / static_cast<double>(include_pad ? padded : count));
                    if (kind == PoolKind::kLp) y.push_back(std::pow(sum, 1.0 / p));
                }
    return y;
}

Attrs pool_attrs(const PoolCase& c) {
    Attrs a = {{"kernel_shape", attr_ints(c.kernel)}};
    if (!c.strides.empty()) a["strides"] = attr_ints(c.strides);
    if (!c.dilations.empty()) a["dilations"] = attr_ints(c.dilations);
    if (!c.pads.empty()) a["pads"] = attr_ints(c.pads);
    if (c.auto_pad != "NOTSET") a["auto_pad"] = attr_s(c.auto_pad);
    if (c.ceil_mode) a["ceil_mode"] = attr_i(1);
    if (c.include_pad) a["count_include_pad"] = attr_i(1);
    return a;
}

void check_pool(const char* op, PoolKind kind, const PoolCase& c, Rng& rng, double p = 2.0) {
    const Tensor x = random_tensor(c.x, rng);
    Attrs attrs = pool_attrs(c);
    if (kind == PoolKind::kLp) attrs["p"] = attr_i(static_cast<int64_t>(p));
    const auto out = run_ok(make_node(op, 1, 1, attrs), {&x}, 19);
    ASSERT_EQ(out.size(), 1u);
    const Geo g =
        conv_geo(Ints(c.x.begin() + 2, c.x.end()), c.kernel, c.strides, c.dilations, c.pads, c.auto_pad, c.ceil_mode);
    EXPECT_EQ(out[0].shape(), concat({c.x[0], c.x[1]}, g.out_dims()));
    EXPECT_LE(rel_l2(out[0], pool_ref(x, g, kind, c.include_pad, p, nullptr)), 1e-6)
        << op << " " << rtinfer::ir::shape_str(c.x);
}

const std::vector<PoolCase>& pool_cases() {
    static const std::vector<PoolCase> cases = {
        {{2, 3, 8, 9}, {3, 3}, {2, 2}, {}, {1, 1, 1, 1}},
        {{2, 3, 8, 9}, {3, 3}, {2, 2}, {}, {1, 1, 1, 1}, "NOTSET", false, true},
        {{1, 2, 7, 7}, {2, 2}, {2, 2}, {}, {}, "NOTSET", true},                  // ceil: last window partial
        {{1, 2, 7, 6}, {3, 2}, {2, 2}, {}, {1, 0, 1, 1}, "NOTSET", true, true},  // ceil + pads + include_pad
        {{1, 2, 9, 9}, {3, 3}, {1, 2}, {2, 2}, {1, 1, 2, 0}},                    // dilations
        {{2, 2, 7, 8}, {3, 2}, {2, 3}, {}, {}, "SAME_UPPER"},
        {{2, 2, 7, 8}, {3, 4}, {2, 3}, {}, {}, "SAME_LOWER", false, true},
        {{1, 3, 10, 9}, {2, 3}, {3, 2}, {}, {}, "VALID"},
        {{2, 3, 13}, {4}, {3}, {}, {2, 1}, "NOTSET", true},                      // 1-D
        {{1, 2, 5, 6, 7}, {2, 3, 2}, {2, 1, 2}, {1, 1, 2}, {0, 1, 1, 1, 1, 0}},  // 3-D
        {{1, 2, 5, 6, 7}, {3, 3, 3}, {2, 2, 2}, {}, {1, 1, 1, 1, 1, 1}, "NOTSET", true, true}};
    return cases;
}

TEST(NnPool, MaxPoolMatchesWindows) {
    Rng rng;
    for (const auto& c : pool_cases()) check_pool("MaxPool", PoolKind::kMax, c, rng);
}

TEST(NnPool, AveragePoolMatchesWindows) {
    Rng rng;
    for (const auto& c : pool_cases()) check_pool("AveragePool", PoolKind::kAverage, c, rng);
}

TEST(NnPool, LpPoolMatchesWindows) {
    Rng rng;
    for (size_t i : {size_t(0), size_t(4), size_t(8), size_t(9)}) {
        check_pool("LpPool", PoolKind::kLp, pool_cases()[i], rng, 2.0);
        check_pool("LpPool", PoolKind::kLp, pool_cases()[i], rng, 3.0);
    }
}

TEST(NnPool, CeilModeAndCountIncludePadByHand) {
    const Tensor x6 = Tensor::from_floats({1, 2, 3, 4, 5, 6}, {1, 1, 6});
    Attrs a = {{"kernel_shape", attr_ints({3})}, {"strides", attr_ints({2})}, {"ceil_mode", attr_i(1)}};
    // Windows [0,3) [2,5) [4,7): the last one reaches past the input and is clipped.
    EXPECT_LE(rel_l2(run_ok(make_node("AveragePool", 1, 1, a), {&x6})[0], {2, 4, 5.5}), 1e-7);
    a["count_include_pad"] = attr_i(1);  // no pads: the clipped part is not padding, so still 2 taps
    EXPECT_LE(rel_l2(run_ok(make_node("AveragePool", 1, 1, a), {&x6})[0], {2, 4, 5.5}), 1e-7);
    EXPECT_LE(rel_l2(run_ok(make_node("MaxPool", 1, 1, a), {&x6})[0], {3, 5, 6}), 1e-7);

    const Tensor x5 = Tensor::from_floats({1, 2, 3, 4, 5}, {1, 1, 5});
    a["pads"] = attr_ints({1, 1});  // windows [-1,2) [1,4) [3,6), the last ending in the end pad
    EXPECT_LE(rel_l2(run_ok(make_node("AveragePool", 1, 1, a), {&x5})[0], {1, 3, 3}), 1e-7);
    a["count_include_pad"] = attr_i(0);
    EXPECT_LE(rel_l2(run_ok(make_node("AveragePool", 1, 1, a), {&x5})[0], {1.5, 3, 4.5}), 1e-7);

    // A window that would start in the end padding is dropped: [1,2,3], k2 s2 pads 1 -> 2 windows, not 3.
    const Tensor x3 = Tensor::from_floats({1, 2, 3}, {1, 1, 3});
    const Attrs b = {{"kernel_shape", attr_ints({2})},
                     {"strides", attr_ints({2})},
                     {"pads", attr_ints({1, 1})},
                     {"ceil_mode", attr_i(1)}};
    const auto out = run_ok(make_node("MaxPool", 1, 1, b), {&x3});
    EXPECT_EQ(out[0].shape(), (Shape{1, 1, 2}));
    EXPECT_LE(rel_l2(out[0], {1, 3}), 1e-7);
}

TEST(NnPool, MaxPoolIndicesRowAndColumnMajor) {
    Rng rng;
    for (const PoolCase& c : {pool_cases()[0], pool_cases()[4], pool_cases()[8], pool_cases()[9]}) {
        const Tensor x = random_tensor(c.x, rng);
        const Geo g = conv_geo(Ints(c.x.begin() + 2, c.x.end()), c.kernel, c.strides, c.dilations, c.pads);
        Ints argmax;
        const Doubles want = pool_ref(x, g, PoolKind::kMax, false, 0, &argmax);
        for (int order = 0; order < 2; ++order) {
            Attrs attrs = pool_attrs(c);
            attrs["storage_order"] = attr_i(order);
            const auto out = run_ok(make_node("MaxPool", 1, 2, attrs), {&x});
            ASSERT_EQ(out.size(), 2u);
            ASSERT_EQ(out[1].dtype(), DType::kInt64);
            EXPECT_LE(rel_l2(out[0], want), 1e-7);
            const int64_t* idx = out[1].data<int64_t>();
            const int64_t in_size = g.in[0] * g.in[1] * g.in[2];
            for (size_t i = 0; i < argmax.size(); ++i) {
                int64_t expect = argmax[i];
                if (order == 1) {  // spatial part in column-major order: i0 + i1 * D0 + i2 * D0 * D1
                    const int64_t plane = expect / in_size, at = expect % in_size;
                    const int64_t i2 = at % g.in[2], i1 = at / g.in[2] % g.in[1], i0 = at / (g.in[1] * g.in[2]);
                    expect = plane * in_size + i0 + i1 * g.in[0] + i2 * g.in[0] * g.in[1];
                }
                ASSERT_EQ(idx[i], expect) << "output " << i << " storage_order " << order;
            }
        }
    }
}

TEST(NnPool, MaxPoolInt8AndUInt8) {
    Rng rng;
    for (DType t : {DType::kInt8, DType::kUInt8}) {
        const Tensor x = random_tensor({2, 3, 6, 6}, rng, t);
        const PoolCase c = {{2, 3, 6, 6}, {3, 3}, {2, 2}, {}, {1, 1, 1, 1}};
        const auto out = run_ok(make_node("MaxPool", 1, 1, pool_attrs(c)), {&x});
        ASSERT_EQ(out[0].dtype(), t);
        const Geo g = conv_geo({6, 6}, c.kernel, c.strides, {}, c.pads);
        EXPECT_LE(rel_l2(out[0], pool_ref(x, g, PoolKind::kMax, false, 0, nullptr)), 1e-12);
    }
}

TEST(NnPool, GlobalPools) {
    Rng rng;
    for (const Shape& shape : {Shape{2, 3, 5, 4}, Shape{1, 4, 7}, Shape{2, 2, 3, 2, 3}}) {
        const Tensor x = random_tensor(shape, rng);
        const Doubles xv = rtinfer::ir::to_doubles(x);
        const int64_t planes = shape[0] * shape[1], size = x.numel() / planes;
        Doubles avg, mx, lp;
        for (int64_t p = 0; p < planes; ++p) {
            double s = 0, m = -1e300, l = 0;
            for (int64_t i = 0; i < size; ++i) {
                const double v = xv[p * size + i];
                s += v;
                m = std::max(m, v);
                l += std::pow(std::fabs(v), 3.0);
            }
            avg.push_back(s / size);
            mx.push_back(m);
            lp.push_back(std::cbrt(l));
        }
        Shape want_shape(shape.size(), 1);
        want_shape[0] = shape[0];
        want_shape[1] = shape[1];
        const std::vector<std::pair<const char*, Doubles*>> ops = {
            {"GlobalAveragePool", &avg}, {"GlobalMaxPool", &mx}, {"GlobalLpPool", &lp}};
        for (const auto& op : ops) {
            const auto out = run_ok(make_node(op.first, 1, 1, {{"p", attr_i(3)}}), {&x});
            EXPECT_EQ(out[0].shape(), want_shape) << op.first;
            EXPECT_LE(rel_l2(out[0], *op.second), 1e-6) << op.first;
        }
    }
}

TEST(NnPool, Errors) {
    Rng rng;
    const Tensor x = random_tensor({1, 2, 4, 4}, rng);
    std::vector<Tensor> out;
    Status s = run(make_node("MaxPool", 1, 1), {&x}, out);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("kernel_shape"), std::string::npos);
    s = run(make_node("AveragePool", 1, 1, {{"kernel_shape", attr_ints({5, 5})}}), {&x}, out);
    EXPECT_FALSE(s.is_ok());  // kernel larger than the input
    s = run(make_node("MaxPool", 1, 1, {{"kernel_shape", attr_ints({2, 2})}, {"pads", attr_ints({1, 1})}}), {&x}, out);
    EXPECT_FALSE(s.is_ok());
}

// ---- normalizations ----

// Mean and population variance of xv[idx] over a list of indices.
void moments(const Doubles& xv, const Ints& idx, double& mean, double& var) {
    mean = 0.0;
    for (int64_t i : idx) mean += xv[i];
    mean /= static_cast<double>(idx.size());
    var = 0.0;
    for (int64_t i : idx) var += (xv[i] - mean) * (xv[i] - mean);
    var /= static_cast<double>(idx.size());
}

TEST(NnBatchNorm, InferenceMatchesFormula) {
    Rng rng;
    for (const Shape& shape : {Shape{2, 3, 4, 5}, Shape{4, 6}, Shape{2, 3, 7}, Shape{1, 2, 2, 3, 2}}) {
        for (DType t : {DType::kFloat32, DType::kFloat64}) {
            const int64_t c = shape[1];
            const Tensor x = random_tensor(shape, rng, t), scale = random_tensor({c}, rng, t);
            const Tensor bias = random_tensor({c}, rng, t), mean = random_tensor({c}, rng, t);
            Tensor var = random_tensor({c}, rng, t);
            const Doubles vv = rtinfer::ir::to_doubles(var);
            for (int64_t i = 0; i < c; ++i) {
                if (t == DType::kFloat32) var.data<float>()[i] = static_cast<float>(std::fabs(vv[i]));
                if (t == DType::kFloat64) var.data<double>()[i] = std::fabs(vv[i]);
            }
            const auto out = run_ok(make_node("BatchNormalization", 5, 1, {{"epsilon", attr_f(1e-3f)}}),
                                    {&x, &scale, &bias, &mean, &var}, 15);
            const Doubles xv = rtinfer::ir::to_doubles(x), sv = rtinfer::ir::to_doubles(scale);
            const Doubles bv = rtinfer::ir::to_doubles(bias), mv = rtinfer::ir::to_doubles(mean);
            const Doubles v2 = rtinfer::ir::to_doubles(var);
            const int64_t inner = x.numel() / (shape[0] * c);
            Doubles want;
            for (int64_t i = 0; i < x.numel(); ++i) {
                const int64_t ch = i / inner % c;
                want.push_back((xv[i] - mv[ch]) / std::sqrt(v2[ch] + static_cast<double>(1e-3f)) * sv[ch] + bv[ch]);
            }
            EXPECT_LE(rel_l2(out[0], want), 1e-6);
        }
    }
}

TEST(NnBatchNorm, SpatialZeroInOpset7) {
    Rng rng;
    const Tensor x = random_tensor({3, 2, 4}, rng);
    const Tensor scale = random_tensor({2, 4}, rng), bias = random_tensor({2, 4}, rng),
                 mean = random_tensor({2, 4}, rng);
    Tensor var = random_tensor({2, 4}, rng);
    for (int64_t i = 0; i < 8; ++i) var.data<float>()[i] = std::fabs(var.data<float>()[i]);
    const auto out =
        run_ok(make_node("BatchNormalization", 5, 1, {{"spatial", attr_i(0)}}), {&x, &scale, &bias, &mean, &var}, 7);
    const Doubles xv = rtinfer::ir::to_doubles(x), sv = rtinfer::ir::to_doubles(scale),
                  bv = rtinfer::ir::to_doubles(bias);
    const Doubles mv = rtinfer::ir::to_doubles(mean), vv = rtinfer::ir::to_doubles(var);
    Doubles want;
    for (int64_t i = 0; i < 24; ++i) {
        const int64_t j = i % 8;  // per (channel, position)
        want.push_back((xv[i] - mv[j]) / std::sqrt(vv[j] + static_cast<double>(1e-5f)) * sv[j] + bv[j]);
    }
    EXPECT_LE(rel_l2(out[0], want), 1e-6);
}

TEST(NnBatchNorm, TrainingModeUsesBatchStatistics) {
    Rng rng;
    const Tensor x = random_tensor({3, 2, 4}, rng), scale = random_tensor({2}, rng), bias = random_tensor({2}, rng);
    const Tensor mean = random_tensor({2}, rng), var = Tensor::from_floats({0.5f, 2.0f}, {2});
    const Attrs attrs = {{"training_mode", attr_i(1)}, {"momentum", attr_f(0.8f)}};
    const auto out = run_ok(make_node("BatchNormalization", 5, 3, attrs), {&x, &scale, &bias, &mean, &var}, 15);
    ASSERT_EQ(out.size(), 3u);
    const Doubles xv = rtinfer::ir::to_doubles(x), sv = rtinfer::ir::to_doubles(scale),
                  bv = rtinfer::ir::to_doubles(bias);
    const Doubles mv = rtinfer::ir::to_doubles(mean);
    Doubles want(24), run_mean, run_var;
    for (int64_t c = 0; c < 2; ++c) {
        Ints idx;
        for (int64_t n = 0; n < 3; ++n)
            for (int64_t i = 0; i < 4; ++i) idx.push_back((n * 2 + c) * 4 + i);
        double mu, v;
        moments(xv, idx, mu, v);
        for (int64_t i : idx) want[i] = (xv[i] - mu) / std::sqrt(v + static_cast<double>(1e-5f)) * sv[c] + bv[c];
        run_mean.push_back(mv[c] * 0.8 + mu * 0.2);
        run_var.push_back((c == 0 ? 0.5 : 2.0) * 0.8 + v * 0.2);
    }
    EXPECT_LE(rel_l2(out[0], want), 1e-6);
    EXPECT_LE(rel_l2(out[1], run_mean), 1e-6);
    EXPECT_LE(rel_l2(out[2], run_var), 1e-6);
}

TEST(NnBatchNorm, ParameterSizeErrorNamesNode) {
    Rng rng;
    const Tensor x = random_tensor({2, 3, 4, 4}, rng), p3 = random_tensor({3}, rng), p4 = random_tensor({4}, rng);
    std::vector<Tensor> out;
    const Status s = run(make_node("BatchNormalization", 5, 1), {&x, &p3, &p4, &p3, &p3}, out, 15);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("node 'n_BatchNormalization'"), std::string::npos);
    EXPECT_NE(s.message().find("B has shape [4]"), std::string::npos) << s.message();
}

TEST(NnLayerNorm, AxesOutputsAndBroadcastScale) {
    Rng rng;
    const Shape shape = {2, 3, 4, 5};
    for (int64_t axis : {-1, 1, 2, 0, -3}) {
        const int64_t a = axis < 0 ? axis + 4 : axis;
        const Shape norm(shape.begin() + a, shape.end());
        Shape scale_shape = norm;
        if (scale_shape.size() > 1) scale_shape[0] = 1;  // broadcast along the first normalized dim
        const Tensor x = random_tensor(shape, rng), scale = random_tensor(scale_shape, rng);
        const Tensor bias = random_tensor(norm, rng);
        const auto out =
            run_ok(make_node("LayerNormalization", 3, 3, {{"axis", attr_i(axis)}, {"epsilon", attr_f(1e-4f)}}),
                   {&x, &scale, &bias});
        ASSERT_EQ(out.size(), 3u);
        const Doubles xv = rtinfer::ir::to_doubles(x), sv = rtinfer::ir::to_doubles(scale);
        const Doubles bv = rtinfer::ir::to_doubles(bias);
        int64_t inner = 1;
        for (int64_t d : norm) inner *= d;
        const int64_t scale_inner = scale.numel();  // scale broadcasts along the leading normalized dim
        Doubles want, means, invs;
        for (int64_t o = 0; o < x.numel() / inner; ++o) {
            Ints idx;
            for (int64_t i = 0; i < inner; ++i) idx.push_back(o * inner + i);
            double mu, v;
            moments(xv, idx, mu, v);
            const double inv = 1.0 / std::sqrt(v + static_cast<double>(1e-4f));
            for (int64_t i = 0; i < inner; ++i)
                want.push_back((xv[o * inner + i] - mu) * inv * sv[i % scale_inner] + bv[i]);
            means.push_back(mu);
            invs.push_back(inv);
        }
        Shape stats = shape;
        for (size_t d = static_cast<size_t>(a); d < 4; ++d) stats[d] = 1;
        EXPECT_LE(rel_l2(out[0], want), 1e-6) << "axis " << axis;
        EXPECT_EQ(out[1].shape(), stats);
        EXPECT_EQ(out[1].dtype(), DType::kFloat32);
        EXPECT_LE(rel_l2(out[1], means), 1e-6);
        EXPECT_LE(rel_l2(out[2], invs), 1e-6);
    }
    // No bias; a scale that does not fit the normalized shape is an error.
    const Tensor x = random_tensor({2, 6}, rng), scale = random_tensor({6}, rng), bad = random_tensor({4}, rng);
    EXPECT_EQ(run_ok(make_node("LayerNormalization", 2, 1), {&x, &scale}).size(), 1u);
    std::vector<Tensor> out;
    EXPECT_FALSE(run(make_node("LayerNormalization", 2, 1), {&x, &bad}, out).is_ok());
}

// Normalizes each (n, group) block of [N, C, inner]; params per channel (size C) or per group.
Doubles group_norm_ref(const Tensor& x, int64_t groups, const Doubles& scale, const Doubles& bias, double eps) {
    const Doubles xv = rtinfer::ir::to_doubles(x);
    const int64_t n_ = x.dim(0), c_ = x.dim(1), inner = x.numel() / (n_ * c_), cg = c_ / groups;
    Doubles y(xv.size());
    for (int64_t n = 0; n < n_; ++n)
        for (int64_t g = 0; g < groups; ++g) {
            Ints idx;
            for (int64_t i = 0; i < cg * inner; ++i) idx.push_back((n * c_ + g * cg) * inner + i);
            double mu, v;
            moments(xv, idx, mu, v);
            for (int64_t i : idx) {
                const int64_t c = i / inner % c_;
                const size_t j = static_cast<size_t>(static_cast<int64_t>(scale.size()) == c_ ? c : g);
                y[i] = (xv[i] - mu) / std::sqrt(v + eps) * scale[j] + bias[j];
            }
        }
    return y;
}

TEST(NnInstanceGroupNorm, MatchBlockStatistics) {
    Rng rng;
    const Tensor x = random_tensor({2, 6, 3, 4}, rng), s6 = random_tensor({6}, rng), b6 = random_tensor({6}, rng);
    const Tensor s3 = random_tensor({3}, rng), b3 = random_tensor({3}, rng);
    const double eps = static_cast<double>(1e-3f);
    auto out = run_ok(make_node("InstanceNormalization", 3, 1, {{"epsilon", attr_f(1e-3f)}}), {&x, &s6, &b6});
    EXPECT_LE(rel_l2(out[0], group_norm_ref(x, 6, rtinfer::ir::to_doubles(s6), rtinfer::ir::to_doubles(b6), eps)),
              1e-6);
    const Attrs g3 = {{"num_groups", attr_i(3)}, {"epsilon", attr_f(1e-3f)}};
    out = run_ok(make_node("GroupNormalization", 3, 1, g3), {&x, &s3, &b3}, 18);  // per group
    EXPECT_LE(rel_l2(out[0], group_norm_ref(x, 3, rtinfer::ir::to_doubles(s3), rtinfer::ir::to_doubles(b3), eps)),
              1e-6);
    out = run_ok(make_node("GroupNormalization", 3, 1, g3), {&x, &s6, &b6}, 21);  // per channel
    EXPECT_LE(rel_l2(out[0], group_norm_ref(x, 3, rtinfer::ir::to_doubles(s6), rtinfer::ir::to_doubles(b6), eps)),
              1e-6);
    const Tensor x3 = random_tensor({3, 4, 5}, rng), s2 = random_tensor({2}, rng), b2 = random_tensor({2}, rng);
    out = run_ok(make_node("GroupNormalization", 3, 1, {{"num_groups", attr_i(2)}}), {&x3, &s2, &b2}, 18);
    EXPECT_LE(rel_l2(out[0], group_norm_ref(x3, 2, rtinfer::ir::to_doubles(s2), rtinfer::ir::to_doubles(b2), 1e-5)),
              1e-5);

    std::vector<Tensor> bad;
    const Status s = run(make_node("GroupNormalization", 3, 1, {{"num_groups", attr_i(4)}}), {&x, &s6, &b6}, bad, 21);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("num_groups 4"), std::string::npos) << s.message();
}

TEST(NnLrn, MatchesChannelWindowSum) {
    Rng rng;
    for (int64_t size : {1, 2, 3, 5}) {
        const Tensor x = random_tensor({2, 7, 3, 3}, rng);
        const Attrs attrs = {
            {"size", attr_i(size)}, {"alpha", attr_f(0.02f)}, {"beta", attr_f(0.6f)}, {"bias", attr_f(1.5f)}};
        const auto out = run_ok(make_node("LRN", 1, 1, attrs), {&x});
        const Doubles xv = rtinfer::ir::to_doubles(x);
        Doubles want;
        for (int64_t i = 0; i < x.numel(); ++i) {
            const int64_t c = i / 9 % 7, base = i - c * 9;
            double sq = 0.0;
            for (int64_t j = c - (size - 1) / 2; j <= c + size / 2; ++j) {
                if (j >= 0 && j < 7) sq += xv[base + j * 9] * xv[base + j * 9];
            }
            want.push_back(xv[i] / std::pow(1.5 + static_cast<double>(0.02f) / size * sq, static_cast<double>(0.6f)));
        }
        EXPECT_LE(rel_l2(out[0], want), 1e-6) << "size " << size;
    }
}

TEST(NnMvn, DefaultAndCustomAxes) {
    Rng rng;
    const Tensor x = random_tensor({2, 3, 4, 5}, rng);
    const Doubles xv = rtinfer::ir::to_doubles(x);
    for (const Ints& axes : {Ints{0, 2, 3}, Ints{2, 3}, Ints{1}, Ints{-1, 0}}) {
        const auto out = run_ok(make_node("MeanVarianceNormalization", 1, 1, {{"axes", attr_ints(axes)}}), {&x});
        const Shape s = {2, 3, 4, 5};
        bool reduced[4] = {false, false, false, false};
        for (int64_t a : axes) reduced[a < 0 ? a + 4 : a] = true;
        Doubles want(xv.size());
        for (int64_t i = 0; i < x.numel(); ++i) {
            const int64_t c[4] = {i / 60, i / 20 % 3, i / 5 % 4, i % 5};
            Ints idx;  // every element that agrees with i on the kept dims
            for (int64_t j = 0; j < x.numel(); ++j) {
                const int64_t cj[4] = {j / 60, j / 20 % 3, j / 5 % 4, j % 5};
                bool same = true;
                for (int d = 0; d < 4; ++d) same = same && (reduced[d] || c[d] == cj[d]);
                if (same) idx.push_back(j);
            }
            double mu, v;
            moments(xv, idx, mu, v);
            want[i] = (xv[i] - mu) / (std::sqrt(v) + 1e-9);
        }
        EXPECT_LE(rel_l2(out[0], want), 1e-6);
    }
}

// ---- quantized ops ----

Tensor tensor_of(DType t, const Shape& shape, const std::vector<int64_t>& v) {
    Tensor out(t, shape);
    for (size_t i = 0; i < v.size(); ++i) {
        if (t == DType::kInt8) out.data<int8_t>()[i] = static_cast<int8_t>(v[i]);
        if (t == DType::kUInt8) out.data<uint8_t>()[i] = static_cast<uint8_t>(v[i]);
        if (t == DType::kInt32) out.data<int32_t>()[i] = static_cast<int32_t>(v[i]);
    }
    return out;
}

// round-half-even(v) + zp saturated to the type's range.
double requantize(double v, double zp, DType t) {
    const double q = std::nearbyint(v) + zp;
    return t == DType::kUInt8 ? std::min(255.0, std::max(0.0, q)) : std::min(127.0, std::max(-128.0, q));
}

TEST(NnQuant, MatMulIntegerWithZeroPoints) {
    Rng rng;
    const Tensor a = random_tensor({2, 3, 5}, rng, DType::kUInt8), b = random_tensor({5, 4}, rng, DType::kInt8);
    const Tensor a_zp_row = tensor_of(DType::kUInt8, {3}, {7, 130, 255});
    const Tensor b_zp_col = tensor_of(DType::kInt8, {4}, {-3, 0, 5, 100});
    const Tensor a_zp = scalar_of(DType::kUInt8, 128), b_zp = scalar_of(DType::kInt8, -2);
    const Doubles av = rtinfer::ir::to_doubles(a), bv = rtinfer::ir::to_doubles(b);
    for (int per = 0; per < 2; ++per) {
        const Tensor& za = per ? a_zp_row : a_zp;
        const Tensor& zb = per ? b_zp_col : b_zp;
        const auto out = run_ok(make_node("MatMulInteger", 4, 1), {&a, &b, &za, &zb});
        ASSERT_EQ(out[0].dtype(), DType::kInt32);
        EXPECT_EQ(out[0].shape(), (Shape{2, 3, 4}));
        const Doubles zav = rtinfer::ir::to_doubles(za), zbv = rtinfer::ir::to_doubles(zb);
        Doubles want;
        for (int64_t t = 0; t < 2; ++t)
            for (int64_t i = 0; i < 3; ++i)
                for (int64_t j = 0; j < 4; ++j) {
                    double acc = 0;
                    for (int64_t p = 0; p < 5; ++p) {
                        acc += (av[(t * 3 + i) * 5 + p] - zav[per ? i : 0]) * (bv[p * 4 + j] - zbv[per ? j : 0]);
                    }
                    want.push_back(acc);
                }
        EXPECT_EQ(rel_l2(out[0], want), 0.0);
    }
    const auto no_zp = run_ok(make_node("MatMulInteger", 2, 1), {&a, &b});
    Shape ws;
    EXPECT_EQ(rel_l2(no_zp[0], matmul_ref(a, b, ws)), 0.0);
}

TEST(NnQuant, QLinearMatMulRequantizes) {
    Rng rng;
    for (DType t : {DType::kUInt8, DType::kInt8}) {
        const Tensor a = random_tensor({3, 6}, rng, t), b = random_tensor({2, 6, 4}, rng, t);
        const Tensor a_s = Tensor::from_floats({0.02f}, {}),
                     b_s = Tensor::from_floats({0.01f, 0.03f, 0.02f, 0.05f}, {4});
        const Tensor y_s = Tensor::from_floats({0.07f}, {});
        const Tensor a_zp = scalar_of(t, t == DType::kUInt8 ? 120 : -5),
                     b_zp = scalar_of(t, t == DType::kUInt8 ? 128 : 3);
        const Tensor y_zp = scalar_of(t, t == DType::kUInt8 ? 100 : -10);
        const auto out = run_ok(make_node("QLinearMatMul", 8, 1), {&a, &a_s, &a_zp, &b, &b_s, &b_zp, &y_s, &y_zp});
        ASSERT_EQ(out[0].dtype(), t);
        EXPECT_EQ(out[0].shape(), (Shape{2, 3, 4}));
        const Doubles av = rtinfer::ir::to_doubles(a), bv = rtinfer::ir::to_doubles(b),
                      bs = rtinfer::ir::to_doubles(b_s);
        const double za = rtinfer::ir::to_doubles(a_zp)[0], zb = rtinfer::ir::to_doubles(b_zp)[0];
        const double zy = rtinfer::ir::to_doubles(y_zp)[0];
        Doubles want;
        int64_t saturated = 0;
        for (int64_t bt = 0; bt < 2; ++bt)
            for (int64_t i = 0; i < 3; ++i)
                for (int64_t j = 0; j < 4; ++j) {
                    double acc = 0;
                    for (int64_t p = 0; p < 6; ++p) acc += (av[i * 6 + p] - za) * (bv[(bt * 6 + p) * 4 + j] - zb);
                    const double q =
                        requantize(acc * (static_cast<double>(0.02f) * bs[j] / static_cast<double>(0.07f)), zy, t);
                    saturated += q == 0 || q == 255 || q == -128 || q == 127;
                    want.push_back(q);
                }
        EXPECT_EQ(rel_l2(out[0], want), 0.0);
        EXPECT_LT(saturated, 20);  // the data exercise rounding, not only the clamps
    }
}

TEST(NnQuant, ConvIntegerAndQLinearConv) {
    Rng rng;
    const Tensor x = random_tensor({2, 4, 6, 5}, rng, DType::kUInt8),
                 w = random_tensor({6, 2, 3, 3}, rng, DType::kInt8);
    const Tensor x_zp = scalar_of(DType::kUInt8, 131);
    const Tensor w_zp = tensor_of(DType::kInt8, {6}, {0, 1, -2, 3, 0, -1});
    const Attrs attrs = {{"group", attr_i(2)}, {"pads", attr_ints({1, 0, 1, 2})}, {"strides", attr_ints({2, 1})}};
    const auto out = run_ok(make_node("ConvInteger", 4, 1, attrs), {&x, &w, &x_zp, &w_zp});
    ASSERT_EQ(out[0].dtype(), DType::kInt32);
    // Reference: float conv of (x - x_zp) and (w - w_zp[m]); zero padding of the centered data is the zero point.
    Tensor xc(DType::kFloat64, x.shape()), wc(DType::kFloat64, w.shape());
    const Doubles xv = rtinfer::ir::to_doubles(x), wv = rtinfer::ir::to_doubles(w);
    for (int64_t i = 0; i < x.numel(); ++i) xc.data<double>()[i] = xv[i] - 131;
    const Doubles zw = rtinfer::ir::to_doubles(w_zp);
    for (int64_t i = 0; i < w.numel(); ++i) wc.data<double>()[i] = wv[i] - zw[i / 18];
    const Geo g = conv_geo({6, 5}, {3, 3}, {2, 1}, {}, {1, 0, 1, 2});
    const Doubles acc = conv_ref(xc, wc, nullptr, 2, g);
    EXPECT_EQ(out[0].shape(), concat({2, 6}, g.out_dims()));
    EXPECT_EQ(rel_l2(out[0], acc), 0.0);

    const Tensor x_s = Tensor::from_floats({0.05f}, {}), y_s = Tensor::from_floats({0.9f}, {});
    const Tensor w_s = Tensor::from_floats({0.01f, 0.02f, 0.03f, 0.015f, 0.025f, 0.01f}, {6});
    const Tensor y_zp = scalar_of(DType::kUInt8, 120);
    const Tensor bias = tensor_of(DType::kInt32, {6}, {100, -200, 0, 50, 3000, -7});
    const auto q =
        run_ok(make_node("QLinearConv", 9, 1, attrs), {&x, &x_s, &x_zp, &w, &w_s, &w_zp, &y_s, &y_zp, &bias});
    ASSERT_EQ(q[0].dtype(), DType::kUInt8);
    const Doubles ws = rtinfer::ir::to_doubles(w_s), bv = rtinfer::ir::to_doubles(bias);
    const int64_t osz = g.out[1] * g.out[2];
    Doubles want;
    for (size_t i = 0; i < acc.size(); ++i) {
        const size_t m = i / static_cast<size_t>(osz) % 6;
        want.push_back(requantize((acc[i] + bv[m]) * (static_cast<double>(0.05f) * ws[m] / static_cast<double>(0.9f)),
                                  120, DType::kUInt8));
    }
    EXPECT_EQ(rel_l2(q[0], want), 0.0);
}

// ---- MaxUnpool ----

TEST(NnMaxUnpool, InvertsMaxPoolWithIndices) {
    Rng rng;
    const Tensor x = random_tensor({2, 3, 6, 6}, rng);
    const Attrs attrs = {{"kernel_shape", attr_ints({2, 2})}, {"strides", attr_ints({2, 2})}};
    const auto pooled = run_ok(make_node("MaxPool", 1, 2, attrs), {&x});
    ASSERT_EQ(pooled.size(), 2u);
    const auto out = run_ok(make_node("MaxUnpool", 2, 1, attrs), {&pooled[0], &pooled[1]});
    EXPECT_EQ(out[0].shape(), x.shape());
    // x where it is the maximum of its 2x2 window, 0 elsewhere.
    const Doubles xv = rtinfer::ir::to_doubles(x);
    Doubles want(xv.size(), 0.0);
    for (int64_t p = 0; p < 6; ++p)
        for (int64_t r = 0; r < 6; r += 2)
            for (int64_t c = 0; c < 6; c += 2) {
                int64_t best = p * 36 + r * 6 + c;
                for (int64_t i : {p * 36 + r * 6 + c + 1, p * 36 + (r + 1) * 6 + c, p * 36 + (r + 1) * 6 + c + 1}) {
                    if (xv[i] > xv[best]) best = i;
                }
                want[best] = xv[best];
            }
    EXPECT_EQ(rel_l2(out[0], want), 0.0);

    // With output_shape [2, 3, 7, 8] the unpooled 6x6 planes sit at the origin, zero beyond (ONNX reference).
    const Tensor shape = Tensor::from_int64s({2, 3, 7, 8}, {4});
    const auto big = run_ok(make_node("MaxUnpool", 3, 1, attrs), {&pooled[0], &pooled[1], &shape});
    EXPECT_EQ(big[0].shape(), (Shape{2, 3, 7, 8}));
    Doubles want_big(2 * 3 * 7 * 8, 0.0);
    for (size_t i = 0; i < want.size(); ++i) want_big[i / 36 * 56 + i % 36 / 6 * 8 + i % 6] = want[i];
    EXPECT_EQ(rel_l2(big[0], want_big), 0.0);

    std::vector<Tensor> bad_out;
    const Tensor small = Tensor::from_int64s({2, 3, 5, 5}, {4});
    EXPECT_FALSE(run(make_node("MaxUnpool", 3, 1, attrs), {&pooled[0], &pooled[1], &small}, bad_out).is_ok());
    Tensor far = pooled[1].clone();
    far.data<int64_t>()[3] = 2 * 3 * 6 * 6;
    const Status s = run(make_node("MaxUnpool", 2, 1, attrs), {&pooled[0], &far}, bad_out);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("index 216"), std::string::npos) << s.message();
}

}  // namespace
