// The ONNX importer: models are built here with the generated protobuf API, written to a temp folder and
// imported back; malformed files must give errors that name the file and the node or initializer at fault.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/ir/half.h"
#include "core/onnx/importer.h"
#include "onnx/onnx.pb.h"

namespace fs = std::filesystem;
using rtinfer::StatusCode;
using rtinfer::ir::DType;
using rtinfer::ir::Graph;
using rtinfer::ir::Tensor;
using rtinfer::onnx::import_model_bytes;
using rtinfer::onnx::import_model_file;
using rtinfer::onnx::import_tensor_file;

namespace {

using TP = ::onnx::TensorProto;

class OnnxImporter : public ::testing::Test {
protected:
    void SetUp() override {
        static int counter = 0;
        dir_ = fs::temp_directory_path() /
               ("rtinfer_onnx_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::create_directories(dir_);
        model_.set_ir_version(8);
        set_opset(13);
        model_.mutable_graph()->set_name("g");
    }
    void TearDown() override { fs::remove_all(dir_); }

    ::onnx::GraphProto& graph() { return *model_.mutable_graph(); }
    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    void set_opset(int64_t version) {
        model_.clear_opset_import();
        auto* op = model_.add_opset_import();
        op->set_domain("");
        op->set_version(version);
    }

    // dims: a number is dim_value, -1 is a symbolic dim_param "N".
    static void set_type(::onnx::ValueInfoProto* vi, const std::string& name, int elem, std::vector<int64_t> dims) {
        vi->set_name(name);
        auto* tt = vi->mutable_type()->mutable_tensor_type();
        tt->set_elem_type(elem);
        auto* shape = tt->mutable_shape();
        for (int64_t d : dims) {
            if (d < 0) {
                shape->add_dim()->set_dim_param("N");
            } else {
                shape->add_dim()->set_dim_value(d);
            }
        }
    }
    void add_input(const std::string& name, std::vector<int64_t> dims, int elem = TP::FLOAT) {
        set_type(graph().add_input(), name, elem, std::move(dims));
    }
    void add_output(const std::string& name, std::vector<int64_t> dims, int elem = TP::FLOAT) {
        set_type(graph().add_output(), name, elem, std::move(dims));
    }
    static ::onnx::NodeProto* add_node(::onnx::GraphProto& g, const std::string& op, std::vector<std::string> in,
                                       std::vector<std::string> out, const std::string& name = "") {
        auto* n = g.add_node();
        n->set_op_type(op);
        n->set_name(name);
        for (auto& s : in) n->add_input(s);
        for (auto& s : out) n->add_output(s);
        return n;
    }
    ::onnx::NodeProto* add_node(const std::string& op, std::vector<std::string> in, std::vector<std::string> out,
                                const std::string& name = "") {
        return add_node(graph(), op, std::move(in), std::move(out), name);
    }
    static TP* float_initializer(::onnx::GraphProto& g, const std::string& name, std::vector<int64_t> dims,
                                 const std::vector<float>& values) {
        TP* t = g.add_initializer();
        t->set_name(name);
        t->set_data_type(TP::FLOAT);
        for (int64_t d : dims) t->add_dims(d);
        for (float v : values) t->add_float_data(v);
        return t;
    }

    std::string write_model(const std::string& name = "model.onnx") {
        std::string p = path(name);
        std::ofstream f(p, std::ios::binary);
        model_.SerializeToOstream(&f);
        return p;
    }
    rtinfer::Expected<Graph> import_written() { return import_model_file(write_model()); }

    fs::path dir_;
    ::onnx::ModelProto model_;
};

std::vector<float> random_nonzero(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> mag(0.25f, 4.0f);
    std::vector<float> v(n);
    for (auto& x : v) x = (rng() & 1 ? 1.0f : -1.0f) * mag(rng);
    return v;
}

template <class T>
std::vector<T> values_of(const Tensor& t) {
    return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

void expect_error(const rtinfer::Expected<Graph>& g, StatusCode code, const std::vector<std::string>& parts) {
    ASSERT_FALSE(g.has_value());
    EXPECT_EQ(g.status().code(), code) << g.status().to_string();
    for (const auto& part : parts) {
        EXPECT_NE(g.status().message().find(part), std::string::npos)
            << "'" << part << "' missing from: " << g.status().message();
    }
}

TEST_F(OnnxImporter, ImportsGraphWithInputsInitializersNodesAndOutputs) {
    add_input("X", {-1, 3});
    const auto w = random_nonzero(3, 1);
    float_initializer(graph(), "W", {3}, w);
    add_node("Add", {"X", "W"}, {"S"}, "add");
    add_node("Relu", {"S"}, {"Y"});
    add_output("Y", {-1, 3});
    auto g = import_written();
    ASSERT_TRUE(g.has_value()) << g.status().to_string();
    EXPECT_EQ(g->inputs, std::vector<std::string>{"X"});
    EXPECT_EQ(g->outputs, std::vector<std::string>{"Y"});
    EXPECT_EQ(g->opset(""), 13);
    const auto& x = g->at("X");
    EXPECT_EQ(x.dtype, DType::kFloat32);
    EXPECT_TRUE(x.shape_known);
    EXPECT_EQ(x.shape, (rtinfer::ir::Shape{-1, 3}));
    ASSERT_TRUE(g->at("W").is_constant());
    EXPECT_EQ(values_of<float>(g->at("W").constant), w);
    EXPECT_EQ(g->at("W").shape, (rtinfer::ir::Shape{3}));
    ASSERT_EQ(g->nodes.size(), 2u);
    EXPECT_EQ(g->nodes[0].name, "add");
    EXPECT_EQ(g->nodes[0].op_type, "Add");
    EXPECT_EQ(g->nodes[1].name, "Relu_1");  // generated from the op type and index
    ASSERT_NE(g->find("S"), nullptr);
    EXPECT_EQ(g->at("Y").dtype, DType::kFloat32);
    EXPECT_EQ(g->at("Y").shape, (rtinfer::ir::Shape{-1, 3}));
    EXPECT_TRUE(g->validate().is_ok()) << g->validate().to_string();
}

TEST_F(OnnxImporter, TypedRawAndExternalInitializersGiveTheSameTensor) {
    const auto values = random_nonzero(24, 2);
    float_initializer(graph(), "typed", {2, 3, 4}, values);
    TP* raw = graph().add_initializer();
    raw->set_name("raw");
    raw->set_data_type(TP::FLOAT);
    for (int64_t d : {2, 3, 4}) raw->add_dims(d);
    raw->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
    // The external file holds other bytes before the tensor, so the offset matters.
    {
        std::ofstream f(path("weights.bin"), std::ios::binary);
        f.write("0123456789abcdef", 16);
        f.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * 4));
    }
    TP* ext = graph().add_initializer();
    ext->set_name("ext");
    ext->set_data_type(TP::FLOAT);
    for (int64_t d : {2, 3, 4}) ext->add_dims(d);
    ext->set_data_location(TP::EXTERNAL);
    auto kv = [&](const char* k, const std::string& v) {
        auto* e = ext->add_external_data();
        e->set_key(k);
        e->set_value(v);
    };
    kv("location", "weights.bin");
    kv("offset", "16");
    kv("length", "96");
    // int64 typed vs raw too: a type with its own typed field.
    TP* i64 = graph().add_initializer();
    i64->set_name("i64_typed");
    i64->set_data_type(TP::INT64);
    i64->add_dims(3);
    const std::vector<int64_t> ints = {-7, 1LL << 40, 3};
    for (int64_t v : ints) i64->add_int64_data(v);
    TP* i64raw = graph().add_initializer();
    *i64raw = *i64;
    i64raw->set_name("i64_raw");
    i64raw->clear_int64_data();
    i64raw->set_raw_data(std::string(reinterpret_cast<const char*>(ints.data()), 24));
    add_node("Add", {"typed", "raw"}, {"a"});
    add_node("Add", {"a", "ext"}, {"b"});
    add_output("b", {2, 3, 4});
    auto g = import_written();
    ASSERT_TRUE(g.has_value()) << g.status().to_string();
    for (const char* name : {"typed", "raw", "ext"}) {
        const Tensor& t = g->at(name).constant;
        EXPECT_EQ(t.dtype(), DType::kFloat32) << name;
        EXPECT_EQ(t.shape(), (rtinfer::ir::Shape{2, 3, 4})) << name;
        EXPECT_EQ(values_of<float>(t), values) << name;
    }
    EXPECT_EQ(values_of<int64_t>(g->at("i64_typed").constant), ints);
    EXPECT_EQ(values_of<int64_t>(g->at("i64_raw").constant), ints);
}

TEST_F(OnnxImporter, Int32DataHoldsFloat16BitsAndSmallIntegers) {
    TP* h = graph().add_initializer();
    h->set_name("h");
    h->set_data_type(TP::FLOAT16);
    h->add_dims(4);
    for (int bits : {0x3C00, 0xC000, 0x7BFF, 0x3555}) h->add_int32_data(bits);
    TP* i8 = graph().add_initializer();
    i8->set_name("i8");
    i8->set_data_type(TP::INT8);
    i8->add_dims(3);
    for (int v : {-128, 5, 127}) i8->add_int32_data(v);
    TP* b = graph().add_initializer();
    b->set_name("b");
    b->set_data_type(TP::BOOL);
    b->add_dims(3);
    for (int v : {1, 0, 1}) b->add_int32_data(v);
    add_output("h", {4}, TP::FLOAT16);
    auto g = import_written();
    ASSERT_TRUE(g.has_value()) << g.status().to_string();
    const Tensor& t = g->at("h").constant;
    ASSERT_EQ(t.dtype(), DType::kFloat16);
    EXPECT_EQ(values_of<uint16_t>(t), (std::vector<uint16_t>{0x3C00, 0xC000, 0x7BFF, 0x3555}));
    EXPECT_EQ(rtinfer::ir::half_to_float(t.data<uint16_t>()[1]), -2.0f);
    EXPECT_EQ(rtinfer::ir::half_to_float(t.data<uint16_t>()[2]), 65504.0f);
    EXPECT_EQ(values_of<int8_t>(g->at("i8").constant), (std::vector<int8_t>{-128, 5, 127}));
    EXPECT_EQ(values_of<uint8_t>(g->at("b").constant), (std::vector<uint8_t>{1, 0, 1}));
}

TEST_F(OnnxImporter, Int32DataOutOfRangeForInt8NamesTheInitializer) {
    TP* i8 = graph().add_initializer();
    i8->set_name("q");
    i8->set_data_type(TP::UINT8);
    i8->add_dims(2);
    i8->add_int32_data(1);
    i8->add_int32_data(300);
    add_output("q", {2}, TP::UINT8);
    expect_error(import_written(), StatusCode::kInvalidModel, {"initializer 'q'", "300", "uint8"});
}

TEST_F(OnnxImporter, SymbolicAndMissingDimsBecomeMinusOne) {
    add_input("X", {-1, 3, 224, 224});
    auto* vi = graph().add_input();
    vi->set_name("Z");
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(TP::INT64);
    tt->mutable_shape()->add_dim();  // neither dim_value nor dim_param
    auto* norank = graph().add_input();
    norank->set_name("R");
    norank->mutable_type()->mutable_tensor_type()->set_elem_type(TP::BOOL);
    add_node("Identity", {"X"}, {"Y"});
    add_node("Identity", {"Z"}, {"Z2"});
    add_node("Identity", {"R"}, {"R2"});
    add_output("Y", {-1, 3, 224, 224});
    auto g = import_written();
    ASSERT_TRUE(g.has_value()) << g.status().to_string();
    EXPECT_EQ(g->at("X").shape, (rtinfer::ir::Shape{-1, 3, 224, 224}));
    EXPECT_EQ(g->at("Z").shape, (rtinfer::ir::Shape{-1}));
    EXPECT_EQ(g->at("Z").dtype, DType::kInt64);
    EXPECT_TRUE(g->at("Z").shape_known);
    EXPECT_FALSE(g->at("R").shape_known);
    EXPECT_EQ(g->at("R").dtype, DType::kBool);
}

TEST_F(OnnxImporter, InitializerListedAsInputIsNotARuntimeInput) {
    model_.set_ir_version(3);
    add_input("X", {2});
    add_input("W", {2});
    float_initializer(graph(), "W", {2}, {1.5f, -2.0f});
    add_node("Mul", {"X", "W"}, {"Y"});
    add_output("Y", {2});
    auto g = import_written();
    ASSERT_TRUE(g.has_value()) << g.status().to_string();
    EXPECT_EQ(g->inputs, std::vector<std::string>{"X"});
    EXPECT_TRUE(g->at("W").is_constant());
}

TEST_F(OnnxImporter, TruncatedFileIsAnInvalidModelNamingTheFile) {
    add_input("X", {64});
    float_initializer(graph(), "W", {64}, random_nonzero(64, 3));
    add_node("Add", {"X", "W"}, {"Y"});
    add_output("Y", {64});
    std::string bytes = model_.SerializeAsString();
    const std::string p = path("cut.onnx");
    std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
    expect_error(import_model_file(p), StatusCode::kInvalidModel, {p, "not a valid ONNX model", "protobuf"});
    // The same bytes from memory name the given name.
    expect_error(import_model_bytes(bytes.data(), bytes.size() / 2, "mem.onnx", ""), StatusCode::kInvalidModel,
                 {"mem.onnx", "not a valid ONNX model"});
}

TEST_F(OnnxImporter, GarbageBytesAreAnInvalidModel) {
    std::mt19937 rng(42);
    for (int trial = 0; trial < 20; ++trial) {
        std::string bytes(1000 + trial * 37, '\0');
        for (char& c : bytes) c = static_cast<char>(rng());
        const std::string p = path("garbage" + std::to_string(trial) + ".onnx");
        std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        expect_error(import_model_file(p), StatusCode::kInvalidModel, {p, "not a valid ONNX model"});
    }
}

TEST_F(OnnxImporter, MissingFileIsNotFound) {
    const std::string p = path("nope/missing.onnx");
    expect_error(import_model_file(p), StatusCode::kNotFound, {p});
    auto t = import_tensor_file(path("missing.pb"));
    ASSERT_FALSE(t.has_value());
    EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
}

TEST_F(OnnxImporter, RawDataSizeMismatchNamesTheInitializer) {
    TP* t = graph().add_initializer();
    t->set_name("conv1.weight");
    t->set_data_type(TP::FLOAT);
    t->add_dims(2);
    t->add_dims(3);
    t->set_raw_data(std::string(20, '\1'));  // 6 floats need 24 bytes
    add_output("conv1.weight", {2, 3});
    const std::string p = write_model();
    expect_error(import_model_file(p), StatusCode::kInvalidModel, {p, "initializer 'conv1.weight'", "20", "24"});
}

TEST_F(OnnxImporter, TypedFieldCountMismatchAndNegativeDimsAreRejected) {
    float_initializer(graph(), "w", {2, 2}, {1.0f, 2.0f, 3.0f});
    add_output("w", {2, 2});
    expect_error(import_written(), StatusCode::kInvalidModel, {"initializer 'w'", "float_data", "3", "4"});
    graph().clear_initializer();
    float_initializer(graph(), "w", {-1, 2}, {});
    expect_error(import_written(), StatusCode::kInvalidModel, {"initializer 'w'", "negative"});
    graph().clear_initializer();
    TP* t = float_initializer(graph(), "w", {2}, {});
    t->add_int64_data(1);
    t->add_int64_data(2);
    expect_error(import_written(), StatusCode::kInvalidModel, {"initializer 'w'", "int64_data", "float_data"});
}

class ExternalData : public OnnxImporter {
protected:
    void add_external(const std::string& location, const std::string& offset, const std::string& length) {
        TP* t = graph().add_initializer();
        t->set_name("big");
        t->set_data_type(TP::FLOAT);
        t->add_dims(4);
        t->set_data_location(TP::EXTERNAL);
        for (auto [k, v] : {std::pair<const char*, std::string>{"location", location}, {"offset", offset},
                            {"length", length}}) {
            if (v.empty()) continue;
            auto* e = t->add_external_data();
            e->set_key(k);
            e->set_value(v);
        }
        add_output("big", {4});
        std::ofstream(path("w.bin"), std::ios::binary).write("0123456789abcdef0123", 20);
    }
};

TEST_F(ExternalData, ReadsFromTheModelFolderWithoutLength) {
    add_external("w.bin", "4", "");
    auto g = import_written();
    ASSERT_TRUE(g.has_value()) << g.status().to_string();
    EXPECT_EQ(std::memcmp(g->at("big").constant.raw(), "456789abcdef0123", 16), 0);
}

TEST_F(ExternalData, LocationEscapingTheFolderIsRejected) {
    add_external("../w.bin", "", "");
    expect_error(import_written(), StatusCode::kInvalidModel, {"initializer 'big'", "escapes the model folder"});
    graph().clear_initializer();
    graph().clear_output();
    add_external("sub/../../w.bin", "", "");
    expect_error(import_written(), StatusCode::kInvalidModel, {"escapes the model folder"});
    graph().clear_initializer();
    graph().clear_output();
    add_external("/etc/passwd", "", "");
    expect_error(import_written(), StatusCode::kInvalidModel, {"initializer 'big'", "absolute path"});
    graph().clear_initializer();
    graph().clear_output();
    add_external("..\\w.bin", "", "");  // written on Windows
    expect_error(import_written(), StatusCode::kInvalidModel, {"escapes the model folder"});
    graph().clear_initializer();
    graph().clear_output();
    add_external("C:\\w.bin", "", "");
    expect_error(import_written(), StatusCode::kInvalidModel, {"absolute path"});
}

TEST_F(ExternalData, OffsetLengthAndFileSizeAreChecked) {
    add_external("w.bin", "8", "");  // 8 + 16 > 20 bytes
    expect_error(import_written(), StatusCode::kInvalidModel, {"initializer 'big'", "beyond the end", "20 bytes"});
    graph().clear_initializer();
    graph().clear_output();
    add_external("w.bin", "0", "12");  // 4 floats are 16 bytes
    expect_error(import_written(), StatusCode::kInvalidModel, {"initializer 'big'", "length is 12", "16"});
    graph().clear_initializer();
    graph().clear_output();
    add_external("w.bin", "-4", "");
    expect_error(import_written(), StatusCode::kInvalidModel, {"offset '-4'"});
    graph().clear_initializer();
    graph().clear_output();
    add_external("other.bin", "", "");
    expect_error(import_written(), StatusCode::kNotFound, {"initializer 'big'", "other.bin"});
}

TEST_F(ExternalData, ModelFromMemoryNeedsAFolder) {
    add_external("w.bin", "", "");
    const std::string bytes = model_.SerializeAsString();
    expect_error(import_model_bytes(bytes.data(), bytes.size(), "mem", ""), StatusCode::kInvalidModel,
                 {"mem", "initializer 'big'", "no folder"});
    auto g = import_model_bytes(bytes.data(), bytes.size(), "mem", dir_.string());
    ASSERT_TRUE(g.has_value()) << g.status().to_string();
    EXPECT_EQ(std::memcmp(g->at("big").constant.raw(), "0123456789abcdef", 16), 0);
}

TEST_F(OnnxImporter, UnsupportedElementTypesNameTheTensorAndType) {
    TP* s = graph().add_initializer();
    s->set_name("labels");
    s->set_data_type(TP::STRING);
    s->add_dims(1);
    s->add_string_data("cat");
    add_output("labels", {1}, TP::STRING);
    expect_error(import_written(), StatusCode::kUnsupported, {"initializer 'labels'", "STRING"});
    graph().clear_initializer();
    graph().clear_output();
    add_input("X", {2}, TP::BFLOAT16);
    add_node("Identity", {"X"}, {"Y"});
    expect_error(import_written(), StatusCode::kUnsupported, {"graph input 'X'", "BFLOAT16"});
    graph().clear_input();
    graph().clear_node();
    auto* seq = graph().add_input();
    seq->set_name("S");
    seq->mutable_type()->mutable_sequence_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(1);
    expect_error(import_written(), StatusCode::kUnsupported, {"graph input 'S'", "sequence"});
    graph().clear_input();
    auto* sparse = graph().add_sparse_initializer();
    sparse->mutable_values()->set_name("sp");
    expect_error(import_written(), StatusCode::kUnsupported, {"sparse initializer 'sp'"});
}

TEST_F(OnnxImporter, OpsetsOutsideTheSupportedRangeAreUnsupported) {
    add_input("X", {2});
    add_node("Add", {"X", "X"}, {"Y"}, "twice");
    add_output("Y", {2});
    set_opset(5);
    expect_error(import_written(), StatusCode::kUnsupported, {"ai.onnx opset 5", "7 to 21", "node 'twice' (Add)"});
    set_opset(22);
    expect_error(import_written(), StatusCode::kUnsupported, {"ai.onnx opset 22"});
    set_opset(13);
    model_.set_ir_version(2);
    expect_error(import_written(), StatusCode::kUnsupported, {"IR version 2"});
}

TEST_F(OnnxImporter, OldOpsetWhoseOpsDidNotChangeReadsAsOpset7) {
    set_opset(6);
    auto* extra = model_.add_opset_import();
    extra->set_domain("com.example");
    extra->set_version(2);
    add_input("X", {2});
    add_node("Elu", {"X"}, {"E"});
    auto* custom = add_node("MyOp", {"E"}, {"Y"});
    custom->set_domain("com.example");
    add_output("Y", {2});
    auto g = import_written();
    ASSERT_TRUE(g.has_value()) << g.status().to_string();
    EXPECT_EQ(g->opset(""), 7);
    EXPECT_EQ(g->opset("com.example"), 2);
    EXPECT_EQ(g->nodes[1].domain, "com.example");
}

TEST_F(OnnxImporter, UnsortedNodesAreSorted) {
    add_input("X", {2});
    add_node("Relu", {"T"}, {"Y"}, "second");
    add_node("Neg", {"X"}, {"T"}, "first");
    add_output("Y", {2});
    auto g = import_written();
    ASSERT_TRUE(g.has_value()) << g.status().to_string();
    ASSERT_EQ(g->nodes.size(), 2u);
    EXPECT_EQ(g->nodes[0].name, "first");
    EXPECT_EQ(g->nodes[1].name, "second");
}

TEST_F(OnnxImporter, CycleIsReportedNamingANode) {
    add_input("X", {2});
    add_node("Add", {"X", "B"}, {"A"}, "a");
    add_node("Relu", {"A"}, {"B"}, "b");
    add_output("B", {2});
    const std::string p = write_model();
    auto g = import_model_file(p);
    expect_error(g, StatusCode::kInvalidModel, {p, "cycle"});
    EXPECT_TRUE(g.status().message().find("node 'a' (Add)") != std::string::npos ||
                g.status().message().find("node 'b' (Relu)") != std::string::npos)
        << g.status().message();
}

TEST_F(OnnxImporter, NodeErrorsNameTheNode) {
    add_input("X", {2});
    add_node("Relu", {"X", "nowhere"}, {"Y"}, "r");
    add_output("Y", {2});
    expect_error(import_written(), StatusCode::kInvalidModel, {"node 'r' (Relu)", "'nowhere'"});
    graph().clear_node();
    add_node("Relu", {"X"}, {"Y"}, "r1");
    add_node("Relu", {"X"}, {"Y"}, "r2");
    expect_error(import_written(), StatusCode::kInvalidModel, {"node 'r2' (Relu)", "'Y'", "already defined"});
    graph().clear_node();
    auto* c = add_node("Constant", {}, {"Y"}, "c");
    auto* a = c->add_attribute();
    a->set_name("value");
    a->set_type(::onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(TP::FLOAT);
    a->mutable_t()->add_dims(3);
    a->mutable_t()->set_raw_data("abc");
    expect_error(import_written(), StatusCode::kInvalidModel, {"node 'c' (Constant)", "attribute 'value'", "raw_data"});
    graph().clear_node();
    add_output("Z", {2});
    add_node("Relu", {"X"}, {"Y"}, "ok");
    expect_error(import_written(), StatusCode::kInvalidModel, {"graph output 'Z'", "not produced"});
}

TEST_F(OnnxImporter, AttributesOfEveryKindAndOptionalIO) {
    add_input("X", {2});
    auto* n = add_node("Custom", {"X", "", "X"}, {"Y", ""}, "n");
    n->set_domain("ai.onnx");
    auto attr = [&](const char* name, ::onnx::AttributeProto::AttributeType type) {
        auto* a = n->add_attribute();
        a->set_name(name);
        a->set_type(type);
        return a;
    };
    attr("i", ::onnx::AttributeProto::INT)->set_i(-3);
    attr("f", ::onnx::AttributeProto::FLOAT)->set_f(0.25f);
    attr("s", ::onnx::AttributeProto::STRING)->set_s("nearest");
    auto* ints = attr("ints", ::onnx::AttributeProto::INTS);
    for (int64_t v : {1, 2, 3}) ints->add_ints(v);
    auto* floats = attr("floats", ::onnx::AttributeProto::FLOATS);
    for (float v : {0.5f, -1.5f}) floats->add_floats(v);
    auto* strs = attr("strings", ::onnx::AttributeProto::STRINGS);
    strs->add_strings("a");
    strs->add_strings("b");
    auto* t = attr("t", ::onnx::AttributeProto::TENSOR)->mutable_t();
    t->set_data_type(TP::INT64);
    t->add_dims(2);
    t->add_int64_data(4);
    t->add_int64_data(-9);
    // IR 1 and 2 left the type out; it follows from the field.
    n->add_attribute()->set_name("legacy");
    n->mutable_attribute(n->attribute_size() - 1)->set_i(7);
    add_output("Y", {2});
    auto g = import_written();
    ASSERT_TRUE(g.has_value()) << g.status().to_string();
    const auto& node = g->nodes[0];
    EXPECT_EQ(node.domain, "");
    EXPECT_EQ(node.inputs, (std::vector<std::string>{"X", "", "X"}));
    EXPECT_EQ(node.outputs, (std::vector<std::string>{"Y", ""}));
    EXPECT_EQ(node.attr_int("i", 0), -3);
    EXPECT_EQ(node.attr_float("f", 0), 0.25f);
    EXPECT_EQ(node.attr_string("s", ""), "nearest");
    EXPECT_EQ(node.attr_ints("ints"), (std::vector<int64_t>{1, 2, 3}));
    EXPECT_EQ(node.attr_floats("floats"), (std::vector<float>{0.5f, -1.5f}));
    EXPECT_EQ(node.attr("strings")->strings, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(node.attr("t")->kind, rtinfer::ir::Attribute::Kind::kTensor);
    EXPECT_EQ(values_of<int64_t>(node.attr("t")->t), (std::vector<int64_t>{4, -9}));
    EXPECT_EQ(node.attr("legacy")->kind, rtinfer::ir::Attribute::Kind::kInt);
    EXPECT_EQ(node.attr_int("legacy", 0), 7);
}

// An If whose branches read values of the main graph, placed before the producer of one of them.
TEST_F(OnnxImporter, SubgraphsReadOuterValuesAndOrderTheirNode) {
    add_input("X", {2});
    add_input("C", {}, TP::BOOL);
    auto* iff = add_node("If", {"C"}, {"Y"}, "if");
    for (const char* branch : {"then_branch", "else_branch"}) {
        auto* a = iff->add_attribute();
        a->set_name(branch);
        a->set_type(::onnx::AttributeProto::GRAPH);
        auto* g = a->mutable_g();
        g->set_name(branch);
        // "Ten" is produced later in the main graph; "X" is a main-graph input.
        add_node(*g, branch == std::string("then_branch") ? "Add" : "Sub", {"X", "Ten"}, {"out"});
        set_type(g->add_output(), "out", TP::FLOAT, {2});
    }
    float_initializer(graph(), "ten", {2}, {10.0f, 10.0f});
    add_node("Identity", {"ten"}, {"Ten"}, "make_ten");
    add_output("Y", {2});
    auto g = import_written();
    ASSERT_TRUE(g.has_value()) << g.status().to_string();
    ASSERT_EQ(g->nodes.size(), 2u);
    EXPECT_EQ(g->nodes[0].name, "make_ten");
    const auto& node = g->nodes[1];
    EXPECT_EQ(node.inputs, std::vector<std::string>{"C"});  // the sort's extra inputs are gone again
    const auto* then_g = node.attr("then_branch")->g.get();
    ASSERT_NE(then_g, nullptr);
    ASSERT_EQ(then_g->nodes.size(), 1u);
    EXPECT_EQ(then_g->nodes[0].op_type, "Add");
    EXPECT_EQ(then_g->outputs, std::vector<std::string>{"out"});
    EXPECT_EQ(then_g->opset(""), 13);
    EXPECT_EQ(then_g->find("X"), nullptr);  // outer values are not copied into the subgraph
    EXPECT_EQ(node.attr("else_branch")->g->nodes[0].op_type, "Sub");

    // A name no enclosing graph defines is an error naming the node that holds the subgraph.
    graph().mutable_node(0)->mutable_attribute(0)->mutable_g()->mutable_node(0)->set_input(1, "ghost");
    expect_error(import_written(), StatusCode::kInvalidModel, {"node 'if' (If)", "'ghost'"});
}

// Corrupted bytes must give a value or an error, never a crash, a huge allocation or an internal error.
TEST_F(OnnxImporter, CorruptedModelsFailCleanly) {
    add_input("X", {-1, 4});
    float_initializer(graph(), "W", {4}, random_nonzero(4, 5));
    TP* raw = graph().add_initializer();
    raw->set_name("B");
    raw->set_data_type(TP::INT64);
    raw->add_dims(2);
    raw->set_raw_data(std::string(16, '\2'));
    auto* iff = add_node("If", {"C"}, {"Y"}, "if");
    auto* a = iff->add_attribute();
    a->set_name("then_branch");
    a->set_type(::onnx::AttributeProto::GRAPH);
    add_node(*a->mutable_g(), "Add", {"X", "W"}, {"o"});
    set_type(a->mutable_g()->add_output(), "o", TP::FLOAT, {-1, 4});
    *iff->add_attribute() = *a;
    iff->mutable_attribute(1)->set_name("else_branch");
    add_input("C", {}, TP::BOOL);
    add_output("Y", {-1, 4});
    const std::string bytes = model_.SerializeAsString();
    ASSERT_TRUE(import_model_bytes(bytes.data(), bytes.size(), "m", "").has_value());
    auto check = [](const rtinfer::Expected<Graph>& g, const std::string& what) {
        if (g.has_value()) return;
        const StatusCode code = g.status().code();
        EXPECT_TRUE(code == StatusCode::kInvalidModel || code == StatusCode::kUnsupported)
            << what << ": " << g.status().to_string();
    };
    for (size_t n = 0; n < bytes.size(); ++n) {
        check(import_model_bytes(bytes.data(), n, "m", ""), "prefix of " + std::to_string(n) + " bytes");
    }
    std::mt19937 rng(11);
    int failed = 0;
    for (int trial = 0; trial < 2000; ++trial) {
        std::string mutated = bytes;
        for (int k = 0; k < 1 + trial % 4; ++k) mutated[rng() % mutated.size()] = static_cast<char>(rng());
        auto g = import_model_bytes(mutated.data(), mutated.size(), "m", "");
        failed += g.has_value() ? 0 : 1;
        check(g, "mutation " + std::to_string(trial));
    }
    EXPECT_GT(failed, 0);
}

TEST_F(OnnxImporter, ImportsTensorFiles) {
    TP t;
    t.set_name("input_0");
    t.set_data_type(TP::FLOAT);
    t.add_dims(2);
    t.add_dims(2);
    const auto v = random_nonzero(4, 9);
    t.set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), 16));
    const std::string p = path("input_0.pb");
    {
        std::ofstream f(p, std::ios::binary);
        t.SerializeToOstream(&f);
    }
    auto got = import_tensor_file(p);
    ASSERT_TRUE(got.has_value()) << got.status().to_string();
    EXPECT_EQ(got->shape(), (rtinfer::ir::Shape{2, 2}));
    EXPECT_EQ(values_of<float>(*got), v);

    t.set_data_type(TP::UINT16);
    t.set_raw_data(std::string(8, '\0'));
    {
        std::ofstream f(p, std::ios::binary);
        t.SerializeToOstream(&f);
    }
    got = import_tensor_file(p);
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.status().code(), StatusCode::kUnsupported);
    EXPECT_NE(got.status().message().find("tensor 'input_0'"), std::string::npos) << got.status().message();
    EXPECT_NE(got.status().message().find("UINT16"), std::string::npos) << got.status().message();
}

// Reads test_data_set_0/input_N.pb of an imported case and checks each against the graph input it feeds.
int check_test_data(const fs::path& dir, const Graph& g) {
    int read = 0;
    for (size_t i = 0;; ++i) {
        const fs::path pb = dir / "test_data_set_0" / ("input_" + std::to_string(i) + ".pb");
        if (!fs::exists(pb)) break;
        auto t = import_tensor_file(pb.string());
        if (!t.has_value()) {
            ADD_FAILURE() << t.status().to_string();
            break;
        }
        ++read;
        if (i >= g.inputs.size()) break;  // an optional input the model leaves out
        const auto& v = g.at(g.inputs[i]);
        EXPECT_EQ(t->dtype(), v.dtype) << pb;
        if (!v.shape_known) continue;
        if (t->rank() != static_cast<int>(v.shape.size())) {
            ADD_FAILURE() << pb << ": rank " << t->rank() << ", graph input " << rtinfer::ir::shape_str(v.shape);
            continue;
        }
        for (int d = 0; d < t->rank(); ++d) {
            const int64_t want = v.shape[static_cast<size_t>(d)];
            if (want >= 0) {
                EXPECT_EQ(t->dim(d), want) << pb;
            }
        }
    }
    return read;
}

// Every model of the ONNX backend node tests: those that fail must fail as unsupported (types, sequences,
// optionals), never as invalid, and the inputs of each must read as tensors where the model imports.
TEST(OnnxImporterNodeTests, ImportsTheBackendNodeTestModels) {
    const fs::path root = "/usr/share/libonnx-testdata/data/node";
    if (!fs::is_directory(root)) GTEST_SKIP() << root << " is not installed";
    std::vector<fs::path> cases;
    for (const auto& entry : fs::directory_iterator(root)) {
        if (fs::exists(entry.path() / "model.onnx")) cases.push_back(entry.path());
    }
    std::sort(cases.begin(), cases.end());
    int ok = 0;
    int tensors = 0;
    std::map<std::string, std::vector<std::string>> failures;  // error (minus the file) -> cases
    for (const auto& dir : cases) {
        const std::string model = (dir / "model.onnx").string();
        auto g = import_model_file(model);
        if (g.has_value()) {
            ++ok;
            EXPECT_TRUE(g->validate().is_ok()) << dir.filename() << ": " << g->validate().to_string();
            tensors += check_test_data(dir, *g);
            continue;
        }
        std::string msg = g.status().to_string();
        const size_t at = msg.find(model);
        if (at != std::string::npos) msg.erase(at, model.size() + 2);
        EXPECT_EQ(g.status().code(), StatusCode::kUnsupported) << dir.filename() << ": " << msg;
        failures[msg].push_back(dir.filename().string());
    }
    std::printf("imported %d of %zu node test models (and their %d test data tensors)\n", ok, cases.size(), tensors);
    for (const auto& [msg, names] : failures) {
        std::printf("  %3zu x %s   (e.g. %s)\n", names.size(), msg.c_str(), names.front().c_str());
    }
    EXPECT_GE(ok, 850);
}

TEST(OnnxImporterNodeTests, ReadsTheTestDataTensors) {
    const fs::path dir = "/usr/share/libonnx-testdata/data/node/test_add/test_data_set_0";
    if (!fs::is_directory(dir)) GTEST_SKIP() << dir << " is not installed";
    auto in = import_tensor_file((dir / "input_0.pb").string());
    auto out = import_tensor_file((dir / "output_0.pb").string());
    auto in1 = import_tensor_file((dir / "input_1.pb").string());
    ASSERT_TRUE(in.has_value() && in1.has_value() && out.has_value()) << in.status().to_string();
    EXPECT_EQ(in->shape(), (rtinfer::ir::Shape{3, 4, 5}));
    ASSERT_EQ(out->dtype(), DType::kFloat32);
    for (int64_t i = 0; i < out->numel(); ++i) {
        EXPECT_FLOAT_EQ(out->data<float>()[i], in->data<float>()[i] + in1->data<float>()[i]);
    }
}

}  // namespace
