#include "sdk/rtexec/args.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <utility>

namespace rtexec {

using rtinfer::Expected;
using rtinfer::Status;
using rtinfer::StatusCode;

namespace {

Status usage(const std::string& message) {
    return Status(StatusCode::kInvalidArgument, message);
}

}  // namespace

Expected<int64_t> parse_int(const std::string& text) {
    if (text.empty()) return usage("expected an integer, got an empty value");
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (end != text.c_str() + text.size() || text[0] == ' ') return usage("'" + text + "' is not an integer");
    if (errno == ERANGE) return usage("'" + text + "' is out of range");
    return static_cast<int64_t>(v);
}

Expected<double> parse_real(const std::string& text) {
    if (text.empty()) return usage("expected a number, got an empty value");
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() || text[0] == ' ') return usage("'" + text + "' is not a number");
    if (errno == ERANGE || !std::isfinite(v)) return usage("'" + text + "' is out of range");
    return v;
}

Expected<uint64_t> parse_byte_size(const std::string& text) {
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0) return usage("'" + text + "' is not a byte size (e.g. 1048576, 512KiB, 64MiB, 2GiB)");
    const std::string unit = text.substr(digits);
    static const std::pair<const char*, uint64_t> kUnits[] = {
        {"", 1},
        {"B", 1},
        {"K", 1ull << 10},
        {"KiB", 1ull << 10},
        {"KB", 1000},
        {"M", 1ull << 20},
        {"MiB", 1ull << 20},
        {"MB", 1000000},
        {"G", 1ull << 30},
        {"GiB", 1ull << 30},
        {"GB", 1000000000},
    };
    for (const auto& [name, scale] : kUnits) {
        if (unit != name) continue;
        if (digits > 19) return usage("'" + text + "' is out of range");
        const uint64_t n = std::strtoull(text.substr(0, digits).c_str(), nullptr, 10);
        if (n > std::numeric_limits<uint64_t>::max() / scale) return usage("'" + text + "' is out of range");
        return n * scale;
    }
    return usage("'" + text + "' has an unknown unit '" + unit + "' (use B, KiB, MiB, GiB, KB, MB or GB)");
}

ArgParser::ArgParser(std::string command, std::string usage, std::string summary)
    : command_(std::move(command)), usage_(std::move(usage)), summary_(std::move(summary)) {}

void ArgParser::add_flag(const std::string& name, bool* out, const std::string& help) {
    options_.push_back({name, "", help, false, [out](const std::string&) {
                            *out = true;
                            return Status::ok();
                        }});
}

void ArgParser::add_string(const std::string& name, std::string* out, const std::string& metavar,
                           const std::string& help) {
    options_.push_back({name, metavar, help, false, [out](const std::string& v) {
                            *out = v;
                            return Status::ok();
                        }});
}

void ArgParser::add_strings(const std::string& name, std::vector<std::string>* out, const std::string& metavar,
                            const std::string& help) {
    options_.push_back({name, metavar, help, true, [out](const std::string& v) {
                            out->push_back(v);
                            return Status::ok();
                        }});
}

void ArgParser::add_int(const std::string& name, int64_t* out, const std::string& metavar, const std::string& help,
                        int64_t min_value, int64_t max_value) {
    options_.push_back({name, metavar, help, false, [=](const std::string& v) {
                            auto n = parse_int(v);
                            if (!n) return n.status();
                            if (*n < min_value || *n > max_value) {
                                return usage(std::to_string(*n) + " is out of range [" + std::to_string(min_value) +
                                             ", " + std::to_string(max_value) + "]");
                            }
                            *out = *n;
                            return Status::ok();
                        }});
}

void ArgParser::add_real(const std::string& name, double* out, const std::string& metavar, const std::string& help,
                         double min_value) {
    options_.push_back({name, metavar, help, false, [=](const std::string& v) {
                            auto x = parse_real(v);
                            if (!x) return x.status();
                            if (*x < min_value)
                                return usage("'" + v + "' must be at least " + std::to_string(min_value));
                            *out = *x;
                            return Status::ok();
                        }});
}

void ArgParser::add_bytes(const std::string& name, uint64_t* out, const std::string& help) {
    options_.push_back({name, "BYTES", help, false, [out](const std::string& v) {
                            auto n = parse_byte_size(v);
                            if (!n) return n.status();
                            *out = *n;
                            return Status::ok();
                        }});
}

const ArgParser::Option* ArgParser::find(const std::string& name) const {
    for (const auto& option : options_) {
        if (option.name == name) return &option;
    }
    return nullptr;
}

Status ArgParser::parse(const std::vector<std::string>& args) {
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--help" || arg == "-h") {
            help_ = true;
            return Status::ok();
        }
        if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
            return usage("unexpected argument '" + arg + "' (see rtexec " + command_ + " --help)");
        }
        const size_t eq = arg.find('=');
        const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
        const Option* option = find(name);
        if (option == nullptr) return usage("unknown flag '--" + name + "' (see rtexec " + command_ + " --help)");
        if (given(name) && !option->repeatable) return usage("--" + name + " given more than once");
        std::string value;
        if (option->metavar.empty()) {
            if (eq != std::string::npos) return usage("--" + name + " takes no value");
        } else if (eq != std::string::npos) {
            value = arg.substr(eq + 1);
        } else {
            // A following flag is never taken as the value: "--onnx --out x" means --onnx lacks its value.
            if (i + 1 >= args.size() || args[i + 1].compare(0, 2, "--") == 0)
                return usage("missing value for --" + name + " (expected " + option->metavar + ")");
            value = args[++i];
        }
        Status s = option->set(value);
        if (!s) return usage("--" + name + ": " + s.message());
        given_.insert(name);
    }
    return Status::ok();
}

Status ArgParser::require(const std::string& name) const {
    if (given(name)) return Status::ok();
    const Option* option = find(name);
    const std::string metavar = option != nullptr && !option->metavar.empty() ? " " + option->metavar : "";
    return usage("missing required flag --" + name + metavar + " (see rtexec " + command_ + " --help)");
}

std::string ArgParser::help_text() const {
    std::string text = "usage: rtexec " + command_ + " " + usage_ + "\n\n" + summary_ + "\n\noptions:\n";
    for (const auto& option : options_) {
        std::string left = "  --" + option.name + (option.metavar.empty() ? "" : " " + option.metavar);
        if (left.size() < 30)
            left.append(30 - left.size(), ' ');
        else
            left += "\n" + std::string(30, ' ');
        text += left + option.help + "\n";
    }
    text += std::string("  --help") + std::string(22, ' ') + "show this help and exit\n";
    return text;
}

}  // namespace rtexec
