// The metadata JSON lines: the documented shape, escaping, numbers that read back exactly, and a line that
// a JSON parser (Python's, in the CLI tests' interpreter) accepts is checked here by structure.
#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>

#include "pipelines/metadata/json_lines.h"

using namespace rtinfer::pipelines;

TEST(JsonLines, OneFrameWithObjectsAndClasses) {
    FrameResults r;
    r.stream = 1;
    r.frame = 12;
    r.pts_ns = 400000000;
    r.width = 1920;
    r.height = 1080;
    Detection d;
    d.class_id = 2;
    d.label = "car";
    d.confidence = 0.91f;
    d.x1 = 10.5f, d.y1 = 20, d.x2 = 110.25f, d.y2 = 220;
    r.objects = {d};
    r.classes = {{7, 0.875f, "cat"}};
    EXPECT_EQ(to_json_line(r),
              "{\"stream\":1,\"frame\":12,\"pts_ns\":400000000,\"width\":1920,\"height\":1080,"
              "\"objects\":[{\"class_id\":2,\"label\":\"car\",\"confidence\":0.91,\"box\":[10.5,20,110.25,220]}],"
              "\"classes\":[{\"class_id\":7,\"label\":\"cat\",\"score\":0.875}]}");
}

TEST(JsonLines, EmptyListsNoTimestampEscapesAndNonFiniteNumbers) {
    FrameResults r;
    EXPECT_EQ(to_json_line(r),
              "{\"stream\":0,\"frame\":0,\"pts_ns\":null,\"width\":0,\"height\":0,\"objects\":[],\"classes\":[]}");
    EXPECT_EQ(json_string("a\"b\\c\nd\te\x01"), "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
    Detection d;
    d.label = "x";
    d.confidence = std::numeric_limits<float>::quiet_NaN();
    d.x2 = std::numeric_limits<float>::infinity();
    r.objects = {d};
    EXPECT_NE(to_json_line(r).find("\"confidence\":null,\"box\":[0,0,null,0]"), std::string::npos) << to_json_line(r);
}

TEST(JsonLines, NumbersReadBackExactly) {
    for (float v : {0.1f, 1.0f / 3.0f, 1234.5678f, 1e-7f, 3.4e38f}) {
        FrameResults r;
        r.classes = {{0, v, ""}};
        const std::string line = to_json_line(r);
        const size_t at = line.find("\"score\":") + 8;
        EXPECT_EQ(std::strtof(line.c_str() + at, nullptr), v) << line;
    }
}
