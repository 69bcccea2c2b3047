// The calibration cache: the activation ranges of one model in a small versioned text file, so that rebuilding
// an engine (another batch size, another device of the same kind) skips calibration.
//
//   # rtinfer calibration cache: per-tensor activation ranges (amax; the int8 scale is amax / 127)
//   format: 1
//   model: <fingerprint given by the caller>
//   calibrator: entropy
//   samples: 500
//   amax 3.1415927 <tensor name, to the end of the line: names may contain spaces>
//
// Lines starting with '#' and blank lines are ignored; "format:" must be the first other line. Values are
// written as the shortest text that reads back as the same float.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "rtinfer/status.h"

namespace rtinfer::quant {

constexpr int kCalibrationCacheFormat = 1;

struct CalibrationTable {
    std::string model;                  // fingerprint of the model the ranges belong to
    std::string calibrator;             // calibrator_description() of the calibrator that made them
    int64_t samples = 0;                // calibration inputs they were measured on
    std::map<std::string, float> amax;  // tensor name -> clipping threshold (finite, >= 0)
};

// Writes the table to path through a temporary file in the same folder and a rename, so that a reader sees the
// old file or the new one, never a part. Fails without writing when a string holds a line break, a tensor name
// is empty, an amax is negative or not finite, or samples is negative.
Status save_calibration_cache(const std::string& path, const CalibrationTable& table);

// Reads a cache written by save_calibration_cache (or by hand). Errors name the file and, where one line is at
// fault, its number: kNotFound when the file does not exist, kIoError when it cannot be read, kInvalidArgument
// for an unknown format version, a missing header line, a cache made for another model than expected_model (not
// checked when expected_model is empty), a malformed line, a negative or non-finite amax, a tensor named twice.
Expected<CalibrationTable> load_calibration_cache(const std::string& path, const std::string& expected_model);

}  // namespace rtinfer::quant
