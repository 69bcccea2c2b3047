// And Or Xor Not on bool tensors (one byte, 0 or 1; any non-zero byte reads as true, as in the reference).
#include "core/kernels/cuda/elementwise/common.cuh"
#include "core/kernels/cuda/elementwise/kernels.h"

namespace rtinfer::cuda {
namespace {

using namespace ew;

struct And {
    __device__ bool operator()(uint8_t a, uint8_t b) const { return a != 0 && b != 0; }
};
struct Or {
    __device__ bool operator()(uint8_t a, uint8_t b) const { return a != 0 || b != 0; }
};
struct Xor {
    __device__ bool operator()(uint8_t a, uint8_t b) const { return (a != 0) != (b != 0); }
};
struct Not {
    __device__ bool operator()(uint8_t x) const { return x == 0; }
};

}  // namespace

const CudaKernel kAndCuda = {"And", "", binary_create<And, kBoolType, true>};
const CudaKernel kOrCuda = {"Or", "", binary_create<Or, kBoolType, true>};
const CudaKernel kXorCuda = {"Xor", "", binary_create<Xor, kBoolType, true>};
const CudaKernel kNotCuda = {"Not", "", unary_create<Not, kBoolType, true>};

}  // namespace rtinfer::cuda
