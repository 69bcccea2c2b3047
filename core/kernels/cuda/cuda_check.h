// RT_CUDA_CHECK / RT_CUDNN_CHECK / RT_CUBLAS_CHECK: turn a library error into a returned Status that
// names the call, file and line. RAII owners for the handles the CUDA backend uses.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <memory>
#include <string>

#include "rtinfer/status.h"

namespace rtinfer::cuda {

Status cuda_error(cudaError_t err, const char* expr, const char* file, int line);
Status cudnn_error(cudnnStatus_t err, const char* expr, const char* file, int line);
Status cublas_error(cublasStatus_t err, const char* expr, const char* file, int line);

}  // namespace rtinfer::cuda

#define RT_CUDA_CHECK(expr)                                                                       \
    do {                                                                                          \
        cudaError_t rt_err_ = (expr);                                                             \
        if (rt_err_ != cudaSuccess) return ::rtinfer::cuda::cuda_error(rt_err_, #expr, __FILE__, __LINE__); \
    } while (0)
#define RT_CUDNN_CHECK(expr)                                                                      \
    do {                                                                                          \
        cudnnStatus_t rt_err_ = (expr);                                                           \
        if (rt_err_ != CUDNN_STATUS_SUCCESS) return ::rtinfer::cuda::cudnn_error(rt_err_, #expr, __FILE__, __LINE__); \
    } while (0)
#define RT_CUBLAS_CHECK(expr)                                                                     \
    do {                                                                                          \
        cublasStatus_t rt_err_ = (expr);                                                          \
        if (rt_err_ != CUBLAS_STATUS_SUCCESS) return ::rtinfer::cuda::cublas_error(rt_err_, #expr, __FILE__, __LINE__); \
    } while (0)
// After a kernel launch: the launch error, if any.
#define RT_CUDA_CHECK_LAUNCH() RT_CUDA_CHECK(cudaGetLastError())

namespace rtinfer::cuda {

// Device memory owned by one object; freed on destruction.
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    static Expected<DeviceBuffer> allocate(size_t bytes);
    DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(o.ptr_), bytes_(o.bytes_) { o.ptr_ = nullptr; o.bytes_ = 0; }
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    ~DeviceBuffer();
    void* get() const { return ptr_; }
    size_t bytes() const { return bytes_; }

private:
    void* ptr_ = nullptr;
    size_t bytes_ = 0;
};

struct CudnnDeleter {
    void operator()(cudnnContext* h) const { cudnnDestroy(h); }
};
struct CublasLtDeleter {
    void operator()(cublasLtContext* h) const { cublasLtDestroy(h); }
};
struct EventDeleter {
    void operator()(CUevent_st* e) const { cudaEventDestroy(e); }
};
using CudnnHandle = std::unique_ptr<cudnnContext, CudnnDeleter>;
using CublasLtHandle = std::unique_ptr<cublasLtContext, CublasLtDeleter>;

// A CUDA event with timing, for profiling.
class Event {
public:
    Status create() {
        cudaEvent_t e = nullptr;
        RT_CUDA_CHECK(cudaEventCreate(&e));
        event_.reset(e);
        return Status();
    }
    cudaEvent_t get() const { return event_.get(); }

private:
    std::unique_ptr<CUevent_st, EventDeleter> event_;
};

}  // namespace rtinfer::cuda
