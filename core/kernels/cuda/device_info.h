// Which GPU this is, for engine device keys and build reports.
#pragma once

#include <string>

#include "rtinfer/status.h"

namespace rtinfer::cuda {

// "cuda:<name>:sm_<major><minor>:<SM count>" of a device, or an error when none is present.
Expected<std::string> device_key(int device);

}  // namespace rtinfer::cuda
