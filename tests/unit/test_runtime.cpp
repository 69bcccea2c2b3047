// Builder + Engine + ExecutionContext end to end on small ONNX models made in the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <thread>

#include "core/runtime/extra_outputs.h"
#include "onnx/onnx.pb.h"
#include "rtinfer/builder.h"
#include "rtinfer/rtinfer.h"

using namespace rtinfer;

namespace {

using TP = ::onnx::TensorProto;

struct ModelMaker {
    ::onnx::ModelProto model;
    ModelMaker() {
        model.set_ir_version(8);
        auto* op = model.add_opset_import();
        op->set_domain("");
        op->set_version(17);
        model.mutable_graph()->set_name("g");
    }
    ::onnx::GraphProto& g() { return *model.mutable_graph(); }
    // -1 = a symbolic dim "N"
    static void type(::onnx::ValueInfoProto* vi, const std::string& name, std::vector<int64_t> dims, int elem) {
        vi->set_name(name);
        auto* tt = vi->mutable_type()->mutable_tensor_type();
        tt->set_elem_type(elem);
        for (int64_t d : dims) {
            if (d < 0) {
                tt->mutable_shape()->add_dim()->set_dim_param("N");
            } else {
                tt->mutable_shape()->add_dim()->set_dim_value(d);
            }
        }
    }
    void input(const std::string& n, std::vector<int64_t> d, int elem = TP::FLOAT) { type(g().add_input(), n, d, elem); }
    void output(const std::string& n, std::vector<int64_t> d, int elem = TP::FLOAT) { type(g().add_output(), n, d, elem); }
    ::onnx::NodeProto* node(const std::string& op, std::vector<std::string> in, std::vector<std::string> out) {
        auto* n = g().add_node();
        n->set_op_type(op);
        n->set_name(op + "_" + std::to_string(g().node_size()));
        for (auto& s : in) n->add_input(s);
        for (auto& s : out) n->add_output(s);
        return n;
    }
    void int64_init(const std::string& name, std::vector<int64_t> values) {
        TP* t = g().add_initializer();
        t->set_name(name);
        t->set_data_type(TP::INT64);
        t->add_dims(static_cast<int64_t>(values.size()));
        for (int64_t v : values) t->add_int64_data(v);
    }
    std::string bytes() const { return model.SerializeAsString(); }
};

// y = Reshape(Relu(x), [Shape(x)[0], -1]): the shape arithmetic depends on the dynamic batch.
ModelMaker flatten_model() {
    ModelMaker m;
    m.input("x", {-1, 3, 4});
    m.int64_init("zero", {0});
    m.int64_init("minus_one", {-1});
    m.node("Relu", {"x"}, {"r"});
    m.node("Shape", {"x"}, {"s"});
    m.node("Gather", {"s", "zero"}, {"n"});
    m.node("Concat", {"n", "minus_one"}, {"target"})->add_attribute()->CopyFrom([] {
        ::onnx::AttributeProto a;
        a.set_name("axis");
        a.set_type(::onnx::AttributeProto::INT);
        a.set_i(0);
        return a;
    }());
    m.node("Reshape", {"r", "target"}, {"y"});
    m.output("y", {-1, 12});
    return m;
}

std::vector<float> nonzero_data(size_t n, float offset) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = (static_cast<float>(i % 7) - 3.0f + offset) * 0.37f + 0.01f;
    return v;
}

Expected<std::unique_ptr<Engine>> build(const ModelMaker& m, BuilderConfig config = BuilderConfig()) {
    const std::string b = m.bytes();
    return Builder().build_from_memory(b.data(), b.size(), config, "test.onnx");
}

void run_flatten(ExecutionContext& ctx, int batch, float offset) {
    ASSERT_TRUE(ctx.set_batch(batch).is_ok());
    auto x = nonzero_data(static_cast<size_t>(batch) * 12, offset);
    std::vector<float> y(x.size(), -99.0f);
    ASSERT_TRUE(ctx.set_tensor_address("x", x.data()).is_ok());
    ASSERT_TRUE(ctx.set_tensor_address("y", y.data()).is_ok());
    Status s = ctx.enqueue();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    auto desc = ctx.tensor_desc("y");
    ASSERT_TRUE(desc.has_value());
    EXPECT_EQ(desc->dims, (std::vector<int64_t>{batch, 12}));
    for (size_t i = 0; i < x.size(); ++i) ASSERT_FLOAT_EQ(y[i], std::max(0.0f, x[i])) << i;
}

}  // namespace

TEST(Runtime, DynamicBatchShapeArithmeticFollowsTheBatch) {
    BuilderConfig config;
    config.max_batch = 4;
    config.opt_batch = 2;
    auto engine = build(flatten_model(), config);
    ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
    EXPECT_EQ((*engine)->inputs()[0].dims, (std::vector<int64_t>{-1, 3, 4}));
    EXPECT_EQ((*engine)->outputs()[0].dims, (std::vector<int64_t>{-1, 12}));
    EXPECT_EQ((*engine)->max_batch(), 4);
    auto ctx = (*engine)->create_context();
    ASSERT_TRUE(ctx.has_value());
    run_flatten(**ctx, 1, 0.0f);
    run_flatten(**ctx, 4, 0.5f);
    run_flatten(**ctx, 3, -0.25f);
    EXPECT_EQ((*ctx)->set_batch(5).code(), StatusCode::kInvalidArgument);
}

TEST(Runtime, ContextsOnManyThreadsShareOneEngine) {
    BuilderConfig config;
    config.max_batch = 4;
    auto engine = build(flatten_model(), config);
    ASSERT_TRUE(engine.has_value());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            auto ctx = (*engine)->create_context();
            ASSERT_TRUE(ctx.has_value());
            for (int i = 0; i < 20; ++i) run_flatten(**ctx, 1 + (t + i) % 4, static_cast<float>(t) * 0.1f);
        });
    }
    for (auto& th : threads) th.join();
}

TEST(Runtime, SerializedEngineRunsTheSameAndIsByteIdentical) {
    BuilderConfig config;
    config.max_batch = 2;
    auto a = build(flatten_model(), config);
    auto b = build(flatten_model(), config);
    ASSERT_TRUE(a.has_value() && b.has_value());
    auto bytes_a = (*a)->serialize();
    auto bytes_b = (*b)->serialize();
    ASSERT_TRUE(bytes_a.has_value() && bytes_b.has_value());
    EXPECT_EQ(*bytes_a, *bytes_b);
    auto loaded = Engine::load_memory(bytes_a->data(), bytes_a->size());
    ASSERT_TRUE(loaded.has_value()) << loaded.status().to_string();
    auto ctx = (*loaded)->create_context();
    ASSERT_TRUE(ctx.has_value());
    run_flatten(**ctx, 2, 0.3f);
}

TEST(Runtime, StaticBatchModelRejectsABatchProfile) {
    ModelMaker m;
    m.input("x", {1, 4});
    m.node("Relu", {"x"}, {"y"});
    m.output("y", {1, 4});
    BuilderConfig config;
    config.max_batch = 8;
    auto engine = build(m, config);
    ASSERT_FALSE(engine.has_value());
    EXPECT_EQ(engine.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(engine.status().message().find("static batch of 1"), std::string::npos) << engine.status().message();
}

TEST(Runtime, DynamicNonBatchDimensionIsNamed) {
    ModelMaker m;
    m.input("img", {1, -1});
    m.node("Relu", {"img"}, {"y"});
    m.output("y", {1, -1});
    auto engine = build(m);
    ASSERT_FALSE(engine.has_value());
    EXPECT_EQ(engine.status().code(), StatusCode::kUnsupported);
    EXPECT_NE(engine.status().message().find("'img'"), std::string::npos) << engine.status().message();
}

TEST(Runtime, UnknownOpFailsNamingTheNode) {
    ModelMaker m;
    m.input("x", {2});
    m.node("FancyOp", {"x"}, {"y"})->set_name("my_fancy_node");
    m.output("y", {2});
    auto engine = build(m);
    ASSERT_FALSE(engine.has_value());
    EXPECT_EQ(engine.status().code(), StatusCode::kUnsupported);
    EXPECT_NE(engine.status().message().find("my_fancy_node"), std::string::npos) << engine.status().message();
    EXPECT_NE(engine.status().message().find("FancyOp"), std::string::npos);
}

TEST(Runtime, DataDependentOutputIsReadThroughOutputData) {
    ModelMaker m;
    m.input("x", {6});
    m.node("NonZero", {"x"}, {"y"});
    m.output("y", {1, -1}, TP::INT64);
    auto engine = build(m);
    ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
    auto ctx = (*engine)->create_context();
    ASSERT_TRUE(ctx.has_value());
    std::vector<float> x = {0.0f, 1.5f, 0.0f, -2.0f, 3.0f, 0.0f};
    ASSERT_TRUE((*ctx)->set_tensor_address("x", x.data()).is_ok());
    ASSERT_TRUE((*ctx)->enqueue().is_ok());
    auto desc = (*ctx)->tensor_desc("y");
    ASSERT_TRUE(desc.has_value());
    EXPECT_EQ(desc->dims, (std::vector<int64_t>{1, 3}));
    auto data = (*ctx)->output_data("y");
    ASSERT_TRUE(data.has_value());
    const auto* idx = static_cast<const int64_t*>(*data);
    EXPECT_EQ(std::vector<int64_t>(idx, idx + 3), (std::vector<int64_t>{1, 3, 4}));
}

TEST(Runtime, MissingInputAddressIsAnError) {
    ModelMaker m;
    m.input("x", {2});
    m.node("Relu", {"x"}, {"y"});
    m.output("y", {2});
    auto engine = build(m);
    ASSERT_TRUE(engine.has_value());
    auto ctx = (*engine)->create_context();
    Status s = (*ctx)->enqueue();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("'x'"), std::string::npos);
    EXPECT_EQ((*ctx)->set_tensor_address("nope", nullptr).code(), StatusCode::kNotFound);
}

TEST(CApi, BuildRunAndReportErrors) {
    ModelMaker m;
    m.input("x", {-1, 3});
    m.node("Relu", {"x"}, {"y"});
    m.output("y", {-1, 3});
    const std::string path = ::testing::TempDir() + "/capi_relu.onnx";
    {
        std::ofstream f(path, std::ios::binary);
        f << m.bytes();
    }
    rt_build_options options{};
    options.max_batch = 2;
    rt_engine* engine = nullptr;
    ASSERT_EQ(rt_engine_build(path.c_str(), &options, &engine), 0) << rt_last_error();
    ASSERT_EQ(rt_engine_num_inputs(engine), 1);
    EXPECT_STREQ(rt_engine_input_name(engine, 0), "x");
    EXPECT_EQ(rt_engine_input_name(engine, 1), nullptr);
    rt_context* ctx = nullptr;
    ASSERT_EQ(rt_context_create(engine, &ctx), 0);
    ASSERT_EQ(rt_context_set_batch(ctx, 2), 0);
    int64_t dims[4];
    int rank = 0;
    ASSERT_EQ(rt_context_tensor_shape(ctx, "y", dims, 4, &rank), 0);
    EXPECT_EQ(rank, 2);
    EXPECT_EQ(dims[0], 2);
    float x[6] = {-1, 2, -3, 4, -5, 6}, y[6] = {};
    rt_context_set_tensor_address(ctx, "x", x);
    rt_context_set_tensor_address(ctx, "y", y);
    ASSERT_EQ(rt_context_enqueue(ctx, nullptr), 0);
    EXPECT_FLOAT_EQ(y[1], 2.0f);
    EXPECT_FLOAT_EQ(y[2], 0.0f);
    EXPECT_NE(rt_context_set_batch(ctx, 3), 0);
    EXPECT_NE(std::string(rt_last_error()).find("batch 3"), std::string::npos) << rt_last_error();
    rt_context_destroy(ctx);
    rt_engine_destroy(engine);

    rt_engine* missing = nullptr;
    EXPECT_EQ(rt_engine_load("no/such.engine", &missing), static_cast<int>(StatusCode::kNotFound));
    EXPECT_NE(std::string(rt_last_error()).find("no/such.engine"), std::string::npos);
    EXPECT_EQ(missing, nullptr);
}

// Reshape, Unsqueeze and Flatten of intermediates are views of their input's memory: the chain below must
// compute exactly what the ops say, including where a view and the tensor it views are both read later,
// and the views must not run as layers of their own.
TEST(Runtime, ReshapeFamilyViewsShareMemoryAndComputeTheSame) {
    ModelMaker m;
    m.input("x", {2, 6});
    m.int64_init("shape", {3, 4});
    m.int64_init("axes", {0});
    m.node("Relu", {"x"}, {"r"});                 // r [2, 6], intermediate
    m.node("Reshape", {"r", "shape"}, {"v"});     // v [3, 4], a view of r
    m.node("Unsqueeze", {"v", "axes"}, {"u"});    // u [1, 3, 4], a view of v (and so of r)
    m.node("Sigmoid", {"u"}, {"s"});              // s [1, 3, 4]
    auto* f = m.node("Flatten", {"s"}, {"fl"});   // fl [1, 12], a view of s
    auto* a = f->add_attribute();
    a->set_name("axis");
    a->set_type(::onnx::AttributeProto::INT);
    a->set_i(1);
    m.node("Flatten", {"r"}, {"rf"});             // rf [2, 6], another view of r, read after s was computed
    m.node("Reshape", {"fl", "shape"}, {"fv"});   // fv [3, 4]
    m.node("Reshape", {"rf", "shape"}, {"rv"});   // rv [3, 4]
    m.node("Add", {"fv", "rv"}, {"y"});           // y = sigmoid(relu(x)) + relu(x), as [3, 4]
    m.output("y", {3, 4});
    const std::string bytes = m.bytes();
    BuilderConfig bc;
    auto engine = Builder().build_from_memory(bytes.data(), bytes.size(), bc);
    ASSERT_TRUE(engine.has_value()) << engine.status().message();
    auto ctx = (*engine)->create_context();
    ASSERT_TRUE(ctx.has_value()) << ctx.status().message();
    std::vector<float> x = {-1.5f, 2.0f, 0.25f, -0.5f, 3.0f, 1.0f, 0.75f, -2.0f, 4.0f, -0.1f, 0.5f, 1.5f};
    std::vector<float> y(12, -99.0f);
    ASSERT_TRUE((*ctx)->set_tensor_address("x", x.data()).is_ok());
    ASSERT_TRUE((*ctx)->set_tensor_address("y", y.data()).is_ok());
    ASSERT_TRUE((*ctx)->enqueue().is_ok());
    for (size_t i = 0; i < 12; ++i) {
        const float r = std::max(0.0f, x[i]);
        EXPECT_FLOAT_EQ(y[i], 1.0f / (1.0f + std::exp(-r)) + r) << i;
    }
    auto layers = (*ctx)->profile(1);
    ASSERT_TRUE(layers.has_value()) << layers.status().message();
    std::vector<std::string> ran;
    for (const auto& l : *layers) ran.push_back(l.op_type);
    EXPECT_EQ(ran, (std::vector<std::string>{"Relu", "Sigmoid", "Add"}));
}

namespace {

// y = Tanh(Concat(Relu(x), Sigmoid(x), axis 1)), z = Neg(Relu(x)) read after the Concat.
ModelMaker concat_model(int64_t batch, int64_t width) {
    ModelMaker m;
    m.input("x", {batch, width});
    m.node("Relu", {"x"}, {"a"});
    m.node("Sigmoid", {"x"}, {"b"});
    auto* c = m.node("Concat", {"a", "b"}, {"c"});
    auto* axis = c->add_attribute();
    axis->set_name("axis");
    axis->set_type(::onnx::AttributeProto::INT);
    axis->set_i(1);
    m.node("Tanh", {"c"}, {"y"});
    m.node("Neg", {"a"}, {"z"});
    m.output("y", {batch, 2 * width});
    m.output("z", {batch, width});
    return m;
}

struct ConcatRun {
    std::vector<std::string> ran;
    uint64_t activation_bytes = 0;
};

ConcatRun run_concat_model(int64_t batch, int64_t width) {
    const std::string bytes = concat_model(batch, width).bytes();
    auto engine = Builder().build_from_memory(bytes.data(), bytes.size(), BuilderConfig());
    EXPECT_TRUE(engine.has_value()) << engine.status().message();
    auto ctx = (*engine)->create_context();
    EXPECT_TRUE(ctx.has_value()) << ctx.status().message();
    std::vector<float> x(static_cast<size_t>(batch * width));
    for (size_t i = 0; i < x.size(); ++i) x[i] = 0.37f * static_cast<float>(i % 11) - 1.9f;
    std::vector<float> y(x.size() * 2, -99.0f), z(x.size(), -99.0f);
    EXPECT_TRUE((*ctx)->set_tensor_address("x", x.data()).is_ok());
    EXPECT_TRUE((*ctx)->set_tensor_address("y", y.data()).is_ok());
    EXPECT_TRUE((*ctx)->set_tensor_address("z", z.data()).is_ok());
    EXPECT_TRUE((*ctx)->enqueue().is_ok());
    for (int64_t n = 0; n < batch; ++n) {
        for (int64_t i = 0; i < width; ++i) {
            const float v = x[static_cast<size_t>(n * width + i)], r = std::max(0.0f, v);
            EXPECT_FLOAT_EQ(y[static_cast<size_t>(n * 2 * width + i)], std::tanh(r));
            EXPECT_FLOAT_EQ(y[static_cast<size_t>(n * 2 * width + width + i)], std::tanh(1.0f / (1.0f + std::exp(-v))));
            EXPECT_FLOAT_EQ(z[static_cast<size_t>(n * width + i)], -r);
        }
    }
    ConcatRun out;
    auto layers = (*ctx)->profile(1);
    EXPECT_TRUE(layers.has_value()) << layers.status().message();
    if (layers.has_value()) {
        for (const auto& l : *layers) out.ran.push_back(l.op_type);
    }
    out.activation_bytes = (*ctx)->activation_bytes();
    return out;
}

}  // namespace

TEST(Runtime, ConcatOfContiguousSlicesIsElidedIntoItsProducers) {
    // 64 floats per input: each slice is 256 bytes, so both start aligned in the Concat's buffer.
    const ConcatRun run = run_concat_model(1, 64);
    EXPECT_EQ(run.ran, (std::vector<std::string>{"Relu", "Sigmoid", "Tanh", "Neg"}));
    // Relu and Sigmoid write into the Concat's 512 bytes; nothing else is live beside it.
    EXPECT_EQ(run.activation_bytes, 512u);
}

TEST(Runtime, ConcatRunsWhenSlicesAreStridedOrMisaligned) {
    // Batch 2 before the axis: each input is two strided pieces of the output.
    const ConcatRun strided = run_concat_model(2, 64);
    EXPECT_EQ(strided.ran, (std::vector<std::string>{"Relu", "Sigmoid", "Concat", "Tanh", "Neg"}));
    // 12-byte slices: the second would start off the 256-byte alignment.
    const ConcatRun misaligned = run_concat_model(1, 3);
    EXPECT_EQ(misaligned.ran, (std::vector<std::string>{"Relu", "Sigmoid", "Concat", "Tanh", "Neg"}));
}

namespace {

// y = Sigmoid(Gather(Relu(x), index, axis 0)): x [3, rows, width] floats, one block of it picked.
std::vector<std::string> run_gather_model(int64_t rows, int64_t width, int64_t index) {
    ModelMaker m;
    m.input("x", {3, rows, width});
    TP* t = m.g().add_initializer();  // a scalar index: the axis goes away
    t->set_name("index");
    t->set_data_type(TP::INT64);
    t->add_int64_data(index);
    m.node("Relu", {"x"}, {"r"});
    m.node("Gather", {"r", "index"}, {"g"});
    m.node("Sigmoid", {"g"}, {"y"});
    m.output("y", {rows, width});
    const std::string bytes = m.bytes();
    auto engine = Builder().build_from_memory(bytes.data(), bytes.size(), BuilderConfig());
    EXPECT_TRUE(engine.has_value()) << engine.status().message();
    auto ctx = (*engine)->create_context();
    EXPECT_TRUE(ctx.has_value()) << ctx.status().message();
    const int64_t block = rows * width;
    std::vector<float> x(static_cast<size_t>(3 * block)), y(static_cast<size_t>(block), -99.0f);
    for (size_t i = 0; i < x.size(); ++i) x[i] = 0.29f * static_cast<float>(i % 13) - 1.7f;
    EXPECT_TRUE((*ctx)->set_tensor_address("x", x.data()).is_ok());
    EXPECT_TRUE((*ctx)->set_tensor_address("y", y.data()).is_ok());
    EXPECT_TRUE((*ctx)->enqueue().is_ok());
    const int64_t picked = (index + 3) % 3;
    for (size_t i = 0; i < y.size(); ++i) {
        const float r = std::max(0.0f, x[static_cast<size_t>(picked * block) + i]);
        EXPECT_FLOAT_EQ(y[i], 1.0f / (1.0f + std::exp(-r))) << i;
    }
    std::vector<std::string> ran;
    auto layers = (*ctx)->profile(1);
    EXPECT_TRUE(layers.has_value()) << layers.status().message();
    if (layers.has_value()) {
        for (const auto& l : *layers) ran.push_back(l.op_type);
    }
    return ran;
}

}  // namespace

TEST(Runtime, GatherOfALeadingBlockIsAView) {
    const std::vector<std::string> viewed = {"Relu", "Sigmoid"}, copied = {"Relu", "Gather", "Sigmoid"};
    // Blocks of 4 x 64 floats (1 KiB): block 1 (and -1, the last) start 256-byte aligned in the Relu's buffer.
    EXPECT_EQ(run_gather_model(4, 64, 1), viewed);
    EXPECT_EQ(run_gather_model(4, 64, -1), viewed);
    // Blocks of 12 bytes: block 1 would start off the alignment, so the Gather copies.
    EXPECT_EQ(run_gather_model(1, 3, 1), copied);
    // Block 0 starts at the buffer itself, aligned whatever its size.
    EXPECT_EQ(run_gather_model(1, 3, 0), viewed);
}

TEST(Runtime, ExtraOutputsReturnIntermediateTensors) {
    // y = Abs(Reshape(Tanh(Neg(Reshape(Sigmoid(Relu(x)), [-1, 3]))), [-1, 6])): a dies after b, so without being
    // outputs c could take a's arena memory; v is a view of b.
    ModelMaker m;
    m.input("x", {-1, 6});
    m.int64_init("rows3", {-1, 3});
    m.int64_init("rows6", {-1, 6});
    m.node("Relu", {"x"}, {"a"});
    m.node("Sigmoid", {"a"}, {"b"});
    m.node("Reshape", {"b", "rows3"}, {"v"});
    m.node("Neg", {"v"}, {"c"});
    m.node("Tanh", {"c"}, {"d"});
    m.node("Reshape", {"d", "rows6"}, {"e"});
    m.node("Abs", {"e"}, {"y"});
    m.output("y", {-1, 6});
    BuilderConfig config;
    config.max_batch = 4;
    auto engine = build(m, config);
    ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
    auto extended = runtime::with_extra_outputs(**engine, {"a", "v", "c", "y"});
    ASSERT_TRUE(extended.has_value()) << extended.status().to_string();
    std::vector<std::string> names;
    for (const auto& d : (*extended)->outputs()) names.push_back(d.name);
    EXPECT_EQ(names, (std::vector<std::string>{"y", "a", "v", "c"}));
    EXPECT_EQ((*engine)->outputs().size(), 1u);

    auto ctx = (*extended)->create_context();
    ASSERT_TRUE(ctx.has_value()) << ctx.status().to_string();
    ASSERT_TRUE((*ctx)->set_batch(2).is_ok());
    auto v_desc = (*ctx)->tensor_desc("v");
    ASSERT_TRUE(v_desc.has_value()) << v_desc.status().to_string();
    EXPECT_EQ(v_desc->dims, (std::vector<int64_t>{4, 3}));
    std::vector<float> x = nonzero_data(12, 0.5f), y(12, -99.0f), a(12, -99.0f), v(12, -99.0f);
    ASSERT_TRUE((*ctx)->set_tensor_address("x", x.data()).is_ok());
    ASSERT_TRUE((*ctx)->set_tensor_address("y", y.data()).is_ok());
    ASSERT_TRUE((*ctx)->set_tensor_address("a", a.data()).is_ok());
    ASSERT_TRUE((*ctx)->set_tensor_address("v", v.data()).is_ok());
    Status s = (*ctx)->enqueue();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    auto c_data = (*ctx)->output_data("c");  // not bound: the context keeps it
    ASSERT_TRUE(c_data.has_value()) << c_data.status().to_string();
    const float* c = static_cast<const float*>(*c_data);
    for (size_t i = 0; i < x.size(); ++i) {
        const float relu = std::max(0.0f, x[i]), sigmoid = 1.0f / (1.0f + std::exp(-relu));
        EXPECT_FLOAT_EQ(a[i], relu) << i;
        EXPECT_FLOAT_EQ(v[i], sigmoid) << i;
        EXPECT_FLOAT_EQ(c[i], -sigmoid) << i;
        EXPECT_NEAR(y[i], std::fabs(std::tanh(-sigmoid)), 1e-6f) << i;
    }

    // The source engine's contexts still know only its own output.
    auto plain = (*engine)->create_context();
    ASSERT_TRUE(plain.has_value());
    EXPECT_EQ((*plain)->tensor_desc("a").status().code(), StatusCode::kNotFound);

    auto unknown = runtime::with_extra_outputs(**engine, {"a", "nope"});
    ASSERT_FALSE(unknown.has_value());
    EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
    EXPECT_NE(unknown.status().message().find("'nope'"), std::string::npos);
    auto input = runtime::with_extra_outputs(**engine, {"x"});
    ASSERT_FALSE(input.has_value());
    EXPECT_EQ(input.status().code(), StatusCode::kInvalidArgument);
}
