// GPU tier helpers: tests skip, and say why, where no CUDA device is present.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <string>

namespace rtinfer::testing {

// Empty when a CUDA device is usable, else the reason.
inline std::string gpu_unavailable_reason() {
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        cudaGetLastError();
        return std::string("no CUDA device: ") + cudaGetErrorString(err);
    }
    if (count == 0) return "no CUDA device: none found";
    return "";
}

}  // namespace rtinfer::testing

#define RT_REQUIRE_GPU()                                                          \
    do {                                                                          \
        const std::string rt_reason_ = ::rtinfer::testing::gpu_unavailable_reason(); \
        if (!rt_reason_.empty()) GTEST_SKIP() << rt_reason_;                      \
    } while (0)
