// rtexec compare's parts: the error statistics, the first-jump rule and the sample reader.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>
#include <unistd.h>

#include "sdk/rtexec/compare_data.h"
#include "sdk/rtexec/compare_stats.h"
#include "sdk/rtexec/npy.h"

using rtinfer::DataType;
using rtinfer::StatusCode;

namespace fs = std::filesystem;

TEST(CompareStats, MatchesHandComputedErrors) {
    // a - b = [0.5, -1, 0, 2]; ||b||^2 = 1 + 4 + 9 + 16 = 30; a . b = 1.5 + 2 + 9 + 24 = 36.5; ||a||^2 = 48.25.
    const double a[] = {1.5, 1.0, 3.0, 6.0}, b[] = {1.0, 2.0, 3.0, 4.0};
    rtexec::ErrorStats stats;
    stats.add(a, b, 2);  // two calls: the sums carry over
    stats.add(a + 2, b + 2, 2);
    EXPECT_EQ(stats.count(), 4u);
    EXPECT_DOUBLE_EQ(stats.max_abs(), 2.0);
    EXPECT_DOUBLE_EQ(stats.mean_abs(), 3.5 / 4);
    EXPECT_DOUBLE_EQ(stats.rel_l2(), std::sqrt(5.25 / 30.0));
    EXPECT_DOUBLE_EQ(stats.cosine(), 36.5 / std::sqrt(48.25 * 30.0));
    // Rows [1.5, 1] / [1, 2] pick different elements, rows [3, 6] / [3, 4] the same.
    stats.add_top1(a, b, 2, 2);
    EXPECT_EQ(stats.top1_rows(), 2u);
    EXPECT_DOUBLE_EQ(stats.top1_percent(), 50.0);

    rtexec::ErrorStats nan;
    const double x[] = {std::nan(""), 1.0, std::nan("")}, y[] = {1.0, 3.0, std::nan("")};
    nan.add(x, y, 3);
    EXPECT_EQ(nan.nan_mismatches(), 1u);
    EXPECT_EQ(nan.count(), 1u);
    EXPECT_DOUBLE_EQ(nan.max_abs(), 2.0);

    rtexec::ErrorStats zero_ref;
    const double z[] = {0.0, 0.0};
    zero_ref.add(a, z, 2);
    EXPECT_TRUE(std::isinf(zero_ref.rel_l2()));
    EXPECT_DOUBLE_EQ(zero_ref.cosine(), 0.0);
}

TEST(CompareStats, FirstJumpNeedsTheFloorAndTheFactor) {
    // 0.04 is above the floor but under 10x 0.005; 0.5 is 12.5x 0.04.
    EXPECT_EQ(rtexec::first_error_jump({0.0, 0.005, 0.04, 0.5, 0.9}, 1e-2, 10.0), 3);
    // Growing errors, never 10x the largest before once above the floor: no jump.
    EXPECT_EQ(rtexec::first_error_jump({0.005, 0.02, 0.1, 0.5}, 1e-2, 10.0), -1);
    // The first tensor jumps when it alone exceeds the floor; NaN counts as infinite.
    EXPECT_EQ(rtexec::first_error_jump({0.3, 0.1}, 1e-2, 10.0), 0);
    EXPECT_EQ(rtexec::first_error_jump({1e-6, std::nan("")}, 1e-2, 10.0), 1);
    EXPECT_EQ(rtexec::first_error_jump({}, 1e-2, 10.0), -1);
}

TEST(CompareStats, ChannelsLastTensorsMatchTheirNchwNamesAndTranspose) {
    const std::set<std::string> ref = {"conv1", "relu1_nhwc", "pool"};
    std::string name;
    rtexec::Layout layout = rtexec::Layout::kSame;
    ASSERT_TRUE(rtexec::match_tensor("conv1_nhwc", ref, &name, &layout));
    EXPECT_EQ(name, "conv1");
    EXPECT_EQ(layout, rtexec::Layout::kTestNhwc);
    ASSERT_TRUE(rtexec::match_tensor("relu1", ref, &name, &layout));
    EXPECT_EQ(name, "relu1_nhwc");
    EXPECT_EQ(layout, rtexec::Layout::kRefNhwc);
    ASSERT_TRUE(rtexec::match_tensor("pool", ref, &name, &layout));
    EXPECT_EQ(layout, rtexec::Layout::kSame);
    EXPECT_FALSE(rtexec::match_tensor("pool_fp16", ref, &name, &layout));
    EXPECT_FALSE(rtexec::match_tensor("_nhwc", ref, &name, &layout));

    // NHWC [1, 2, 3, 2]: value = 100 h + 10 w + c; NCHW element (c, h, w) must hold the same number.
    std::vector<int64_t> dims = {1, 2, 3, 2};
    std::vector<double> values;
    for (int h = 0; h < 2; ++h)
        for (int w = 0; w < 3; ++w)
            for (int c = 0; c < 2; ++c) values.push_back(100 * h + 10 * w + c);
    rtexec::nhwc_to_nchw(dims, values);
    EXPECT_EQ(dims, (std::vector<int64_t>{1, 2, 2, 3}));
    EXPECT_EQ(values, (std::vector<double>{0, 10, 20, 100, 110, 120, 1, 11, 21, 101, 111, 121}));
}

namespace {

class SampleReaderTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::path(::testing::TempDir()) / ("rtexec_compare_" + std::to_string(::getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    // A float32 file whose values count on from `first`.
    void write(const std::string& name, const std::vector<int64_t>& shape, float first) {
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        std::vector<float> v(static_cast<size_t>(n));
        for (size_t i = 0; i < v.size(); ++i) v[i] = first + static_cast<float>(i);
        ASSERT_TRUE(rtexec::write_npy((dir_ / name).string(), DataType::kFloat32, shape, v.data()).is_ok());
    }

    fs::path dir_;
};

std::vector<float> floats(const std::vector<uint8_t>& bytes) {
    std::vector<float> v(bytes.size() / sizeof(float));
    std::memcpy(v.data(), bytes.data(), bytes.size());
    return v;
}

}  // namespace

TEST_F(SampleReaderTest, SplitsBatchesAcrossFilesInNameOrder) {
    write("b.npy", {3, 2}, 10.0f);  // samples [10,11] [12,13] [14,15]
    write("a.npy", {2}, 1.0f);      // one sample [1,2]
    const std::vector<rtexec::SampleInput> inputs = {{"x", DataType::kFloat32, {-1, 2}}};
    auto reader = rtexec::SampleReader::open(dir_.string(), inputs);
    ASSERT_TRUE(reader.has_value()) << reader.status().to_string();
    EXPECT_EQ(reader->file_groups(), 2u);
    std::vector<std::vector<uint8_t>> rows;
    auto n = reader->next(3, rows);
    ASSERT_TRUE(n.has_value()) << n.status().to_string();
    EXPECT_EQ(*n, 3u);
    EXPECT_EQ(floats(rows[0]), (std::vector<float>{1, 2, 10, 11, 12, 13}));
    n = reader->next(3, rows);
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(*n, 1u);
    EXPECT_EQ(floats(rows[0]), (std::vector<float>{14, 15}));
    n = reader->next(3, rows);
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(*n, 0u);
}

TEST_F(SampleReaderTest, ErrorsNameTheFolderOrFileAndBothShapes) {
    const std::vector<rtexec::SampleInput> inputs = {{"x", DataType::kFloat32, {1, 4}}};
    auto missing = rtexec::SampleReader::open((dir_ / "nothing").string(), inputs);
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
    auto empty = rtexec::SampleReader::open(dir_.string(), inputs);
    ASSERT_FALSE(empty.has_value());
    EXPECT_NE(empty.status().message().find("no .npy files"), std::string::npos);

    write("bad.npy", {2, 3}, 1.0f);
    auto reader = rtexec::SampleReader::open(dir_.string(), inputs);
    ASSERT_TRUE(reader.has_value());
    std::vector<std::vector<uint8_t>> rows;
    auto n = reader->next(1, rows);
    ASSERT_FALSE(n.has_value());
    const std::string message = n.status().message();
    for (const char* part : {"bad.npy", "[2,3]", "input 'x' [1,4]", "[4]", "[?,4]"})
        EXPECT_NE(message.find(part), std::string::npos) << part << " in " << message;

    const std::vector<rtexec::SampleInput> two = {{"a", DataType::kFloat32, {1, 4}},
                                                  {"b", DataType::kFloat32, {1, 4}}};
    auto no_subfolder = rtexec::SampleReader::open(dir_.string(), two);
    ASSERT_FALSE(no_subfolder.has_value());
    EXPECT_NE(no_subfolder.status().message().find("subfolder 'a'"), std::string::npos);
}
