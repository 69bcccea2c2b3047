// Engines that also return intermediate tensors, for accuracy debugging (rtexec compare --per-layer).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rtinfer/engine.h"
#include "rtinfer/status.h"

namespace rtinfer::runtime {

// A new engine that runs `engine`'s graph and lists the values `names` as outputs after its own (in the given
// order; names that are outputs already are skipped). Its contexts give those values their own bound or owned
// memory instead of arena memory that later layers reuse, so after enqueue they hold what the layer wrote,
// read like any output (tensor_desc, set_tensor_address, output_data). The new engine shares nothing mutable
// with `engine`: it uploads its own device copy of the weights. Errors: kNotFound for a name that is no value
// of the graph, kInvalidArgument for a graph input.
Expected<std::unique_ptr<Engine>> with_extra_outputs(const Engine& engine, const std::vector<std::string>& names);

}  // namespace rtinfer::runtime
