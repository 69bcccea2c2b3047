// Typed, located reading of one YAML mapping: the building block of the model.yml parser. Every error
// carries "file:line:column: key.path:" from yaml-cpp's marks (1-based in messages), and a read of an
// absent key leaves the output untouched, so the caller's struct holds the defaults.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "rtinfer/status.h"

namespace rtinfer::config {

// The keys of one section of the schema, for "did you mean" and "belongs in" hints.
struct SchemaSection {
    std::string path;  // "model", "output.detector", ...
    std::vector<std::string> keys;
};

// What errors name, and what relative paths are resolved against.
struct Source {
    std::string name;
    std::string base_dir;
    const std::vector<SchemaSection>* schema = nullptr;
};

// "name:line:column: path: what" with the mark's 0-based line and column printed 1-based.
Status error_at(const Source& source, const YAML::Mark& mark, const std::string& path, const std::string& what,
                StatusCode code = StatusCode::kInvalidArgument);

// The closest of `candidates` to `word` when it is close enough to be a likely typo, else "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

enum class FloatBound { kFinite, kPositive, kFraction };  // any finite value, > 0, in [0, 1]
enum class PathKind { kFile, kDirectory };  // a file that must exist; a folder that may not exist yet

class Section {
public:
    // `node` must be a mapping, or null (a section whose keys are all left out or commented out);
    // `mark` locates the section (its key) for errors about the section as a whole. Unknown and repeated
    // keys are errors.
    static Expected<Section> open(const Source& source, const YAML::Node& node, const YAML::Mark& mark,
                                  const std::string& path, const std::vector<std::string>& keys);

    bool has(const std::string& key) const { return find(key) != nullptr; }
    // The keys present, in file order.
    std::vector<std::string> present_keys() const;
    // A sub-section: absent = empty (its own mark is this section's).
    Expected<Section> section(const std::string& key, const std::vector<std::string>& keys) const;

    // Errors located at a key's value (its key when the value is empty), or at the section itself.
    Status error(const std::string& key, const std::string& what,
                 StatusCode code = StatusCode::kInvalidArgument) const;
    Status error_here(const std::string& what) const;
    // An error located at the key itself (the key is wrong there, whatever its value).
    Status key_error(const std::string& key, const std::string& what) const;

    Status read_int(const std::string& key, int64_t min, int64_t max, int* out) const;
    Status read_float(const std::string& key, FloatBound bound, float* out) const;
    Status read_bool(const std::string& key, bool* out) const;
    Status read_string(const std::string& key, std::string* out) const;
    // One of `names`, any letter case; *out is its index.
    Status read_choice(const std::string& key, const std::vector<std::string>& names, int* out) const;
    // A resolved path; kFile must name an existing regular file, kDirectory anything but an existing file.
    Status read_path(const std::string& key, PathKind kind, std::string* out) const;
    // Sequences; a single scalar is not taken for a one-element list.
    Status read_float_list(const std::string& key, FloatBound bound, std::vector<float>* out) const;
    Status read_string_list(const std::string& key, std::vector<std::string>* out) const;
    Status read_path_list(const std::string& key, std::vector<std::string>* out) const;

    const Source& source() const { return *source_; }
    const std::string& path() const { return path_; }
    std::string key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

private:
    struct Entry {
        std::string key;
        YAML::Mark key_mark;
        YAML::Node value;
    };

    Section(const Source& source, const YAML::Mark& mark, std::string path)
        : source_(&source), mark_(mark), path_(std::move(path)) {}
    const Entry* find(const std::string& key) const;
    Status unknown_key(const Entry& entry, const std::vector<std::string>& keys) const;
    // Item `index` of a list entry as a one-entry section named "key[index]".
    Section item_section(const Entry& list, size_t index) const;
    // Every item of the list `key` that way; none when the key is absent.
    Expected<std::vector<Section>> items(const std::string& key) const;

    const Source* source_;
    YAML::Mark mark_;
    std::string path_;
    std::vector<Entry> entries_;
};

}  // namespace rtinfer::config
