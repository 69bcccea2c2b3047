#include "core/kernels/cuda/cuda_check.h"

namespace rtinfer::cuda {

namespace {
std::string where(const char* expr, const char* file, int line) {
    return std::string(expr) + " at " + file + ":" + std::to_string(line);
}
}  // namespace

Status cuda_error(cudaError_t err, const char* expr, const char* file, int line) {
    const StatusCode code = err == cudaErrorMemoryAllocation ? StatusCode::kOutOfMemory : StatusCode::kCudaError;
    return Status(code, std::string(cudaGetErrorString(err)) + " in " + where(expr, file, line));
}

Status cudnn_error(cudnnStatus_t err, const char* expr, const char* file, int line) {
    return Status(StatusCode::kCudaError, std::string("cuDNN: ") + cudnnGetErrorString(err) + " in " + where(expr, file, line));
}

Status cublas_error(cublasStatus_t err, const char* expr, const char* file, int line) {
    return Status(StatusCode::kCudaError, "cuBLAS status " + std::to_string(static_cast<int>(err)) + " in " + where(expr, file, line));
}

Expected<DeviceBuffer> DeviceBuffer::allocate(size_t bytes) {
    DeviceBuffer b;
    if (bytes == 0) return b;
    RT_CUDA_CHECK(cudaMalloc(&b.ptr_, bytes));
    b.bytes_ = bytes;
    return b;
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
        if (ptr_) cudaFree(ptr_);
        ptr_ = o.ptr_;
        bytes_ = o.bytes_;
        o.ptr_ = nullptr;
        o.bytes_ = 0;
    }
    return *this;
}

DeviceBuffer::~DeviceBuffer() {
    if (ptr_) cudaFree(ptr_);
}

}  // namespace rtinfer::cuda
