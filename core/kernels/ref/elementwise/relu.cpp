// Relu: y = max(x, 0). Signed integers are allowed from opset 14.
#include "core/kernels/ref/elementwise/common.h"
#include "core/kernels/ref/elementwise/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace ew;

struct Relu {
    template <class T>
    T operator()(T x) const {
        return x < T(0) ? T(0) : x;
    }
};

}  // namespace

const ir::OpKernel kReluKernel = {"Relu", "", unary_infer<kSigned>, unary_compute<Relu, kSigned>, ir::kOpNone};

}  // namespace rtinfer::ref
