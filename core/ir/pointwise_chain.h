// The program of an rtinfer.PointwiseChain node: a chain of elementwise ops that passes::fuse_pointwise_chain
// merged into one node, evaluated per output element with every input read broadcast to the output shape.
// Stored in node attributes of the kinds an engine file keeps, one entry (or pair) per step:
//   ops       ints    the PointwiseOp of each step
//   operands  ints    two per step, (a, b): a slot, kNoOperand (b of a unary op) or kImmediate
//   params    floats  two per step, (p0, p1): a unary op's parameters; for a binary op the value of an operand
//                     that is kImmediate (a reads p0, b reads p1)
//   fused_ops string  the original op types, for people reading a layer list (not read by kernels)
// Slot k < inputs is node input k; slot inputs + j is the result of step j. The last step's result is output 0.
// Backends compute in float (float16 inputs widened, the result rounded once).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/ir/graph.h"

namespace rtinfer::ir {

// Codes are stored in engine files: never renumber.
enum class PointwiseOp : int {
    // Unary: x is operand a.
    kRelu = 1,
    kSigmoid = 2,
    kTanh = 3,
    kExp = 4,
    kLog = 5,
    kSqrt = 6,
    kAbs = 7,
    kNeg = 8,
    kErf = 9,
    kReciprocal = 10,
    kClip = 11,         // p0 = min, p1 = max
    kLeakyRelu = 12,    // p0 = alpha
    kHardSigmoid = 13,  // p0 = alpha, p1 = beta
    kHardSwish = 14,
    kGelu = 15,      // the exact (erf) form
    kGeluTanh = 16,  // approximate="tanh"
    kSoftplus = 17,
    kElu = 18,   // p0 = alpha
    kSelu = 19,  // p0 = alpha, p1 = gamma
    kSoftsign = 20,
    kMish = 21,
    // Binary: a op b.
    kAdd = 32,
    kSub = 33,
    kMul = 34,
    kDiv = 35,
    kPow = 36,
    kMax = 37,  // NaN propagates, as numpy.maximum
    kMin = 38,
    kPRelu = 39,  // a < 0 ? b * a : a
};

constexpr int kNoOperand = -1;
constexpr int kImmediate = -2;
// What every backend's kernel takes: the pass keeps groups within these.
constexpr int kMaxChainInputs = 8;
constexpr int kMaxChainSteps = 24;

struct PointwiseStep {
    PointwiseOp op = PointwiseOp::kRelu;
    int a = kNoOperand;
    int b = kNoOperand;
    float p0 = 0.0f;
    float p1 = 0.0f;
};

bool is_binary(PointwiseOp op);
// "Relu", "Add", ...; "" for a code that is no PointwiseOp.
const char* pointwise_op_name(PointwiseOp op);

// The node's program, checked against its `num_inputs` inputs (known ops, operands that name an input or an
// earlier step, the limits above); kInvalidModel naming the node otherwise.
Expected<std::vector<PointwiseStep>> read_pointwise_program(const Node& node, size_t num_inputs);
// Stores `steps` as the node's ops / operands / params attributes.
void write_pointwise_program(Node& node, const std::vector<PointwiseStep>& steps);

}  // namespace rtinfer::ir
