// Which GPU this is, for engine device keys and build reports.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "rtinfer/status.h"

namespace rtinfer::cuda {

// "cuda:<name>:sm_<major><minor>:<SM count>" of a device, or an error when none is present.
Expected<std::string> device_key(int device);

// Keeps the stream busy for about `microseconds` (one thread spinning on the clock), so that work enqueued
// behind it meanwhile then runs back to back: per-layer timings without the gaps of host launch overhead.
Status hold_stream(cudaStream_t stream, double microseconds);

}  // namespace rtinfer::cuda
