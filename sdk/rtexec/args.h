// The flag parser every rtexec command shares: `--name value`, `--name=value` and boolean `--name`.
// Values are checked as they are parsed, so a command only sees valid numbers in range.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "rtinfer/status.h"

namespace rtexec {

// Strict number parsing: the whole text must be the number. Errors say what was expected.
rtinfer::Expected<int64_t> parse_int(const std::string& text);
rtinfer::Expected<double> parse_real(const std::string& text);
// "1048576", "512KiB", "64MiB", "2GiB" (also K/M/G for binary and KB/MB/GB for decimal units).
rtinfer::Expected<uint64_t> parse_byte_size(const std::string& text);

class ArgParser {
public:
    // usage: the synopsis after "rtexec <command> ", summary: one line on what the command does.
    ArgParser(std::string command, std::string usage, std::string summary);

    void add_flag(const std::string& name, bool* out, const std::string& help);
    void add_string(const std::string& name, std::string* out, const std::string& metavar, const std::string& help);
    // May be given several times; each value is appended.
    void add_strings(const std::string& name, std::vector<std::string>* out, const std::string& metavar,
                     const std::string& help);
    void add_int(const std::string& name, int64_t* out, const std::string& metavar, const std::string& help,
                 int64_t min_value, int64_t max_value);
    void add_real(const std::string& name, double* out, const std::string& metavar, const std::string& help,
                  double min_value);
    void add_bytes(const std::string& name, uint64_t* out, const std::string& help);

    // Fills the targets from args (everything after the command name). kInvalidArgument on an unknown
    // flag, a missing or malformed value, or a stray positional argument. --help/-h stops parsing.
    rtinfer::Status parse(const std::vector<std::string>& args);
    bool help_requested() const { return help_; }
    // Whether the flag appeared on the command line.
    bool given(const std::string& name) const { return given_.count(name) != 0; }
    // Errors if a required flag is absent: "missing required flag --onnx".
    rtinfer::Status require(const std::string& name) const;
    std::string help_text() const;
    const std::string& command() const { return command_; }

private:
    struct Option {
        std::string name;
        std::string metavar;  // empty for boolean flags
        std::string help;
        bool repeatable = false;
        std::function<rtinfer::Status(const std::string&)> set;
    };
    const Option* find(const std::string& name) const;

    std::string command_;
    std::string usage_;
    std::string summary_;
    std::vector<Option> options_;
    std::set<std::string> given_;
    bool help_ = false;
};

}  // namespace rtexec
