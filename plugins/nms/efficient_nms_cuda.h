// EfficientNMS on a CUDA stream, with the same results as efficient_nms_cpu (efficient_nms_cuda.cu says
// how). This header has no CUDA types, so the plugin glue compiles as plain C++.
#pragma once

#include <cstddef>
#include <cstdint>

#include "efficient_nms_params.h"

namespace rtinfer_nms {

// Device scratch memory of one run, in 256-byte aligned pieces. Pure arithmetic: asking needs no GPU.
struct NmsCudaLayout {
    size_t segment_begin = 0;  // int32 [batch]: where each image's candidates start in the key arrays
    size_t segment_end = 0;    // int32 [batch]: where they end (an atomic counter while they are selected)
    size_t keys = 0;           // uint64 [batch * boxes * classes], twice: the sort's double buffer
    size_t keys_alt = 0;
    size_t sort_temp = 0;  // the sort's own scratch
    size_t sort_temp_bytes = 0;
    size_t total = 0;
};

NmsCudaLayout efficient_nms_cuda_layout(const EfficientNmsParams& params, const EfficientNmsShape& shape);

struct NmsCudaResult {
    enum Code { kOk, kUnsupported, kError } code = kOk;
    char message[200] = {};
};

// Enqueues the whole batch on `stream` (a cudaStream_t) without synchronizing or allocating, so it can be
// captured into a CUDA graph. Buffers are device memory; workspace holds efficient_nms_cuda_layout().total
// bytes, 256-byte aligned.
NmsCudaResult efficient_nms_cuda(const EfficientNmsParams& params, const EfficientNmsShape& shape,
                                 const EfficientNmsBuffers& buffers, void* workspace, size_t workspace_size,
                                 void* stream);

}  // namespace rtinfer_nms
