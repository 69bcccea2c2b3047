#include <cstdio>
#include <mutex>

#include "rtinfer/logger.h"
#include "rtinfer/status.h"
#include "rtinfer/types.h"

namespace rtinfer {

const char* status_code_name(StatusCode code) {
    switch (code) {
        case StatusCode::kOk: return "ok";
        case StatusCode::kInvalidArgument: return "invalid argument";
        case StatusCode::kInvalidModel: return "invalid model";
        case StatusCode::kUnsupported: return "unsupported";
        case StatusCode::kInvalidEngine: return "invalid engine";
        case StatusCode::kNotFound: return "not found";
        case StatusCode::kIoError: return "i/o error";
        case StatusCode::kOutOfMemory: return "out of memory";
        case StatusCode::kCudaError: return "cuda error";
        case StatusCode::kInternal: return "internal error";
    }
    return "unknown";
}

std::string Status::to_string() const {
    if (is_ok()) return "ok";
    return std::string(status_code_name(code_)) + ": " + message_;
}

Status Status::with_context(const std::string& context) const {
    if (is_ok()) return *this;
    return Status(code_, context + ": " + message_);
}

void StderrLogger::log(Severity severity, const char* message) noexcept {
    if (static_cast<int>(severity) > static_cast<int>(min_)) return;
    static const char kTag[] = {'E', 'W', 'I', 'V'};
    static std::mutex mutex;
    std::lock_guard<std::mutex> lock(mutex);
    std::fprintf(stderr, "[rtinfer] %c: %s\n", kTag[static_cast<int>(severity)], message);
}

namespace {
class NullLogger : public Logger {
public:
    void log(Severity, const char*) noexcept override {}
};
}  // namespace

Logger& null_logger() {
    static NullLogger logger;
    return logger;
}

const char* data_type_name(DataType type) {
    switch (type) {
        case DataType::kFloat32: return "float32";
        case DataType::kFloat16: return "float16";
        case DataType::kInt8: return "int8";
        case DataType::kUInt8: return "uint8";
        case DataType::kInt32: return "int32";
        case DataType::kInt64: return "int64";
        case DataType::kBool: return "bool";
        case DataType::kFloat64: return "float64";
        case DataType::kUndefined: break;
    }
    return "undefined";
}

size_t data_type_size(DataType type) {
    switch (type) {
        case DataType::kFloat32: return 4;
        case DataType::kFloat16: return 2;
        case DataType::kInt8: return 1;
        case DataType::kUInt8: return 1;
        case DataType::kInt32: return 4;
        case DataType::kInt64: return 8;
        case DataType::kBool: return 1;
        case DataType::kFloat64: return 8;
        case DataType::kUndefined: break;
    }
    return 0;
}

const char* backend_name(Backend backend) { return backend == Backend::kCuda ? "cuda" : "cpu"; }

}  // namespace rtinfer
