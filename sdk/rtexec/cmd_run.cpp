// rtexec run: one inference on .npy or random inputs; each output is printed and saved as .npy.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "rtinfer/engine.h"
#include "sdk/rtexec/args.h"
#include "sdk/rtexec/commands.h"
#include "sdk/rtexec/common.h"
#include "sdk/rtexec/npy.h"

namespace rtexec {

using rtinfer::Status;
using rtinfer::StatusCode;

namespace {

Status usage(const std::string& message) {
    return Status(StatusCode::kInvalidArgument, message);
}

std::string names_of(const std::vector<rtinfer::TensorDesc>& descs) {
    std::string s;
    for (const auto& d : descs) s += (s.empty() ? "" : ", ") + d.name;
    return s;
}

// The npy data of an input, checked against what the engine expects at the chosen batch.
Status check_npy_input(const std::string& path, const NpyArray& array, const rtinfer::TensorDesc& desc) {
    if (array.dtype != desc.type) {
        return Status(StatusCode::kInvalidArgument, path + ": input '" + desc.name + "' has dtype " +
                                                        rtinfer::data_type_name(array.dtype) + ", the engine expects " +
                                                        rtinfer::data_type_name(desc.type));
    }
    if (array.shape != desc.dims) {
        return Status(StatusCode::kInvalidArgument, path + ": input '" + desc.name + "' has shape " +
                                                        dims_str(array.shape) + ", the engine expects " +
                                                        dims_str(desc.dims));
    }
    return Status::ok();
}

}  // namespace

int cmd_run(const std::vector<std::string>& args) {
    const std::string cmd = "run";
    EngineSource source;
    std::string output_dir = ".";
    std::vector<std::string> input_specs, plugins;
    int64_t batch = 0, seed = 1;

    ArgParser parser(cmd, "(--engine m.engine | --onnx m.onnx) [--input NAME=file.npy ...] [options]",
                     "Runs the engine once. Inputs not given get random non-zero values (floats uniform in [-1,1),\n"
                     "integers in [1,4], bools 0/1), the same for the same seed. Each output is printed and\n"
                     "written to <output-dir>/<name>.npy.");
    add_engine_source_flags(parser, &source);
    parser.add_strings("input", &input_specs, "NAME=FILE", "an input from a .npy file (repeat for several)");
    parser.add_string("output-dir", &output_dir, "DIR", "where to write the outputs (default: current directory)");
    parser.add_int("batch", &batch, "N", "batch of a dynamic-batch engine (default: the .npy inputs' or the smallest)",
                   1, 1 << 20);
    parser.add_int("seed", &seed, "S", "seed of the random inputs (default 1)", 0, INT64_MAX);
    parser.add_strings("plugins", &plugins, "LIB", kPluginsHelp);

    Status s = parser.parse(args);
    if (!s) return usage_error(cmd, s);
    if (parser.help_requested()) {
        std::fputs(parser.help_text().c_str(), stdout);
        return kExitOk;
    }
    s = check_engine_source(parser, source);
    if (!s) return usage_error(cmd, s);

    std::map<std::string, std::string> input_files;
    for (const auto& spec : input_specs) {
        const size_t eq = spec.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
            return usage_error(cmd, usage("--input: expected NAME=FILE, got '" + spec + "'"));
        if (!input_files.emplace(spec.substr(0, eq), spec.substr(eq + 1)).second)
            return usage_error(cmd, usage("--input: '" + spec.substr(0, eq) + "' given more than once"));
    }

    s = load_plugins(plugins);
    if (!s) return runtime_error(cmd, s);
    rtinfer::StderrLogger logger;
    // Started before the engine loads, so that its weights count.
    DeviceMemoryMeter meter(rtinfer::Backend::kCuda);
    auto loaded = load_engine_source(&source, &logger);
    if (!loaded) return runtime_error(cmd, loaded.status());
    const rtinfer::Engine& engine = **loaded;

    std::map<std::string, NpyArray> arrays;
    for (const auto& [name, path] : input_files) {
        bool known = false;
        for (const auto& d : engine.inputs()) known = known || d.name == name;
        if (!known) {
            return usage_error(cmd, usage("--input: '" + name + "' is not an input of the engine (inputs: " +
                                          names_of(engine.inputs()) + ")"));
        }
        auto array = read_npy(path);
        if (!array) return runtime_error(cmd, array.status());
        arrays.emplace(name, std::move(*array));
    }

    auto context = engine.create_context();
    if (!context) return runtime_error(cmd, context.status());
    rtinfer::ExecutionContext& ctx = **context;

    if (parser.given("batch") || has_dynamic_batch(engine)) {
        int chosen = parser.given("batch") ? static_cast<int>(batch) : std::max(1, engine.min_batch());
        if (!parser.given("batch")) {
            for (const auto& d : engine.inputs()) {
                auto it = arrays.find(d.name);
                if (it != arrays.end() && !d.dims.empty() && d.dims[0] < 0 && !it->second.shape.empty()) {
                    chosen = static_cast<int>(it->second.shape[0]);
                    break;
                }
            }
        }
        s = ctx.set_batch(chosen);
        if (!s) return runtime_error(cmd, s);
    }

    auto stream = Stream::create(engine.backend());
    if (!stream) return runtime_error(cmd, stream.status());

    std::vector<TensorBuffer> buffers;
    size_t index = 0;
    for (const auto& input : engine.inputs()) {
        auto desc = ctx.tensor_desc(input.name);
        if (!desc) return runtime_error(cmd, desc.status());
        const size_t bytes = static_cast<size_t>(dims_numel(desc->dims)) * rtinfer::data_type_size(desc->type);
        std::vector<uint8_t> host;
        auto it = arrays.find(input.name);
        if (it != arrays.end()) {
            s = check_npy_input(input_files[input.name], it->second, *desc);
            if (!s) return runtime_error(cmd, s);
            host = std::move(it->second.data);
            std::printf("input  '%s' %s %s from %s\n", input.name.c_str(), rtinfer::data_type_name(desc->type),
                        dims_str(desc->dims).c_str(), input_files[input.name].c_str());
        } else {
            host.resize(bytes);
            fill_random(desc->type, host.data(), static_cast<size_t>(dims_numel(desc->dims)),
                        static_cast<uint64_t>(seed) * 0x100000001b3ull + index);
            std::printf("input  '%s' %s %s random (seed %lld)\n", input.name.c_str(),
                        rtinfer::data_type_name(desc->type), dims_str(desc->dims).c_str(),
                        static_cast<long long>(seed));
        }
        ++index;
        auto buffer = TensorBuffer::allocate(engine.backend(), bytes);
        if (!buffer) return runtime_error(cmd, buffer.status());
        s = buffer->upload(host.data());
        if (s) s = ctx.set_tensor_address(input.name, buffer->data());
        if (!s) return runtime_error(cmd, s);
        buffers.push_back(std::move(*buffer));
    }

    // Outputs of known shape are bound to our buffers; data-dependent ones are read after the run.
    std::vector<TensorBuffer> out_buffers(engine.outputs().size());
    std::vector<bool> bound(engine.outputs().size(), false);
    for (size_t i = 0; i < engine.outputs().size(); ++i) {
        const std::string& name = engine.outputs()[i].name;
        auto desc = ctx.tensor_desc(name);
        if (!desc) return runtime_error(cmd, desc.status());
        if (!dims_known(desc->dims)) continue;
        const size_t bytes = static_cast<size_t>(dims_numel(desc->dims)) * rtinfer::data_type_size(desc->type);
        auto buffer = TensorBuffer::allocate(engine.backend(), bytes);
        if (!buffer) return runtime_error(cmd, buffer.status());
        s = ctx.set_tensor_address(name, buffer->data());
        if (!s) return runtime_error(cmd, s);
        out_buffers[i] = std::move(*buffer);
        bound[i] = true;
    }

    const auto start = std::chrono::steady_clock::now();
    s = ctx.enqueue(stream->handle());
    if (s) s = stream->synchronize();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!s) return runtime_error(cmd, s);
    meter.sample();
    std::printf("inference: %.3f ms (batch %d, backend %s)\n", ms, ctx.batch(),
                rtinfer::backend_name(engine.backend()));

    std::error_code ec;
    std::filesystem::create_directories(output_dir, ec);
    if (ec) {
        return runtime_error(
            cmd, Status(StatusCode::kIoError, "cannot create output directory '" + output_dir + "': " + ec.message()));
    }
    std::set<std::string> used_names;
    for (size_t i = 0; i < engine.outputs().size(); ++i) {
        const std::string& name = engine.outputs()[i].name;
        auto desc = ctx.tensor_desc(name);
        if (!desc) return runtime_error(cmd, desc.status());
        const size_t bytes = static_cast<size_t>(dims_numel(desc->dims)) * rtinfer::data_type_size(desc->type);
        std::vector<uint8_t> host(bytes);
        if (bound[i]) {
            s = out_buffers[i].download(host.data());
            if (!s) return runtime_error(cmd, s);
        } else {
            auto data = ctx.output_data(name);
            if (!data) return runtime_error(cmd, data.status());
            if (bytes > 0) std::memcpy(host.data(), *data, bytes);
        }
        std::string file = sanitize_file_name(name);
        for (int n = 1; !used_names.insert(file).second; ++n) file = sanitize_file_name(name) + "_" + std::to_string(n);
        const std::string path = (std::filesystem::path(output_dir) / (file + ".npy")).string();
        s = write_npy(path, desc->type, desc->dims, host.data());
        if (!s) return runtime_error(cmd, s);
        std::printf("output '%s' %s %s -> %s\n  %s\n", name.c_str(), rtinfer::data_type_name(desc->type),
                    dims_str(desc->dims).c_str(), path.c_str(),
                    summarize_values(desc->type, host.data(), static_cast<size_t>(dims_numel(desc->dims))).c_str());
    }
    std::printf("%s\n", peak_memory_line(meter).c_str());
    return kExitOk;
}

}  // namespace rtexec
