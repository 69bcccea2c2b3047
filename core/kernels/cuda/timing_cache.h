// The timing cache: which tactic (cuDNN algorithm, cuBLASLt algorithm, own kernel variant) won for a layer
// signature on this GPU with these library versions, and how long it took. A rebuild with the cache skips
// the measurements and picks the same tactics, so the same model and options give the same engine bytes.
//
// File format (text, sorted, one entry per line after the header):
//   rtinfer-timing-cache 1
//   device <device key>
//   libraries cudnn <version> cublasLt <version>
//   <signature>\t<tactic>\t<milliseconds>
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <utility>
#include <vector>
#include <string>

#include "rtinfer/status.h"

namespace rtinfer::cuda {

class TimingCache {
public:
    // Entries of a cache for another device or other library versions are not loaded (and that is said
    // in *skipped_reason); a malformed file is an error naming the file and line.
    static Expected<TimingCache> load(const std::string& path, const std::string& device_key, std::string* skipped_reason);
    Status save(const std::string& path, const std::string& device_key) const;

    std::optional<int64_t> lookup(const std::string& signature) const;
    // Entries looked up or recorded since this cache was made (what one build used), sorted.
    std::vector<std::pair<std::string, int64_t>> used() const;
    // Adds entries without marking them used (an engine's own tactics).
    void preload(const std::vector<std::pair<std::string, int64_t>>& entries);
    void record(const std::string& signature, int64_t tactic, float milliseconds);
    size_t size() const;
    size_t hits() const { return hits_; }
    // A cache file that was rejected (malformed, or for another device or library versions) is not written
    // back: the path may not be a cache at all, or belong to another GPU.
    void keep_file_as_is() { write_back_ = false; }
    bool write_back() const { return write_back_; }

    TimingCache() = default;
    TimingCache(TimingCache&& o) noexcept : entries_(std::move(o.entries_)), write_back_(o.write_back_) {}
    TimingCache& operator=(TimingCache&& o) noexcept {
        entries_ = std::move(o.entries_);
        write_back_ = o.write_back_;
        return *this;
    }

private:
    struct Entry {
        int64_t tactic;
        float ms;
    };
    mutable std::mutex mutex_;
    std::map<std::string, Entry> entries_;
    mutable std::set<std::string> used_;
    mutable size_t hits_ = 0;
    bool write_back_ = true;
};

// "cudnn 91900 cublasLt 130000" — the library versions a cache is valid for.
std::string library_versions();

}  // namespace rtinfer::cuda
