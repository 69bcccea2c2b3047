// The CUDA-backend kernel of plugin layers: runs a plugin's CUDA enqueue on the context's stream. A plugin
// without one is refused (kUnsupported), so the layer runs on its CPU enqueue like any CPU fallback.
#pragma once

#ifdef RTINFER_HAVE_CUDA
#include "core/kernels/cuda/cuda_op.h"

namespace rtinfer::plugins {

const cuda::CudaKernel& plugin_cuda_kernel();

}  // namespace rtinfer::plugins
#endif
