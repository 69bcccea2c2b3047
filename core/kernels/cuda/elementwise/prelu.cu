// PRelu: y = x < 0 ? slope * x : x, the slope broadcast to x's shape (unidirectionally). float32, float16.
#include "core/kernels/cuda/elementwise/common.cuh"
#include "core/kernels/cuda/elementwise/kernels.h"

namespace rtinfer::cuda {
namespace {

using namespace ew;

struct PRelu {
    __device__ float operator()(float x, float slope) const { return x < 0.0f ? slope * x : x; }
};

Expected<OpPtr> create(const OpSetup& setup, const CudaLibs& libs) {
    if (setup.inputs.size() == 2 && setup.outputs.size() == 1 && setup.outputs[0].shape != setup.inputs[0].shape) {
        return setup.unsupported("the slope does not broadcast to X");
    }
    return binary_create<PRelu, kFloatTypes>(setup, libs);
}

}  // namespace

const CudaKernel kPReluCuda = {"PRelu", "", create};

}  // namespace rtinfer::cuda
