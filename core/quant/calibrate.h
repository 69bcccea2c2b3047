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
    // per tensor: the expected quantize-dequantize error at that threshold over the mean square of the values
    // (rounding inside, clipping outside): how much int8 costs that activation.
    std::map<std::string, double> noise;
    int64_t samples = 0;
    double seconds = 0.0;
};

// `engine` computes in float32 and lists every name of `tensors` among its outputs; its inputs are the
// model's. Samples are run `batch` at a time (the engine's batch when it is static). Progress goes to the
// logger as a bar, about once a second. No samples, or a sample that does not fit the inputs, is an error
// naming `name` (the model).
// held_out (may be null): every 8th sample (up to 64) goes there instead of into the histograms, to judge the
// quantized engine on samples calibration did not see.
Expected<CalibrationResult> calibrate(const Engine& engine, int batch, CalibrationData& data,
                                      const std::vector<std::string>& tensors, const CalibratorOptions& options,
                                      Logger* logger, const std::string& name,
                                      std::vector<CalibrationSample>* held_out = nullptr);

// The relative quantization noise of a histogram's values at threshold amax (see CalibrationResult::noise).
double quantization_noise(const AbsHistogram& histogram, float amax);

// Runs `engine` on samples (batch 1 each, on its backend) and returns every output as float32 values, the
// samples one after the other.
Expected<std::vector<std::vector<float>>> run_samples(const Engine& engine, const std::vector<CalibrationSample>& samples);

}  // namespace rtinfer::quant
