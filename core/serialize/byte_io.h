// Bounds-checked little-endian reading and plain writing of the engine file's metadata.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace rtinfer::serialize {

class ByteWriter {
public:
    void u8(uint8_t v) { bytes_.push_back(v); }
    void u32(uint32_t v) { put(&v, 4); }
    void u64(uint64_t v) { put(&v, 8); }
    void i64(int64_t v) { put(&v, 8); }
    void f32(float v) { put(&v, 4); }
    void str(const std::string& s) {
        u32(static_cast<uint32_t>(s.size()));
        put(s.data(), s.size());
    }
    void put(const void* p, size_t n) {
        const auto* b = static_cast<const uint8_t*>(p);
        bytes_.insert(bytes_.end(), b, b + n);
    }
    std::vector<uint8_t>& bytes() { return bytes_; }

private:
    std::vector<uint8_t> bytes_;
};

// Every read checks the remaining size; after the first failure all reads fail and ok() is false.
class ByteReader {
public:
    ByteReader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
    bool ok() const { return ok_; }
    bool at_end() const { return p_ == end_; }
    uint8_t u8() { return get<uint8_t>(); }
    uint32_t u32() { return get<uint32_t>(); }
    uint64_t u64() { return get<uint64_t>(); }
    int64_t i64() { return get<int64_t>(); }
    float f32() { return get<float>(); }
    std::string str() {
        const uint32_t n = u32();
        if (!take(n)) return {};
        return std::string(reinterpret_cast<const char*>(p_ - n), n);
    }
    // A pointer to n raw bytes, or nullptr.
    const uint8_t* raw(size_t n) { return take(n) ? p_ - n : nullptr; }
    // A count that must be plausible: each element needs at least min_bytes more bytes.
    uint32_t count(size_t min_bytes) {
        const uint32_t n = u32();
        if (ok_ && static_cast<size_t>(end_ - p_) / (min_bytes ? min_bytes : 1) < n) ok_ = false;
        return ok_ ? n : 0;
    }

private:
    template <class T>
    T get() {
        T v{};
        if (take(sizeof(T))) std::memcpy(&v, p_ - sizeof(T), sizeof(T));
        return v;
    }
    bool take(size_t n) {
        if (!ok_ || static_cast<size_t>(end_ - p_) < n) {
            ok_ = false;
            return false;
        }
        p_ += n;
        return true;
    }
    const uint8_t* p_;
    const uint8_t* end_;
    bool ok_ = true;
};

}  // namespace rtinfer::serialize
