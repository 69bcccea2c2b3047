// FNV-1a, 64 bits: the fingerprint of models and keys (engine cache, calibration cache). Not a
// cryptographic hash: it tells files apart, it does not defend against forgery.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace rtinfer::ir {

struct Fnv1a {
    uint64_t h = 1469598103934665603ull;
    void add(const void* data, size_t size) {
        const auto* p = static_cast<const uint8_t*>(data);
        for (size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 1099511628211ull;
    }
    void add(const std::string& s) {
        add(s.data(), s.size());
        add("\0", 1);  // so that "ab"+"c" and "a"+"bc" differ
    }
    std::string hex() const {
        char text[17];
        std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
        return text;
    }
};

}  // namespace rtinfer::ir
