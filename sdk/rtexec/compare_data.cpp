#include "sdk/rtexec/compare_data.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "sdk/rtexec/common.h"
#include "sdk/rtexec/npy.h"

namespace rtexec {

using rtinfer::Expected;
using rtinfer::Status;
using rtinfer::StatusCode;

namespace fs = std::filesystem;

namespace {

std::vector<std::string> npy_files(const std::string& folder) {
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
        if (entry.path().extension() == ".npy" && entry.is_regular_file(ec)) files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

bool is_directory(const std::string& path) {
    std::error_code ec;
    return fs::is_directory(path, ec);
}

}  // namespace

Expected<SampleReader> SampleReader::open(const std::string& dir, const std::vector<SampleInput>& inputs) {
    if (!is_directory(dir)) {
        std::error_code ec;
        return Status(fs::exists(dir, ec) ? StatusCode::kInvalidArgument : StatusCode::kNotFound,
                      "data folder '" + dir + "' " + (fs::exists(dir, ec) ? "is not a folder" : "does not exist"));
    }
    SampleReader reader;
    reader.inputs_ = inputs;
    for (const auto& input : inputs) {
        if (input.dims.empty()) {
            return Status(StatusCode::kInvalidArgument,
                          "input '" + input.name + "' is a scalar; compare needs a batch dimension (dim 0)");
        }
        const std::string sub = (fs::path(dir) / sanitize_file_name(input.name)).string();
        std::string folder;
        if (is_directory(sub)) {
            folder = sub;
        } else if (inputs.size() == 1) {
            folder = dir;
        } else {
            return Status(StatusCode::kNotFound, "data folder '" + dir + "' has no subfolder '" +
                                                     sanitize_file_name(input.name) + "' for input '" + input.name +
                                                     "' (a model with several inputs takes one subfolder per input)");
        }
        std::vector<std::string> files = npy_files(folder);
        if (files.empty()) return Status(StatusCode::kInvalidArgument, "no .npy files in '" + folder + "'");
        if (!reader.files_.empty() && files.size() != reader.files_.front().size()) {
            return Status(StatusCode::kInvalidArgument,
                          "'" + folder + "' holds " + std::to_string(files.size()) + " .npy files, '" +
                              reader.folders_.front() + "' " + std::to_string(reader.files_.front().size()) +
                              "; every input needs one file per group");
        }
        int64_t row = 1;
        for (size_t d = 1; d < input.dims.size(); ++d) row *= input.dims[d];
        if (row < 0) {
            return Status(StatusCode::kInvalidArgument,
                          "input '" + input.name + "' has a dynamic dimension besides dim 0: " + dims_str(input.dims));
        }
        reader.row_bytes_.push_back(static_cast<size_t>(row) * rtinfer::data_type_size(input.dtype));
        reader.folders_.push_back(folder);
        reader.files_.push_back(std::move(files));
    }
    reader.groups_ = reader.files_.empty() ? 0 : reader.files_.front().size();
    reader.pending_.resize(inputs.size());
    return reader;
}

Status SampleReader::load_group() {
    size_t group_rows = 0;
    for (size_t i = 0; i < inputs_.size(); ++i) {
        const SampleInput& input = inputs_[i];
        const std::string& path = files_[i][next_group_];
        RT_ASSIGN_OR_RETURN(NpyArray array, read_npy(path));
        const std::vector<int64_t> sample(input.dims.begin() + 1, input.dims.end());
        std::vector<int64_t> batch = input.dims;
        batch[0] = -1;
        size_t rows = 0;
        if (array.shape == sample) {
            rows = 1;
        } else if (array.shape.size() == input.dims.size() &&
                   std::equal(sample.begin(), sample.end(), array.shape.begin() + 1)) {
            rows = static_cast<size_t>(array.shape[0]);
        } else {
            return Status(StatusCode::kInvalidArgument, path + ": shape " + dims_str(array.shape) +
                                                            " does not fit input '" + input.name + "' " +
                                                            dims_str(input.dims) + " (expected " + dims_str(sample) +
                                                            " for one sample or " + dims_str(batch) + " for a batch)");
        }
        if (array.dtype != input.dtype) {
            return Status(StatusCode::kInvalidArgument,
                          path + ": dtype " + rtinfer::data_type_name(array.dtype) + " does not fit input '" +
                              input.name + "', which is " + rtinfer::data_type_name(input.dtype));
        }
        if (i > 0 && rows != group_rows) {
            return Status(StatusCode::kInvalidArgument,
                          path + ": " + std::to_string(rows) + " samples, but '" + files_[0][next_group_] + "' has " +
                              std::to_string(group_rows) + "; files that belong together hold as many samples");
        }
        group_rows = rows;
        pending_[i].insert(pending_[i].end(), array.data.begin(), array.data.end());
    }
    pending_rows_ += group_rows;
    ++next_group_;
    return Status::ok();
}

Expected<size_t> SampleReader::next(size_t max_rows, std::vector<std::vector<uint8_t>>& rows) {
    while (pending_rows_ < max_rows && next_group_ < groups_) RT_RETURN_IF_ERROR(load_group());
    const size_t n = std::min(max_rows, pending_rows_);
    rows.resize(inputs_.size());
    for (size_t i = 0; i < inputs_.size(); ++i) {
        const auto cut = pending_[i].begin() + static_cast<std::ptrdiff_t>(n * row_bytes_[i]);
        rows[i].assign(pending_[i].begin(), cut);
        pending_[i].erase(pending_[i].begin(), cut);
    }
    pending_rows_ -= n;
    return n;
}

}  // namespace rtexec
