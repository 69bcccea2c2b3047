#include "core/ir/pointwise_chain.h"

namespace rtinfer::ir {

bool is_binary(PointwiseOp op) {
    return static_cast<int>(op) >= static_cast<int>(PointwiseOp::kAdd);
}

const char* pointwise_op_name(PointwiseOp op) {
    switch (op) {
        case PointwiseOp::kRelu: return "Relu";
        case PointwiseOp::kSigmoid: return "Sigmoid";
        case PointwiseOp::kTanh: return "Tanh";
        case PointwiseOp::kExp: return "Exp";
        case PointwiseOp::kLog: return "Log";
        case PointwiseOp::kSqrt: return "Sqrt";
        case PointwiseOp::kAbs: return "Abs";
        case PointwiseOp::kNeg: return "Neg";
        case PointwiseOp::kErf: return "Erf";
        case PointwiseOp::kReciprocal: return "Reciprocal";
        case PointwiseOp::kClip: return "Clip";
        case PointwiseOp::kLeakyRelu: return "LeakyRelu";
        case PointwiseOp::kHardSigmoid: return "HardSigmoid";
        case PointwiseOp::kHardSwish: return "HardSwish";
        case PointwiseOp::kGelu: return "Gelu";
        case PointwiseOp::kGeluTanh: return "GeluTanh";
        case PointwiseOp::kSoftplus: return "Softplus";
        case PointwiseOp::kElu: return "Elu";
        case PointwiseOp::kSelu: return "Selu";
        case PointwiseOp::kSoftsign: return "Softsign";
        case PointwiseOp::kMish: return "Mish";
        case PointwiseOp::kAdd: return "Add";
        case PointwiseOp::kSub: return "Sub";
        case PointwiseOp::kMul: return "Mul";
        case PointwiseOp::kDiv: return "Div";
        case PointwiseOp::kPow: return "Pow";
        case PointwiseOp::kMax: return "Max";
        case PointwiseOp::kMin: return "Min";
        case PointwiseOp::kPRelu: return "PRelu";
    }
    return "";
}

Expected<std::vector<PointwiseStep>> read_pointwise_program(const Node& node, size_t num_inputs) {
    const auto fail = [&](const std::string& why) {
        return Status(StatusCode::kInvalidModel, node.describe() + ": " + why);
    };
    const std::vector<int64_t> ops = node.attr_ints("ops");
    const std::vector<int64_t> operands = node.attr_ints("operands");
    const std::vector<float> params = node.attr_floats("params");
    if (ops.empty() || ops.size() > static_cast<size_t>(kMaxChainSteps)) {
        return fail("expects 1 to " + std::to_string(kMaxChainSteps) + " steps in attribute ops, got " +
                    std::to_string(ops.size()));
    }
    if (operands.size() != 2 * ops.size() || params.size() != 2 * ops.size()) {
        return fail("attributes operands and params need two entries per step");
    }
    if (num_inputs == 0 || num_inputs > static_cast<size_t>(kMaxChainInputs)) {
        return fail("expects 1 to " + std::to_string(kMaxChainInputs) + " inputs, got " + std::to_string(num_inputs));
    }
    std::vector<PointwiseStep> steps(ops.size());
    for (size_t j = 0; j < ops.size(); ++j) {
        PointwiseStep& s = steps[j];
        s.op = static_cast<PointwiseOp>(ops[j]);
        if (ops[j] < 0 || ops[j] > 255 || *pointwise_op_name(s.op) == '\0') {
            return fail("step " + std::to_string(j) + " has unknown op code " + std::to_string(ops[j]));
        }
        const int64_t slots = static_cast<int64_t>(num_inputs + j);  // inputs and the earlier steps
        const int64_t a = operands[2 * j], b = operands[2 * j + 1];
        const auto slot = [&](int64_t v) { return v >= 0 && v < slots; };
        const bool ok = is_binary(s.op) ? (slot(a) || a == kImmediate) && (slot(b) || b == kImmediate) &&
                                              !(a == kImmediate && b == kImmediate)
                                        : slot(a) && b == kNoOperand;
        if (!ok) {
            return fail("step " + std::to_string(j) + " (" + pointwise_op_name(s.op) + ") has operands " +
                        std::to_string(a) + ", " + std::to_string(b) + " outside its " + std::to_string(slots) +
                        " slots");
        }
        s.a = static_cast<int>(a);
        s.b = static_cast<int>(b);
        s.p0 = params[2 * j];
        s.p1 = params[2 * j + 1];
    }
    return steps;
}

void write_pointwise_program(Node& node, const std::vector<PointwiseStep>& steps) {
    Attribute ops, operands, params;
    ops.kind = Attribute::Kind::kInts;
    operands.kind = Attribute::Kind::kInts;
    params.kind = Attribute::Kind::kFloats;
    for (const PointwiseStep& s : steps) {
        ops.ints.push_back(static_cast<int64_t>(s.op));
        operands.ints.push_back(s.a);
        operands.ints.push_back(s.b);
        params.floats.push_back(s.p0);
        params.floats.push_back(s.p1);
    }
    node.attrs["ops"] = ops;
    node.attrs["operands"] = operands;
    node.attrs["params"] = params;
}

}  // namespace rtinfer::ir
