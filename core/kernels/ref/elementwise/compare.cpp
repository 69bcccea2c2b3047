// Equal Less LessOrEqual Greater GreaterOrEqual: broadcast comparisons with a bool output.
#include "core/kernels/ref/elementwise/common.h"
#include "core/kernels/ref/elementwise/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace ew;

struct Equal {
    template <class T>
    bool operator()(T a, T b) const {
        return a == b;
    }
};
struct Less {
    template <class T>
    bool operator()(T a, T b) const {
        return a < b;
    }
};
struct LessOrEqual {
    template <class T>
    bool operator()(T a, T b) const {
        return a <= b;
    }
};
struct Greater {
    template <class T>
    bool operator()(T a, T b) const {
        return a > b;
    }
};
struct GreaterOrEqual {
    template <class T>
    bool operator()(T a, T b) const {
        return a >= b;
    }
};

}  // namespace

const ir::OpKernel kEqualKernel = {"Equal", "", binary_infer<kAll, true>, binary_compute<Equal, kAll>, ir::kOpNone};
const ir::OpKernel kLessKernel = {"Less", "", binary_infer<kNumeric, true>, binary_compute<Less, kNumeric>,
                                  ir::kOpNone};
const ir::OpKernel kLessOrEqualKernel = {"LessOrEqual", "", binary_infer<kNumeric, true>,
                                         binary_compute<LessOrEqual, kNumeric>, ir::kOpNone};
const ir::OpKernel kGreaterKernel = {"Greater", "", binary_infer<kNumeric, true>, binary_compute<Greater, kNumeric>,
                                     ir::kOpNone};
const ir::OpKernel kGreaterOrEqualKernel = {"GreaterOrEqual", "", binary_infer<kNumeric, true>,
                                            binary_compute<GreaterOrEqual, kNumeric>, ir::kOpNone};

}  // namespace rtinfer::ref
