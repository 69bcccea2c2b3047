#include <cuda_runtime.h>

#include "core/kernels/cuda/device_info.h"

#include "core/kernels/cuda/cuda_check.h"

namespace rtinfer::cuda {

Expected<std::string> device_key(int device) {
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess || count == 0) {
        cudaGetLastError();
        return Status(StatusCode::kCudaError, std::string("no CUDA device (") +
                                                  (err != cudaSuccess ? cudaGetErrorString(err) : "none found") + ")");
    }
    if (device < 0 || device >= count) return Status(StatusCode::kInvalidArgument, "no CUDA device " + std::to_string(device));
    cudaDeviceProp prop{};
    err = cudaGetDeviceProperties(&prop, device);
    if (err != cudaSuccess) return Status(StatusCode::kCudaError, cudaGetErrorString(err));
    return std::string("cuda:") + prop.name + ":sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ":" +
           std::to_string(prop.multiProcessorCount);
}

}  // namespace rtinfer::cuda

namespace rtinfer::cuda {
namespace {

__global__ void spin_kernel(long long cycles) {
    const long long start = clock64();
    while (clock64() - start < cycles) {
    }
}

}  // namespace

Status hold_stream(cudaStream_t stream, double microseconds) {
    int device = 0, khz = 0;
    RT_CUDA_CHECK(cudaGetDevice(&device));
    RT_CUDA_CHECK(cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, device));
    spin_kernel<<<1, 1, 0, stream>>>(static_cast<long long>(microseconds * khz / 1000.0));
    RT_CUDA_CHECK(cudaGetLastError());
    return Status();
}

}  // namespace rtinfer::cuda
