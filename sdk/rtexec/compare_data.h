// The samples of `rtexec compare`: .npy files in a folder, read a few at a time and cut into rows (samples)
// along dim 0, the batch dimension of every input.
//
// One input: DIR/*.npy, or DIR/<input>/*.npy. Several inputs: one subfolder per input, named after the input
// (as sanitize_file_name writes it), each holding the same number of files; the files of every folder are
// taken in name order and the k-th files of all folders belong together (and must hold as many samples).
// A file is one sample, of the input's shape without dim 0, or a batch [N, ...] of any N.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "rtinfer/status.h"
#include "rtinfer/types.h"

namespace rtexec {

struct SampleInput {
    std::string name;
    rtinfer::DataType dtype = rtinfer::DataType::kUndefined;
    std::vector<int64_t> dims;  // the engine's dims; dims[0] (the batch) may be -1
};

class SampleReader {
  public:
    // Lists the files. kNotFound when DIR (or an input's subfolder) is missing, kInvalidArgument when it holds
    // no .npy file, when folders hold different numbers of files, or when an input has no batch dimension.
    static rtinfer::Expected<SampleReader> open(const std::string& dir, const std::vector<SampleInput>& inputs);

    // Up to max_rows next samples: rows[i] gets input i's samples back to back (C order). Returns how many;
    // 0 at the end. Files are read as needed; one whose dtype or shape does not fit its input is an error
    // naming the file, the input and both shapes.
    rtinfer::Expected<size_t> next(size_t max_rows, std::vector<std::vector<uint8_t>>& rows);

    size_t file_groups() const { return groups_; }
    // The folder each input's files come from.
    const std::vector<std::string>& folders() const { return folders_; }
    // Bytes of one sample of input i.
    size_t row_bytes(size_t i) const { return row_bytes_[i]; }

  private:
    rtinfer::Status load_group();

    std::vector<SampleInput> inputs_;
    std::vector<std::string> folders_;
    std::vector<std::vector<std::string>> files_;  // per input, sorted
    std::vector<size_t> row_bytes_;
    size_t groups_ = 0;
    size_t next_group_ = 0;
    std::vector<std::vector<uint8_t>> pending_;  // per input: rows read but not handed out
    size_t pending_rows_ = 0;
};

}  // namespace rtexec
