// The op interface every backend's kernels implement: infer (validate attributes, give output types and
// shapes; the "prepare" step) then compute (the "eval" step). Kernels are registered explicitly in an
// OpRegistry by op type and domain.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/ir/graph.h"

namespace rtinfer::ir {

// The domain of the SDK's own ops (what passes introduce, e.g. rtinfer.NhwcConv).
constexpr const char* kRtinferDomain = "rtinfer";

// What infer sees of one input: its type, shape, and value when that is known (a constant at build time,
// every input at run time).
struct InputInfo {
    DType dtype = DType::kUndefined;
    Shape shape;
    bool shape_known = true;
    const Tensor* value = nullptr;
};

struct OutputInfo {
    DType dtype = DType::kUndefined;
    Shape shape;
    bool shape_known = true;
};

class InferContext {
public:
    InferContext(const Node& node, int64_t opset, std::vector<InputInfo> inputs, size_t num_outputs)
        : node_(node), opset_(opset), inputs_(std::move(inputs)), outputs_(num_outputs) {}

    const Node& node() const { return node_; }
    int64_t opset() const { return opset_; }
    size_t num_inputs() const { return inputs_.size(); }
    bool has_input(size_t i) const { return i < inputs_.size() && !node_.inputs[i].empty(); }
    const InputInfo& input(size_t i) const { return inputs_[i]; }
    DType input_dtype(size_t i) const { return inputs_[i].dtype; }
    const Shape& input_shape(size_t i) const { return inputs_[i].shape; }
    int input_rank(size_t i) const { return static_cast<int>(inputs_[i].shape.size()); }
    // The input's value if known now, else nullptr. Inputs like Reshape's shape need it.
    const Tensor* input_value(size_t i) const {
        if (!has_input(i)) return nullptr;
        if (!inputs_[i].value) value_missing_ = true;
        return inputs_[i].value;
    }
    // True once infer asked for an input value that is only known at run time (e.g. a Reshape shape fed
    // as a graph input): the node's output shapes are then data-dependent rather than wrong.
    bool value_missing() const { return value_missing_; }

    size_t num_outputs() const { return outputs_.size(); }
    bool has_output(size_t i) const { return i < outputs_.size() && !node_.outputs[i].empty(); }
    void set_output(size_t i, DType dtype, Shape shape) { outputs_[i] = OutputInfo{dtype, std::move(shape), true}; }
    // For data-dependent output shapes: only the type (and rank, if known) is fixed before run time.
    void set_output_unknown(size_t i, DType dtype, int rank) {
        outputs_[i] = OutputInfo{dtype, Shape(static_cast<size_t>(rank < 0 ? 0 : rank), -1), false};
    }
    const std::vector<OutputInfo>& outputs() const { return outputs_; }

    // An error that names the node: "node 'n' (Op): message".
    Status error(const std::string& message, StatusCode code = StatusCode::kInvalidModel) const {
        return Status(code, node_.describe() + ": " + message);
    }
    Status unsupported(const std::string& message) const { return error(message, StatusCode::kUnsupported); }

private:
    const Node& node_;
    int64_t opset_;
    std::vector<InputInfo> inputs_;
    std::vector<OutputInfo> outputs_;
    mutable bool value_missing_ = false;
};

class ComputeContext {
public:
    ComputeContext(const Node& node, int64_t opset, std::vector<const Tensor*> inputs, std::vector<Tensor*> outputs)
        : node_(node), opset_(opset), inputs_(std::move(inputs)), outputs_(std::move(outputs)) {}

    const Node& node() const { return node_; }
    int64_t opset() const { return opset_; }
    size_t num_inputs() const { return inputs_.size(); }
    bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i] != nullptr; }
    const Tensor& input(size_t i) const { return *inputs_[i]; }
    size_t num_outputs() const { return outputs_.size(); }
    bool has_output(size_t i) const { return i < outputs_.size() && outputs_[i] != nullptr; }
    // Allocated by the executor with the shape infer gave (zero-filled is NOT guaranteed).
    Tensor& output(size_t i) { return *outputs_[i]; }
    // For outputs whose shape infer could not know: allocate here.
    Tensor& allocate_output(size_t i, DType dtype, Shape shape) {
        *outputs_[i] = Tensor(dtype, std::move(shape));
        return *outputs_[i];
    }
    Status error(const std::string& message, StatusCode code = StatusCode::kInvalidArgument) const {
        return Status(code, node_.describe() + ": " + message);
    }

private:
    const Node& node_;
    int64_t opset_;
    std::vector<const Tensor*> inputs_;
    std::vector<Tensor*> outputs_;
};

using InferFn = Status (*)(InferContext& ctx);
using ComputeFn = Status (*)(ComputeContext& ctx);

enum OpFlags : uint32_t {
    kOpNone = 0,
    // The kernel handles float16 itself; otherwise the executor runs it in float32 and converts.
    kOpNativeHalf = 1u << 0,
};

struct OpKernel {
    const char* op_type = "";
    const char* domain = "";  // "" = the default ONNX domain ("ai.onnx")
    InferFn infer = nullptr;
    ComputeFn compute = nullptr;
    uint32_t flags = kOpNone;
};

// Kernels by (domain, op type). Filled explicitly by a backend's registration function.
class OpRegistry {
public:
    Status add(const OpKernel& kernel);
    // One kernel for every op type of a domain (plugin layers: the node carries what the op does).
    Status add_domain(const std::string& domain, const OpKernel& kernel);
    const OpKernel* find(const std::string& domain, const std::string& op_type) const;
    std::vector<std::string> op_types() const;

private:
    std::map<std::pair<std::string, std::string>, OpKernel> kernels_;
    std::map<std::string, OpKernel> domain_kernels_;
};

// Normalizes "ai.onnx" to "".
std::string canonical_domain(const std::string& domain);

}  // namespace rtinfer::ir
