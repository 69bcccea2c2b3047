// rtexec build: ONNX model -> engine file.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "rtinfer/builder.h"
#include "rtinfer/engine_cache.h"
#include "sdk/rtexec/args.h"
#include "sdk/rtexec/calib_data.h"
#include "sdk/rtexec/commands.h"
#include "sdk/rtexec/common.h"

namespace rtexec {

using rtinfer::Status;
using rtinfer::StatusCode;

namespace {

void print_engine(const rtinfer::Engine& e, uint64_t file_size) {
    std::printf("  backend:     %s%s\n", rtinfer::backend_name(e.backend()), e.fp16() ? " (fp16)" : "");
    std::printf("  batch range: %d..%d\n", e.min_batch(), e.max_batch());
    std::printf("  layers:      %zu\n", e.layers().size());
    size_t quantized = 0;
    for (const auto& layer : e.layers()) quantized += layer.op_type == "QuantizeLinear";
    if (quantized > 0) std::printf("  int8:        %zu activations quantized (QuantizeLinear)\n", quantized);
    if (file_size > 0)
        std::printf("  engine size: %s (%llu bytes)\n", human_bytes(file_size).c_str(),
                    static_cast<unsigned long long>(file_size));
}

// Through the engine cache: reuses the entry or builds it (one build however many processes ask at once),
// then copies it to --out when given.
int build_cached(const std::string& cmd, const std::string& onnx_path, const std::string& out_path,
                 const std::string& cache_dir, const rtinfer::BuilderConfig& config, rtinfer::Logger* logger) {
    rtinfer::EngineCache cache(cache_dir);
    auto cached = cache.load_or_build(onnx_path, config, logger);
    if (!cached) return runtime_error(cmd, cached.status());
    if (cached->outcome == rtinfer::CacheOutcome::kBuilt) {
        std::printf("built %s -> %s\n", onnx_path.c_str(), cached->path.c_str());
        if (!cached->replaced.empty()) std::printf("  replaced:    %s\n", cached->replaced.c_str());
        std::printf("  build time:  %.1f ms\n", cached->build_ms);
    } else {
        std::printf("reused %s for %s%s\n", cached->path.c_str(), onnx_path.c_str(),
                    cached->outcome == rtinfer::CacheOutcome::kWaited ? " (waited for another process to build it)"
                                                                      : "");
    }
    if (!out_path.empty()) {
        std::error_code ec;
        std::filesystem::copy_file(cached->path, out_path, std::filesystem::copy_options::overwrite_existing, ec);
        if (ec) return runtime_error(cmd, Status(StatusCode::kIoError, out_path + ": cannot copy the cached engine " +
                                                                           cached->path + " (" + ec.message() + ")"));
        std::printf("  copied to:   %s\n", out_path.c_str());
    }
    std::error_code ec;
    const auto file_size = std::filesystem::file_size(cached->path, ec);
    print_engine(*cached->engine, ec ? 0 : file_size);
    return kExitOk;
}

}  // namespace

int cmd_build(const std::vector<std::string>& args) {
    const std::string cmd = "build";
    std::string onnx_path, out_path, backend_text = "cpu", timing_cache, cache_dir;
    std::string calib_dir, calibrator = "entropy", calib_cache, config_path, accuracy_budget;
    double percentile = 99.99;
    std::vector<std::string> plugins;
    bool fp16 = false, int8 = false, verbose = false, use_cache = false;
    int64_t batch = 0, min_batch = 0, opt_batch = 0, max_batch = 0;
    uint64_t budget = 0;
    constexpr int64_t kMaxBatch = 1 << 20;

    ArgParser parser(cmd, "--onnx m.onnx (--out m.engine | --cache | --cache-dir DIR) [options]",
                     "Imports, optimizes and builds an engine for this device, then saves it.");
    parser.add_string("onnx", &onnx_path, "FILE", "the ONNX model (required)");
    parser.add_string("out", &out_path, "FILE", "where to write the engine (required without a cache)");
    parser.add_flag("cache", &use_cache,
                    "build through the engine cache in $RTINFER_CACHE_DIR, $XDG_CACHE_HOME/rtinfer or "
                    "~/.cache/rtinfer: an engine built before is reused");
    parser.add_string("cache-dir", &cache_dir, "DIR", "build through the engine cache in DIR (implies --cache)");
    parser.add_flag("fp16", &fp16, "allow float16 kernels where the backend has them");
    parser.add_flag("int8", &int8,
                    "quantize to int8: per output channel weights and per tensor activations, with the ranges of "
                    "--calib-cache, of calibration on --calib, or of the model's QuantizeLinear/DequantizeLinear nodes");
    parser.add_string("calib", &calib_dir, "DIR",
                      "INT8 calibration samples: .npy tensors (one sample, or a batch [N,...]) and JPEG, PNG or PPM/PGM images, "
                      "pre-processed as --config says");
    parser.add_string("config", &config_path, "model.yml",
                      "the model.yml whose input section pre-processes calibration images (default: stretch to the "
                      "input size, RGB, x 1/255, NCHW)");
    parser.add_string("calibrator", &calibrator, "NAME",
                      "entropy (KL divergence, the default), percentile, minmax or mse");
    parser.add_real("percentile", &percentile, "P", "the percentile calibrator's percentile, in (0, 100] (default 99.99)",
                    1e-6);
    parser.add_string("accuracy-budget", &accuracy_budget, "E|top1:P",
                      "INT8 may cost at most E relative L2 error of any output (e.g. 0.02), or keep top-1 agreement of "
                      "P % (e.g. top1:99), against float32 on calibration samples held out of calibration: the "
                      "layers int8 costs most stay in float until it holds");
    parser.add_string("calib-cache", &calib_cache, "FILE",
                      "activation ranges: read from FILE when it exists (calibration is skipped), else written to it");
    parser.add_int("batch", &batch, "N", "fixed batch for a model with a dynamic batch dim (min = opt = max = N)", 1,
                   kMaxBatch);
    parser.add_int("min-batch", &min_batch, "N", "smallest batch of the profile", 1, kMaxBatch);
    parser.add_int("opt-batch", &opt_batch, "N", "batch the kernels are chosen for", 1, kMaxBatch);
    parser.add_int("max-batch", &max_batch, "N", "largest batch of the profile", 1, kMaxBatch);
    parser.add_string("backend", &backend_text, "cpu|cuda", "backend to build for (default cpu)");
    parser.add_bytes("memory-budget", &budget,
                     "memory budget, e.g. 512MiB: CUDA tactics needing more scratch memory are skipped, and a warning "
                     "says when weights and activations exceed it (default: none)");
    parser.add_string("timing-cache", &timing_cache, "FILE",
                      "CUDA: tactics measured before are read from FILE, new ones written to it");
    parser.add_strings("plugins", &plugins, "LIB", kPluginsHelp);
    parser.add_flag("verbose", &verbose, "print the builder's informational and verbose messages");

    Status s = parser.parse(args);
    if (!s) return usage_error(cmd, s);
    if (parser.help_requested()) {
        std::fputs(parser.help_text().c_str(), stdout);
        return kExitOk;
    }
    use_cache = use_cache || parser.given("cache-dir");
    s = parser.require("onnx");
    if (!s) return usage_error(cmd, s);
    if (!use_cache) {
        s = parser.require("out");
        if (!s) return usage_error(cmd, s);
    }
    auto backend = parse_backend(backend_text);
    if (!backend) return usage_error(cmd, backend.status());
    const bool profile = parser.given("min-batch") || parser.given("opt-batch") || parser.given("max-batch");
    if (parser.given("batch") && profile) {
        return usage_error(cmd, Status(StatusCode::kInvalidArgument,
                                       "--batch cannot be combined with --min-batch/--opt-batch/--max-batch"));
    }

    const bool calibrating = parser.given("calib") || parser.given("calib-cache") || parser.given("calibrator") ||
                             parser.given("percentile") || parser.given("config") ||
                             parser.given("accuracy-budget");
    if (calibrating && !int8) {
        return usage_error(cmd, Status(StatusCode::kInvalidArgument,
                                       "--calib, --calib-cache, --calibrator, --percentile, --config and --accuracy-budget need --int8"));
    }
    rtinfer::BuilderConfig config;
    config.backend = *backend;
    config.fp16 = fp16;
    config.int8 = int8;
    config.calibrator = calibrator;
    config.calibration_percentile = percentile;
    config.calibration_cache_path = calib_cache;
    config.accuracy_budget = accuracy_budget;
    std::unique_ptr<rtinfer::CalibrationData> calibration;
    if (!calib_dir.empty()) {
        auto opened = open_calibration_folder(calib_dir, config_path);
        if (!opened) return runtime_error(cmd, opened.status());
        calibration = std::move(*opened);
        config.calibration_data = calibration.get();
    }
    config.memory_budget_bytes = budget;
    config.timing_cache_path = timing_cache;
    config.plugin_libraries = plugins;
    if (parser.given("batch")) {
        config.min_batch = config.opt_batch = config.max_batch = static_cast<int>(batch);
    } else if (profile) {
        config.min_batch = static_cast<int>(min_batch);
        config.opt_batch = static_cast<int>(opt_batch);
        config.max_batch = static_cast<int>(max_batch);
        const int lo = config.min_batch > 0 ? config.min_batch : 1;
        const int opt = config.opt_batch > 0 ? config.opt_batch : lo;
        const int hi = config.max_batch > 0 ? config.max_batch : opt;
        if (!(lo <= opt && opt <= hi)) {
            return usage_error(cmd, Status(StatusCode::kInvalidArgument,
                                           "batch profile must satisfy min <= opt <= max (got " + std::to_string(lo) +
                                               ", " + std::to_string(opt) + ", " + std::to_string(hi) + ")"));
        }
    }

    s = check_readable(onnx_path, "ONNX model");
    if (!s) return runtime_error(cmd, s);

    // INT8 builds say what calibration does (the progress bar, the cache, the layers quantized).
    rtinfer::StderrLogger logger(verbose ? rtinfer::Severity::kVerbose
                                         : (int8 ? rtinfer::Severity::kInfo : rtinfer::Severity::kWarning));
    if (use_cache) return build_cached(cmd, onnx_path, out_path, cache_dir, config, &logger);
    rtinfer::Builder builder(&logger);
    DeviceMemoryMeter meter(config.backend);
    const auto start = std::chrono::steady_clock::now();
    auto engine = builder.build_from_file(onnx_path, config);
    meter.sample();
    const double build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!engine) return runtime_error(cmd, engine.status());

    s = (*engine)->save(out_path);
    if (!s) return runtime_error(cmd, s);
    std::error_code ec;
    const auto file_size = std::filesystem::file_size(out_path, ec);

    std::printf("built %s -> %s\n", onnx_path.c_str(), out_path.c_str());
    std::printf("  build time:  %.1f ms\n", build_ms);
    print_engine(**engine, ec ? 0 : file_size);
    std::printf("  %s\n", peak_memory_line(meter).c_str());
    return kExitOk;
}

}  // namespace rtexec
