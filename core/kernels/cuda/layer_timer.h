// Times single nodes of a graph as the CUDA ops an engine would run, on scratch buffers: for build-time choices
// between two forms of a layer (passes::fuse_int8_conv asks whether a convolution is faster in int8 or in
// float16). Each call creates the op (with its own tactic search), so it is meant for a few dozen layers.
#pragma once

#include <memory>

#include "core/ir/graph.h"
#include "rtinfer/status.h"

namespace rtinfer::cuda {

class LayerTimer {
public:
    static Expected<std::unique_ptr<LayerTimer>> create();
    ~LayerTimer();
    LayerTimer(const LayerTimer&) = delete;
    LayerTimer& operator=(const LayerTimer&) = delete;

    // Milliseconds per run of `node` (its inputs, outputs and constants as `graph` has them); an error when no
    // CUDA op takes the node.
    Expected<float> time(const ir::Graph& graph, const ir::Node& node);

private:
    LayerTimer() = default;
    struct Handles;
    std::unique_ptr<Handles> handles_;
};

}  // namespace rtinfer::cuda
