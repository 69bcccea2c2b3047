// TensorProto -> ir::Tensor: element types, the three storage forms (typed fields, raw_data, external
// file) and the size checks that come before any copy.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>

#include "core/onnx/import_internal.h"
#include "core/onnx/importer.h"

namespace rtinfer::onnx {
namespace detail {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "raw_data is little-endian and is copied as is");

namespace {

using Proto = ::onnx::TensorProto;

// Which repeated field holds the values of a type when raw_data is not used.
enum class TypedField { kFloat, kInt32, kInt64, kDouble };

TypedField typed_field_of(ir::DType dtype) {
    switch (dtype) {
        case ir::DType::kFloat32: return TypedField::kFloat;
        case ir::DType::kInt64: return TypedField::kInt64;
        case ir::DType::kFloat64: return TypedField::kDouble;
        default: return TypedField::kInt32;  // int8, uint8, int32, bool, float16 bits
    }
}

const char* typed_field_name(TypedField field) {
    switch (field) {
        case TypedField::kFloat: return "float_data";
        case TypedField::kInt32: return "int32_data";
        case TypedField::kInt64: return "int64_data";
        case TypedField::kDouble: return "double_data";
    }
    return "?";
}

int64_t typed_field_size(const Proto& p, TypedField field) {
    switch (field) {
        case TypedField::kFloat: return p.float_data_size();
        case TypedField::kInt32: return p.int32_data_size();
        case TypedField::kInt64: return p.int64_data_size();
        case TypedField::kDouble: return p.double_data_size();
    }
    return 0;
}

// Name of a field other than `expected` that holds values, or nullptr. `expected` nullptr: any field.
const char* stray_typed_field(const Proto& p, const TypedField* expected) {
    for (TypedField f : {TypedField::kFloat, TypedField::kInt32, TypedField::kInt64, TypedField::kDouble}) {
        if ((expected == nullptr || f != *expected) && typed_field_size(p, f) > 0) return typed_field_name(f);
    }
    if (p.uint64_data_size() > 0) return "uint64_data";
    if (p.string_data_size() > 0) return "string_data";
    return nullptr;
}

Status invalid(const std::string& message) { return Status(StatusCode::kInvalidModel, message); }

// Element count and byte size, rejecting negative dims and products that overflow.
Status checked_sizes(const Proto& p, ir::DType dtype, ir::Shape& shape, int64_t& numel, int64_t& nbytes) {
    shape.assign(p.dims().begin(), p.dims().end());
    numel = 1;
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] < 0) {
            return invalid("dimension " + std::to_string(i) + " is negative (" + std::to_string(shape[i]) + ")");
        }
        if (__builtin_mul_overflow(numel, shape[i], &numel)) return invalid("element count overflows");
    }
    if (__builtin_mul_overflow(numel, static_cast<int64_t>(data_type_size(dtype)), &nbytes)) {
        return invalid("byte size overflows");
    }
    return Status();
}

std::string element_count_str(int64_t numel, ir::DType dtype) {
    return std::to_string(numel) + " " + data_type_name(dtype) + " element" + (numel == 1 ? "" : "s");
}

template <class Int>
bool narrow_in_range(int32_t v) {
    return v >= std::numeric_limits<Int>::min() && v <= std::numeric_limits<Int>::max();
}

Status read_int32_field(const Proto& p, ir::Tensor& t) {
    const auto& src = p.int32_data();
    const int64_t n = t.numel();
    for (int64_t i = 0; i < n; ++i) {
        const int32_t v = src[static_cast<int>(i)];
        bool ok = true;
        switch (t.dtype()) {
            case ir::DType::kInt32: t.data<int32_t>()[i] = v; break;
            case ir::DType::kInt8:
                ok = narrow_in_range<int8_t>(v);
                t.data<int8_t>()[i] = static_cast<int8_t>(v);
                break;
            case ir::DType::kUInt8:
                ok = narrow_in_range<uint8_t>(v);
                t.data<uint8_t>()[i] = static_cast<uint8_t>(v);
                break;
            case ir::DType::kBool: t.data<uint8_t>()[i] = v != 0 ? 1 : 0; break;
            case ir::DType::kFloat16:
                // The bits of the half, stored zero-extended (some writers sign-extend them).
                ok = v >= std::numeric_limits<int16_t>::min() && v <= std::numeric_limits<uint16_t>::max();
                t.data<uint16_t>()[i] = static_cast<uint16_t>(v & 0xFFFF);
                break;
            default: return Status(StatusCode::kInternal, "int32_data read for a type that does not use it");
        }
        if (!ok) {
            return invalid("int32_data[" + std::to_string(i) + "] = " + std::to_string(v) + " is out of range for " +
                           data_type_name(t.dtype()));
        }
    }
    return Status();
}

// A zero-filled tensor, or kOutOfMemory; called only once the data it will hold is known to exist.
Expected<ir::Tensor> allocate(ir::DType dtype, ir::Shape shape, int64_t nbytes) {
    ir::Tensor t(dtype, std::move(shape));
    if (t.raw() == nullptr) {
        return Status(StatusCode::kOutOfMemory, "cannot allocate " + std::to_string(nbytes) + " bytes");
    }
    return t;
}

Expected<ir::Tensor> read_typed(const Proto& p, ir::DType dtype, ir::Shape shape, int64_t numel, int64_t nbytes) {
    const TypedField field = typed_field_of(dtype);
    if (const char* stray = stray_typed_field(p, &field)) {
        return invalid(std::string("holds values in ") + stray + ", but " + data_type_name(dtype) +
                       " values belong in " + typed_field_name(field));
    }
    const int64_t count = typed_field_size(p, field);
    if (count != numel) {
        return invalid(std::string(typed_field_name(field)) + " has " + std::to_string(count) + " values, expected " +
                       std::to_string(numel) + " for shape " + ir::shape_str(shape));
    }
    RT_ASSIGN_OR_RETURN(ir::Tensor t, allocate(dtype, std::move(shape), nbytes));
    if (count == 0) return t;
    switch (field) {
        case TypedField::kFloat: std::memcpy(t.raw(), p.float_data().data(), t.nbytes()); break;
        case TypedField::kInt64: std::memcpy(t.raw(), p.int64_data().data(), t.nbytes()); break;
        case TypedField::kDouble: std::memcpy(t.raw(), p.double_data().data(), t.nbytes()); break;
        case TypedField::kInt32: RT_RETURN_IF_ERROR(read_int32_field(p, t)); break;
    }
    return t;
}

// bool is one byte of 0/1 past this boundary, whatever byte the file held.
void normalize_bools(ir::Tensor& t) {
    if (t.dtype() != ir::DType::kBool) return;
    uint8_t* p = t.data<uint8_t>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = p[i] != 0 ? 1 : 0;
}

Expected<ir::Tensor> read_raw(Proto& p, ir::DType dtype, ir::Shape shape, int64_t numel, int64_t nbytes) {
    if (const char* stray = stray_typed_field(p, nullptr)) {
        return invalid(std::string("has both raw_data and ") + stray);
    }
    const std::string& raw = p.raw_data();
    if (static_cast<int64_t>(raw.size()) != nbytes) {
        return invalid("raw_data has " + std::to_string(raw.size()) + " bytes, expected " + std::to_string(nbytes) +
                       " (" + element_count_str(numel, dtype) + ", shape " + ir::shape_str(shape) + ")");
    }
    RT_ASSIGN_OR_RETURN(ir::Tensor t, allocate(dtype, std::move(shape), nbytes));
    if (!raw.empty()) std::memcpy(t.raw(), raw.data(), raw.size());
    normalize_bools(t);
    // Swapping with an empty string frees the buffer; clear() would keep its capacity.
    std::string().swap(*p.mutable_raw_data());
    p.clear_raw_data();
    return t;
}

Expected<int64_t> parse_non_negative(const std::string& key, const std::string& text) {
    int64_t v = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc() || ptr != end || v < 0) {
        return invalid("external data " + key + " '" + text + "' is not a non-negative integer");
    }
    return v;
}

// The location must name a file inside the model folder: relative, with no ".." component.
Status check_location(const std::string& location) {
    if (location.empty()) return invalid("external data has no location");
    if (location.find('\0') != std::string::npos) return invalid("external data location contains a NUL byte");
    const bool drive_letter =
        location.size() > 1 && std::isalpha(static_cast<unsigned char>(location[0])) && location[1] == ':';
    if (location[0] == '/' || location[0] == '\\' || drive_letter) {
        return invalid("external data location '" + location +
                       "' is an absolute path; it must be relative to the model folder");
    }
    size_t start = 0;
    while (start <= location.size()) {
        size_t end = location.find_first_of("/\\", start);
        if (end == std::string::npos) end = location.size();
        if (location.compare(start, end - start, "..") == 0) {
            return invalid("external data location '" + location + "' escapes the model folder");
        }
        start = end + 1;
    }
    return Status();
}

Expected<ir::Tensor> read_external(const Proto& p, ir::DType dtype, ir::Shape shape, int64_t numel, int64_t nbytes,
                                   const std::string& base_dir) {
    if (p.has_raw_data() || stray_typed_field(p, nullptr)) {
        return invalid("is marked as external data but also holds data in the model");
    }
    std::string location;
    int64_t offset = 0;
    int64_t length = -1;
    for (const auto& entry : p.external_data()) {
        if (entry.key() == "location") {
            location = entry.value();
        } else if (entry.key() == "offset") {
            RT_ASSIGN_OR_RETURN(offset, parse_non_negative("offset", entry.value()));
        } else if (entry.key() == "length") {
            RT_ASSIGN_OR_RETURN(length, parse_non_negative("length", entry.value()));
        }
    }
    RT_RETURN_IF_ERROR(check_location(location));
    if (base_dir.empty()) {
        return invalid("uses external data file '" + location +
                       "', but the model was read from memory with no folder to find it in");
    }
    if (length >= 0 && length != nbytes) {
        return invalid("external data length is " + std::to_string(length) + " bytes, expected " +
                       std::to_string(nbytes) + " (" + element_count_str(numel, dtype) + ")");
    }
    const std::string path = base_dir + "/" + location;
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        const int err = errno;
        const StatusCode code = (err == ENOENT || err == ENOTDIR) ? StatusCode::kNotFound : StatusCode::kIoError;
        return Status(code, "external data file '" + path + "': " + std::strerror(err));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return Status(StatusCode::kIoError, "external data file '" + path + "' is not a readable regular file");
    }
    const int64_t file_size = st.st_size;
    if (offset > file_size || nbytes > file_size - offset) {
        return invalid("external data of " + std::to_string(nbytes) + " bytes at offset " + std::to_string(offset) +
                       " lies beyond the end of '" + path + "' (" + std::to_string(file_size) + " bytes)");
    }
    RT_ASSIGN_OR_RETURN(ir::Tensor t, allocate(dtype, std::move(shape), nbytes));
    char* dst = static_cast<char*>(t.raw());
    int64_t done = 0;
    while (done < nbytes) {
        const ssize_t got = ::pread(fd.get(), dst + done, static_cast<size_t>(nbytes - done), offset + done);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            return Status(StatusCode::kIoError, "reading external data file '" + path + "' failed" +
                                                    (got < 0 ? std::string(": ") + std::strerror(errno) : ""));
        }
        done += got;
    }
    normalize_bools(t);
    return t;
}

}  // namespace

ir::DType dtype_from_onnx(int32_t onnx_type) {
    switch (onnx_type) {
        case Proto::FLOAT: return ir::DType::kFloat32;
        case Proto::FLOAT16: return ir::DType::kFloat16;
        case Proto::INT8: return ir::DType::kInt8;
        case Proto::UINT8: return ir::DType::kUInt8;
        case Proto::INT32: return ir::DType::kInt32;
        case Proto::INT64: return ir::DType::kInt64;
        case Proto::BOOL: return ir::DType::kBool;
        case Proto::DOUBLE: return ir::DType::kFloat64;
        default: return ir::DType::kUndefined;
    }
}

std::string onnx_type_name(int32_t onnx_type) {
    if (Proto::DataType_IsValid(onnx_type)) return Proto::DataType_Name(static_cast<Proto::DataType>(onnx_type));
    return "type " + std::to_string(onnx_type);
}

Expected<ir::Tensor> read_tensor(Proto& p, const std::string& base_dir) {
    if (p.has_segment()) return Status(StatusCode::kUnsupported, "segmented tensors are not supported");
    const ir::DType dtype = dtype_from_onnx(p.data_type());
    if (dtype == ir::DType::kUndefined) {
        if (p.data_type() == Proto::UNDEFINED) return invalid("has no data type");
        return Status(StatusCode::kUnsupported,
                      "has element type " + onnx_type_name(p.data_type()) + ", which rtinfer does not support");
    }
    ir::Shape shape;
    int64_t numel = 0;
    int64_t nbytes = 0;
    RT_RETURN_IF_ERROR(checked_sizes(p, dtype, shape, numel, nbytes));
    // Each reader checks that the data exists (in the proto or the external file) before allocating.
    if (p.data_location() == Proto::EXTERNAL) return read_external(p, dtype, std::move(shape), numel, nbytes, base_dir);
    if (p.has_raw_data()) return read_raw(p, dtype, std::move(shape), numel, nbytes);
    return read_typed(p, dtype, std::move(shape), numel, nbytes);
}

}  // namespace detail

Expected<ir::Tensor> import_tensor_file(const std::string& path) {
    ::onnx::TensorProto proto;
    Status status = detail::parse_proto_file(path, "ONNX tensor", proto);
    if (!status.is_ok()) return status.with_context(path);
    Expected<ir::Tensor> t = detail::read_tensor(proto, detail::folder_of(path));
    if (!t) {
        const std::string what = proto.name().empty() ? std::string("tensor") : "tensor '" + proto.name() + "'";
        return t.status().with_context(what).with_context(path);
    }
    return t;
}

}  // namespace rtinfer::onnx
