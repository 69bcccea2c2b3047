// rtexec inspect: what is in an ONNX model (and what of it rtinfer can run), or in an engine file.
#include <algorithm>
#include <cstdio>
#include <map>

#include "core/onnx/importer.h"
#include "rtinfer/builder.h"
#include "rtinfer/engine.h"
#include "sdk/rtexec/args.h"
#include "sdk/rtexec/commands.h"
#include "sdk/rtexec/common.h"

namespace rtexec {

using rtinfer::Status;
using rtinfer::StatusCode;

namespace {

// "  name    float32 [1,3,224,224]" with names padded to width.
std::string value_line(const rtinfer::ir::Graph& graph, const std::string& name, size_t width) {
    std::string line = "  " + name + std::string(width > name.size() ? width - name.size() : 0, ' ') + "  ";
    const rtinfer::ir::Value* v = graph.find(name);
    if (v == nullptr) return line + "(no value information)";
    return line + rtinfer::data_type_name(v->dtype) + " " + (v->shape_known ? dims_str(v->shape) : "[unknown]");
}

size_t name_width(const std::vector<std::string>& names) {
    size_t w = 0;
    for (const auto& n : names) w = std::max(w, n.size());
    return w;
}

void print_model(const std::string& path, const rtinfer::ir::Graph& graph) {
    std::printf("model: %s%s\n", path.c_str(), graph.name.empty() ? "" : (" (graph '" + graph.name + "')").c_str());
    std::string opsets;
    for (const auto& [domain, version] : graph.opsets)
        opsets += (opsets.empty() ? "" : ", ") + (domain.empty() ? std::string("ai.onnx") : domain) + " " +
                  std::to_string(version);
    std::printf("opsets: %s\n", opsets.empty() ? "(none)" : opsets.c_str());
    std::printf("inputs (%zu):\n", graph.inputs.size());
    const size_t width = std::max(name_width(graph.inputs), name_width(graph.outputs));
    for (const auto& name : graph.inputs) std::printf("%s\n", value_line(graph, name, width).c_str());
    std::printf("outputs (%zu):\n", graph.outputs.size());
    for (const auto& name : graph.outputs) std::printf("%s\n", value_line(graph, name, width).c_str());
    std::printf("nodes: %zu\n", graph.nodes.size());
    std::map<std::string, int> histogram;
    for (const auto& node : graph.nodes)
        ++histogram[node.domain.empty() ? node.op_type : node.domain + "." + node.op_type];
    std::vector<std::pair<std::string, int>> ops(histogram.begin(), histogram.end());
    std::stable_sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    std::printf("op types (%zu):\n", ops.size());
    for (const auto& [op, count] : ops) std::printf("  %-28s %d\n", op.c_str(), count);
}

int inspect_onnx(const std::string& cmd, const std::string& path, bool capability, rtinfer::Backend backend) {
    Status s = check_readable(path, "ONNX model");
    if (!s) return runtime_error(cmd, s);
    auto graph = rtinfer::onnx::import_model_file(path);
    if (graph) {
        print_model(path, *graph);
    } else if (!capability) {
        return runtime_error(cmd, graph.status());
    } else {
        std::fprintf(stderr, "rtexec %s: error: %s\n", cmd.c_str(), graph.status().to_string().c_str());
    }
    if (!capability) return kExitOk;

    rtinfer::Builder builder;
    auto report = builder.check_capability(path, backend);
    if (!report) return runtime_error(cmd, report.status());
    std::printf("capability (%s backend):\n", rtinfer::backend_name(backend));
    for (const auto& u : report->unsupported)
        std::printf("node '%s' (%s): %s\n", u.node_name.c_str(), u.op_type.c_str(), u.reason.c_str());
    const size_t bad = report->unsupported.size();
    std::printf("%zu of %zu nodes supported, %zu unsupported\n", report->node_count - std::min(bad, report->node_count),
                report->node_count, bad);
    if (!graph) return kExitFailure;
    return report->supported() ? kExitOk : kExitFailure;
}

// One context, one inference on random inputs at the engine's smallest batch, under a device memory meter
// started before the engine was loaded (so its weights count). Says why when there is nothing to measure.
std::string measure_peak(const rtinfer::Engine& engine, DeviceMemoryMeter& meter) {
    if (engine.backend() != rtinfer::Backend::kCuda) return "not measured (a cpu engine uses host memory)";
    if (!meter.active()) return "not measured (no CUDA device here)";
    auto run = [&]() -> Status {
        RT_ASSIGN_OR_RETURN(auto ctx, engine.create_context());
        if (engine.min_batch() != engine.max_batch())
            RT_RETURN_IF_ERROR(ctx->set_batch(std::max(1, engine.min_batch())));
        std::vector<TensorBuffer> buffers;
        RT_RETURN_IF_ERROR(bind_random_io(engine, *ctx, 1, buffers));
        RT_ASSIGN_OR_RETURN(Stream stream, Stream::create(engine.backend()));
        RT_RETURN_IF_ERROR(ctx->enqueue(stream.handle()));
        RT_RETURN_IF_ERROR(stream.synchronize());
        meter.sample();
        return Status::ok();
    };
    Status s = run();
    if (!s) return "not measured (" + s.message() + ")";
    return human_bytes(meter.peak_bytes()) + " (" + std::to_string(meter.peak_bytes()) +
           " bytes; one context, one inference at batch " + std::to_string(std::max(1, engine.min_batch())) +
           ", weights and the caller's buffers included, the bare CUDA context not)";
}

int inspect_engine(const std::string& cmd, const std::string& path) {
    Status s = check_readable(path, "engine");
    if (!s) return runtime_error(cmd, s);
    rtinfer::StderrLogger logger;
    DeviceMemoryMeter meter(rtinfer::Backend::kCuda);
    auto loaded = rtinfer::Engine::load_file(path, &logger);
    if (!loaded) return runtime_error(cmd, loaded.status());
    const rtinfer::Engine& e = **loaded;
    std::printf("engine: %s\n", path.c_str());
    std::printf("backend: %s\n", rtinfer::backend_name(e.backend()));
    std::printf("device: %s\n", e.device_key().c_str());
    std::printf("precision: %s\n", e.fp16() ? "fp16 allowed" : "fp32");
    std::printf("batch range: %d..%d\n", e.min_batch(), e.max_batch());
    int width = 0;
    for (const auto* list : {&e.inputs(), &e.outputs()}) {
        for (const auto& d : *list) width = std::max(width, static_cast<int>(d.name.size()));
    }
    for (const auto* list : {&e.inputs(), &e.outputs()}) {
        std::printf("%s (%zu):\n", list == &e.inputs() ? "inputs" : "outputs", list->size());
        for (const auto& d : *list) {
            std::printf("  %-*s  %s %s\n", width, d.name.c_str(), rtinfer::data_type_name(d.type),
                        dims_str(d.dims).c_str());
        }
    }
    const auto layers = e.layers();
    std::printf("layers (%zu):\n", layers.size());
    for (size_t i = 0; i < layers.size(); ++i) {
        std::printf("  %4zu  %-32s %-20s %s\n", i, layers[i].name.c_str(), layers[i].op_type.c_str(),
                    layers[i].backend.c_str());
    }
    const auto memory = e.memory();
    std::printf("memory:\n");
    std::printf("  weights:     %s (%llu bytes)\n", human_bytes(memory.weight_bytes).c_str(),
                static_cast<unsigned long long>(memory.weight_bytes));
    std::printf("  activations: %s (%llu bytes)\n", human_bytes(memory.activation_bytes).c_str(),
                static_cast<unsigned long long>(memory.activation_bytes));
    std::printf("  workspace:   %s (%llu bytes)\n", human_bytes(memory.workspace_bytes).c_str(),
                static_cast<unsigned long long>(memory.workspace_bytes));
    std::printf("  measured peak device memory: %s\n", measure_peak(e, meter).c_str());
    return kExitOk;
}

}  // namespace

int cmd_inspect(const std::vector<std::string>& args) {
    const std::string cmd = "inspect";
    std::string onnx_path, engine_path, backend_text = "cpu";
    std::vector<std::string> plugins;
    bool capability = false;

    ArgParser parser(cmd, "(--onnx m.onnx [--capability] | --engine m.engine)",
                     "Describes an ONNX model: opsets, inputs and outputs, node count and op types; with\n"
                     "--capability also every node rtinfer cannot run (exit code 1 if there is one).\n"
                     "Or describes an engine file: backend, device, precision, tensors, layers and memory.");
    parser.add_string("onnx", &onnx_path, "FILE", "an ONNX model");
    parser.add_flag("capability", &capability, "list the nodes the SDK cannot run (with --onnx)");
    parser.add_string("backend", &backend_text, "cpu|cuda", "backend for --capability (default cpu)");
    parser.add_string("engine", &engine_path, "FILE", "an engine file");
    parser.add_strings("plugins", &plugins, "LIB", kPluginsHelp);

    Status s = parser.parse(args);
    if (!s) return usage_error(cmd, s);
    if (parser.help_requested()) {
        std::fputs(parser.help_text().c_str(), stdout);
        return kExitOk;
    }
    auto backend = parse_backend(backend_text);
    if (!backend) return usage_error(cmd, backend.status());
    const bool onnx = parser.given("onnx"), engine = parser.given("engine");
    if (onnx == engine) {
        return usage_error(cmd, Status(StatusCode::kInvalidArgument,
                                       "give exactly one of --onnx FILE or --engine FILE (see rtexec inspect --help)"));
    }
    if (engine && (capability || parser.given("backend"))) {
        return usage_error(cmd, Status(StatusCode::kInvalidArgument, "--capability and --backend need --onnx"));
    }
    s = load_plugins(plugins);
    if (!s) return runtime_error(cmd, s);
    return onnx ? inspect_onnx(cmd, onnx_path, capability, *backend) : inspect_engine(cmd, engine_path);
}

}  // namespace rtexec
