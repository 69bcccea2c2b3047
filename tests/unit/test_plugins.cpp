// The plugin mechanism: loading libraries (and every way that fails), mapping ONNX nodes to plugins,
// plugin layers in engines that are saved, reloaded and run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "core/kernels/ref/ref_backend.h"
#include "core/onnx/importer.h"
#include "core/plugins/plugin_layer.h"
#include "core/plugins/resolve.h"
#include "core/runtime/engine_impl.h"
#include "core/serialize/engine_file.h"
#include "rtinfer/rtinfer.h"
#include "tests/unit/plugin_test_util.h"

using namespace rtinfer;
using rtinfer::testing::contains;
using rtinfer::testing::OnnxMaker;

namespace {

// y = TestScale(x; factor, bias) in domain test.ops, x float32 [2, 3].
OnnxMaker scale_model(float factor = 2.0f) {
    OnnxMaker m;
    m.input("x", {2, 3});
    auto* n = m.node("TestScale", {"x"}, {"y"}, "scale0", "test.ops");
    OnnxMaker::attr_float(n, "factor", factor);
    OnnxMaker::attr_float(n, "bias", 0.5f);
    m.output("y", {2, 3});
    return m;
}

const std::vector<float> kX = {-1.5f, 2.0f, -0.25f, 3.0f, -4.0f, 0.5f};

std::vector<float> run_xy(const Engine& engine, const std::vector<float>& x) {
    auto ctx = engine.create_context();
    EXPECT_TRUE(ctx.has_value()) << ctx.status().to_string();
    if (!ctx) return {};
    std::vector<float> in = x, out(x.size(), -99.0f);
    EXPECT_TRUE((*ctx)->set_tensor_address("x", in.data()).is_ok());
    EXPECT_TRUE((*ctx)->set_tensor_address("y", out.data()).is_ok());
    Status s = (*ctx)->enqueue();
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return out;
}

ir::Graph import(const OnnxMaker& m) {
    const std::string b = m.bytes();
    auto g = rtinfer::onnx::import_model_bytes(b.data(), b.size(), "m.onnx", "");
    EXPECT_TRUE(g.has_value()) << g.status().to_string();
    return g.has_value() ? std::move(g).value() : ir::Graph();
}

Status map(ir::Graph& g, const plugins::PluginRegistry& r) {
    return plugins::map_plugin_nodes(g, r, ref::reference_registry());
}

// An engine file's graph, as read back without attaching plugins.
serialize::EngineData read_back(const Engine& engine) {
    auto bytes = engine.serialize();
    EXPECT_TRUE(bytes.has_value());
    auto keep = std::make_shared<std::vector<uint8_t>>(std::move(bytes).value());
    auto data = serialize::read_engine(keep->data(), keep->size(), keep, "m.engine", runtime::sdk_version());
    EXPECT_TRUE(data.has_value()) << data.status().to_string();
    return std::move(data).value();
}

}  // namespace

// --- loading ---------------------------------------------------------------------------------------------

TEST(PluginLoading, LoadsCreatorsOfALibrary) {
    plugins::PluginRegistry r;
    ASSERT_TRUE(r.load_library(RTINFER_TEST_PLUGIN).is_ok());
    ASSERT_TRUE(r.load_library(RTINFER_TEST_PLUGIN).is_ok());  // again: a no-op, not a duplicate
    ASSERT_EQ(r.creators().size(), 2u);
    auto scale = r.find("TestScale", "test.ops");
    ASSERT_TRUE(scale.has_value());
    EXPECT_EQ(scale->version, "1");
    EXPECT_EQ(scale->library_path, RTINFER_TEST_PLUGIN);
    EXPECT_FALSE(r.find("TestScale", "").has_value());
}

TEST(PluginLoading, MissingLibrary) {
    plugins::PluginRegistry r;
    Status s = r.load_library("/nonexistent/libnothing.so");
    EXPECT_EQ(s.code(), StatusCode::kNotFound);
    EXPECT_TRUE(contains(s.message(), "plugin library '/nonexistent/libnothing.so' not found")) << s.message();
}

TEST(PluginLoading, NotASharedLibrary) {
    const std::string path = ::testing::TempDir() + "not_a_library.so";
    std::ofstream(path) << "hello";
    plugins::PluginRegistry r;
    Status s = r.load_library(path);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(contains(s.message(), "plugin library '" + path + "' cannot be loaded")) << s.message();
    std::remove(path.c_str());
}

TEST(PluginLoading, MissingEntryPoint) {
    plugins::PluginRegistry r;
    Status s = r.load_library(RTINFER_TEST_PLUGIN_NO_ENTRY);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(contains(s.message(), std::string("plugin library '") + RTINFER_TEST_PLUGIN_NO_ENTRY +
                                          "' does not export rtinfer_get_plugin_creators"))
        << s.message();
    EXPECT_TRUE(r.creators().empty());
}

TEST(PluginLoading, NewerAbiVersionIsRefused) {
    plugins::PluginRegistry r;
    Status s = r.load_library(RTINFER_TEST_PLUGIN_NEWER_ABI);
    EXPECT_EQ(s.code(), StatusCode::kUnsupported);
    EXPECT_TRUE(contains(s.message(), RTINFER_TEST_PLUGIN_NEWER_ABI)) << s.message();
    EXPECT_TRUE(contains(s.message(), "plugin 'TestScale' was built for plugin ABI version 99")) << s.message();
    EXPECT_TRUE(contains(s.message(), "supports ABI versions 1 to 1")) << s.message();
    EXPECT_TRUE(r.creators().empty());
}

TEST(PluginLoading, DuplicateNameIsRefused) {
    plugins::PluginRegistry r;
    ASSERT_TRUE(r.load_library(RTINFER_TEST_PLUGIN).is_ok());
    Status s = r.load_library(RTINFER_TEST_PLUGIN_V2);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(contains(s.message(), "duplicate plugin 'TestScale' in namespace 'test.ops'")) << s.message();
    EXPECT_TRUE(contains(s.message(), RTINFER_TEST_PLUGIN_V2)) << s.message();
    EXPECT_TRUE(contains(s.message(), RTINFER_TEST_PLUGIN)) << s.message();
    // All or nothing: nothing of the refused library was registered.
    EXPECT_EQ(r.find("TestScale", "test.ops")->version, "1");
    EXPECT_EQ(r.find("Relu", "test.ops")->version, "1");
}

TEST(PluginLoading, UserPluginHidesBuiltinOne) {
    plugins::PluginRegistry r;
    ASSERT_TRUE(r.load_library(RTINFER_TEST_PLUGIN, /*builtin=*/true).is_ok());
    ASSERT_TRUE(r.load_library(RTINFER_TEST_PLUGIN_V2).is_ok());
    EXPECT_EQ(r.find("TestScale", "test.ops")->version, "2");
    plugins::PluginRegistry r2;  // the other order: the built-in one is skipped
    ASSERT_TRUE(r2.load_library(RTINFER_TEST_PLUGIN_V2).is_ok());
    ASSERT_TRUE(r2.load_library(RTINFER_TEST_PLUGIN, /*builtin=*/true).is_ok());
    EXPECT_EQ(r2.find("TestScale", "test.ops")->version, "2");
}

TEST(PluginLoading, PathListTakesFilesAndFolders) {
    plugins::PluginRegistry r;
    const std::string nms_dir = std::string(RTINFER_NMS_PLUGIN).substr(0, std::string(RTINFER_NMS_PLUGIN).rfind('/'));
    ASSERT_TRUE(r.load_path_list(std::string(RTINFER_TEST_PLUGIN) + "::" + nms_dir).is_ok());
    EXPECT_TRUE(r.find("TestScale", "test.ops").has_value());
    EXPECT_TRUE(r.find("EfficientNMS_TRT", "").has_value());
    Status s = r.load_path_list("/nonexistent/a.so");
    EXPECT_EQ(s.code(), StatusCode::kNotFound);
    EXPECT_TRUE(contains(s.message(), "/nonexistent/a.so")) << s.message();
}

TEST(PluginLoading, InProcessCreatorIsChecked) {
    rt_plugin_creator bad{};
    bad.abi_version = RT_PLUGIN_ABI_VERSION;
    bad.struct_size = sizeof(rt_plugin_creator);
    bad.name = "NoFunctions";
    bad.version = "1";
    plugins::PluginRegistry r;
    Status s = r.add_creator(&bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(contains(s.message(), "plugin 'NoFunctions' lacks its create or deserialize function")) << s.message();
    bad.abi_version = 0;
    EXPECT_TRUE(contains(r.add_creator(&bad).message(), "ABI version 0")) << r.add_creator(&bad).message();
}

TEST(PluginLoading, BuiltinFoldersAreSearched) {
    const auto dirs = plugins::builtin_plugin_dirs();
    ASSERT_EQ(dirs.size(), 4u);
    // The build tree's folder holds the NMS plugin.
    EXPECT_EQ(std::string(RTINFER_NMS_PLUGIN).rfind(dirs[2], 0), 0u) << dirs[2];
    auto registry = plugins::process_registry();
    ASSERT_TRUE(registry.has_value()) << registry.status().to_string();
    auto nms = (*registry)->find("EfficientNMS_TRT", "");
    ASSERT_TRUE(nms.has_value());
    EXPECT_TRUE(nms->builtin);
}

TEST(PluginLoading, InstalledProgramAndGstreamerModuleFindOneFolder) {
    // A program in <prefix>/bin: the first folder is the prefix's <libdir>/rtinfer/plugins.
    const auto program = plugins::builtin_plugin_dirs_beside("/root/usr/bin/rtexec");
    ASSERT_EQ(program.size(), 2u);
    const std::string installed = program[0];
    const std::string suffix = "/rtinfer/plugins";
    ASSERT_EQ(installed.rfind("/root/usr/lib", 0), 0u) << installed;
    ASSERT_GT(installed.size(), suffix.size());
    ASSERT_EQ(installed.substr(installed.size() - suffix.size()), suffix) << installed;
    // The GStreamer plugin in <prefix>/<libdir>/gstreamer-1.0 finds the same folder.
    const std::string libdir = installed.substr(0, installed.size() - suffix.size());
    const auto module = plugins::builtin_plugin_dirs_beside(libdir + "/gstreamer-1.0/libgstrtinfer.so");
    EXPECT_NE(std::find(module.begin(), module.end(), installed), module.end())
        << module[0] << " " << module[1] << " lack " << installed;
    // A program elsewhere finds nothing of that prefix.
    for (const auto& dir : plugins::builtin_plugin_dirs_beside("/opt/app/bin/app")) {
        EXPECT_EQ(dir.rfind("/opt/app/", 0), 0u) << dir;
    }
}

// --- mapping ONNX nodes -----------------------------------------------------------------------------------

TEST(PluginMapping, NodesMapByOpTypeAndDomain) {
    plugins::PluginRegistry r;
    ASSERT_TRUE(r.load_library(RTINFER_TEST_PLUGIN).is_ok());
    OnnxMaker m = scale_model();
    m.node("Relu", {"y"}, {"r1"}, "builtin_relu");             // default domain: the built-in Relu
    m.node("Relu", {"r1"}, {"r2"}, "plugin_relu", "test.ops");  // a built-in name in the plugin's domain
    m.output("r2", {2, 3});
    ir::Graph g = import(m);
    ASSERT_TRUE(map(g, r).is_ok());
    ASSERT_EQ(g.nodes.size(), 3u);
    EXPECT_EQ(g.nodes[0].domain, plugins::kPluginDomain);
    EXPECT_EQ(g.nodes[0].op_type, "TestScale");
    ASSERT_TRUE(g.nodes[0].plugin != nullptr);
    EXPECT_EQ(g.nodes[0].attr_string(plugins::kVersionAttr, ""), "1");
    EXPECT_EQ(g.nodes[0].attr_string(plugins::kNamespaceAttr, ""), "test.ops");
    EXPECT_FALSE(g.nodes[0].has_attr("factor"));
    EXPECT_EQ(g.nodes[1].domain, "");
    EXPECT_TRUE(g.nodes[1].plugin == nullptr);
    EXPECT_EQ(g.nodes[2].domain, plugins::kPluginDomain);
}

TEST(PluginMapping, BadAttributeType) {
    plugins::PluginRegistry r;
    ASSERT_TRUE(r.load_library(RTINFER_TEST_PLUGIN).is_ok());
    OnnxMaker m;
    m.input("x", {2, 3});
    auto* n = m.node("TestScale", {"x"}, {"y"}, "scale_bad", "test.ops");
    OnnxMaker::attr_string(n, "factor", "two");
    m.output("y", {2, 3});
    ir::Graph g = import(m);
    Status s = map(g, r);
    EXPECT_EQ(s.code(), StatusCode::kInvalidModel);
    EXPECT_TRUE(contains(s.message(), "node 'scale_bad' (test.ops::TestScale): attribute 'factor' is a string, but plugin "
                                      "'TestScale' (version 1, namespace 'test.ops')"))
        << s.message();
    EXPECT_TRUE(contains(s.message(), "expects a float")) << s.message();
}

TEST(PluginMapping, MissingRequiredAttribute) {
    plugins::PluginRegistry r;
    ASSERT_TRUE(r.load_library(RTINFER_TEST_PLUGIN).is_ok());
    OnnxMaker m;
    m.input("x", {2, 3});
    m.node("TestScale", {"x"}, {"y"}, "scale_bare", "test.ops");
    m.output("y", {2, 3});
    ir::Graph g = import(m);
    Status s = map(g, r);
    EXPECT_TRUE(contains(s.message(), "node 'scale_bare' (test.ops::TestScale): attribute 'factor' is required by plugin "
                                      "'TestScale'"))
        << s.message();
}

TEST(PluginMapping, TensorAttributeIsRefused) {
    plugins::PluginRegistry r;
    ASSERT_TRUE(r.load_library(RTINFER_TEST_PLUGIN).is_ok());
    OnnxMaker m = scale_model();
    auto* a = m.g().mutable_node(0)->add_attribute();
    a->set_name("table");
    a->set_type(::onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(::onnx::TensorProto::FLOAT);
    a->mutable_t()->add_float_data(1.0f);
    ir::Graph g = import(m);
    Status s = map(g, r);
    EXPECT_EQ(s.code(), StatusCode::kUnsupported);
    EXPECT_TRUE(contains(s.message(), "node 'scale0' (test.ops::TestScale): attribute 'table' is a tensor; plugins take"))
        << s.message();
}

TEST(PluginMapping, PluginRefusalNamesNodeAndPlugin) {
    plugins::PluginRegistry r;
    ASSERT_TRUE(r.load_library(RTINFER_TEST_PLUGIN).is_ok());
    ir::Graph g = import(scale_model(0.0f));
    Status s = map(g, r);
    EXPECT_EQ(s.code(), StatusCode::kInvalidModel);
    EXPECT_TRUE(contains(s.message(), "layer 'scale0': plugin 'TestScale'")) << s.message();
    EXPECT_TRUE(contains(s.message(), "factor must not be 0")) << s.message();
    // Collected instead of returned: the node stays as it was.
    ir::Graph g2 = import(scale_model(0.0f));
    std::vector<plugins::MappingFailure> failures;
    ASSERT_TRUE(plugins::map_plugin_nodes(g2, r, ref::reference_registry(), &failures).is_ok());
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].node_name, "scale0");
    EXPECT_EQ(g2.nodes[0].domain, "test.ops");
}

TEST(PluginMapping, WrongInputTypeIsReportedAtBuild) {
    OnnxMaker m;
    m.input("x", {2, 3}, ::onnx::TensorProto::INT32);
    auto* n = m.node("TestScale", {"x"}, {"y"}, "scale_int", "test.ops");
    OnnxMaker::attr_float(n, "factor", 2.0f);
    m.output("y", {2, 3}, ::onnx::TensorProto::INT32);
    BuilderConfig config;
    config.plugin_libraries = {RTINFER_TEST_PLUGIN};
    auto engine = m.build(config);
    ASSERT_FALSE(engine.has_value());
    EXPECT_EQ(engine.status().code(), StatusCode::kUnsupported);
    EXPECT_TRUE(contains(engine.status().message(), "node 'scale_int' (plugin TestScale): plugin 'TestScale' (version 1): x "
                                                    "must be float32"))
        << engine.status().message();
}

// --- engines with plugin layers ---------------------------------------------------------------------------

TEST(PluginEngine, BuildRunSaveReloadRun) {
    BuilderConfig config;
    config.plugin_libraries = {RTINFER_TEST_PLUGIN};
    OnnxMaker m = scale_model(3.0f);
    m.node("Relu", {"y"}, {"r"}, "plugin_relu", "test.ops");
    m.output("r", {2, 3});
    auto engine = m.build(config);
    ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
    std::vector<float> expected;
    for (float x : kX) expected.push_back(x * 3.0f + 0.5f);
    EXPECT_EQ(run_xy(**engine, kX), expected);
    const auto layers = (*engine)->layers();
    ASSERT_EQ(layers.size(), 2u);
    EXPECT_EQ(layers[0].op_type, "TestScale");

    const std::string path = ::testing::TempDir() + "plugin_engine_" + std::to_string(::getpid()) + ".engine";
    ASSERT_TRUE((*engine)->save(path).is_ok());
    auto loaded = Engine::load_file(path);
    ASSERT_TRUE(loaded.has_value()) << loaded.status().to_string();
    EXPECT_EQ(run_xy(**loaded, kX), expected);
    // The second output went through the plugin's Relu (min(x, 0)), not the built-in one.
    auto ctx = (*loaded)->create_context();
    ASSERT_TRUE(ctx.has_value());
    std::vector<float> x = kX, y(6), r(6);
    (*ctx)->set_tensor_address("x", x.data());
    (*ctx)->set_tensor_address("y", y.data());
    (*ctx)->set_tensor_address("r", r.data());
    ASSERT_TRUE((*ctx)->enqueue().is_ok());
    for (size_t i = 0; i < 6; ++i) EXPECT_EQ(r[i], std::min(expected[i], 0.0f));
    std::remove(path.c_str());
}

TEST(PluginEngine, LoadingWithoutThePluginNamesPluginAndLayer) {
    BuilderConfig config;
    config.plugin_libraries = {RTINFER_TEST_PLUGIN};
    auto engine = scale_model().build(config);
    ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
    serialize::EngineData data = read_back(**engine);
    plugins::PluginRegistry empty;
    Status s = plugins::attach_engine_plugins(data.graph, empty);
    EXPECT_EQ(s.code(), StatusCode::kNotFound);
    EXPECT_TRUE(contains(s.message(), "layer 'scale0' needs plugin 'TestScale' (version 1, namespace 'test.ops'), "
                                      "which is not loaded"))
        << s.message();
    EXPECT_TRUE(contains(s.message(), "--plugins")) << s.message();
}

TEST(PluginEngine, LoadingWithAnotherVersionIsRefused) {
    BuilderConfig config;
    config.plugin_libraries = {RTINFER_TEST_PLUGIN};
    auto engine = scale_model().build(config);
    ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
    serialize::EngineData data = read_back(**engine);
    plugins::PluginRegistry v2;
    ASSERT_TRUE(v2.load_library(RTINFER_TEST_PLUGIN_V2).is_ok());
    Status s = plugins::attach_engine_plugins(data.graph, v2);
    EXPECT_EQ(s.code(), StatusCode::kInvalidEngine);
    EXPECT_TRUE(contains(s.message(), "layer 'scale0' needs plugin 'TestScale' (version 1, namespace 'test.ops'), but "
                                      "the loaded one is plugin 'TestScale' (version 2"))
        << s.message();
}

TEST(PluginEngine, BadStoredBytesAreRefusedByThePlugin) {
    BuilderConfig config;
    config.plugin_libraries = {RTINFER_TEST_PLUGIN};
    auto engine = scale_model().build(config);
    ASSERT_TRUE(engine.has_value());
    serialize::EngineData data = read_back(**engine);
    data.graph.nodes[0].attrs[plugins::kDataAttr].t = ir::Tensor(DataType::kUInt8, {3});
    plugins::PluginRegistry r;
    ASSERT_TRUE(r.load_library(RTINFER_TEST_PLUGIN).is_ok());
    Status s = plugins::attach_engine_plugins(data.graph, r);
    EXPECT_EQ(s.code(), StatusCode::kInvalidEngine);
    EXPECT_TRUE(contains(s.message(), "layer 'scale0'")) << s.message();
    EXPECT_TRUE(contains(s.message(), "stored parameters have 3 bytes")) << s.message();
    data.graph.nodes[0].attrs.erase(plugins::kVersionAttr);
    s = plugins::attach_engine_plugins(data.graph, r);
    EXPECT_TRUE(contains(s.message(), "layer 'scale0' (plugin 'TestScale') lacks its plugin record")) << s.message();
}

TEST(PluginEngine, DynamicBatchReinfersThroughThePlugin) {
    BuilderConfig config;
    config.plugin_libraries = {RTINFER_TEST_PLUGIN};
    config.min_batch = 1;
    config.max_batch = 4;
    OnnxMaker m;
    m.input("x", {-1, 3});
    auto* n = m.node("TestScale", {"x"}, {"y"}, "scale_dyn", "test.ops");
    OnnxMaker::attr_float(n, "factor", -1.0f);
    m.output("y", {-1, 3});
    auto engine = m.build(config);
    ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
    auto ctx = (*engine)->create_context();
    ASSERT_TRUE(ctx.has_value());
    for (int batch : {1, 4}) {
        ASSERT_TRUE((*ctx)->set_batch(batch).is_ok());
        std::vector<float> x(static_cast<size_t>(batch) * 3, 1.5f), y(x.size(), 0.0f);
        (*ctx)->set_tensor_address("x", x.data());
        (*ctx)->set_tensor_address("y", y.data());
        ASSERT_TRUE((*ctx)->enqueue().is_ok());
        for (float v : y) EXPECT_EQ(v, -1.5f);
        EXPECT_EQ((*ctx)->tensor_desc("y")->dims, (std::vector<int64_t>{batch, 3}));
    }
}

TEST(PluginEngine, CapabilityReportNamesRefusedPluginNodes) {
    ASSERT_TRUE(load_plugin_library(RTINFER_TEST_PLUGIN).is_ok());
    OnnxMaker m = scale_model(0.0f);
    const std::string path = ::testing::TempDir() + "plugin_capability.onnx";
    std::ofstream(path, std::ios::binary) << m.bytes();
    auto report = Builder().check_capability(path);
    ASSERT_TRUE(report.has_value()) << report.status().to_string();
    ASSERT_EQ(report->unsupported.size(), 1u);
    EXPECT_EQ(report->unsupported[0].node_name, "scale0");
    EXPECT_TRUE(contains(report->unsupported[0].reason, "factor must not be 0")) << report->unsupported[0].reason;
    std::remove(path.c_str());
}

TEST(PluginEngine, PluginWrittenInC) {
    OnnxMaker m;
    m.input("x", {2, 3});
    m.node("CNegate", {"x"}, {"y"}, "negate", "test.c");
    m.output("y", {2, 3});
    BuilderConfig config;
    config.plugin_libraries = {RTINFER_TEST_PLUGIN_C};
    auto engine = m.build(config);
    ASSERT_TRUE(engine.has_value()) << engine.status().to_string();
    std::vector<float> expected;
    for (float x : kX) expected.push_back(-x);
    EXPECT_EQ(run_xy(**engine, kX), expected);
    // Its instances serialize to no bytes at all; the engine still round-trips.
    auto bytes = (*engine)->serialize();
    ASSERT_TRUE(bytes.has_value());
    auto loaded = Engine::load_memory(bytes->data(), bytes->size());
    ASSERT_TRUE(loaded.has_value()) << loaded.status().to_string();
    EXPECT_EQ(run_xy(**loaded, kX), expected);
}

TEST(PluginLoading, CApiLoadsLibraries) {
    EXPECT_NE(rt_load_plugin_library(nullptr), 0);
    EXPECT_TRUE(contains(rt_last_error(), "path is null")) << rt_last_error();
    EXPECT_EQ(rt_load_plugin_library("/nonexistent/libc_api.so"), static_cast<int>(StatusCode::kNotFound));
    EXPECT_TRUE(contains(rt_last_error(), "plugin library '/nonexistent/libc_api.so' not found")) << rt_last_error();
    EXPECT_EQ(rt_load_plugin_library(RTINFER_TEST_PLUGIN), 0) << rt_last_error();
}
