// And Or Xor on bool; BitwiseAnd BitwiseOr BitwiseXor on integers; BitShift on unsigned integers.
#include <climits>

#include "core/kernels/ref/elementwise/common.h"
#include "core/kernels/ref/elementwise/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace ew;

struct And {
    bool operator()(uint8_t a, uint8_t b) const { return a != 0 && b != 0; }
};
struct Or {
    bool operator()(uint8_t a, uint8_t b) const { return a != 0 || b != 0; }
};
struct Xor {
    bool operator()(uint8_t a, uint8_t b) const { return (a != 0) != (b != 0); }
};
struct BitwiseAnd {
    template <class T>
    T operator()(T a, T b) const {
        return static_cast<T>(a & b);
    }
};
struct BitwiseOr {
    template <class T>
    T operator()(T a, T b) const {
        return static_cast<T>(a | b);
    }
};
struct BitwiseXor {
    template <class T>
    T operator()(T a, T b) const {
        return static_cast<T>(a ^ b);
    }
};
// Shifting by the type's width or more gives 0 (in C++ it would be undefined).
struct BitShift {
    bool left;
    explicit BitShift(const ir::Node& n) : left(n.attr_string("direction", "") == "LEFT") {}
    template <class T>
    T operator()(T x, T amount) const {
        if (amount >= sizeof(T) * CHAR_BIT) return T(0);
        return static_cast<T>(left ? x << amount : x >> amount);
    }
};

Status bit_shift_infer(ir::InferContext& ctx) {
    const std::string direction = ctx.node().attr_string("direction", "");
    if (direction != "LEFT" && direction != "RIGHT") {
        return ctx.error("direction must be \"LEFT\" or \"RIGHT\", got \"" + direction + "\"");
    }
    return binary_infer<kUnsignedInts>(ctx);
}

}  // namespace

const ir::OpKernel kAndKernel = {"And", "", binary_infer<kBool, true>, binary_compute<And, kBool>, ir::kOpNone};
const ir::OpKernel kOrKernel = {"Or", "", binary_infer<kBool, true>, binary_compute<Or, kBool>, ir::kOpNone};
const ir::OpKernel kXorKernel = {"Xor", "", binary_infer<kBool, true>, binary_compute<Xor, kBool>, ir::kOpNone};
const ir::OpKernel kBitwiseAndKernel = {"BitwiseAnd", "", binary_infer<kInts>, binary_compute<BitwiseAnd, kInts>,
                                        ir::kOpNone};
const ir::OpKernel kBitwiseOrKernel = {"BitwiseOr", "", binary_infer<kInts>, binary_compute<BitwiseOr, kInts>,
                                       ir::kOpNone};
const ir::OpKernel kBitwiseXorKernel = {"BitwiseXor", "", binary_infer<kInts>, binary_compute<BitwiseXor, kInts>,
                                        ir::kOpNone};
const ir::OpKernel kBitShiftKernel = {"BitShift", "", bit_shift_infer, binary_compute<BitShift, kUnsignedInts>,
                                      ir::kOpNone};

}  // namespace rtinfer::ref
