// Calibration samples for `rtexec build --int8 --calib DIR`: a folder of .npy tensors and images.
//
// .npy files hold float32 (or float64) tensors of the input's shape, with or without the batch dim, or a
// batch [N, ...] of N samples. Images (.jpg/.jpeg, .png, binary PPM/PGM .ppm .pgm .pnm) go through the pre-processing of a
// model.yml's input section (--config), or without one the defaults: stretched to the input's size, RGB,
// scaled by 1/255, NCHW. Files are taken in name order; other files are ignored. Calibration folders feed
// models with one input.
#pragma once

#include <memory>
#include <string>

#include "rtinfer/builder.h"

namespace rtexec {

// Lists and checks the folder (every header is read now, so a bad file is named before the build starts).
// Errors: the folder cannot be read, it holds no .npy tensor or readable image, a file is malformed, or
// config_path ("" = none) is not a valid model.yml.
rtinfer::Expected<std::unique_ptr<rtinfer::CalibrationData>> open_calibration_folder(const std::string& dir,
                                                                                     const std::string& config_path);

}  // namespace rtexec
