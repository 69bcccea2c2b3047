// EfficientNMS on the CPU: the reference every other implementation is tested against.
#pragma once

#include "efficient_nms_params.h"

namespace rtinfer_nms {

// Scratch bytes efficient_nms_cpu needs.
size_t efficient_nms_cpu_workspace(const EfficientNmsParams& params, const EfficientNmsShape& shape);

// Runs the whole batch. Rows past num_detections are zero. Does not allocate: workspace must hold
// efficient_nms_cpu_workspace() bytes, aligned to 8.
void efficient_nms_cpu(const EfficientNmsParams& params, const EfficientNmsShape& shape,
                       const EfficientNmsBuffers& buffers, void* workspace);

}  // namespace rtinfer_nms
