#include "core/quant/calibration_cache.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace rtinfer::quant {
namespace {

const char kHeaderComment[] =
    "# rtinfer calibration cache: per-tensor activation ranges (amax; the int8 scale is amax / 127)\n";

std::string float_text(float v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

bool has_line_break(const std::string& s) {
    return s.find_first_of("\r\n") != std::string::npos;
}

Status invalid(const std::string& path, const std::string& message) {
    return Status(StatusCode::kInvalidArgument, path + ": " + message);
}

Status invalid_at(const std::string& path, int line, const std::string& message) {
    return Status(StatusCode::kInvalidArgument, path + ":" + std::to_string(line) + ": " + message);
}

// The header lines seen so far, with the line each came from (0: not seen).
struct Header {
    int format_line = 0;
    int model_line = 0;
    int calibrator_line = 0;
    int samples_line = 0;
};

bool parse_int64(const std::string& text, int64_t* out) {
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, *out);
    return ec == std::errc() && ptr == end && !text.empty();
}

// "amax <value> <name>": exactly one space after the value, the name is the rest of the line.
Status parse_amax_line(const std::string& path, int line_no, const std::string& line,
                       std::map<std::string, float>* amax, std::map<std::string, int>* first_line) {
    const size_t value_begin = 5;  // after "amax "
    const size_t space = line.find(' ', value_begin);
    if (space == std::string::npos || space == value_begin || space + 1 >= line.size()) {
        return invalid_at(path, line_no, "malformed amax line '" + line + "' (expected 'amax <value> <tensor name>')");
    }
    const std::string value_text = line.substr(value_begin, space - value_begin);
    const std::string name = line.substr(space + 1);
    float value = 0.0f;
    auto [ptr, ec] = std::from_chars(value_text.data(), value_text.data() + value_text.size(), value);
    if (ec != std::errc() || ptr != value_text.data() + value_text.size()) {
        return invalid_at(path, line_no,
                          "malformed amax line: '" + value_text + "' is not a number (tensor '" + name + "')");
    }
    if (!std::isfinite(value) || value < 0.0f) {
        return invalid_at(path, line_no,
                          "amax " + value_text + " of tensor '" + name + "' is not valid: it must be finite and >= 0");
    }
    auto [it, inserted] = first_line->emplace(name, line_no);
    if (!inserted) {
        return invalid_at(path, line_no,
                          "tensor '" + name + "' is listed twice (first on line " + std::to_string(it->second) + ")");
    }
    (*amax)[name] = value;
    return Status::ok();
}

Status parse_header_line(const std::string& path, int line_no, const std::string& line,
                         const std::string& expected_model, Header* header, CalibrationTable* table) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) {
        return invalid_at(path, line_no,
                          "cannot read '" + line + "' (expected 'key: value' or 'amax <value> <tensor name>')");
    }
    const std::string key = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    int* seen = key == "format"       ? &header->format_line
                : key == "model"      ? &header->model_line
                : key == "calibrator" ? &header->calibrator_line
                : key == "samples"    ? &header->samples_line
                                      : nullptr;
    if (seen == nullptr) {
        return invalid_at(path, line_no,
                          "unknown header key '" + key + "' (known: format, model, calibrator, samples)");
    }
    if (*seen != 0) {
        return invalid_at(path, line_no, "'" + key + ":' is given twice (first on line " + std::to_string(*seen) + ")");
    }
    *seen = line_no;
    if (key == "model") {
        if (!expected_model.empty() && value != expected_model) {
            return invalid_at(path, line_no,
                              "this calibration cache was made for model '" + value +
                                  "', but the model being built is '" + expected_model +
                                  "': delete the file or give another calibration cache");
        }
        table->model = value;
    } else if (key == "calibrator") {
        table->calibrator = value;
    } else if (key == "samples") {
        if (!parse_int64(value, &table->samples) || table->samples < 0) {
            return invalid_at(path, line_no, "samples '" + value + "' is not a count");
        }
    }
    return Status::ok();
}

}  // namespace

Status save_calibration_cache(const std::string& path, const CalibrationTable& table) {
    if (has_line_break(table.model)) return invalid(path, "the model fingerprint holds a line break");
    if (has_line_break(table.calibrator)) return invalid(path, "the calibrator description holds a line break");
    if (table.samples < 0) return invalid(path, "negative sample count " + std::to_string(table.samples));
    std::ostringstream text;
    text << kHeaderComment << "format: " << kCalibrationCacheFormat << "\nmodel: " << table.model
         << "\ncalibrator: " << table.calibrator << "\nsamples: " << table.samples << "\n";
    for (const auto& [name, amax] : table.amax) {
        if (name.empty()) return invalid(path, "a tensor without a name");
        if (has_line_break(name)) return invalid(path, "tensor name '" + name + "' holds a line break");
        if (!std::isfinite(amax) || amax < 0.0f) {
            return invalid(path, "amax " + float_text(amax) + " of tensor '" + name + "': it must be finite and >= 0");
        }
        text << "amax " << float_text(amax) << " " << name << "\n";
    }

    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text.str();
        out.flush();
        if (!out) {
            const int err = errno;
            std::remove(tmp.c_str());
            return Status(StatusCode::kIoError, tmp + ": cannot write (" + std::strerror(err) + ")");
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        std::remove(tmp.c_str());
        return Status(StatusCode::kIoError, path + ": cannot replace it (" + std::strerror(err) + ")");
    }
    return Status::ok();
}

Expected<CalibrationTable> load_calibration_cache(const std::string& path, const std::string& expected_model) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int err = errno;
        return Status(err == ENOENT || err == ENOTDIR ? StatusCode::kNotFound : StatusCode::kIoError,
                      path + ": cannot open the calibration cache (" + std::strerror(err) + ")");
    }
    CalibrationTable table;
    Header header;
    std::map<std::string, int> first_line;
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const size_t first = line.find_first_not_of(" \t");
        if (first == std::string::npos || line[first] == '#') continue;
        if (header.format_line == 0) {
            if (line.compare(0, 7, "format:") != 0) {
                return invalid_at(path, line_no,
                                  "not an rtinfer calibration cache: the first line must be 'format: " +
                                      std::to_string(kCalibrationCacheFormat) + "'");
            }
            int64_t version = 0;
            const size_t begin = line.find_first_not_of(' ', 7);
            const std::string version_text = begin == std::string::npos ? "" : line.substr(begin);
            if (!parse_int64(version_text, &version) || version != kCalibrationCacheFormat) {
                return invalid_at(path, line_no,
                                  "unknown calibration cache format '" + version_text +
                                      "': this rtinfer reads format " + std::to_string(kCalibrationCacheFormat) +
                                      " only");
            }
            header.format_line = line_no;
            continue;
        }
        if (line.compare(0, 5, "amax ") == 0) {
            RT_RETURN_IF_ERROR(parse_amax_line(path, line_no, line, &table.amax, &first_line));
        } else {
            RT_RETURN_IF_ERROR(parse_header_line(path, line_no, line, expected_model, &header, &table));
        }
    }
    if (in.bad()) return Status(StatusCode::kIoError, path + ": read failed (" + std::strerror(errno) + ")");
    if (header.format_line == 0) return invalid(path, "not an rtinfer calibration cache (no 'format:' line)");
    const std::pair<int, const char*> required[] = {
        {header.model_line, "model"}, {header.calibrator_line, "calibrator"}, {header.samples_line, "samples"}};
    for (const auto& [seen, key] : required) {
        if (seen == 0) return invalid(path, std::string("the header has no '") + key + ":' line");
    }
    return table;
}

}  // namespace rtinfer::quant
