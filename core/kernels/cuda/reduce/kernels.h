// The reduce family of CUDA kernels: one CudaKernel per op (or tightly related group), in its own .cu file.
#pragma once

#include <vector>

#include "core/kernels/cuda/cuda_op.h"

namespace rtinfer::cuda {

extern const CudaKernel kSoftmaxCuda;
extern const CudaKernel kLogSoftmaxCuda;
extern const CudaKernel kReduceSumCuda;
extern const CudaKernel kReduceMeanCuda;
extern const CudaKernel kReduceMaxCuda;
extern const CudaKernel kReduceMinCuda;
extern const CudaKernel kReduceProdCuda;
extern const CudaKernel kReduceSumSquareCuda;
extern const CudaKernel kReduceL1Cuda;
extern const CudaKernel kReduceL2Cuda;
extern const CudaKernel kReduceLogSumCuda;
extern const CudaKernel kReduceLogSumExpCuda;
extern const CudaKernel kArgMaxCuda;
extern const CudaKernel kArgMinCuda;
extern const CudaKernel kTopKCuda;

// The table this family registers; add a line here for each new op file.
inline std::vector<const CudaKernel*> reduce_cuda_kernels() {
    return {&kSoftmaxCuda,      &kLogSoftmaxCuda,      &kReduceSumCuda,       &kReduceMeanCuda, &kReduceMaxCuda,
            &kReduceMinCuda,    &kReduceProdCuda,      &kReduceSumSquareCuda, &kReduceL1Cuda,   &kReduceL2Cuda,
            &kReduceLogSumCuda, &kReduceLogSumExpCuda, &kArgMaxCuda,          &kArgMinCuda,     &kTopKCuda};
}

}  // namespace rtinfer::cuda
