// Shared pieces of the ONNX importer; only core/onnx/*.cpp include this (it pulls in the protobuf classes).
// Functions here return errors without the file name; the public entry points add it.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "core/ir/graph.h"
#include "onnx/onnx.pb.h"

namespace google::protobuf {
class MessageLite;
}

namespace rtinfer::onnx::detail {

// The oldest and newest ai.onnx opset the kernels implement.
constexpr int64_t kMinOpset = 7;
constexpr int64_t kMaxOpset = 21;
// Subgraphs (If/Loop/Scan bodies) nested deeper than this are rejected rather than recursed into.
constexpr int kMaxSubgraphDepth = 32;

// Closes a POSIX file descriptor (negative: none) when it goes out of scope.
class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

// ONNX TensorProto::DataType -> rtinfer type; kUndefined where rtinfer has none.
ir::DType dtype_from_onnx(int32_t onnx_type);
// "FLOAT", "BFLOAT16", ... or "type 42" for a number ONNX does not define.
std::string onnx_type_name(int32_t onnx_type);

// Reads a whole protobuf file (kNotFound / kIoError / kInvalidModel "not a valid <what> (protobuf parse
// failed ...)"). Streams from the file, so a 2 GB model is not held twice.
Status parse_proto_file(const std::string& path, const std::string& what, google::protobuf::MessageLite& message);
// The same for a model in memory.
Status parse_proto_bytes(const void* data, size_t size, const std::string& what,
                         google::protobuf::MessageLite& message);
// The folder a model's external data is resolved against: the file's folder, "." for a bare file name.
std::string folder_of(const std::string& path);

// Reads a tensor from whichever storage it uses (typed fields, raw_data, external file under base_dir;
// base_dir "" forbids external data). Sizes are checked before anything is copied. Frees the proto's
// raw_data once copied so that large weights are not held twice.
Expected<ir::Tensor> read_tensor(::onnx::TensorProto& proto, const std::string& base_dir);

struct ImportContext {
    std::string base_dir;
    std::map<std::string, int64_t> opsets;
    int depth = 0;  // 0 for the main graph
};

// A graph with the names its nodes (and their subgraphs) read from enclosing graphs.
struct ImportedGraph {
    ir::Graph graph;
    std::set<std::string> outer_names;
};

// Imports a graph and, through attributes, its subgraphs. The main graph (is_subgraph false) must define
// every name it reads; a subgraph reports the names it leaves to enclosing graphs in outer_names.
Expected<ImportedGraph> import_graph(::onnx::GraphProto& proto, const ImportContext& ctx, bool is_subgraph);

// Converts one node attribute; a GRAPH attribute is imported with import_graph and the names it reads
// from outside are added to outer_names. Errors do not name the attribute; the caller adds it.
Expected<ir::Attribute> read_attribute(::onnx::AttributeProto& proto, const ImportContext& ctx,
                                       std::set<std::string>& outer_names);

// Domain -> version from opset_import ("ai.onnx" becomes ""); rejects ai.onnx opsets above kMaxOpset.
Expected<std::map<std::string, int64_t>> read_opset_imports(const ::onnx::ModelProto& model);
// A model importing an ai.onnx opset below kMinOpset is accepted only when none of its ops changed
// between that opset and kMinOpset; its graphs then record kMinOpset, whose semantics are the same.
Status upgrade_legacy_opset(ir::Graph& graph);

}  // namespace rtinfer::onnx::detail
