// YoloDecode on a CUDA stream (same arithmetic as yolo_decode_cpu, see yolo_decode_math.h). No CUDA types
// here, so the plugin glue compiles as plain C++.
#pragma once

#include "yolo_decode_params.h"

namespace rtinfer_yolo {

// Enqueues the whole batch on `stream` (a cudaStream_t) without synchronizing or allocating; buffers are
// device memory. Returns an empty string, or what failed.
const char* yolo_decode_cuda(const YoloDecodeParams& params, const YoloDecodeShape& shape,
                             const YoloDecodeBuffers& buffers, void* stream);

}  // namespace rtinfer_yolo
