// Graph passes: free functions over the IR, one per file. Each returns how it changed the graph through
// the graph itself and a Status; none needs a backend except fold_constants, which is handed an evaluator.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ir/graph.h"

namespace rtinfer::passes {

// Computes one node on constant inputs (the reference backend provides it).
using NodeEvaluator = std::function<Status(const ir::Node& node, const std::vector<const ir::Tensor*>& inputs,
                                           std::vector<ir::Tensor>& outputs)>;

struct FoldOptions {
    // Values whose shape depends on the dynamic batch: a Shape/Size of these is not constant.
    std::set<std::string> batch_dependent;
    // For batch-dependent values, the dims that stay the same at every batch (-1 for those that do not), as
    // resolved through the shape arithmetic at two batches. A Shape that reads only those, or a Gather or Slice
    // of one that picks only those, folds: a dynamic-batch export computes attention's scale 1/sqrt(head dim)
    // from one.
    std::map<std::string, ir::Shape> static_dims;
    // Results larger than this stay computed at run time rather than stored in the engine.
    int64_t max_folded_elements = int64_t(1) << 24;
};

// Replaces every node whose inputs are all constant (and Shape/Size of static shapes) by its result.
// Returns the number of nodes folded through *folded when given.
Status fold_constants(ir::Graph& graph, const NodeEvaluator& evaluate, const FoldOptions& options,
                      int* folded = nullptr);

// Removes nodes none of whose outputs reach a graph output, and constants nothing reads.
Status remove_dead_nodes(ir::Graph& graph, int* removed = nullptr);

// Removes Identity nodes and inference-mode Dropout (no mask consumer), rewiring their consumers.
Status remove_identity(ir::Graph& graph, int* removed = nullptr);

// Folds an inference BatchNormalization that follows a Conv with constant weights into the Conv's
// weights and bias.
Status fuse_conv_bn(ir::Graph& graph, int* fused = nullptr);

// Folds the activation that alone consumes a Conv's (or rtinfer.NhwcConv's) output (Relu, Clip with constant bounds, Sigmoid,
// SiLU as Mul(x, Sigmoid(x)), HardSwish, LeakyRelu) into the Conv as rt_fused_activation attributes.
Status fuse_conv_activation(ir::Graph& graph, int* fused = nullptr);

// MatMul(X, W constant [K, N]) + Add(constant bias broadcastable as [N]) becomes Gemm(X, W, bias) when X is a
// matrix, else rtinfer.MatMulBias(X, W, bias); the activation that alone consumes the sum (Relu, Gelu in either
// form, GELU as an Erf subgraph) joins it as rt_fused_activation. A Gemm takes the activation after it too (and a
// bias Add when it has no C). Value shapes must be inferred.
Status fuse_matmul_bias_activation(ir::Graph& graph, int* fused = nullptr);

// MatMul(Q, K^T) -> Softmax(last axis) -> MatMul(., V) becomes rtinfer.Attention(Q, K, V, scale): K^T a Transpose
// of K's last two axes; Q, K (before or after the Transpose) and the scores optionally scaled by scalar constants
// (Mul, or Div by one), whose product is the scale. Values in between must be private to the pattern; only float32
// or float16 with head dims up to 128 and equal leading dims are fused. Value shapes must be inferred.
Status fuse_attention(ir::Graph& graph, int* fused = nullptr);

// Runs float32 layers that are safe in half precision in float16, with Casts where float32 values meet
// them; graph inputs and outputs keep their types. The graph's value types must be inferred.
Status convert_to_fp16(ir::Graph& graph, int* converted = nullptr);

// Runs 2-D convolutions with symmetric padding and constant weights, 2-D max pools and global average pools,
// channels-last as rtinfer.NhwcConv (weights OHWI), rtinfer.NhwcMaxPool and rtinfer.NhwcGlobalAveragePool
// between Transposes, then sinks and cancels the Transposes through pointwise ops. half_only: only float16
// layers. *converted: nodes converted; *reformats: the Transposes left. Value shapes and types must be inferred.
Status convert_to_nhwc(ir::Graph& graph, bool half_only, int* converted = nullptr, int* reformats = nullptr);

// Cast(float32 -> float16) -> Transpose(0231) -> Pad(zero channels at the end), or a Transpose(0231) with
// either neighbour, becomes one rtinfer.NchwToNhwc. Run after convert_to_nhwc; shapes must be inferred.
Status fuse_input_reformat(ir::Graph& graph, int* fused = nullptr);

// Moves a non-ReLU fused activation of an NhwcConv into its only consumer when that is a depthwise NhwcConv
// (rt_input_activation: applied to X as it is read). For CUDA engines, after fuse_conv_activation.
Status fuse_input_activation(ir::Graph& graph, int* moved = nullptr);

// Folds Add(NhwcConv(...), z) into the convolution as its fourth input Z (same shape, no broadcast), when the
// convolution has no fused activation yet and the Add is its only use.
Status fuse_conv_residual(ir::Graph& graph, int* fused = nullptr);

// Turns the convolutions quant::insert_qdq quantized (DequantizeLinear -> rtinfer.NhwcConv) into
// rtinfer.Int8Conv reading the int8 tensor, with int8 residuals and int8 outputs where the neighbouring
// QuantizeLinear nodes allow; quantized layers it cannot convert read their float input again. int8_kernels:
// the device has the int8 kernel (otherwise every quantized layer goes back to float). After the channels-last
// passes; shapes must be inferred. *converted: Int8Conv nodes made; *int8_outputs: those writing int8.
// prefer_int8: for each convolution the kernel takes, whether to take it (given the float layer and its
// rtinfer.Int8Conv form, whose new constants are already in the graph); empty: always. *kept_float: the ones
// it kept in float.
using Int8Choice = std::function<bool(const ir::Graph& graph, const ir::Node& float_layer, const ir::Node& int8_layer)>;
Status fuse_int8_conv(ir::Graph& graph, bool int8_kernels, int* converted = nullptr, int* int8_outputs = nullptr,
                      const Int8Choice& prefer_int8 = {}, int* kept_float = nullptr);

// Merges groups of two or more connected elementwise float nodes (unary math and activations, Add Sub Mul Div
// Pow Max Min Sum PRelu) into one rtinfer.PointwiseChain each, whose program (core/ir/pointwise_chain.h) runs
// per element in one kernel. Every intermediate value must be read only inside its group, be no graph output
// and have the group output's shape and dtype (float32 or float16); other operands broadcast. For the CUDA
// backend, after the other passes. *chains: nodes made; *nodes: nodes they replace. Shapes must be inferred.
Status fuse_pointwise_chain(ir::Graph& graph, int* chains = nullptr, int* nodes = nullptr);
// What a pass that writes shapes into the graph may assume of a value: its shape at the build's batch, and which
// dims change with the batch (written as -1); all other dims are the same at every batch.
struct SymbolicShape {
    ir::Shape dims;
    std::vector<bool> per_batch;
};
using SymbolicShapes = std::unordered_map<std::string, SymbolicShape>;

// The values whose shapes `at_batch` knows, with the dims that differ in `at_other_batch` (the same graph inferred at
// another batch; null for a fixed batch) marked per batch. Values unknown in either are left out.
SymbolicShapes symbolic_shapes(const ir::Graph& at_batch, const ir::Graph* at_other_batch);

// Removes the bytes that Transposes move where it can, exactly: composes Transpose pairs and drops identity ones;
// composes chains of Reshape/Squeeze/Unsqueeze/Flatten into one Reshape and drops views that change no shape; turns
// a Transpose that keeps the order of the axes longer than 1 into a Reshape; folds Unsqueeze -> Transpose -> Squeeze
// that squeezes exactly the inserted axes into one Transpose; folds a Transpose of the last two axes that only a
// MatMul reads into it as rt_trans_a / rt_trans_b (a Gemm's transA / transB), moving it first below Mul/Div/Add/Sub
// by a single element. Values that are graph outputs or read elsewhere keep their producers. `shapes`: what is
// known of value shapes (null: the graph's inferred shapes, at a fixed batch); rewrites that need a shape skip
// values it lacks. *folded: rewrites made.
Status fold_reshape_transpose(ir::Graph& graph, const SymbolicShapes* shapes = nullptr, int* folded = nullptr);

// Replaces every use of value `from` by `to` in node inputs.
void replace_uses(ir::Graph& graph, const std::string& from, const std::string& to);

}  // namespace rtinfer::passes
