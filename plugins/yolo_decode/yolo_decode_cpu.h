// YoloDecode on the CPU: the reference the CUDA implementation is tested against.
#pragma once

#include "yolo_decode_params.h"

namespace rtinfer_yolo {

// Decodes the whole batch (no workspace).
void yolo_decode_cpu(const YoloDecodeParams& params, const YoloDecodeShape& shape, const YoloDecodeBuffers& buffers);

}  // namespace rtinfer_yolo
