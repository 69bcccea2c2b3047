#include "pipelines/config/yaml_section.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <cmath>
#include <filesystem>
#include <system_error>

namespace fs = std::filesystem;

namespace rtinfer::config {
namespace {

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string join(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
    return out;
}

// Optimal string alignment distance: Levenshtein plus the swap of two neighbours ("bacth" -> "batch" is 1).
size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.size()][b.size()];
}

// How a value looks, for "must be X, got Y".
std::string describe(const YAML::Node& node) {
    if (node.IsSequence()) return "a list";
    if (node.IsMap()) return "a mapping";
    if (!node.IsScalar()) return "nothing";
    const std::string text = node.Scalar().size() > 40 ? node.Scalar().substr(0, 40) + "..." : node.Scalar();
    return node.Tag() == "!" ? "the quoted string \"" + text + "\"" : "'" + text + "'";
}

// A number or boolean must be a plain scalar: quotes make it a string in YAML.
bool plain_scalar(const YAML::Node& node) { return node.IsScalar() && node.Tag() != "!"; }

bool parse_int(const std::string& text, int64_t* out) {
    const char* begin = text.data() + (!text.empty() && text[0] == '+' ? 1 : 0);
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(begin, end, *out);
    return ec == std::errc() && ptr == end && begin != end;
}

// std::from_chars does not depend on the locale (an application may set one with a decimal comma).
bool parse_float(const std::string& text, double* out) {
    const char* begin = text.data() + (!text.empty() && text[0] == '+' ? 1 : 0);
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(begin, end, *out);
    return ec == std::errc() && ptr == end && begin != end;
}

const char* float_kind(FloatBound bound) {
    switch (bound) {
        case FloatBound::kFinite: return "a number";
        case FloatBound::kPositive: return "a number greater than 0";
        case FloatBound::kFraction: return "a number from 0 to 1";
    }
    return "a number";
}

bool in_bound(double v, FloatBound bound) {
    switch (bound) {
        case FloatBound::kFinite: return std::isfinite(v);
        case FloatBound::kPositive: return std::isfinite(v) && v > 0.0;
        case FloatBound::kFraction: return v >= 0.0 && v <= 1.0;
    }
    return false;
}

// An empty value: "leave the key out" is advice for a key, not for an item of a list ("key[2]").
Status no_value(const Section& s, const std::string& key, const std::string& kind) {
    const bool item = !key.empty() && key.back() == ']';
    return s.error(key, "has no value; give " + kind + (item ? "" : " or leave the key out"));
}

// The value of a key that must be a single scalar.
Status scalar_value(const Section& s, const YAML::Node* value, const std::string& key, const char* kind) {
    if (value->IsNull()) return no_value(s, key, kind);
    if (!value->IsScalar()) return s.error(key, "must be " + std::string(kind) + ", got " + describe(*value));
    return Status::ok();
}

// Bounds are checked on the float that is kept: 1e-60 is a positive double but a zero float.
Status float_of(const Section& s, const YAML::Node& node, const std::string& key, FloatBound bound, float* out) {
    double v = 0.0;
    if (!plain_scalar(node) || !parse_float(node.Scalar(), &v))
        return s.error(key, "must be " + std::string(float_kind(bound)) + ", got " + describe(node));
    const float f = static_cast<float>(v);
    if (!in_bound(f, bound))
        return s.error(key, "must be " + std::string(float_kind(bound)) + ", got " + node.Scalar());
    *out = f;
    return Status::ok();
}

// The path as given, resolved against the config's folder, checked as `kind` says.
Status resolve_path(const Section& s, const YAML::Node& node, const std::string& key, PathKind kind,
                    std::string* out) {
    if (node.IsNull()) return no_value(s, key, "a path");
    if (!node.IsScalar()) return s.error(key, "must be a path, got " + describe(node));
    const std::string& given = node.Scalar();
    if (given.empty()) return s.error(key, "must not be empty");
    fs::path p(given);
    if (p.is_relative() && !s.source().base_dir.empty()) p = fs::path(s.source().base_dir) / p;
    const std::string resolved = p.lexically_normal().string();
    const std::string shown = "'" + given + "'" + (resolved == given ? "" : " (" + resolved + ")");
    std::error_code ec;
    const fs::file_status st = fs::status(resolved, ec);
    if (kind == PathKind::kFile) {
        if (!fs::exists(st)) return s.error(key, "no such file: " + shown, StatusCode::kNotFound);
        if (!fs::is_regular_file(st)) return s.error(key, "not a regular file: " + shown, StatusCode::kNotFound);
    } else if (fs::exists(st) && !fs::is_directory(st)) {
        return s.error(key, "not a folder: " + shown);
    }
    *out = resolved;
    return Status::ok();
}

Status list_items(const Section& s, const YAML::Node* value, const std::string& key) {
    if (value->IsNull()) return no_value(s, key, "a list like [a, b]");
    if (!value->IsSequence()) return s.error(key, "must be a list like [a, b], got " + describe(*value));
    return Status::ok();
}
}  // namespace

Status error_at(const Source& source, const YAML::Mark& mark, const std::string& path, const std::string& what,
                StatusCode code) {
    const int line = mark.line >= 0 ? mark.line + 1 : 1;
    const int column = mark.column >= 0 ? mark.column + 1 : 1;
    return make_error(code, source.name + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                                (path.empty() ? "top level" : path) + ": " + what);
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
    const std::string w = lower(word);
    std::string best;
    size_t best_distance = SIZE_MAX;
    for (const auto& c : candidates) {
        const std::string lc = lower(c);
        size_t d = edit_distance(w, lc);
        // A word cut short or run on ("confidence" for "confidence_threshold") is a likely typo too.
        const bool contained = std::min(w.size(), lc.size()) >= 4 &&
                               (lc.find(w) != std::string::npos || w.find(lc) != std::string::npos);
        // One edit in a short word, more in a long one: "xywh" is another box coding, not a typo of "xyxy".
        if (d > std::max<size_t>(1, std::max(w.size(), lc.size()) / 3) && !contained) continue;
        if (contained) d = std::min(d, size_t{2});
        if (d < best_distance) {
            best_distance = d;
            best = c;
        }
    }
    return best;
}

Expected<Section> Section::open(const Source& source, const YAML::Node& node, const YAML::Mark& mark,
                                const std::string& path, const std::vector<std::string>& keys) {
    Section section(source, mark, path);
    if (node.IsNull()) return section;
    if (!node.IsMap()) {
        return error_at(source, node.Mark(), path,
                        "must be a mapping of keys ('key: value' lines), got " + describe(node));
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
        if (!it->first.IsScalar()) return error_at(source, it->first.Mark(), path, "keys must be plain names");
        Entry entry{it->first.Scalar(), it->first.Mark(), it->second};
        if (const Entry* first = section.find(entry.key)) {
            return error_at(source, entry.key_mark, section.key_path(entry.key),
                            "given twice (first on line " + std::to_string(first->key_mark.line + 1) + ")");
        }
        if (std::find(keys.begin(), keys.end(), entry.key) == keys.end()) return section.unknown_key(entry, keys);
        section.entries_.push_back(std::move(entry));
    }
    return section;
}

Status Section::unknown_key(const Entry& entry, const std::vector<std::string>& keys) const {
    std::string what = "unknown key";
    const std::string guess = closest_match(entry.key, keys);
    std::vector<std::string> homes;
    if (source_->schema) {
        for (const auto& s : *source_->schema) {
            if (s.path != path_ && std::find(s.keys.begin(), s.keys.end(), entry.key) != s.keys.end())
                homes.push_back("'" + s.path + "'");
        }
    }
    if (!guess.empty()) {
        what += "; did you mean '" + guess + "'?";
    } else if (!homes.empty()) {
        what += " here; it belongs in " + join(homes);
    } else {
        what += "; the keys of " + (path_.empty() ? std::string("the top level") : "'" + path_ + "'") + " are " +
                join(keys);
    }
    return error_at(*source_, entry.key_mark, key_path(entry.key), what);
}

const Section::Entry* Section::find(const std::string& key) const {
    for (const auto& e : entries_) {
        if (e.key == key) return &e;
    }
    return nullptr;
}

std::vector<std::string> Section::present_keys() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.push_back(e.key);
    return out;
}

Expected<Section> Section::section(const std::string& key, const std::vector<std::string>& keys) const {
    const Entry* e = find(key);
    if (!e) return Section(*source_, mark_, key_path(key));
    return open(*source_, e->value, e->key_mark, key_path(key), keys);
}

Status Section::error(const std::string& key, const std::string& what, StatusCode code) const {
    const Entry* e = find(key);
    if (!e) return error_at(*source_, mark_, key_path(key), what, code);
    const YAML::Mark mark = e->value.IsNull() ? e->key_mark : e->value.Mark();
    return error_at(*source_, mark, key_path(key), what, code);
}

Status Section::key_error(const std::string& key, const std::string& what) const {
    const Entry* e = find(key);
    return error_at(*source_, e ? e->key_mark : mark_, key_path(key), what);
}

Status Section::error_here(const std::string& what) const { return error_at(*source_, mark_, path_, what); }

Status Section::read_int(const std::string& key, int64_t min, int64_t max, int* out) const {
    const Entry* e = find(key);
    if (!e) return Status::ok();
    RT_RETURN_IF_ERROR(scalar_value(*this, &e->value, key, "an integer"));
    int64_t v = 0;
    if (!plain_scalar(e->value) || !parse_int(e->value.Scalar(), &v))
        return error(key, "must be an integer, got " + describe(e->value));
    if (v < min || v > max) {
        const std::string range = max >= INT_MAX ? "at least " + std::to_string(min)
                                                 : "from " + std::to_string(min) + " to " + std::to_string(max);
        return error(key, "must be " + range + ", got " + e->value.Scalar());
    }
    *out = static_cast<int>(v);
    return Status::ok();
}

Status Section::read_float(const std::string& key, FloatBound bound, float* out) const {
    const Entry* e = find(key);
    if (!e) return Status::ok();
    RT_RETURN_IF_ERROR(scalar_value(*this, &e->value, key, float_kind(bound)));
    return float_of(*this, e->value, key, bound, out);
}

Status Section::read_bool(const std::string& key, bool* out) const {
    const Entry* e = find(key);
    if (!e) return Status::ok();
    RT_RETURN_IF_ERROR(scalar_value(*this, &e->value, key, "true or false"));
    const std::string v = lower(e->value.Scalar());
    if (plain_scalar(e->value) && (v == "true" || v == "yes" || v == "on")) {
        *out = true;
    } else if (plain_scalar(e->value) && (v == "false" || v == "no" || v == "off")) {
        *out = false;
    } else {
        return error(key, "must be true or false, got " + describe(e->value));
    }
    return Status::ok();
}

Status Section::read_string(const std::string& key, std::string* out) const {
    const Entry* e = find(key);
    if (!e) return Status::ok();
    RT_RETURN_IF_ERROR(scalar_value(*this, &e->value, key, "a name"));
    if (e->value.Scalar().empty()) return error(key, "must not be empty");
    *out = e->value.Scalar();
    return Status::ok();
}

Status Section::read_choice(const std::string& key, const std::vector<std::string>& names, int* out) const {
    const Entry* e = find(key);
    if (!e) return Status::ok();
    const std::string kind = "one of " + join(names);
    RT_RETURN_IF_ERROR(scalar_value(*this, &e->value, key, kind.c_str()));
    const std::string v = lower(e->value.Scalar());
    for (size_t i = 0; i < names.size(); ++i) {
        if (lower(names[i]) == v) {
            *out = static_cast<int>(i);
            return Status::ok();
        }
    }
    std::string what = "must be " + kind + ", got " + describe(e->value);
    const std::string guess = closest_match(e->value.Scalar(), names);
    if (!guess.empty()) what += "; did you mean '" + guess + "'?";
    return error(key, what);
}

Status Section::read_path(const std::string& key, PathKind kind, std::string* out) const {
    const Entry* e = find(key);
    if (!e) return Status::ok();
    return resolve_path(*this, e->value, key, kind, out);
}

// List items are read through one-entry Sections named "key[i]", so that errors name and locate the item.
Expected<std::vector<Section>> Section::items(const std::string& key) const {
    std::vector<Section> out;
    const Entry* e = find(key);
    if (!e) return out;
    RT_RETURN_IF_ERROR(list_items(*this, &e->value, key));
    for (size_t i = 0; i < e->value.size(); ++i) out.push_back(item_section(*e, i));
    return out;
}

Status Section::read_float_list(const std::string& key, FloatBound bound, std::vector<float>* out) const {
    if (!has(key)) return Status::ok();
    RT_ASSIGN_OR_RETURN(const std::vector<Section> items, this->items(key));
    std::vector<float> values(items.size());
    for (size_t i = 0; i < items.size(); ++i)
        RT_RETURN_IF_ERROR(items[i].read_float(items[i].entries_[0].key, bound, &values[i]));
    *out = std::move(values);
    return Status::ok();
}

Status Section::read_string_list(const std::string& key, std::vector<std::string>* out) const {
    if (!has(key)) return Status::ok();
    RT_ASSIGN_OR_RETURN(const std::vector<Section> items, this->items(key));
    std::vector<std::string> values(items.size());
    for (size_t i = 0; i < items.size(); ++i)
        RT_RETURN_IF_ERROR(items[i].read_string(items[i].entries_[0].key, &values[i]));
    *out = std::move(values);
    return Status::ok();
}

Status Section::read_path_list(const std::string& key, std::vector<std::string>* out) const {
    if (!has(key)) return Status::ok();
    RT_ASSIGN_OR_RETURN(const std::vector<Section> items, this->items(key));
    std::vector<std::string> values(items.size());
    for (size_t i = 0; i < items.size(); ++i)
        RT_RETURN_IF_ERROR(items[i].read_path(items[i].entries_[0].key, PathKind::kFile, &values[i]));
    *out = std::move(values);
    return Status::ok();
}

Section Section::item_section(const Entry& list, size_t index) const {
    Section item(*source_, list.key_mark, path_);
    const YAML::Node node = list.value[index];
    item.entries_.push_back(Entry{list.key + "[" + std::to_string(index) + "]", node.Mark(), node});
    return item;
}

}  // namespace rtinfer::config
