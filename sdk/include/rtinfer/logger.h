// The logger interface. rtinfer never logs to a global: a Logger is passed in to the Builder and to
// Engine loading. Implementations must be thread-safe; log() must not throw.
#pragma once

namespace rtinfer {

enum class Severity { kError = 0, kWarning = 1, kInfo = 2, kVerbose = 3 };

class Logger {
public:
    virtual ~Logger() = default;
    virtual void log(Severity severity, const char* message) noexcept = 0;
};

// A logger that writes "[rtinfer] W: message" lines to stderr for messages at or above min_severity.
class StderrLogger : public Logger {
public:
    explicit StderrLogger(Severity min_severity = Severity::kWarning) : min_(min_severity) {}
    void log(Severity severity, const char* message) noexcept override;

private:
    Severity min_;
};

// A logger that drops everything; what you get when you pass nullptr.
Logger& null_logger();

}  // namespace rtinfer
