// Element types and tensor descriptions of the public API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rtinfer {

enum class DataType : uint8_t {
    kUndefined = 0,
    kFloat32,
    kFloat16,
    kInt8,
    kUInt8,
    kInt32,
    kInt64,
    kBool,
    kFloat64,
};

// "float32", "float16", ... ; "undefined" for anything else.
const char* data_type_name(DataType type);
// Bytes per element; 0 for kUndefined.
size_t data_type_size(DataType type);

enum class Backend : uint8_t { kCpu = 0, kCuda = 1 };
const char* backend_name(Backend backend);

// An engine input or output. A dimension of -1 is the dynamic batch dimension (always dims[0]).
struct TensorDesc {
    std::string name;
    DataType type = DataType::kUndefined;
    std::vector<int64_t> dims;
};

}  // namespace rtinfer
