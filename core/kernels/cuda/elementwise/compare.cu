// Equal Less LessOrEqual Greater GreaterOrEqual: broadcast comparisons with a bool output. float32, float16
// (compared as float, which is exact), int32, int64; Equal also bool.
#include "core/kernels/cuda/elementwise/common.cuh"
#include "core/kernels/cuda/elementwise/kernels.h"

namespace rtinfer::cuda {
namespace {

using namespace ew;

#define RT_COMPARE(Name, expr)                       \
    struct Name {                                    \
        template <class T>                           \
        __device__ bool operator()(T a, T b) const { \
            return expr;                             \
        }                                            \
    };
RT_COMPARE(Equal, a == b)
RT_COMPARE(Less, a < b)
RT_COMPARE(LessOrEqual, a <= b)
RT_COMPARE(Greater, a > b)
RT_COMPARE(GreaterOrEqual, a >= b)
#undef RT_COMPARE

}  // namespace

const CudaKernel kEqualCuda = {"Equal", "", binary_create<Equal, kNumberTypes | kBoolType, true>};
const CudaKernel kLessCuda = {"Less", "", binary_create<Less, kNumberTypes, true>};
const CudaKernel kLessOrEqualCuda = {"LessOrEqual", "", binary_create<LessOrEqual, kNumberTypes, true>};
const CudaKernel kGreaterCuda = {"Greater", "", binary_create<Greater, kNumberTypes, true>};
const CudaKernel kGreaterOrEqualCuda = {"GreaterOrEqual", "", binary_create<GreaterOrEqual, kNumberTypes, true>};

}  // namespace rtinfer::cuda
