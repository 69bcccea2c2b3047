#include "core/serialize/engine_file.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "core/serialize/byte_io.h"

namespace rtinfer::serialize {

namespace {

constexpr char kMagic[8] = {'R', 'T', 'I', 'N', 'F', 'E', 'N', 'G'};
constexpr int kMaxRank = 16;

uint32_t crc32_of(const uint8_t* p, size_t n) {
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) {  // zlib takes uInt lengths
        const uInt chunk = static_cast<uInt>(n > (1u << 30) ? (1u << 30) : n);
        crc = crc32(crc, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return static_cast<uint32_t>(crc);
}

size_t align_up(size_t v) { return (v + kWeightAlignment - 1) / kWeightAlignment * kWeightAlignment; }

void write_shape(ByteWriter& w, const ir::Shape& shape) {
    w.u32(static_cast<uint32_t>(shape.size()));
    for (int64_t d : shape) w.i64(d);
}

Status write_attribute(ByteWriter& w, const std::string& node, const std::string& key, const ir::Attribute& a) {
    w.str(key);
    w.u8(static_cast<uint8_t>(a.kind));
    switch (a.kind) {
        case ir::Attribute::Kind::kInt: w.i64(a.i); break;
        case ir::Attribute::Kind::kFloat: w.f32(a.f); break;
        case ir::Attribute::Kind::kString: w.str(a.s); break;
        case ir::Attribute::Kind::kInts:
            w.u32(static_cast<uint32_t>(a.ints.size()));
            for (int64_t v : a.ints) w.i64(v);
            break;
        case ir::Attribute::Kind::kFloats:
            w.u32(static_cast<uint32_t>(a.floats.size()));
            for (float v : a.floats) w.f32(v);
            break;
        case ir::Attribute::Kind::kStrings:
            w.u32(static_cast<uint32_t>(a.strings.size()));
            for (const auto& s : a.strings) w.str(s);
            break;
        case ir::Attribute::Kind::kTensor:
            w.u8(static_cast<uint8_t>(a.t.dtype()));
            write_shape(w, a.t.shape());
            w.u64(a.t.nbytes());
            w.put(a.t.raw(), a.t.nbytes());
            break;
        case ir::Attribute::Kind::kGraph:
            return Status(StatusCode::kUnsupported,
                          "node '" + node + "': attribute '" + key + "' holds a sub-graph, which engines cannot store yet");
    }
    return Status();
}

bool valid_dtype(uint8_t t) { return t >= 1 && t <= static_cast<uint8_t>(DataType::kFloat64); }

// numel * element size without overflow; false if a dim is negative or the product is absurd.
bool checked_bytes(const ir::Shape& shape, DataType type, uint64_t* bytes) {
    uint64_t n = 1;
    for (int64_t d : shape) {
        if (d < 0) return false;
        if (d != 0 && n > (uint64_t(1) << 62) / static_cast<uint64_t>(d)) return false;
        n *= static_cast<uint64_t>(d);
    }
    *bytes = n * data_type_size(type);
    return true;
}

bool read_shape(ByteReader& r, ir::Shape& shape) {
    const uint32_t rank = r.u32();
    if (!r.ok() || rank > kMaxRank) return false;
    shape.resize(rank);
    for (auto& d : shape) {
        d = r.i64();
        if (d < -1) return false;
    }
    return r.ok();
}

Status corrupt(const std::string& source, const std::string& what) {
    return Status(StatusCode::kInvalidEngine, source + ": corrupted engine (" + what + ")");
}

Status read_attribute(ByteReader& r, const std::string& source, ir::Node& node) {
    const std::string key = r.str();
    const uint8_t kind = r.u8();
    if (!r.ok() || kind > static_cast<uint8_t>(ir::Attribute::Kind::kTensor)) {
        return corrupt(source, "bad attribute in node '" + node.name + "'");
    }
    ir::Attribute a;
    a.kind = static_cast<ir::Attribute::Kind>(kind);
    switch (a.kind) {
        case ir::Attribute::Kind::kInt: a.i = r.i64(); break;
        case ir::Attribute::Kind::kFloat: a.f = r.f32(); break;
        case ir::Attribute::Kind::kString: a.s = r.str(); break;
        case ir::Attribute::Kind::kInts: {
            const uint32_t n = r.count(8);
            for (uint32_t i = 0; i < n; ++i) a.ints.push_back(r.i64());
            break;
        }
        case ir::Attribute::Kind::kFloats: {
            const uint32_t n = r.count(4);
            for (uint32_t i = 0; i < n; ++i) a.floats.push_back(r.f32());
            break;
        }
        case ir::Attribute::Kind::kStrings: {
            const uint32_t n = r.count(4);
            for (uint32_t i = 0; i < n; ++i) a.strings.push_back(r.str());
            break;
        }
        case ir::Attribute::Kind::kTensor: {
            const uint8_t t = r.u8();
            ir::Shape shape;
            uint64_t expect = 0;
            if (!valid_dtype(t) || !read_shape(r, shape) || !checked_bytes(shape, static_cast<DataType>(t), &expect)) {
                return corrupt(source, "bad tensor attribute '" + key + "' in node '" + node.name + "'");
            }
            const uint64_t n = r.u64();
            const uint8_t* p = n == expect ? r.raw(n) : nullptr;
            if (!p) return corrupt(source, "bad tensor attribute '" + key + "' in node '" + node.name + "'");
            a.t = ir::Tensor(static_cast<DataType>(t), shape);
            std::memcpy(a.t.raw(), p, n);
            break;
        }
        case ir::Attribute::Kind::kGraph: break;
    }
    if (!r.ok()) return corrupt(source, "truncated attribute in node '" + node.name + "'");
    node.attrs[key] = std::move(a);
    return Status();
}

void write_names(ByteWriter& w, const std::vector<std::string>& names) {
    w.u32(static_cast<uint32_t>(names.size()));
    for (const auto& n : names) w.str(n);
}

bool read_names(ByteReader& r, std::vector<std::string>& names) {
    const uint32_t n = r.count(4);
    for (uint32_t i = 0; i < n && r.ok(); ++i) names.push_back(r.str());
    return r.ok();
}

}  // namespace

Expected<std::vector<uint8_t>> write_engine(const EngineData& e) {
    const ir::Graph& g = e.graph;
    // Weights first, so the metadata can record their offsets. Sorted by name for byte-identical output.
    std::vector<const ir::Value*> constants;
    for (const auto& [name, v] : g.values()) {
        if (v.is_constant()) constants.push_back(&v);
    }
    std::sort(constants.begin(), constants.end(), [](const ir::Value* a, const ir::Value* b) { return a->name < b->name; });
    std::vector<uint8_t> weights;
    std::vector<std::pair<uint64_t, uint64_t>> placement;  // offset, size
    for (const ir::Value* v : constants) {
        const size_t offset = align_up(weights.size());
        weights.resize(offset + v->constant.nbytes(), 0);
        if (v->constant.nbytes()) std::memcpy(weights.data() + offset, v->constant.raw(), v->constant.nbytes());
        placement.emplace_back(offset, v->constant.nbytes());
    }

    ByteWriter m;
    m.str(e.sdk_version);
    m.u8(static_cast<uint8_t>(e.backend));
    m.str(e.device_key);
    m.u8(e.fp16 ? 1 : 0);
    m.u8(e.dynamic_batch ? 1 : 0);
    m.u32(static_cast<uint32_t>(e.min_batch));
    m.u32(static_cast<uint32_t>(e.opt_batch));
    m.u32(static_cast<uint32_t>(e.max_batch));
    m.u64(e.activation_bytes);
    m.u32(static_cast<uint32_t>(e.tactics.size()));
    for (const auto& [sig, tactic] : e.tactics) {
        m.str(sig);
        m.i64(tactic);
    }
    m.str(g.name);
    m.u32(static_cast<uint32_t>(g.opsets.size()));
    for (const auto& [domain, version] : g.opsets) {
        m.str(domain);
        m.i64(version);
    }
    write_names(m, g.inputs);
    write_names(m, g.outputs);
    // Values sorted by name, constants pointing into the weights section.
    std::vector<const ir::Value*> values;
    for (const auto& [name, v] : g.values()) values.push_back(&v);
    std::sort(values.begin(), values.end(), [](const ir::Value* a, const ir::Value* b) { return a->name < b->name; });
    m.u32(static_cast<uint32_t>(values.size()));
    size_t ci = 0;
    for (const ir::Value* v : values) {
        m.str(v->name);
        m.u8(static_cast<uint8_t>(v->dtype));
        m.u8(v->shape_known ? 1 : 0);
        write_shape(m, v->shape);
        m.u8(v->is_constant() ? 1 : 0);
        if (v->is_constant()) {
            while (constants[ci] != v) ++ci;
            write_shape(m, v->constant.shape());
            m.u64(placement[ci].first);
            m.u64(placement[ci].second);
        }
    }
    m.u32(static_cast<uint32_t>(g.nodes.size()));
    for (const auto& node : g.nodes) {
        m.str(node.name);
        m.str(node.op_type);
        m.str(node.domain);
        write_names(m, node.inputs);
        write_names(m, node.outputs);
        m.u32(static_cast<uint32_t>(node.attrs.size()));
        for (const auto& [key, a] : node.attrs) RT_RETURN_IF_ERROR(write_attribute(m, node.name, key, a));
    }

    const std::vector<uint8_t>& meta = m.bytes();
    const size_t meta_off = kHeaderSize;
    const size_t weights_off = align_up(meta_off + meta.size());
    const size_t file_size = weights_off + weights.size();
    std::vector<uint8_t> out(file_size, 0);
    std::memcpy(out.data() + meta_off, meta.data(), meta.size());
    if (!weights.empty()) std::memcpy(out.data() + weights_off, weights.data(), weights.size());

    ByteWriter h;
    h.put(kMagic, sizeof kMagic);
    h.u32(kFormatVersion);
    h.u32(kHeaderSize);
    h.u64(file_size);
    h.u64(meta_off);
    h.u64(meta.size());
    h.u64(weights_off);
    h.u64(weights.size());
    h.u32(crc32_of(meta.data(), meta.size()));
    h.u32(crc32_of(weights.data(), weights.size()));
    h.bytes().resize(kHeaderSize - 4, 0);
    h.u32(crc32_of(h.bytes().data(), h.bytes().size()));
    std::memcpy(out.data(), h.bytes().data(), kHeaderSize);
    return out;
}

Expected<EngineData> read_engine(const uint8_t* data, size_t size, std::shared_ptr<void> keepalive,
                                 const std::string& source, const std::string& sdk_version) {
    if (size < kHeaderSize || std::memcmp(data, kMagic, sizeof kMagic) != 0) {
        if (size >= sizeof kMagic && std::memcmp(data, kMagic, sizeof kMagic) == 0) {
            return Status(StatusCode::kInvalidEngine, source + ": truncated engine file (" + std::to_string(size) + " bytes, shorter than its header)");
        }
        return Status(StatusCode::kInvalidEngine, source + ": not an rtinfer engine file (bad magic)");
    }
    ByteReader h(data + sizeof kMagic, kHeaderSize - sizeof kMagic);
    const uint32_t version = h.u32();
    if (version != kFormatVersion) {
        return Status(StatusCode::kInvalidEngine, source + ": engine format version " + std::to_string(version) +
                                                      ", this SDK reads version " + std::to_string(kFormatVersion) +
                                                      "; rebuild the engine from its ONNX model");
    }
    const uint32_t header_size = h.u32();
    const uint64_t file_size = h.u64();
    const uint64_t meta_off = h.u64(), meta_size = h.u64();
    const uint64_t weights_off = h.u64(), weights_size = h.u64();
    const uint32_t meta_crc = h.u32(), weights_crc = h.u32();
    uint32_t stored_header_crc;
    std::memcpy(&stored_header_crc, data + kHeaderSize - 4, 4);
    if (crc32_of(data, kHeaderSize - 4) != stored_header_crc || header_size != kHeaderSize) {
        return corrupt(source, "header checksum mismatch");
    }
    if (file_size != size) {
        return Status(StatusCode::kInvalidEngine, source + ": truncated or padded engine file (" + std::to_string(size) +
                                                      " bytes, the header says " + std::to_string(file_size) + ")");
    }
    if (meta_off < kHeaderSize || meta_off > size || meta_size > size - meta_off || weights_off > size ||
        weights_size > size - weights_off || weights_off % kWeightAlignment != 0) {
        return corrupt(source, "section bounds outside the file");
    }
    if (meta_off + meta_size > weights_off && weights_size > 0) return corrupt(source, "sections overlap");
    // The alignment padding between the sections is written as zeros; anything else is damage.
    for (uint64_t i = meta_off + meta_size; i < weights_off; ++i) {
        if (data[i] != 0) return corrupt(source, "non-zero padding at byte " + std::to_string(i));
    }
    if (crc32_of(data + meta_off, meta_size) != meta_crc) return corrupt(source, "metadata checksum mismatch");
    if (crc32_of(data + weights_off, weights_size) != weights_crc) return corrupt(source, "weights checksum mismatch");

    ByteReader r(data + meta_off, meta_size);
    EngineData e;
    e.sdk_version = r.str();
    if (r.ok() && e.sdk_version != sdk_version) {
        return Status(StatusCode::kInvalidEngine, source + ": engine built by rtinfer " + e.sdk_version +
                                                      ", this is rtinfer " + sdk_version + "; rebuild the engine");
    }
    const uint8_t backend = r.u8();
    if (backend > static_cast<uint8_t>(Backend::kCuda)) return corrupt(source, "unknown backend");
    e.backend = static_cast<Backend>(backend);
    e.device_key = r.str();
    e.fp16 = r.u8() != 0;
    e.dynamic_batch = r.u8() != 0;
    e.min_batch = static_cast<int>(r.u32());
    e.opt_batch = static_cast<int>(r.u32());
    e.max_batch = static_cast<int>(r.u32());
    e.activation_bytes = r.u64();
    const uint32_t n_tactics = r.count(12);
    for (uint32_t i = 0; i < n_tactics && r.ok(); ++i) {
        std::string sig = r.str();
        e.tactics.emplace_back(std::move(sig), r.i64());
    }
    if (e.min_batch < 1 || e.min_batch > e.max_batch || e.opt_batch < e.min_batch || e.opt_batch > e.max_batch) {
        return corrupt(source, "invalid batch profile");
    }
    ir::Graph& g = e.graph;
    g.name = r.str();
    const uint32_t n_opsets = r.count(12);
    for (uint32_t i = 0; i < n_opsets; ++i) {
        std::string domain = r.str();
        g.opsets[domain] = r.i64();
    }
    if (!read_names(r, g.inputs) || !read_names(r, g.outputs)) return corrupt(source, "truncated metadata");
    const uint32_t n_values = r.count(8);
    for (uint32_t i = 0; i < n_values && r.ok(); ++i) {
        ir::Value& v = g.add_value(r.str());
        const uint8_t t = r.u8();
        v.shape_known = r.u8() != 0;
        if (!read_shape(r, v.shape)) return corrupt(source, "bad shape of value '" + v.name + "'");
        if (t > static_cast<uint8_t>(DataType::kFloat64)) return corrupt(source, "bad type of value '" + v.name + "'");
        v.dtype = static_cast<DataType>(t);
        if (r.u8()) {
            ir::Shape shape;
            uint64_t expect = 0;
            if (!read_shape(r, shape) || !valid_dtype(t) || !checked_bytes(shape, v.dtype, &expect)) {
                return corrupt(source, "bad constant '" + v.name + "'");
            }
            const uint64_t off = r.u64(), nbytes = r.u64();
            if (!r.ok() || nbytes != expect || off > weights_size || nbytes > weights_size - off ||
                off % kWeightAlignment != 0) {
                return corrupt(source, "constant '" + v.name + "' lies outside the weights section");
            }
            // Constants are used in place: the memory stays read-only for the engine's life.
            auto* p = const_cast<uint8_t*>(data + weights_off + off);
            v.constant = ir::Tensor::wrap(v.dtype, shape, p, keepalive);
        }
    }
    const uint32_t n_nodes = r.count(16);
    for (uint32_t i = 0; i < n_nodes && r.ok(); ++i) {
        ir::Node node;
        node.name = r.str();
        node.op_type = r.str();
        node.domain = r.str();
        if (!read_names(r, node.inputs) || !read_names(r, node.outputs)) break;
        const uint32_t n_attrs = r.count(5);
        for (uint32_t k = 0; k < n_attrs && r.ok(); ++k) RT_RETURN_IF_ERROR(read_attribute(r, source, node));
        g.nodes.push_back(std::move(node));
    }
    if (!r.ok() || !r.at_end()) return corrupt(source, "truncated or malformed metadata");
    // The graph must be self-consistent before anything runs it.
    Status valid = g.validate();
    if (!valid.is_ok()) return corrupt(source, valid.message());
    for (const auto& name : g.inputs) {
        if (g.at(name).dtype == DataType::kUndefined) return corrupt(source, "input '" + name + "' has no type");
    }
    return e;
}

}  // namespace rtinfer::serialize
