// Engine files: round trip, and every kind of bad file gives a clear kInvalidEngine, never a crash.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/runtime/engine_impl.h"
#include "core/serialize/engine_file.h"
#include "tests/unit/graph_builders.h"

using namespace rtinfer;
using namespace rtinfer::testing;

namespace {

// y = Relu(x + w) with a constant w, a node attribute of every kind that engines store.
serialize::EngineData small_engine() {
    serialize::EngineData e;
    e.sdk_version = runtime::sdk_version();
    e.device_key = "cpu";
    ir::Graph& g = e.graph;
    g.opsets[""] = 17;
    add_input(g, "x", {2, 3});
    add_constant(g, "w", random_tensor({2, 3}, 11));
    ir::Node& relu = add_node(g, "Relu", {"x"}, {"y"}, "relu");
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInts;
    a.ints = {1, -2, 3};
    relu.attrs["some_ints"] = a;
    a = ir::Attribute();
    a.kind = ir::Attribute::Kind::kTensor;
    a.t = random_tensor({4}, 12);
    relu.attrs["some_tensor"] = a;
    a = ir::Attribute();
    a.kind = ir::Attribute::Kind::kString;
    a.s = "hello";
    relu.attrs["some_string"] = a;
    g.at("y").dtype = DataType::kFloat32;
    g.at("y").shape = {2, 3};
    g.at("y").shape_known = true;
    g.outputs = {"y"};
    return e;
}

std::vector<uint8_t> bytes_of(const serialize::EngineData& e) {
    auto bytes = serialize::write_engine(e);
    EXPECT_TRUE(bytes.has_value());
    return bytes.has_value() ? *bytes : std::vector<uint8_t>();
}

Status load(const std::vector<uint8_t>& bytes) {
    auto engine = Engine::load_memory(bytes.data(), bytes.size());
    return engine.status();
}

}  // namespace

TEST(EngineFile, RoundTripKeepsGraphWeightsAndAttributes) {
    auto bytes = bytes_of(small_engine());
    auto copy = std::make_shared<std::vector<uint8_t>>(bytes);
    auto read = serialize::read_engine(copy->data(), copy->size(), copy, "test.engine", runtime::sdk_version());
    ASSERT_TRUE(read.has_value()) << read.status().to_string();
    const ir::Graph& g = read->graph;
    ASSERT_EQ(g.nodes.size(), 1u);
    EXPECT_EQ(g.nodes[0].attr_ints("some_ints"), (std::vector<int64_t>{1, -2, 3}));
    EXPECT_EQ(g.nodes[0].attr_string("some_string", ""), "hello");
    const ir::Tensor& t = g.nodes[0].attr("some_tensor")->t;
    const ir::Tensor expect = random_tensor({4}, 12);
    EXPECT_EQ(std::memcmp(t.raw(), expect.raw(), 16), 0);
    const ir::Tensor& w = g.at("w").constant;
    const ir::Tensor w0 = random_tensor({2, 3}, 11);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(w.raw()) % serialize::kWeightAlignment,
              reinterpret_cast<uintptr_t>(copy->data()) % serialize::kWeightAlignment);
    EXPECT_EQ(std::memcmp(w.raw(), w0.raw(), w0.nbytes()), 0);
    // Same engine, same bytes.
    EXPECT_EQ(bytes_of(small_engine()), bytes);
}

TEST(EngineFile, FlippedByteAnywhereIsRejected) {
    const auto good = bytes_of(small_engine());
    ASSERT_TRUE(load(good).is_ok()) << load(good).to_string();
    for (size_t pos = 0; pos < good.size(); pos += 7) {
        auto bad = good;
        bad[pos] ^= 0x5a;
        Status s = load(bad);
        ASSERT_FALSE(s.is_ok()) << "byte " << pos;
        EXPECT_EQ(s.code(), StatusCode::kInvalidEngine) << s.to_string();
    }
}

TEST(EngineFile, TruncatedFileIsRejectedAtEveryLength) {
    const auto good = bytes_of(small_engine());
    for (size_t len = 1; len < good.size(); len += 13) {
        std::vector<uint8_t> bad(good.begin(), good.begin() + static_cast<long>(len));
        Status s = load(bad);
        ASSERT_EQ(s.code(), StatusCode::kInvalidEngine) << len;
        if (len >= 8) {
            EXPECT_NE(s.message().find("truncated"), std::string::npos) << s.message();
        }
    }
}

TEST(EngineFile, ForeignVersionSaysRebuild) {
    serialize::EngineData e = small_engine();
    e.sdk_version = "0.0.1-other";
    Status s = load(bytes_of(e));
    EXPECT_EQ(s.code(), StatusCode::kInvalidEngine);
    EXPECT_NE(s.message().find("0.0.1-other"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("rebuild"), std::string::npos) << s.message();
}

TEST(EngineFile, OtherDeviceIsRejected) {
    serialize::EngineData e = small_engine();
    e.backend = Backend::kCuda;
    e.device_key = "cuda:Some Other GPU:sm_87:8";
    Status s = load(bytes_of(e));
    EXPECT_EQ(s.code(), StatusCode::kInvalidEngine);
    EXPECT_NE(s.message().find("Some Other GPU"), std::string::npos) << s.message();
}

TEST(EngineFile, NotAnEngine) {
    std::vector<uint8_t> junk(200, 'x');
    Status s = load(junk);
    EXPECT_EQ(s.code(), StatusCode::kInvalidEngine);
    EXPECT_NE(s.message().find("not an rtinfer engine"), std::string::npos);
}

TEST(EngineFile, MissingFileIsNotFound) {
    auto e = Engine::load_file("no/such/file.engine");
    EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
    EXPECT_NE(e.status().message().find("no/such/file.engine"), std::string::npos);
}

TEST(EngineFile, SaveAndLoadFileRunsTheSameGraph) {
    auto impl = std::make_shared<Engine::Impl>();
    impl->data = small_engine();
    runtime::describe_io(*impl);
    Engine engine(impl);
    const std::string path = ::testing::TempDir() + "/small.engine";
    ASSERT_TRUE(engine.save(path).is_ok());
    auto loaded = Engine::load_file(path);
    ASSERT_TRUE(loaded.has_value()) << loaded.status().to_string();
    auto ctx = (*loaded)->create_context();
    ASSERT_TRUE(ctx.has_value()) << ctx.status().to_string();
    ir::Tensor x = random_tensor({2, 3}, 99);
    std::vector<float> y(6, 123.0f);
    ASSERT_TRUE((*ctx)->set_tensor_address("x", x.raw()).is_ok());
    ASSERT_TRUE((*ctx)->set_tensor_address("y", y.data()).is_ok());
    ASSERT_TRUE((*ctx)->enqueue().is_ok());
    for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(y[static_cast<size_t>(i)], std::max(0.0f, x.data<float>()[i]));
    std::remove(path.c_str());
}
