#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>

#include "core/quant/calibration_cache.h"

namespace fs = std::filesystem;
using rtinfer::StatusCode;
using rtinfer::quant::CalibrationTable;
using rtinfer::quant::load_calibration_cache;
using rtinfer::quant::save_calibration_cache;

namespace {

const char kHeader[] =
    "# rtinfer calibration cache: per-tensor activation ranges (amax; the int8 scale is amax / 127)\n"
    "format: 1\n"
    "model: resnet18-3f2a\n"
    "calibrator: entropy\n"
    "samples: 500\n";

class CalibrationCacheTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("rtinfer_calib_cache_" + std::to_string(::getpid()) + "_" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        path_ = (dir_ / "model.calib").string();
    }
    void TearDown() override { fs::remove_all(dir_); }

    void write(const std::string& text) { std::ofstream(path_, std::ios::binary) << text; }
    std::string read() {
        std::ifstream in(path_, std::ios::binary);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    // The error of loading text, checked to name the file and, when line > 0, that line.
    std::string load_error(const std::string& text, int line, const std::string& model = "resnet18-3f2a") {
        write(text);
        auto r = load_calibration_cache(path_, model);
        EXPECT_FALSE(r.has_value());
        if (r.has_value()) return "";
        const std::string where = line > 0 ? path_ + ":" + std::to_string(line) + ": " : path_ + ": ";
        EXPECT_EQ(r.status().message().rfind(where, 0), 0u) << r.status().message();
        EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().to_string();
        return r.status().message();
    }

    fs::path dir_;
    std::string path_;
};

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

}  // namespace

TEST_F(CalibrationCacheTest, RoundTripIsExact) {
    CalibrationTable table;
    table.model = "yolov8n 640x640 sha256:9d1c";
    table.calibrator = "percentile 99.99";
    table.samples = 512;
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> dist(0.0f, 50.0f);
    for (int i = 0; i < 200; ++i) table.amax["/model.2/cv1/act/Mul_output_0 #" + std::to_string(i)] = dist(rng);
    table.amax["name with  two spaces and trailing space "] = 3.14159274f;
    table.amax[" leading space"] = std::numeric_limits<float>::denorm_min();
    table.amax["zero"] = 0.0f;
    table.amax["max"] = std::numeric_limits<float>::max();
    table.amax["0.1"] = 0.1f;
    ASSERT_TRUE(save_calibration_cache(path_, table).is_ok());

    auto back = load_calibration_cache(path_, table.model);
    ASSERT_TRUE(back.has_value()) << back.status().to_string();
    EXPECT_EQ(back->model, table.model);
    EXPECT_EQ(back->calibrator, table.calibrator);
    EXPECT_EQ(back->samples, 512);
    ASSERT_EQ(back->amax.size(), table.amax.size());
    for (const auto& [name, v] : table.amax) {
        ASSERT_EQ(back->amax.count(name), 1u) << name;
        EXPECT_EQ(back->amax.at(name), v) << name;  // bit-exact, not near
    }
    // The file reads as documented, values in their shortest exact form, and no temporary file is left.
    const std::string text = read();
    EXPECT_EQ(
        text.rfind("# rtinfer calibration cache: per-tensor activation ranges (amax; the int8 scale is amax / 127)\n"
                   "format: 1\nmodel: yolov8n 640x640 sha256:9d1c\ncalibrator: percentile 99.99\nsamples: 512\n",
                   0),
        0u)
        << text;
    EXPECT_TRUE(contains(text, "\namax 0.1 0.1\n")) << text;
    EXPECT_TRUE(contains(text, "\namax 3.1415927 name with  two spaces and trailing space \n")) << text;
    EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);

    // An empty expected model skips the check; CRLF line ends, comments and blank lines are accepted.
    write("# edited by hand\r\nformat: 1\r\n\r\nmodel: other\r\ncalibrator: minmax\r\nsamples: 3\r\namax 2.5 a b\r\n");
    auto any = load_calibration_cache(path_, "");
    ASSERT_TRUE(any.has_value()) << any.status().to_string();
    EXPECT_EQ(any->model, "other");
    EXPECT_EQ(any->amax.at("a b"), 2.5f);
}

TEST_F(CalibrationCacheTest, SaveReplacesTheFileAndRefusesWhatCannotBeReadBack) {
    CalibrationTable table{"m", "entropy", 1, {{"x", 1.0f}}};
    ASSERT_TRUE(save_calibration_cache(path_, table).is_ok());
    table.amax["x"] = 2.0f;
    ASSERT_TRUE(save_calibration_cache(path_, table).is_ok());
    EXPECT_EQ(load_calibration_cache(path_, "m")->amax.at("x"), 2.0f);

    const std::string before = read();
    const std::pair<CalibrationTable, std::string> bad[] = {
        {{"m", "entropy", 1, {{"x", -1.0f}}}, "tensor 'x'"},
        {{"m", "entropy", 1, {{"x", std::nanf("")}}}, "tensor 'x'"},
        {{"m", "entropy", 1, {{"a\nb", 1.0f}}}, "line break"},
        {{"m", "entropy", 1, {{"", 1.0f}}}, "without a name"},
        {{"m\n", "entropy", 1, {}}, "model fingerprint"},
        {{"m", "entropy", -2, {}}, "negative sample count"},
    };
    for (const auto& [t, part] : bad) {
        const rtinfer::Status s = save_calibration_cache(path_, t);
        ASSERT_FALSE(s.is_ok()) << part;
        EXPECT_TRUE(contains(s.message(), path_)) << s.message();
        EXPECT_TRUE(contains(s.message(), part)) << s.message();
    }
    EXPECT_EQ(read(), before);

    const rtinfer::Status s = save_calibration_cache((dir_ / "no" / "such" / "dir.calib").string(), table);
    ASSERT_FALSE(s.is_ok());
    EXPECT_EQ(s.code(), StatusCode::kIoError);
    EXPECT_TRUE(contains(s.message(), "dir.calib")) << s.message();
}

TEST_F(CalibrationCacheTest, MissingFileIsNotFound) {
    auto r = load_calibration_cache(path_, "m");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
    EXPECT_TRUE(contains(r.status().message(), path_)) << r.status().message();
}

TEST_F(CalibrationCacheTest, UnreadableFileIsAnIoError) {
    fs::create_directories(path_);  // a folder where the file should be
    auto r = load_calibration_cache(path_, "m");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.status().code(), StatusCode::kIoError);
    EXPECT_TRUE(contains(r.status().message(), path_)) << r.status().message();
}

TEST_F(CalibrationCacheTest, UnknownFormatVersionSaysWhichOneIsRead) {
    const std::string m = load_error("# a comment\nformat: 2\nmodel: x\n", 2);
    EXPECT_TRUE(contains(m, "'2'")) << m;
    EXPECT_TRUE(contains(m, "reads format 1")) << m;
    const std::string other = load_error("TRT-8601-EntropyCalibration2\ninput: 3c010a14\n", 1);
    EXPECT_TRUE(contains(other, "not an rtinfer calibration cache")) << other;
    EXPECT_TRUE(contains(load_error("", 0), "no 'format:' line"));
}

TEST_F(CalibrationCacheTest, MissingHeaderKeyIsNamed) {
    EXPECT_TRUE(contains(load_error("format: 1\nmodel: resnet18-3f2a\ncalibrator: entropy\namax 1 x\n", 0),
                         "the header has no 'samples:' line"));
    EXPECT_TRUE(contains(load_error("format: 1\nmodel: resnet18-3f2a\nsamples: 5\n", 0), "'calibrator:'"));
    EXPECT_TRUE(contains(load_error("format: 1\ncalibrator: entropy\nsamples: 5\n", 0), "'model:'"));
}

TEST_F(CalibrationCacheTest, CacheOfAnotherModelSaysBothModels) {
    const std::string m = load_error(std::string(kHeader) + "amax 1 x\n", 3, "resnet50-77aa");
    EXPECT_TRUE(contains(m, "made for model 'resnet18-3f2a'")) << m;
    EXPECT_TRUE(contains(m, "'resnet50-77aa'")) << m;
    EXPECT_TRUE(contains(m, "delete the file")) << m;
}

TEST_F(CalibrationCacheTest, MalformedLinesAreLocated) {
    const std::string h = kHeader;  // 5 lines
    EXPECT_TRUE(contains(load_error(h + "amax 1.5 ok\namax 2.x y\n", 7), "'2.x' is not a number"));
    EXPECT_TRUE(contains(load_error(h + "amax 1.5\n", 6), "expected 'amax <value> <tensor name>'"));
    EXPECT_TRUE(contains(load_error(h + "amax  1.5 x\n", 6), "malformed amax line"));
    EXPECT_TRUE(contains(load_error(h + "scale 0.1 x\n", 6), "cannot read 'scale 0.1 x'"));
    EXPECT_TRUE(contains(load_error(h + "version: 3\n", 6), "unknown header key 'version'"));
    EXPECT_TRUE(contains(load_error(h + "samples: 7\n", 6), "given twice (first on line 5)"));
    EXPECT_TRUE(contains(load_error("format: 1\nsamples: many\n", 2), "'many' is not a count"));
}

TEST_F(CalibrationCacheTest, NegativeOrNonFiniteAmaxIsRefused) {
    const std::string h = kHeader;
    for (const char* v : {"-0.5", "nan", "inf", "-inf"}) {
        const std::string m = load_error(h + "amax 1 a\n\namax " + v + " conv 1\n", 8);
        EXPECT_TRUE(contains(m, std::string("amax ") + v + " of tensor 'conv 1'")) << m;
        EXPECT_TRUE(contains(m, "finite and >= 0")) << m;
    }
}

TEST_F(CalibrationCacheTest, TensorNamedTwiceIsRefused) {
    const std::string m = load_error(std::string(kHeader) + "amax 1 a b\namax 2 c\namax 3 a b\n", 8);
    EXPECT_TRUE(contains(m, "tensor 'a b' is listed twice (first on line 6)")) << m;
}
