// Calibration: runs a float32 engine whose outputs are the tensors to quantize over the calibration samples,
// histograms each tensor's |x|, and picks each tensor's range with a calibrator.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/quant/calibrator.h"
#include "rtinfer/builder.h"
#include "rtinfer/engine.h"

namespace rtinfer::quant {

struct CalibrationResult {
    std::map<std::string, float> amax;  // per tensor: the clipping threshold (int8 scale = amax / 127)
    int64_t samples = 0;
    double seconds = 0.0;
};

// `engine` computes in float32 and lists every name of `tensors` among its outputs; its inputs are the
// model's. Samples are run `batch` at a time (the engine's batch when it is static). Progress goes to the
// logger as a bar, about once a second. No samples, or a sample that does not fit the inputs, is an error
// naming `name` (the model).
Expected<CalibrationResult> calibrate(const Engine& engine, int batch, CalibrationData& data,
                                      const std::vector<std::string>& tensors, const CalibratorOptions& options,
                                      Logger* logger, const std::string& name);

}  // namespace rtinfer::quant
