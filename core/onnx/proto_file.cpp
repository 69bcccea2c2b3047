// Reading protobuf files from disk with limits suited to large models.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message_lite.h>

#include "core/onnx/import_internal.h"

namespace rtinfer::onnx::detail {

namespace {

// Protobuf cannot address more than INT_MAX bytes; bigger models keep their weights as external data.
constexpr int64_t kMaxProtoBytes = INT_MAX;
// Each nested subgraph costs three message levels (graph, node, attribute); the rest is margin.
constexpr int kRecursionLimit = 8 * kMaxSubgraphDepth + 64;
constexpr int kReadBlockBytes = 1 << 20;

bool parse_stream(google::protobuf::io::ZeroCopyInputStream& stream, google::protobuf::MessageLite& message) {
    google::protobuf::io::CodedInputStream input(&stream);
    input.SetTotalBytesLimit(static_cast<int>(kMaxProtoBytes));
    input.SetRecursionLimit(kRecursionLimit);
    return message.ParseFromCodedStream(&input) && input.ConsumedEntireMessage();
}

Status parse_failure(const std::string& what) {
    return Status(StatusCode::kInvalidModel,
                  "not a valid " + what + " (protobuf parse failed: truncated or corrupt data)");
}

Status too_large(const std::string& what, int64_t bytes) {
    return Status(StatusCode::kUnsupported, what + " of " + std::to_string(bytes) +
                                                " bytes exceeds the 2 GiB protobuf limit; store the weights as "
                                                "external data");
}

}  // namespace

std::string folder_of(const std::string& path) {
    std::string folder = std::filesystem::path(path).parent_path().string();
    return folder.empty() ? "." : folder;
}

Status parse_proto_file(const std::string& path, const std::string& what, google::protobuf::MessageLite& message) {
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        const int err = errno;
        if (err == ENOENT || err == ENOTDIR) return Status(StatusCode::kNotFound, "no such file");
        return Status(StatusCode::kIoError, std::string("cannot open: ") + std::strerror(err));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return Status(StatusCode::kIoError, std::string("cannot stat: ") + std::strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) return Status(StatusCode::kInvalidArgument, "not a regular file");
    if (static_cast<int64_t>(st.st_size) > kMaxProtoBytes) return too_large(what, st.st_size);

    google::protobuf::io::FileInputStream file(fd.get(), kReadBlockBytes);
    const bool parsed = parse_stream(file, message);
    if (file.GetErrno() != 0) {
        return Status(StatusCode::kIoError, std::string("read failed: ") + std::strerror(file.GetErrno()));
    }
    if (!parsed) return parse_failure(what);
    return Status();
}

Status parse_proto_bytes(const void* data, size_t size, const std::string& what,
                         google::protobuf::MessageLite& message) {
    if (size > static_cast<size_t>(kMaxProtoBytes)) return too_large(what, static_cast<int64_t>(size));
    google::protobuf::io::ArrayInputStream stream(data, static_cast<int>(size));
    if (!parse_stream(stream, message)) return parse_failure(what);
    return Status();
}

}  // namespace rtinfer::onnx::detail
