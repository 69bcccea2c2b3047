#include "core/runtime/extra_outputs.h"

#include <algorithm>

#include "core/runtime/engine_impl.h"

namespace rtinfer::runtime {

Expected<std::unique_ptr<Engine>> with_extra_outputs(const Engine& engine, const std::vector<std::string>& names) {
    const Engine::Impl& source = engine.impl();
    auto impl = std::make_shared<Engine::Impl>();
    // Constants share the source's weight memory (their keepalive holds the file mapping or buffer). The file
    // mapping itself is not handed on: releasing its pages is the source engine's decision.
    impl->data = source.data;
    impl->logger = source.logger;
    ir::Graph& g = impl->data.graph;
    for (const auto& name : names) {
        if (!g.find(name)) return Status(StatusCode::kNotFound, "no value named '" + name + "' in the engine's graph");
        if (std::find(g.inputs.begin(), g.inputs.end(), name) != g.inputs.end())
            return Status(StatusCode::kInvalidArgument, "'" + name + "' is a graph input, not a layer's output");
        if (std::find(g.outputs.begin(), g.outputs.end(), name) == g.outputs.end()) g.outputs.push_back(name);
    }
    describe_io(*impl);
    return std::make_unique<Engine>(std::move(impl));
}

}  // namespace rtinfer::runtime
