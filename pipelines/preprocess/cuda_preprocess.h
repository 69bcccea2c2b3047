// A video frame into a network's input tensor on the GPU: the same colour conversion, resize, normalization
// and layout as the CPU reference preprocess_frame (frame_preprocess.h), in one CUDA kernel launch per
// frame, one thread per output pixel. Plain C++ header: streams are passed as an opaque cudaStream_t.
#pragma once

#include <cstddef>

#include "pipelines/config/model_config.h"
#include "pipelines/preprocess/frame_preprocess.h"
#include "rtinfer/status.h"

namespace rtinfer::pipelines {

// Enqueues the pre-processing of one frame on `stream` (a cudaStream_t; nullptr = the default stream) and
// returns without waiting. The frame's plane pointers are device pointers, or host memory mapped into the
// device's address space; they and `device_out` (input.channels() x height x width floats, in
// input.layout) must stay valid until the stream has run the kernel. The placement used goes to
// *placement when given, equal to the CPU version's. Frame and input errors are those of preprocess_frame;
// a failed launch is kCudaError.
Status preprocess_frame_cuda(const FrameView& device_frame, const config::InputSection& input, int width, int height,
                             float* device_out, void* stream, Placement* placement = nullptr);

// A reusable device copy of host frames: one allocation, grown when a larger frame arrives, freed on
// destruction. Not thread-safe; one per stream of frames.
class DeviceFrameBuffer {
  public:
    DeviceFrameBuffer() = default;
    ~DeviceFrameBuffer();
    DeviceFrameBuffer(DeviceFrameBuffer&& other) noexcept;
    DeviceFrameBuffer& operator=(DeviceFrameBuffer&& other) noexcept;
    DeviceFrameBuffer(const DeviceFrameBuffer&) = delete;
    DeviceFrameBuffer& operator=(const DeviceFrameBuffer&) = delete;

    // Enqueues the copy of the host frame's planes (strides honoured; rows packed on the device) on `stream`
    // and returns the device view of them. The host planes must stay unchanged until the stream has run the
    // copy (pageable host memory makes the copy synchronous, pinned memory lets it overlap). The view is
    // valid until the next upload on this buffer: on the same stream that one is ordered after the work
    // already enqueued, on another stream the caller orders them. Growing waits for `stream` before freeing
    // the old allocation. Errors: the frame's, as preprocess_frame names them; kCudaError from CUDA.
    Expected<FrameView> upload(const FrameView& host_frame, void* stream);

    size_t capacity_bytes() const { return capacity_; }

  private:
    void* data_ = nullptr;
    size_t capacity_ = 0;
};

}  // namespace rtinfer::pipelines
