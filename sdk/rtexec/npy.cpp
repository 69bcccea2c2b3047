#include "sdk/rtexec/npy.h"

#include <cctype>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

namespace rtexec {

using rtinfer::DataType;
using rtinfer::Expected;
using rtinfer::Status;
using rtinfer::StatusCode;

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

Status invalid(const std::string& name, const std::string& message) {
    return Status(StatusCode::kInvalidArgument, name + ": " + message);
}

struct DescrEntry {
    const char* code;  // the descr without its byte-order character
    DataType dtype;
};

constexpr DescrEntry kDescrs[] = {
    {"f4", DataType::kFloat32}, {"f2", DataType::kFloat16}, {"f8", DataType::kFloat64},
    {"i1", DataType::kInt8},    {"u1", DataType::kUInt8},   {"i4", DataType::kInt32},
    {"i8", DataType::kInt64},   {"b1", DataType::kBool},    {"?", DataType::kBool},
};

// Maps a descr such as "<f4" to a type. Byte order '<', '=' (this host is little-endian) and '|' are
// accepted; '>' only where the element is a single byte and byte order means nothing.
Expected<DataType> parse_descr(const std::string& descr, const std::string& name) {
    std::string code = descr;
    char order = '=';
    if (!code.empty() && std::strchr("<>=|", code[0]) != nullptr) {
        order = code[0];
        code = code.substr(1);
    }
    for (const auto& entry : kDescrs) {
        if (code != entry.code) continue;
        if (order == '>' && rtinfer::data_type_size(entry.dtype) > 1)
            return invalid(name, "big-endian dtype '" + descr + "' is not supported (use little-endian)");
        return entry.dtype;
    }
    return invalid(name, "unsupported dtype '" + descr +
                             "' (supported: float32, float16, float64, int8, uint8, int32, int64, bool)");
}

// A reader for the Python dict literal of a .npy header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class HeaderParser {
public:
    HeaderParser(const std::string& text, const std::string& name) : text_(text), name_(name) {}

    Status parse(std::string* descr, bool* fortran_order, std::vector<int64_t>* shape) {
        bool have_descr = false, have_order = false, have_shape = false;
        RT_RETURN_IF_ERROR(expect('{'));
        while (true) {
            skip_space();
            if (peek() == '}') break;
            std::string key;
            RT_RETURN_IF_ERROR(parse_string(&key));
            RT_RETURN_IF_ERROR(expect(':'));
            skip_space();
            if (key == "descr") {
                if (peek() == '[') return error("structured dtypes are not supported");
                RT_RETURN_IF_ERROR(parse_string(descr));
                have_descr = true;
            } else if (key == "fortran_order") {
                RT_RETURN_IF_ERROR(parse_bool(fortran_order));
                have_order = true;
            } else if (key == "shape") {
                RT_RETURN_IF_ERROR(parse_shape(shape));
                have_shape = true;
            } else {
                return error("unexpected key '" + key + "' in the header");
            }
            skip_space();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() != '}') return error("expected ',' or '}' in the header dict");
        }
        ++pos_;
        skip_space();
        if (pos_ != text_.size()) return error("unexpected text after the header dict");
        if (!have_descr) return error("header has no 'descr'");
        if (!have_order) return error("header has no 'fortran_order'");
        if (!have_shape) return error("header has no 'shape'");
        return Status::ok();
    }

private:
    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
    void skip_space() {
        while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    }
    Status error(const std::string& message) const { return invalid(name_, "bad .npy header: " + message); }
    Status expect(char c) {
        skip_space();
        if (peek() != c) return error(std::string("expected '") + c + "'");
        ++pos_;
        return Status::ok();
    }
    Status parse_string(std::string* out) {
        skip_space();
        const char quote = peek();
        if (quote != '\'' && quote != '"') return error("expected a quoted string");
        const size_t end = text_.find(quote, pos_ + 1);
        if (end == std::string::npos) return error("unterminated string");
        *out = text_.substr(pos_ + 1, end - pos_ - 1);
        pos_ = end + 1;
        return Status::ok();
    }
    Status parse_bool(bool* out) {
        if (text_.compare(pos_, 4, "True") == 0) {
            *out = true;
            pos_ += 4;
        } else if (text_.compare(pos_, 5, "False") == 0) {
            *out = false;
            pos_ += 5;
        } else {
            return error("fortran_order must be True or False");
        }
        return Status::ok();
    }
    Status parse_shape(std::vector<int64_t>* shape) {
        shape->clear();
        RT_RETURN_IF_ERROR(expect('('));
        while (true) {
            skip_space();
            if (peek() == ')') break;
            if (!std::isdigit(static_cast<unsigned char>(peek())))
                return error("shape must hold non-negative integers");
            int64_t dim = 0;
            while (std::isdigit(static_cast<unsigned char>(peek()))) {
                if (dim > (std::numeric_limits<int64_t>::max() - 9) / 10) return error("shape dimension too large");
                dim = dim * 10 + (text_[pos_++] - '0');
            }
            if (peek() == 'L') ++pos_;  // Python 2 long literal
            shape->push_back(dim);
            skip_space();
            if (peek() == ',') {
                ++pos_;
            } else if (peek() != ')') {
                return error("expected ',' or ')' in the shape");
            }
        }
        ++pos_;
        return Status::ok();
    }

    const std::string& text_;
    const std::string& name_;
    size_t pos_ = 0;
};

uint32_t read_le(const uint8_t* p, size_t bytes) {
    uint32_t v = 0;
    for (size_t i = 0; i < bytes; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
    return v;
}

// numel * element size, or an error when it does not fit in memory sizes.
Expected<size_t> data_bytes(DataType dtype, const std::vector<int64_t>& shape, const std::string& name) {
    size_t total = rtinfer::data_type_size(dtype);
    for (int64_t d : shape) {
        if (d < 0) return invalid(name, "negative dimension in the shape");
        if (d != 0 && total > std::numeric_limits<size_t>::max() / static_cast<size_t>(d))
            return invalid(name, "shape too large");
        total *= static_cast<size_t>(d);
    }
    return total;
}

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
    return s + "]";
}

}  // namespace

int64_t NpyArray::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

const char* npy_descr(DataType dtype) {
    switch (dtype) {
        case DataType::kFloat32:
            return "<f4";
        case DataType::kFloat16:
            return "<f2";
        case DataType::kFloat64:
            return "<f8";
        case DataType::kInt8:
            return "|i1";
        case DataType::kUInt8:
            return "|u1";
        case DataType::kInt32:
            return "<i4";
        case DataType::kInt64:
            return "<i8";
        case DataType::kBool:
            return "|b1";
        case DataType::kUndefined:
            break;
    }
    return "";
}

Expected<NpyArray> parse_npy(const void* data, size_t size, const std::string& name) {
    const auto* bytes = static_cast<const uint8_t*>(data);
    if (size < kMagicSize || std::memcmp(bytes, kMagic, kMagicSize) != 0)
        return invalid(name, "not a .npy file (bad magic)");
    if (size < kMagicSize + 2) return invalid(name, "truncated .npy header");
    const int major = bytes[kMagicSize];
    const int minor = bytes[kMagicSize + 1];
    size_t len_bytes = 0;
    if (major == 1) {
        len_bytes = 2;
    } else if (major == 2 || major == 3) {
        len_bytes = 4;
    } else {
        return invalid(name, "unsupported .npy version " + std::to_string(major) + "." + std::to_string(minor));
    }
    const size_t prefix = kMagicSize + 2 + len_bytes;
    if (size < prefix) return invalid(name, "truncated .npy header");
    const size_t header_len = read_le(bytes + kMagicSize + 2, len_bytes);
    if (header_len > size - prefix) return invalid(name, "truncated .npy header");

    const std::string header(reinterpret_cast<const char*>(bytes + prefix), header_len);
    std::string descr;
    bool fortran_order = false;
    NpyArray array;
    RT_RETURN_IF_ERROR(HeaderParser(header, name).parse(&descr, &fortran_order, &array.shape));
    if (fortran_order) return invalid(name, "fortran_order True is not supported (save a C-order array)");
    RT_ASSIGN_OR_RETURN(array.dtype, parse_descr(descr, name));
    RT_ASSIGN_OR_RETURN(const size_t expected, data_bytes(array.dtype, array.shape, name));

    const size_t actual = size - prefix - header_len;
    if (actual != expected) {
        return invalid(name, "data size mismatch: shape " + shape_text(array.shape) + " of " +
                                 rtinfer::data_type_name(array.dtype) + " needs " + std::to_string(expected) +
                                 " bytes, the file has " + std::to_string(actual));
    }
    array.data.assign(bytes + prefix + header_len, bytes + size);
    return array;
}

Expected<NpyArray> read_npy(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status(StatusCode::kNotFound, path + ": cannot open file");
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return Status(StatusCode::kIoError, path + ": read failed");
    return parse_npy(bytes.data(), bytes.size(), path);
}

Expected<std::vector<uint8_t>> encode_npy(DataType dtype, const std::vector<int64_t>& shape, const void* data) {
    if (dtype == DataType::kUndefined) return Status(StatusCode::kInvalidArgument, "cannot write dtype undefined");
    RT_ASSIGN_OR_RETURN(const size_t nbytes, data_bytes(dtype, shape, "npy"));

    std::string dict = std::string("{'descr': '") + npy_descr(dtype) + "', 'fortran_order': False, 'shape': (";
    for (size_t i = 0; i < shape.size(); ++i) dict += (i ? ", " : "") + std::to_string(shape[i]);
    dict += shape.size() == 1 ? ",), }" : "), }";

    // numpy pads the header with spaces and a newline so the data starts at a multiple of 64 bytes.
    size_t len_bytes = 2;
    size_t total = kMagicSize + 2 + len_bytes + dict.size() + 1;
    if ((total + 63) / 64 * 64 - kMagicSize - 2 - len_bytes > 0xffff) {
        len_bytes = 4;
        total = kMagicSize + 2 + len_bytes + dict.size() + 1;
    }
    const size_t padded = (total + 63) / 64 * 64;
    dict.append(padded - total, ' ');
    dict += '\n';
    const size_t header_len = dict.size();

    std::vector<uint8_t> out;
    out.reserve(padded + nbytes);
    out.insert(out.end(), kMagic, kMagic + kMagicSize);
    out.push_back(len_bytes == 2 ? 1 : 2);
    out.push_back(0);
    for (size_t i = 0; i < len_bytes; ++i) out.push_back(static_cast<uint8_t>(header_len >> (8 * i)));
    out.insert(out.end(), dict.begin(), dict.end());
    const auto* p = static_cast<const uint8_t*>(data);
    if (nbytes > 0) out.insert(out.end(), p, p + nbytes);
    return out;
}

Status write_npy(const std::string& path, DataType dtype, const std::vector<int64_t>& shape, const void* data) {
    auto bytes = encode_npy(dtype, shape, data);
    if (!bytes) return bytes.status().with_context(path);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return Status(StatusCode::kIoError, path + ": cannot create file");
    out.write(reinterpret_cast<const char*>(bytes->data()), static_cast<std::streamsize>(bytes->size()));
    out.close();
    if (!out) return Status(StatusCode::kIoError, path + ": write failed");
    return Status::ok();
}

}  // namespace rtexec
