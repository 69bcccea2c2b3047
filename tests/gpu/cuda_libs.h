// One CUDA stream and one set of library handles (cuDNN, cuBLASLt) for a whole GPU test program, for tests
// that create and enqueue CUDA ops directly. TF32 is off, so float32 results compare with the reference.
#pragma once

#include <cuda_runtime.h>

#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/cuda_op.h"

namespace rtinfer::testing {

inline const cuda::CudaLibs& test_cuda_libs() {
    struct Gpu {
        cudaStream_t stream = nullptr;
        cuda::CudnnHandle cudnn;
        cuda::CublasLtHandle lt;
        cuda::CudaLibs libs;
    };
    static Gpu* g = [] {  // never destroyed: the handles would outlive the CUDA runtime at exit
        auto* p = new Gpu;
        cudaStreamCreate(&p->stream);
        cudnnHandle_t h = nullptr;
        cudnnCreate(&h);
        p->cudnn.reset(h);
        cublasLtHandle_t lt = nullptr;
        cublasLtCreate(&lt);
        p->lt.reset(lt);
        p->libs.stream = p->stream;
        p->libs.cudnn = h;
        p->libs.cublaslt = lt;
        p->libs.allow_tf32 = false;
        return p;
    }();
    return g->libs;
}

}  // namespace rtinfer::testing
