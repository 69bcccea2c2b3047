// Serialized plugin parameters: little-endian 32-bit fields, written and read with bounds checks. Header
// only, shared by the built-in plugins (each is its own library).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace rtinfer_plugin_common {

inline uint32_t float_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

inline float bits_float(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

class ByteWriter {
  public:
    ByteWriter(void* buffer, size_t size) : out_(static_cast<uint8_t*>(buffer)), left_(size) {}
    void u32(uint32_t v) {
        if (left_ < 4) {
            overflow_ = true;
            return;
        }
        for (int i = 0; i < 4; ++i) *out_++ = static_cast<uint8_t>(v >> (8 * i));
        left_ -= 4;
    }
    void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
    void f32(float v) { u32(float_bits(v)); }
    bool ok() const { return !overflow_; }

  private:
    uint8_t* out_;
    size_t left_;
    bool overflow_ = false;
};

// Reads past the end give 0 and make ok() false.
class ByteReader {
  public:
    ByteReader(const void* data, size_t size) : in_(static_cast<const uint8_t*>(data)), left_(data ? size : 0) {}
    uint32_t u32() {
        if (left_ < 4) {
            overrun_ = true;
            return 0;
        }
        uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(*in_++) << (8 * i);
        left_ -= 4;
        return v;
    }
    int32_t i32() { return static_cast<int32_t>(u32()); }
    float f32() { return bits_float(u32()); }
    bool ok() const { return !overrun_; }
    size_t left() const { return left_; }

  private:
    const uint8_t* in_;
    size_t left_;
    bool overrun_ = false;
};

}  // namespace rtinfer_plugin_common
