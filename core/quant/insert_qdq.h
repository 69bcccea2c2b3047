// INT8 from calibration: the layers that take int8, and QuantizeLinear/DequantizeLinear pairs placed on
// their activations with the calibrated scales, as an explicitly quantized (Q/DQ) model would have them.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "rtinfer/status.h"

namespace rtinfer::quant {

// Whether the graph is quantized explicitly: it has QuantizeLinear or DequantizeLinear nodes, whose scales
// an INT8 build keeps instead of calibrating.
bool has_qdq(const ir::Graph& g);

// A layer INT8 quantizes: a Conv, Gemm or 2-D MatMul whose weights are a float32 constant.
struct QuantLayer {
    size_t node = 0;          // index in g.nodes
    std::string activation;   // the input quantized per tensor
    int weight_input = 1;     // the input quantized per output channel
    int channel_axis = 0;     // the weights' output-channel axis
};
std::vector<QuantLayer> quantizable_layers(const ir::Graph& g);

// The tensors calibration must measure: the activations of quantizable_layers(g), each once.
std::vector<std::string> calibration_tensors(const ir::Graph& g);

// Activations whose range the op that makes them fixes: Softmax, Sigmoid and HardSigmoid outputs lie in [0, 1]
// (amax 1). A calibrator's threshold would clip their rare large values, and those carry the meaning (the peak
// of a DFL box distribution, a confident score).
std::map<std::string, float> known_ranges(const ir::Graph& g);

struct QdqSummary {
    int quantized = 0;                  // layers that now read int8-representable inputs
    std::vector<std::string> skipped;   // "node (why)": layers left in float
};

// For each quantizable layer whose activation has an amax: a QuantizeLinear -> DequantizeLinear pair (scale
// amax / 127, zero point 0, shared by the layers that read the same activation) in front of it, and its
// weights rounded to symmetric int8 per output channel (scale max|w| / 127 of the channel) — the values the
// int8 kernels compute with. The node records its scales in rt_int8_input_scale and rt_int8_weight_scales.
// A layer whose activation has no range, or a zero one, stays in float and is listed in skipped.
// Layers named in keep_float stay in float too (the accuracy budget's choice).
Expected<QdqSummary> insert_qdq(ir::Graph& g, const std::map<std::string, float>& amax,
                                const std::set<std::string>& keep_float = {});

// How much int8 costs each quantizable layer, to rank them for the accuracy budget: the relative quantization
// noise of its activation (activation_noise, from calibration; 0 where unknown) plus that of its weights rounded
// per output channel. Node name -> noise over signal.
std::map<std::string, double> layer_sensitivity(const ir::Graph& g,
                                                const std::map<std::string, double>& activation_noise);

}  // namespace rtinfer::quant
