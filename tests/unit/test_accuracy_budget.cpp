// The INT8 accuracy budget: its two spellings, the errors, and the figures a probe is judged by.
#include <gtest/gtest.h>

#include "core/quant/accuracy_budget.h"

namespace rtinfer::quant {
namespace {

TEST(AccuracyBudget, RelativeErrorOrTopOneAgreement) {
    auto rel = parse_accuracy_budget("0.02");
    ASSERT_TRUE(rel.has_value());
    EXPECT_FALSE(rel->top1);
    EXPECT_DOUBLE_EQ(rel->value, 0.02);
    auto top = parse_accuracy_budget("top1:99.5");
    ASSERT_TRUE(top.has_value());
    EXPECT_TRUE(top->top1);
    EXPECT_DOUBLE_EQ(top->value, 99.5);
    EXPECT_TRUE(meets(*rel, 0.02));
    EXPECT_FALSE(meets(*rel, 0.021));
    EXPECT_TRUE(meets(*top, 100.0));
    EXPECT_FALSE(meets(*top, 99.0));
}

TEST(AccuracyBudget, BadSpellingsNameTheTextAndBothForms) {
    for (const char* text : {"", "top1:", "top1:101", "top1:0", "-0.1", "0", "2%", "top5:90", "abc"}) {
        auto b = parse_accuracy_budget(text);
        ASSERT_FALSE(b.has_value()) << text;
        EXPECT_NE(b.status().message().find(std::string("'") + text + "'"), std::string::npos) << b.status().message();
        EXPECT_NE(b.status().message().find("top1:P"), std::string::npos);
    }
}

TEST(AccuracyBudget, LargestRelativeErrorOverTheOutputs) {
    const std::vector<TensorDesc> outputs = {{"a", DataType::kFloat32, {1, 2}}, {"b", DataType::kFloat32, {1, 2}}};
    // a: error (0.3, 0.4) against (3, 4): 0.5 / 5 = 0.1; b: (0, 0.5) against (1, 0): 0.5.
    const std::vector<std::vector<float>> want = {{3.0f, 4.0f}, {1.0f, 0.0f}};
    const std::vector<std::vector<float>> got = {{3.3f, 4.4f}, {1.0f, 0.5f}};
    EXPECT_NEAR(output_accuracy(got, want, outputs, 1, false), 0.5, 1e-6);
    EXPECT_DOUBLE_EQ(output_accuracy(want, want, outputs, 1, false), 0.0);
}

TEST(AccuracyBudget, TopOneAgreementOfTheClassRows) {
    // Three samples of 3 classes; the second disagrees. The 1-D output has no rows and does not count.
    const std::vector<TensorDesc> outputs = {{"logits", DataType::kFloat32, {1, 3}}, {"x", DataType::kFloat32, {3}}};
    const std::vector<std::vector<float>> want = {{0, 1, 0, 5, 1, 0, 0, 0, 2}, {1, 2, 3}};
    const std::vector<std::vector<float>> got = {{0, 2, 1, 1, 3, 0, 1, 0, 9}, {3, 2, 1}};
    EXPECT_NEAR(output_accuracy(got, want, outputs, 3, true), 200.0 / 3.0, 1e-9);
}

}  // namespace
}  // namespace rtinfer::quant
