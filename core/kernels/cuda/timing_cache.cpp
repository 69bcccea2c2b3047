#include "core/kernels/cuda/timing_cache.h"

#include <cublasLt.h>
#include <cudnn.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace rtinfer::cuda {

std::string library_versions() {
    return "cudnn " + std::to_string(cudnnGetVersion()) + " cublasLt " + std::to_string(cublasLtGetVersion());
}

Expected<TimingCache> TimingCache::load(const std::string& path, const std::string& device_key, std::string* skipped) {
    TimingCache cache;
    std::ifstream f(path);
    if (!f) return cache;  // no cache yet: it is written after the build
    std::string line;
    int line_no = 0;
    auto bad = [&](const std::string& why) {
        return Status(StatusCode::kInvalidArgument, path + ":" + std::to_string(line_no) + ": " + why);
    };
    if (!std::getline(f, line) || (++line_no, line != "rtinfer-timing-cache 1")) return bad("not an rtinfer timing cache");
    std::string device, libs;
    if (!std::getline(f, device) || (++line_no, device.rfind("device ", 0) != 0)) return bad("missing device line");
    if (!std::getline(f, libs) || (++line_no, libs.rfind("libraries ", 0) != 0)) return bad("missing libraries line");
    if (device.substr(7) != device_key || libs.substr(10) != library_versions()) {
        if (skipped) *skipped = path + " was made for '" + device.substr(7) + "' with " + libs.substr(10);
        return cache;
    }
    while (std::getline(f, line)) {
        ++line_no;
        if (line.empty()) continue;
        const size_t a = line.find('\t'), b = line.rfind('\t');
        if (a == std::string::npos || a == b) return bad("expected signature<TAB>tactic<TAB>ms");
        try {
            cache.entries_[line.substr(0, a)] = Entry{std::stoll(line.substr(a + 1, b - a - 1)), std::stof(line.substr(b + 1))};
        } catch (...) {
            return bad("bad number");
        }
    }
    return cache;
}

Status TimingCache::save(const std::string& path, const std::string& device_key) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::trunc);
        if (!f) return Status(StatusCode::kIoError, path + ": cannot write the timing cache");
        f << "rtinfer-timing-cache 1\ndevice " << device_key << "\nlibraries " << library_versions() << "\n";
        for (const auto& [sig, e] : entries_) f << sig << '\t' << e.tactic << '\t' << e.ms << '\n';
        if (!f) return Status(StatusCode::kIoError, path + ": write failed");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status(StatusCode::kIoError, path + ": rename failed");
    return Status();
}

std::optional<int64_t> TimingCache::lookup(const std::string& signature) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(signature);
    if (it == entries_.end()) return std::nullopt;
    ++hits_;
    used_.insert(signature);
    return it->second.tactic;
}

void TimingCache::record(const std::string& signature, int64_t tactic, float milliseconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_[signature] = Entry{tactic, milliseconds};
    used_.insert(signature);
}

std::vector<std::pair<std::string, int64_t>> TimingCache::used() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::pair<std::string, int64_t>> out;
    for (const auto& sig : used_) out.emplace_back(sig, entries_.at(sig).tactic);
    return out;
}

void TimingCache::preload(const std::vector<std::pair<std::string, int64_t>>& entries) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [sig, tactic] : entries) entries_[sig] = Entry{tactic, -1.0f};
}

size_t TimingCache::size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
}

}  // namespace rtinfer::cuda
