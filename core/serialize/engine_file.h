// The engine file: a fixed header, a metadata section (the optimized graph) and a weights section whose
// tensors are 64-byte aligned so a mmapped file can be used in place.
//
//   offset 0   header (kHeaderSize bytes): magic "RTINFENG", format version, sizes and offsets of the two
//              sections, CRC-32 of each section and of the header itself
//   ...        metadata: SDK version, backend, device key, precision, batch profile, graph
//   ...        weights: constant tensors, each at a 64-byte aligned offset
//
// Engine files are untrusted input: read_engine checks every size and offset before use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/ir/graph.h"
#include "rtinfer/types.h"

namespace rtinfer::serialize {

constexpr uint32_t kFormatVersion = 2;
constexpr size_t kHeaderSize = 80;
constexpr size_t kWeightAlignment = 64;

struct EngineData {
    std::string sdk_version;
    Backend backend = Backend::kCpu;
    std::string device_key;
    bool fp16 = false;
    int min_batch = 1;
    int opt_batch = 1;
    int max_batch = 1;
    bool dynamic_batch = false;
    uint64_t activation_bytes = 0;
    // Kernel tactics chosen at build time, by layer signature (CUDA): contexts use them instead of measuring.
    std::vector<std::pair<std::string, int64_t>> tactics;
    ir::Graph graph;
};

Expected<std::vector<uint8_t>> write_engine(const EngineData& engine);

// Parses and validates an engine. Constants point into `data`, which `keepalive` must keep alive.
// `source` (a file name) and the reason open every error; a file from another SDK version is rejected.
Expected<EngineData> read_engine(const uint8_t* data, size_t size, std::shared_ptr<void> keepalive,
                                 const std::string& source, const std::string& sdk_version);

}  // namespace rtinfer::serialize
