// The tensor family of CUDA kernels: one CudaKernel per op (or tightly related group), in its own .cu file.
#pragma once

#include <vector>

#include "core/kernels/cuda/cuda_op.h"

namespace rtinfer::cuda {

extern const CudaKernel kReshapeCuda;
extern const CudaKernel kFlattenCuda;
extern const CudaKernel kSqueezeCuda;
extern const CudaKernel kUnsqueezeCuda;
extern const CudaKernel kIdentityCuda;
extern const CudaKernel kDropoutCuda;
extern const CudaKernel kTransposeCuda;
extern const CudaKernel kConcatCuda;
extern const CudaKernel kSplitCuda;
extern const CudaKernel kSliceCuda;
extern const CudaKernel kGatherCuda;
extern const CudaKernel kPadCuda;
extern const CudaKernel kExpandCuda;
extern const CudaKernel kTileCuda;
extern const CudaKernel kResizeCuda;
extern const CudaKernel kUpsampleCuda;
extern const CudaKernel kDepthToSpaceCuda;
extern const CudaKernel kSpaceToDepthCuda;
extern const CudaKernel kNchwToNhwcCuda;

// The table this family registers; add a line here for each new op file.
inline std::vector<const CudaKernel*> tensor_cuda_kernels() {
    return {&kReshapeCuda,   &kFlattenCuda, &kSqueezeCuda, &kUnsqueezeCuda, &kIdentityCuda,     &kDropoutCuda,
            &kTransposeCuda, &kConcatCuda,  &kSplitCuda,   &kSliceCuda,     &kGatherCuda,       &kPadCuda,
            &kExpandCuda,    &kTileCuda,    &kResizeCuda,  &kUpsampleCuda,  &kDepthToSpaceCuda, &kSpaceToDepthCuda,
            &kNchwToNhwcCuda};
}

}  // namespace rtinfer::cuda
