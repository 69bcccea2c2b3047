// NumPy .npy files: the input and output format of `rtexec run`.
//
// Only what numpy writes for plain arrays is accepted: little-endian (or byte-order-free) scalar dtypes,
// C order, header versions 1.0, 2.0 and 3.0. Files are untrusted: the header is validated and the data
// size must match the shape exactly before anything is used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "rtinfer/status.h"
#include "rtinfer/types.h"

namespace rtexec {

struct NpyArray {
    rtinfer::DataType dtype = rtinfer::DataType::kUndefined;
    std::vector<int64_t> shape;  // empty for a 0-d array (one element)
    std::vector<uint8_t> data;   // numel * element size bytes, C order
    int64_t numel() const;
};

// "<f4", "|b1", ...: the descr numpy writes for a type; "" for kUndefined.
const char* npy_descr(rtinfer::DataType dtype);

// Parses the bytes of a .npy file; name (the file name) prefixes every error.
rtinfer::Expected<NpyArray> parse_npy(const void* data, size_t size, const std::string& name);
rtinfer::Expected<NpyArray> read_npy(const std::string& path);

// The bytes of a .npy file (version 1.0 header, or 2.0 when the header is too long for 1.0).
rtinfer::Expected<std::vector<uint8_t>> encode_npy(rtinfer::DataType dtype, const std::vector<int64_t>& shape,
                                                   const void* data);
rtinfer::Status write_npy(const std::string& path, rtinfer::DataType dtype, const std::vector<int64_t>& shape,
                          const void* data);

}  // namespace rtexec
