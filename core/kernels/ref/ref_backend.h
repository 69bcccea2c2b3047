// The CPU reference backend: a kernel for every op rtinfer runs. It is the test oracle for the CUDA
// kernels and the fallback for ops the GPU lacks.
#pragma once

#include <vector>

#include "core/ir/op.h"

namespace rtinfer::ref {

// Every reference kernel, registered once on first use (thread-safe).
const ir::OpRegistry& reference_registry();

// Computes one node. Outputs that are defined tensors are written in place (their shape must match what
// infer gives); undefined ones are allocated. Kernels without kOpNativeHalf get float16 inputs as float32
// and their float32 results converted back.
Status compute_node(const ir::OpKernel& kernel, const ir::Node& node, int64_t opset,
                    const std::vector<const ir::Tensor*>& inputs, std::vector<ir::Tensor>& outputs);

// infer + allocate + compute for one node on concrete inputs (constant folding, tests, dynamic mode).
Status evaluate_node(const ir::OpKernel& kernel, const ir::Node& node, int64_t opset,
                     const std::vector<const ir::Tensor*>& inputs, std::vector<ir::Tensor>& outputs);

// The families' registration functions; each lives in its folder's register.cpp.
Status register_elementwise_kernels(ir::OpRegistry& registry);
Status register_nn_kernels(ir::OpRegistry& registry);
Status register_reduce_kernels(ir::OpRegistry& registry);
Status register_tensor_kernels(ir::OpRegistry& registry);
Status register_misc_kernels(ir::OpRegistry& registry);

}  // namespace rtinfer::ref
