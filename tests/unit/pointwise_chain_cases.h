// Small graphs that fuse_pointwise_chain turns into one chain, for every op a chain takes and for operands that
// broadcast in every way: the before/after tests run them on the reference (tests/unit), the GPU tests the CUDA
// kernel against the reference kernel.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "tests/unit/graph_builders.h"

namespace rtinfer::testing {

struct UnaryChainCase {
    std::string op;
    std::map<std::string, ir::Attribute> attrs;
    bool positive = false;  // the op needs positive inputs (Log, Sqrt)
};

inline std::vector<UnaryChainCase> unary_chain_cases() {
    return {
        {"Relu", {}},
        {"Sigmoid", {}},
        {"Tanh", {}},
        {"Exp", {}},
        {"Log", {}, true},
        {"Sqrt", {}, true},
        {"Abs", {}},
        {"Neg", {}},
        {"Erf", {}},
        {"Reciprocal", {}},
        {"Clip", {}},
        {"LeakyRelu", {{"alpha", attr_f(0.2f)}}},
        {"HardSigmoid", {{"alpha", attr_f(0.3f)}, {"beta", attr_f(0.4f)}}},
        {"HardSwish", {}},
        {"Gelu", {}},
        {"Gelu", {{"approximate", attr_s("tanh")}}},
        {"Softplus", {}},
        {"Elu", {{"alpha", attr_f(0.7f)}}},
        {"Selu", {{"alpha", attr_f(1.5f)}, {"gamma", attr_f(1.1f)}}},
        {"Softsign", {}},
        {"Mish", {}},
    };
}

// x [2, 3, 5, 8] * k * scale [3, 1, 1] -> op -> + z [8] -> y: four nodes. k (an immediate) is 4 so that the ops'
// tails are reached, 1 for ops that need positive inputs; Clip's bounds are constants (-0.25, 0.5).
inline ir::Graph unary_chain_graph(const UnaryChainCase& c, DataType dtype) {
    ir::Graph g;
    g.opsets[""] = 20;
    add_input(g, "x", {2, 3, 5, 8}, dtype);
    add_constant(g, "k", cast_to(scalar(c.positive ? 1.0f : 4.0f), dtype));
    add_constant(g, "scale", cast_to(positive_tensor({3, 1, 1}, 30), dtype));
    add_constant(g, "z", cast_to(random_tensor({8}, 31), dtype));
    add_node(g, "Mul", {"x", "k"}, {"xk"});
    add_node(g, "Mul", {"xk", "scale"}, {"m"});
    std::vector<std::string> ins = {"m"};
    if (c.op == "Clip") {
        add_constant(g, "lo", cast_to(scalar(-0.25f), dtype));
        add_constant(g, "hi", cast_to(scalar(0.5f), dtype));
        ins = {"m", "lo", "hi"};
    }
    add_node(g, c.op, ins, {"u"}).attrs = c.attrs;
    add_node(g, "Add", {"u", "z"}, {"y"});
    g.outputs = {"y"};
    return g;
}

// x of unary_chain_graph (float32): signed, or in [0.1, 1.1] for `positive` ops.
inline ir::Tensor unary_chain_input(const UnaryChainCase& c) {
    return c.positive ? positive_tensor({2, 3, 5, 8}, 32) : random_tensor({2, 3, 5, 8}, 32);
}

struct BinaryChainCase {
    std::string op;
    std::string b;          // "w": run-time [3, 5, 12]; "c": constant [5, 1]; "s": scalar 1.75; "i": int64 scalar 3
    bool three = false;     // a third operand, x (Sum, Max, Min)
    bool positive = false;  // a is positive (Pow with a fractional exponent)
};

inline std::vector<BinaryChainCase> binary_chain_cases() {
    return {
        {"Add", "w"},       {"Sub", "c"},       {"Mul", "s"},   {"Div", "w"},      {"Div", "c"},
        {"Pow", "w", false, true}, {"Pow", "s", false, true}, {"Pow", "i"}, {"Max", "c"}, {"Min", "w"},
        {"PRelu", "c"},     {"PRelu", "w"},     {"Sum", "w", true}, {"Max", "s", true}, {"Min", "c", true},
    };
}

// a = |x| + 0.1 (positive) or -x - 0.1 (signed), then a op b (op x), then Neg: four nodes, x and w [3, 5, 12].
inline ir::Graph binary_chain_graph(const BinaryChainCase& c, DataType dtype) {
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {3, 5, 12}, dtype);
    add_input(g, "w", {3, 5, 12}, dtype);
    add_constant(g, "c", cast_to(positive_tensor({5, 1}, 40), dtype));
    add_constant(g, "s", cast_to(scalar(1.75f), dtype));
    add_constant(g, "i", ir::Tensor::from_int64s({3}, {}));
    add_constant(g, "point_one", cast_to(scalar(0.1f), dtype));
    add_node(g, c.positive ? "Abs" : "Neg", {"x"}, {"ax"});
    add_node(g, c.positive ? "Add" : "Sub", {"ax", "point_one"}, {"a"});
    std::vector<std::string> ins = {"a", c.b};
    if (c.three) ins.push_back("x");
    add_node(g, c.op, ins, {"o"});
    add_node(g, "Neg", {"o"}, {"y"});
    g.outputs = {"y"};
    return g;
}

// x (signed) and w (positive) of binary_chain_graph, float32.
inline std::map<std::string, ir::Tensor> binary_chain_inputs() {
    return {{"x", random_tensor({3, 5, 12}, 41)}, {"w", positive_tensor({3, 5, 12}, 42)}};
}

// Shapes for broadcast_chain_graph whose inner dim groups by 4, by 2 and not at all, and one of rank 5.
inline std::vector<ir::Shape> broadcast_chain_shapes() {
    return {{2, 8, 6, 16}, {2, 4, 3, 6}, {3, 5, 4, 7}, {2, 2, 3, 5, 8}};
}

// x * scale [C, 1, 1] + bias [W] -> SiLU (Sigmoid and Mul) -> * 0.5 (an immediate) + z (full) -> * t (a
// run-time [1]) -> Clip with constant bounds: eight nodes, one chain of inputs x, scale, bias, z, t.
inline ir::Graph broadcast_chain_graph(const ir::Shape& shape, DataType dtype) {
    ir::Graph g;
    g.opsets[""] = 17;
    const int64_t c = shape[shape.size() - 3], w = shape.back();
    add_input(g, "x", shape, dtype);
    add_input(g, "z", shape, dtype);
    add_input(g, "t", {1}, dtype);
    add_constant(g, "scale", cast_to(random_tensor({c, 1, 1}, 1), dtype));
    add_constant(g, "bias", cast_to(random_tensor({w}, 2), dtype));
    add_constant(g, "half", cast_to(scalar(0.5f), dtype));
    add_constant(g, "lo", cast_to(scalar(-0.4f), dtype));
    add_constant(g, "hi", cast_to(scalar(0.45f), dtype));
    add_node(g, "Mul", {"x", "scale"}, {"m"});
    add_node(g, "Add", {"m", "bias"}, {"a"});
    add_node(g, "Sigmoid", {"a"}, {"s"});
    add_node(g, "Mul", {"a", "s"}, {"silu"});
    add_node(g, "Mul", {"silu", "half"}, {"h"});
    add_node(g, "Add", {"h", "z"}, {"r"});
    add_node(g, "Mul", {"r", "t"}, {"q"});
    add_node(g, "Clip", {"q", "lo", "hi"}, {"y"});
    g.outputs = {"y"};
    return g;
}

// x, z and t of broadcast_chain_graph, float32.
inline std::map<std::string, ir::Tensor> broadcast_chain_inputs(const ir::Shape& shape) {
    return {{"x", random_tensor(shape, 3)},
            {"z", random_tensor(shape, 4)},
            {"t", ir::Tensor::from_floats({1.7f}, {1})}};
}

}  // namespace rtinfer::testing
