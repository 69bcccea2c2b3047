// Errors as values: every fallible call in rtinfer returns a Status or an Expected<T>.
// No exception crosses the public API.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace rtinfer {

enum class StatusCode {
    kOk = 0,
    kInvalidArgument,   // the caller passed something wrong (flag, name, shape)
    kInvalidModel,      // an ONNX file or graph is malformed
    kUnsupported,       // valid, but rtinfer cannot run it (op, attribute, dtype)
    kInvalidEngine,     // an engine file is truncated, corrupted, foreign or for another device
    kNotFound,          // a file, tensor or plugin does not exist
    kIoError,           // reading or writing a file failed
    kOutOfMemory,       // an allocation or the memory budget failed
    kCudaError,         // a CUDA / cuDNN / cuBLAS call failed
    kInternal,          // a bug in rtinfer
};

// Short lower-case name of a code, e.g. "invalid model".
const char* status_code_name(StatusCode code);

class Status {
public:
    Status() = default;
    Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

    static Status ok() { return Status(); }
    bool is_ok() const { return code_ == StatusCode::kOk; }
    explicit operator bool() const { return is_ok(); }
    StatusCode code() const { return code_; }
    const std::string& message() const { return message_; }
    // "invalid model: node 'Conv_3' (Conv): ..." — the form used in CLI output and logs.
    std::string to_string() const;
    // Returns a copy whose message is "context: message"; used to add the file or node name.
    Status with_context(const std::string& context) const;

private:
    StatusCode code_ = StatusCode::kOk;
    std::string message_;
};

inline Status make_error(StatusCode code, std::string message) { return Status(code, std::move(message)); }

// A value or the Status that explains why there is none.
template <class T>
class Expected {
public:
    Expected(T value) : v_(std::move(value)) {}                                  // NOLINT(runtime/explicit)
    Expected(Status status) : v_(std::move(status)) {}                           // NOLINT(runtime/explicit)
    bool has_value() const { return v_.index() == 0; }
    explicit operator bool() const { return has_value(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    // The error; Status::ok() when a value is held.
    Status status() const { return has_value() ? Status() : std::get<1>(v_); }

private:
    std::variant<T, Status> v_;
};

}  // namespace rtinfer

// Return early with the Status of an expression that failed.
#define RT_RETURN_IF_ERROR(expr)                   \
    do {                                           \
        ::rtinfer::Status rt_status_ = (expr);     \
        if (!rt_status_.is_ok()) return rt_status_; \
    } while (0)

#define RT_CONCAT_INNER_(a, b) a##b
#define RT_CONCAT_(a, b) RT_CONCAT_INNER_(a, b)
// RT_ASSIGN_OR_RETURN(auto x, make_x()); — unwraps an Expected or returns its Status.
#define RT_ASSIGN_OR_RETURN(lhs, expr) RT_ASSIGN_OR_RETURN_IMPL_(RT_CONCAT_(rt_expected_, __LINE__), lhs, expr)
#define RT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
    auto tmp = (expr);                            \
    if (!tmp.has_value()) return tmp.status();    \
    lhs = std::move(tmp).value()
