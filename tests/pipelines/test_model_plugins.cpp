// model.yml's `plugins:` key: the libraries it names are loaded before the engine is built, so a model with a
// custom op runs through the shared model (and the rtinfer element); without the key the build names the op.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "pipelines/runner/engine_cache.h"
#include "pipelines/runner/shared_model.h"
#include "tests/unit/plugin_test_util.h"

using namespace rtinfer;
using namespace rtinfer::pipelines;
namespace fs = std::filesystem;

namespace {

// images [N, 3, 4, 4] -> TestScale (x * 3 + 0.5, from the test plugin library) -> scaled [N, 3, 4, 4]
std::string write_model(const fs::path& dir) {
    rtinfer::testing::OnnxMaker m;
    m.input("images", {-1, 3, 4, 4});
    auto* n = m.node("TestScale", {"images"}, {"scaled"}, "scale0", "test.ops");
    rtinfer::testing::OnnxMaker::attr_float(n, "factor", 3.0f);
    rtinfer::testing::OnnxMaker::attr_float(n, "bias", 0.5f);
    m.output("scaled", {-1, 3, 4, 4});
    const std::string path = (dir / "scale.onnx").string();
    std::ofstream out(path, std::ios::binary);
    m.model.SerializeToOstream(&out);
    return path;
}

std::string write_config(const fs::path& dir, const std::string& onnx, bool with_plugin) {
    const std::string path = (dir / (with_plugin ? "with.yml" : "without.yml")).string();
    std::ofstream(path) << "model:\n  onnx: " << onnx << "\n  batch: 2\n  backend: cpu\n  engine_cache: "
                        << (dir / "engines").string() << "\n"
                        << (with_plugin ? std::string("  plugins: [") + RTINFER_TEST_PLUGIN + "]\n" : "")
                        << "input:\n  width: 4\n  height: 4\noutput:\n  raw:\n    tensors: [scaled]\n";
    return path;
}

class ModelPlugins : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("rtinfer_model_plugins_" + std::to_string(::getpid()));
        fs::create_directories(dir_);
        onnx_ = write_model(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path dir_;
    std::string onnx_;
};

}  // namespace

// Plugin libraries stay loaded for the rest of the process: run in one process, this test must come first
// (ctest runs each test in a process of its own).
TEST_F(ModelPlugins, WithoutTheKeyTheBuildNamesTheCustomOp) {
    auto config = config::load_model_config(write_config(dir_, onnx_, false));
    ASSERT_TRUE(config.has_value()) << config.status().message();
    auto engine = load_or_build_engine(*config, Backend::kCpu, nullptr);
    ASSERT_FALSE(engine.has_value());
    EXPECT_NE(engine.status().message().find("TestScale"), std::string::npos) << engine.status().message();
}

TEST_F(ModelPlugins, TheKeyLoadsTheLibraryAndTheModelRuns) {
    auto config = config::load_model_config(write_config(dir_, onnx_, true));
    ASSERT_TRUE(config.has_value()) << config.status().message();
    auto model = SharedModel::acquire(*config, {}, nullptr);
    ASSERT_TRUE(model.has_value()) << model.status().message();
    // A 4x4 RGB frame of distinct values; the output must be pixel / 255 * 3 + 0.5, planar.
    std::vector<uint8_t> rgb(4 * 4 * 3);
    for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(7 + 13 * i);
    FrameView frame;
    frame.format = PixelFormat::kRgb;
    frame.width = frame.height = 4;
    frame.planes[0] = rgb.data();
    frame.strides[0] = 12;
    auto out = (*model)->infer(frame);
    ASSERT_TRUE(out.has_value()) << out.status().message();
    ASSERT_EQ(out->tensors.size(), 1u);
    const RawTensor& t = out->tensors[0];
    EXPECT_EQ(t.name, "scaled");
    ASSERT_EQ(t.data.size(), 48u);
    for (int c = 0; c < 3; ++c) {
        for (int p = 0; p < 16; ++p) {
            const float want = rgb[static_cast<size_t>(p) * 3 + c] / 255.0f * 3.0f + 0.5f;
            EXPECT_NEAR(t.data[static_cast<size_t>(c) * 16 + p], want, 1e-5f) << c << " " << p;
        }
    }
}
