#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "sdk/rtexec/npy.h"

using rtexec::encode_npy;
using rtexec::parse_npy;
using rtinfer::DataType;

namespace {

const DataType kAllTypes[] = {DataType::kFloat32, DataType::kFloat16, DataType::kFloat64, DataType::kInt8,
                              DataType::kUInt8,   DataType::kInt32,   DataType::kInt64,   DataType::kBool};

// Non-zero bytes (bools are 0/1), so a reader that drops or shifts data cannot match by accident.
std::vector<uint8_t> pattern(DataType dtype, size_t numel) {
    std::vector<uint8_t> bytes(numel * rtinfer::data_type_size(dtype));
    uint32_t seed = 12345;
    for (size_t i = 0; i < bytes.size(); ++i) {
        seed = seed * 1664525u + 1013904223u;
        bytes[i] =
            dtype == DataType::kBool ? static_cast<uint8_t>(seed >> 31) : static_cast<uint8_t>(1 + (seed >> 24) % 255);
    }
    return bytes;
}

// A file as numpy writes it, from a header dict text; the header is padded to a 64-byte boundary.
std::vector<uint8_t> npy_file(const std::string& dict, const std::vector<uint8_t>& data, int major = 1) {
    const size_t len_bytes = major == 1 ? 2 : 4;
    std::string header = dict;
    const size_t unpadded = 8 + len_bytes + header.size() + 1;
    header.append((unpadded + 63) / 64 * 64 - unpadded, ' ');
    header += '\n';
    std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
    for (size_t i = 0; i < len_bytes; ++i) out.push_back(static_cast<uint8_t>(header.size() >> (8 * i)));
    out.insert(out.end(), header.begin(), header.end());
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

std::string error_of(const std::vector<uint8_t>& bytes, const std::string& name = "x.npy") {
    auto r = parse_npy(bytes.data(), bytes.size(), name);
    EXPECT_FALSE(r.has_value());
    return r.has_value() ? std::string() : r.status().message();
}

}  // namespace

TEST(Npy, RoundTripsEveryDtypeAndShape) {
    const std::vector<std::vector<int64_t>> shapes = {{2, 3}, {}, {7}, {2, 0, 3}, {1, 2, 3, 4, 5}};
    for (DataType dtype : kAllTypes) {
        for (const auto& shape : shapes) {
            size_t numel = 1;
            for (int64_t d : shape) numel *= static_cast<size_t>(d);
            const auto data = pattern(dtype, numel);
            auto bytes = encode_npy(dtype, shape, data.data());
            ASSERT_TRUE(bytes.has_value()) << bytes.status().to_string();
            EXPECT_EQ(bytes->size() - data.size(), 128u);  // numpy's 64-byte-aligned header for short dicts
            auto back = parse_npy(bytes->data(), bytes->size(), "t.npy");
            ASSERT_TRUE(back.has_value()) << back.status().to_string();
            EXPECT_EQ(back->dtype, dtype) << rtinfer::data_type_name(dtype);
            EXPECT_EQ(back->shape, shape);
            EXPECT_EQ(back->data, data);
            EXPECT_EQ(back->numel(), static_cast<int64_t>(numel));
        }
    }
}

TEST(Npy, WritesTheHeaderNumpyWrites) {
    const std::vector<uint8_t> data = pattern(DataType::kFloat32, 3);
    auto bytes = encode_npy(DataType::kFloat32, {3}, data.data());
    ASSERT_TRUE(bytes.has_value());
    const std::string header(reinterpret_cast<const char*>(bytes->data()) + 10, 118);
    const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
    EXPECT_EQ(header.substr(0, dict.size()), dict);
    EXPECT_EQ(header.substr(dict.size(), 117 - dict.size()), std::string(117 - dict.size(), ' '));
    EXPECT_EQ(header.back(), '\n');
    EXPECT_EQ((*bytes)[6], 1);
    EXPECT_EQ((*bytes)[8] | ((*bytes)[9] << 8), 118);
}

TEST(Npy, ReadsVersion2AndHeaderVariants) {
    const auto data = pattern(DataType::kInt64, 6);
    auto v2 = parse_npy(npy_file("{'descr': '<i8', 'fortran_order': False, 'shape': (3, 2), }", data, 2).data(),
                        npy_file("{'descr': '<i8', 'fortran_order': False, 'shape': (3, 2), }", data, 2).size(), "v2");
    ASSERT_TRUE(v2.has_value()) << v2.status().to_string();
    EXPECT_EQ(v2->dtype, DataType::kInt64);
    EXPECT_EQ(v2->shape, (std::vector<int64_t>{3, 2}));
    EXPECT_EQ(v2->data, data);

    // Keys in another order, double quotes, no trailing comma, '=' byte order and Python 2 long dims.
    const auto file = npy_file("{\"shape\": (3L, 2L), \"fortran_order\": False, \"descr\": \"=i8\"}", data);
    auto other = parse_npy(file.data(), file.size(), "variant");
    ASSERT_TRUE(other.has_value()) << other.status().to_string();
    EXPECT_EQ(other->shape, (std::vector<int64_t>{3, 2}));
    EXPECT_EQ(other->data, data);

    const auto b = pattern(DataType::kBool, 4);
    const auto bools = npy_file("{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }", b);
    auto parsed = parse_npy(bools.data(), bools.size(), "bools");
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->dtype, DataType::kBool);
}

TEST(Npy, RejectsTruncatedFilesNamingThem) {
    const auto data = pattern(DataType::kFloat32, 6);
    auto bytes = encode_npy(DataType::kFloat32, {2, 3}, data.data());
    ASSERT_TRUE(bytes.has_value());
    for (size_t cut :
         {size_t{0}, size_t{4}, size_t{7}, size_t{9}, size_t{40}, size_t{127}, size_t{128}, bytes->size() - 1}) {
        const std::vector<uint8_t> part(bytes->begin(), bytes->begin() + static_cast<std::ptrdiff_t>(cut));
        const std::string message = error_of(part, "cut.npy");
        EXPECT_NE(message.find("cut.npy"), std::string::npos) << message;
        if (cut >= 9 && cut < 128) {
            EXPECT_NE(message.find("truncated"), std::string::npos) << cut << ": " << message;
        } else if (cut >= 128) {
            EXPECT_NE(message.find("data size mismatch"), std::string::npos) << message;
        }
    }
}

TEST(Npy, RejectsBadMagic) {
    const auto data = pattern(DataType::kFloat32, 2);
    auto bytes = encode_npy(DataType::kFloat32, {2}, data.data());
    ASSERT_TRUE(bytes.has_value());
    (*bytes)[1] = 'X';
    EXPECT_NE(error_of(*bytes, "magic.npy").find("magic.npy: not a .npy file (bad magic)"), std::string::npos);
    const std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'};
    EXPECT_NE(error_of(text).find("bad magic"), std::string::npos);
}

TEST(Npy, RejectsFortranOrder) {
    const auto file =
        npy_file("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", pattern(DataType::kFloat32, 4));
    const std::string message = error_of(file, "f.npy");
    EXPECT_NE(message.find("f.npy"), std::string::npos);
    EXPECT_NE(message.find("fortran_order True"), std::string::npos) << message;
}

TEST(Npy, RejectsDataSizeMismatch) {
    const std::string dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }";
    const std::string short_message = error_of(npy_file(dict, pattern(DataType::kInt32, 3)), "short.npy");
    EXPECT_NE(short_message.find("short.npy: data size mismatch"), std::string::npos) << short_message;
    EXPECT_NE(short_message.find("needs 16 bytes, the file has 12"), std::string::npos) << short_message;
    const std::string long_message = error_of(npy_file(dict, pattern(DataType::kInt32, 5)));
    EXPECT_NE(long_message.find("data size mismatch"), std::string::npos) << long_message;
}

TEST(Npy, RejectsMalformedHeaders) {
    const auto data = pattern(DataType::kFloat32, 4);
    struct Case {
        const char* dict;
        const char* expect;
    };
    const Case cases[] = {
        {"{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", "big-endian"},
        {"{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", "unsupported dtype '<c8'"},
        {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }", "structured"},
        {"{'descr': '<f4', 'shape': (4,), }", "no 'fortran_order'"},
        {"{'descr': '<f4', 'fortran_order': False, }", "no 'shape'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }", "non-negative"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1}", "unexpected key 'x'"},
        {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (4,), }", "True or False"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4,)", "expected ',' or '}'"},
        {"['descr', '<f4']", "expected '{'"},
    };
    for (const auto& c : cases) {
        const std::string message = error_of(npy_file(c.dict, data), "h.npy");
        EXPECT_NE(message.find(c.expect), std::string::npos) << c.dict << " -> " << message;
        EXPECT_EQ(message.rfind("h.npy: ", 0), 0u) << message;
    }
    auto bad_version = npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", data);
    bad_version[6] = 9;
    EXPECT_NE(error_of(bad_version).find("unsupported .npy version 9.0"), std::string::npos);
}

TEST(Npy, FileRoundTripAndMissingFile) {
    const std::string path = testing::TempDir() + "rtexec_npy_roundtrip.npy";
    const auto data = pattern(DataType::kFloat16, 10);
    ASSERT_TRUE(rtexec::write_npy(path, DataType::kFloat16, {2, 5}, data.data()).is_ok());
    auto back = rtexec::read_npy(path);
    ASSERT_TRUE(back.has_value()) << back.status().to_string();
    EXPECT_EQ(back->dtype, DataType::kFloat16);
    EXPECT_EQ(back->shape, (std::vector<int64_t>{2, 5}));
    EXPECT_EQ(back->data, data);
    std::remove(path.c_str());

    auto missing = rtexec::read_npy(path);
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.status().code(), rtinfer::StatusCode::kNotFound);
    EXPECT_NE(missing.status().message().find(path), std::string::npos);
}
