// Builder: import -> passes -> shapes for the batch profile -> memory plan -> Engine.
#include "rtinfer/builder.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "core/ir/shape_inference.h"
#include "core/kernels/ref/ref_backend.h"
#include "core/onnx/importer.h"
#include "core/passes/passes.h"
#include "core/plugins/resolve.h"
#include "core/quant/accuracy_budget.h"
#include "core/quant/calibrate.h"
#include "core/quant/calibration_cache.h"
#include "core/quant/insert_qdq.h"
#include "core/ir/fnv1a.h"
#ifdef RTINFER_HAVE_CUDA
#include "core/kernels/cuda/layer_timer.h"
#include "core/kernels/cuda/nn/int8_conv.h"
#include "core/kernels/cuda/timing_cache.h"
#endif
#include "core/runtime/context_impl.h"
#include "core/runtime/engine_impl.h"

namespace rtinfer {

namespace {

struct BatchProfile {
    bool dynamic = false;
    std::vector<std::string> dynamic_inputs;  // inputs whose dim 0 is the batch
    int min = 1, opt = 1, max = 1;
};

void log(Logger* logger, Severity severity, const std::string& message) { logger->log(severity, message.c_str()); }

// Only dim 0 may be dynamic; everything else must be fixed by the model.
Expected<BatchProfile> batch_profile(const ir::Graph& g, const BuilderConfig& config) {
    BatchProfile p;
    int64_t static_batch = -1;
    for (const auto& name : g.inputs) {
        const ir::Value& v = g.at(name);
        for (size_t d = 0; d < v.shape.size(); ++d) {
            if (v.shape[d] >= 0) continue;
            if (d != 0) {
                return Status(StatusCode::kUnsupported, "input '" + name + "' has a dynamic dimension " + std::to_string(d) + " " +
                                                            ir::shape_str(v.shape) + "; only dim 0 (the batch) may be dynamic");
            }
            p.dynamic = true;
            p.dynamic_inputs.push_back(name);
        }
        if (!v.shape.empty() && v.shape[0] >= 0 && static_batch < 0) static_batch = v.shape[0];
    }
    const bool asked = config.min_batch || config.opt_batch || config.max_batch;
    if (!p.dynamic) {
        const int b = static_batch > 0 ? static_cast<int>(static_batch) : 1;
        if (asked && (config.max_batch ? config.max_batch : config.opt_batch) != b) {
            return Status(StatusCode::kInvalidArgument,
                          "the model has a static batch of " + std::to_string(b) + " (input '" + g.inputs.front() + "' is " +
                              ir::shape_str(g.at(g.inputs.front()).shape) +
                              "); a batch profile needs a model exported with a dynamic batch axis");
        }
        p.min = p.opt = p.max = b;
        return p;
    }
    p.max = config.max_batch ? config.max_batch : (config.opt_batch ? config.opt_batch : 1);
    p.opt = config.opt_batch ? config.opt_batch : p.max;
    p.min = config.min_batch ? config.min_batch : 1;
    if (p.min < 1 || p.min > p.opt || p.opt > p.max) {
        return Status(StatusCode::kInvalidArgument, "batch profile must satisfy 1 <= min <= opt <= max (got " +
                                                        std::to_string(p.min) + "/" + std::to_string(p.opt) + "/" +
                                                        std::to_string(p.max) + ")");
    }
    return p;
}

void set_batch(ir::Graph& g, const BatchProfile& p, int batch) {
    for (const auto& name : p.dynamic_inputs) g.at(name).shape[0] = batch;
    for (const auto& name : g.inputs) g.at(name).shape_known = true;
}

using StaticDims = std::map<std::string, ir::Shape>;

// The graph at `batch` with its shape arithmetic folded as far as it goes (as each context does when it is
// prepared), so that shapes computed through Shape/Concat/Reshape chains are known.
Expected<ir::Graph> resolved_at(const ir::Graph& g, const BatchProfile& p, int batch,
                                const passes::NodeEvaluator& evaluate) {
    ir::Graph at = g;
    set_batch(at, p, batch);
    for (int folded = 1; folded > 0;) {
        RT_RETURN_IF_ERROR(ir::infer_shapes(at, ref::reference_registry()));
        RT_RETURN_IF_ERROR(passes::fold_constants(at, evaluate, passes::FoldOptions{}, &folded));
    }
    return at;
}

// Resolves shapes at two batch sizes; values whose shape differs (or is unknown) depend on the batch.
// *static_dims, when given, receives for each of them its dims where the same at both (-1 elsewhere).
Expected<std::set<std::string>> batch_dependent_values(const ir::Graph& g, const BatchProfile& p,
                                                       const passes::NodeEvaluator& evaluate,
                                                       StaticDims* static_dims = nullptr) {
    RT_ASSIGN_OR_RETURN(ir::Graph a, resolved_at(g, p, p.opt, evaluate));
    RT_ASSIGN_OR_RETURN(ir::Graph b, resolved_at(g, p, p.opt + 1, evaluate));
    std::set<std::string> out;
    for (const auto& [name, v] : a.values()) {
        const ir::Value* w = b.find(name);
        if (!w || (w->shape == v.shape && v.shape_known)) continue;
        out.insert(name);
        if (static_dims && v.shape_known && w->shape_known && w->shape.size() == v.shape.size()) {
            auto& dims = (*static_dims)[name];
            for (size_t d = 0; d < v.shape.size(); ++d) dims.push_back(v.shape[d] == w->shape[d] ? v.shape[d] : -1);
        }
    }
    return out;
}

// What passes that write shapes into the graph may assume: the resolved shapes, at a second batch too when the
// batch is dynamic, so that the dims that follow the batch are told apart. A graph that cannot be resolved so
// gives no shapes, and those passes skip such rewrites.
passes::SymbolicShapes resolved_shapes(const ir::Graph& g, const BatchProfile& p,
                                       const passes::NodeEvaluator& evaluate) {
    auto a = resolved_at(g, p, p.opt, evaluate);
    if (!a.has_value()) return {};
    if (!p.dynamic) return passes::symbolic_shapes(*a, nullptr);
    auto b = resolved_at(g, p, p.opt + 1, evaluate);
    if (!b.has_value()) return {};
    return passes::symbolic_shapes(*a, &*b);
}

// Channels-last float16 convolutions; RTINFER_NHWC=0 keeps NCHW (for comparisons).
bool channels_last_enabled() {
    const char* v = std::getenv("RTINFER_NHWC");
    return !(v && std::string(v) == "0");
}

// RTINFER_INPUT_ACTIVATION=1 moves activations into the depthwise convolutions that read them. Off by
// default: the direct depthwise kernel then recomputes the activation for every tap and lost in whole
// networks (H100, batch 32: EfficientNet-B0 3.75 ms with it, 1.89 ms without; MobileNetV2 1.42 vs 1.24 ms).
bool input_activation_enabled() {
    const char* v = std::getenv("RTINFER_INPUT_ACTIVATION");
    return v && std::string(v) == "1";
}

// RTINFER_INT8_KERNELS=0 leaves INT8 layers as float16 layers between QuantizeLinear / DequantizeLinear
// (the emulation, for comparisons); otherwise passes::fuse_int8_conv runs.
bool int8_pass_enabled() {
    const char* v = std::getenv("RTINFER_INT8_KERNELS");
    return !(v && std::string(v) == "0");
}

// Whether the device runs the int8 tensor-core convolution (compute capability 8.0 and newer).
bool int8_kernels_available() {
#ifdef RTINFER_HAVE_CUDA
    return cuda::nn::int8_conv_supported();
#else
    return false;
#endif
}

// For fuse_int8_conv. By default every convolution the int8 kernel takes runs in int8. With
// RTINFER_INT8_CHOICE=measure each is timed in int8 and as its float16 layer and keeps the faster (each choice
// logged at the verbose level; a layer that cannot be timed goes to int8). Not the default: the choice is per
// layer and does not count the QuantizeLinear / Cast kernels that a float16 layer between int8 ones brings
// back, and on the H100 (ResNet-50, batch 32, 2026-11-25) it made the engine slower than all-int8 (2.32 ms
// against 1.71 ms), since the int8 kernel lost to float16 on 46 of the 52 layers when timed alone.
passes::Int8Choice int8_choice(const std::string& name, Logger* logger) {
    const char* v = std::getenv("RTINFER_INT8_CHOICE");
    if (!(v && std::string(v) == "measure")) return {};
#ifdef RTINFER_HAVE_CUDA
    auto created = cuda::LayerTimer::create();
    if (!created.has_value()) {
        log(logger, Severity::kWarning, name + ": int8 layers not timed: " + created.status().message());
        return {};
    }
    std::shared_ptr<cuda::LayerTimer> timer(std::move(created).value());
    return [timer, name, logger](const ir::Graph& g, const ir::Node& float_layer, const ir::Node& int8_layer) {
        auto f = timer->time(g, float_layer);
        auto q = timer->time(g, int8_layer);
        if (!f.has_value() || !q.has_value()) return true;
        char line[256];
        std::snprintf(line, sizeof line, ": %s: int8 %.4f ms, float16 %.4f ms", float_layer.name.c_str(), *q, *f);
        log(logger, Severity::kVerbose, name + line);
        return *q <= *f;
    };
#else
    (void)name;
    (void)logger;
    return {};
#endif
}

// The context the builder measures and describes the engine with; for CUDA it carries the timing cache,
// which `cache` keeps alive for as long as the context is used.
Status make_build_context(const Engine& engine, const Engine::Impl& impl, const BuilderConfig& config,
                          const std::string& name, Logger* logger, std::unique_ptr<ExecutionContext>& ctx,
                          std::shared_ptr<void>& cache) {
    if (config.backend != Backend::kCuda) {
        RT_ASSIGN_OR_RETURN(ctx, engine.create_context());
        return Status();
    }
#ifdef RTINFER_HAVE_CUDA
    const auto t0 = std::chrono::steady_clock::now();
    auto timing = std::make_shared<cuda::TimingCache>();
    if (!config.timing_cache_path.empty()) {
        // A cache that cannot be used is rejected with a warning; the build measures every layer instead.
        std::string skipped;
        auto loaded = cuda::TimingCache::load(config.timing_cache_path, impl.data.device_key, &skipped);
        if (!loaded) skipped = loaded.status().message();
        if (loaded && skipped.empty()) {
            *timing = std::move(loaded).value();
        } else {
            log(logger, Severity::kWarning, "timing cache rejected: " + skipped +
                                                "; building without it (the file is left as it is)");
            timing->keep_file_as_is();
        }
    }
    const size_t known = timing->size();
    cache = timing;
    // Progress while layers are tuned: a line at most every second.
    auto last = t0;
    auto progress = [&](size_t done, size_t total) {
        const auto now = std::chrono::steady_clock::now();
        if (std::chrono::duration<double>(now - last).count() < 1.0) return;
        last = now;
        const double s = std::chrono::duration<double>(now - t0).count();
        log(logger, Severity::kInfo, name + ": tuning layers " + std::to_string(done) + "/" + std::to_string(total) +
                                         " (" + std::to_string(s).substr(0, 5) + " s)");
    };
    // The memory budget bounds each layer's scratch memory; what is left of it after weights and activations
    // would be the honest bound, but those are only known once the layers are chosen.
    RT_ASSIGN_OR_RETURN(ctx, runtime::create_cuda_context(impl, timing.get(), progress, config.memory_budget_bytes));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    log(logger, Severity::kInfo, name + ": tuned " + std::to_string(ctx->impl().tactics().size()) + " layers in " +
                                     std::to_string(s).substr(0, 5) + " s (" + std::to_string(timing->hits()) +
                                     " from the timing cache of " + std::to_string(known) + " entries)");
    return Status();
#else
    (void)impl;
    (void)name;
    (void)logger;
    (void)cache;
    return Status(StatusCode::kUnsupported, "this rtinfer was built without CUDA");
#endif
}

// Stores the tactics the build used in the engine and writes the timing cache file.
Status finish_build_cache(const std::shared_ptr<void>& cache, const BuilderConfig& config, serialize::EngineData& d) {
#ifdef RTINFER_HAVE_CUDA
    if (!cache) return Status();
    auto* timing = static_cast<cuda::TimingCache*>(cache.get());
    d.tactics = timing->used();
    if (!config.timing_cache_path.empty() && timing->write_back()) return timing->save(config.timing_cache_path, d.device_key);
#else
    (void)cache;
    (void)config;
    (void)d;
#endif
    return Status();
}

// An INT8 build decided elsewhere (the accuracy budget's probes): these ranges, these layers in float.
struct Int8Plan {
    std::map<std::string, float> amax;
    std::set<std::string> keep_float;
};

Expected<std::unique_ptr<Engine>> build_graph(ir::Graph graph, const BuilderConfig& config, const std::string& name,
                                              Logger* logger, const std::string& fingerprint,
                                              const Int8Plan* plan = nullptr);

// What a calibration cache is made for: the ONNX file's bytes.
std::string model_fingerprint(const void* data, size_t size) {
    ir::Fnv1a h;
    h.add(data, size);
    return "fnv1a:" + h.hex() + " (" + std::to_string(size) + " bytes)";
}

// How many samples a calibration run takes at once: GPU memory holds every measured tensor of the batch.
int calibration_batch(Backend backend) { return backend == Backend::kCuda ? 16 : 4; }

// Keeps the layers whose int8 costs most (quant::layer_sensitivity) in float until the engine meets the budget
// on the held-out samples: all layers int8 first, then a binary search over how many of the most sensitive ones
// stay in float. Returns their names and says what each probe reached.
Expected<std::set<std::string>> fit_accuracy_budget(const ir::Graph& original, const ir::Graph& shaped,
                                                     const BuilderConfig& config, const std::map<std::string, float>& amax,
                                                     const std::map<std::string, double>& noise,
                                                     const std::vector<CalibrationSample>& held_out,
                                                     const std::string& fingerprint, const std::string& name,
                                                     Logger* logger) {
    RT_ASSIGN_OR_RETURN(quant::AccuracyBudget budget, quant::parse_accuracy_budget(config.accuracy_budget));
    if (held_out.empty())
        return Status(StatusCode::kInvalidArgument, name + ": the accuracy budget needs at least 8 calibration samples");
    std::vector<std::pair<double, std::string>> ranked;
    for (const auto& [layer, cost] : quant::layer_sensitivity(shaped, noise)) ranked.emplace_back(cost, layer);
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    // The reference: the model in float32 on the same backend.
    BuilderConfig fp32;
    fp32.backend = config.backend;
    fp32.plugin_libraries = config.plugin_libraries;
    fp32.timing_cache_path = config.timing_cache_path;
    auto reference = build_graph(original, fp32, name + " (float32 reference)", &null_logger(), fingerprint);
    if (!reference) return reference.status().with_context(name + ": the accuracy budget's float32 reference");
    RT_ASSIGN_OR_RETURN(auto want, quant::run_samples(**reference, held_out));
    BuilderConfig probe = config;
    probe.accuracy_budget.clear();
    auto measure = [&](size_t k, double* reached) -> Expected<bool> {
        Int8Plan plan;
        plan.amax = amax;
        for (size_t i = 0; i < k && i < ranked.size(); ++i) plan.keep_float.insert(ranked[i].second);
        auto engine = build_graph(original, probe, name + " (accuracy probe)", &null_logger(), fingerprint, &plan);
        if (!engine) return engine.status().with_context(name + ": an accuracy budget probe");
        RT_ASSIGN_OR_RETURN(auto got, quant::run_samples(**engine, held_out));
        *reached = quant::output_accuracy(got, want, (*engine)->outputs(), held_out.size(), budget.top1);
        const bool ok = quant::meets(budget, *reached);
        char line[160];
        std::snprintf(line, sizeof line, ": accuracy budget probe: %zu of %zu layers in float: %s %.4g (budget %.4g): %s",
                      k, ranked.size(), budget.top1 ? "top-1 agreement %" : "output rel. L2 error", *reached,
                      budget.value, ok ? "met" : "not met");
        log(logger, Severity::kInfo, name + line);
        return ok;
    };
    double all_int8 = 0.0, reached = 0.0;
    RT_ASSIGN_OR_RETURN(bool ok, measure(0, &all_int8));
    size_t lo = 0, hi = 0;
    reached = all_int8;
    if (!ok) {
        hi = ranked.size();  // all in float: the reference itself
        double r = 0.0;
        while (hi - lo > 1) {
            const size_t mid = (lo + hi) / 2;
            RT_ASSIGN_OR_RETURN(bool good, measure(mid, &r));
            if (good) {
                hi = mid;
                reached = r;
            } else {
                lo = mid;
            }
        }
        if (hi == ranked.size()) reached = budget.top1 ? 100.0 : 0.0;
    }
    std::set<std::string> keep;
    std::string names;
    for (size_t i = 0; i < hi; ++i) {
        keep.insert(ranked[i].second);
        names += (names.empty() ? "" : ", ") + ranked[i].second;
    }
    char line[200];
    std::snprintf(line, sizeof line, ": accuracy budget %s met with %zu of %zu layers in float: %s %.4g (all int8: %.4g)",
                  config.accuracy_budget.c_str(), hi, ranked.size(),
                  budget.top1 ? "top-1 agreement %" : "output rel. L2 error", reached, all_int8);
    log(logger, Severity::kInfo, name + line + (names.empty() ? "" : "; in float: " + names));
    return keep;
}

// INT8 without Q/DQ nodes: the activation ranges from the calibration cache or from calibrating `original` (the
// imported graph) in float32, then Q/DQ pairs with those ranges in front of the quantizable layers of `shaped`.
Status apply_int8(const ir::Graph& original, ir::Graph& shaped, const BatchProfile& profile,
                  const BuilderConfig& config, const std::string& fingerprint, const std::string& name,
                  Logger* logger, const Int8Plan* plan) {
    if (plan) return quant::insert_qdq(shaped, plan->amax, plan->keep_float).status();
    if (quant::has_qdq(original)) {
        log(logger, Severity::kInfo, name + ": INT8 from the model's QuantizeLinear/DequantizeLinear scales (no calibration)");
        return Status();
    }
    RT_ASSIGN_OR_RETURN(quant::CalibratorOptions options,
                        quant::parse_calibrator(config.calibrator, config.calibration_percentile));
    // Only tensors the imported graph has can be measured there (a few are made by the passes).
    std::vector<std::string> tensors;
    for (const auto& t : quant::calibration_tensors(shaped)) {
        const ir::Value* v = original.find(t);
        if (v && !v->is_constant()) tensors.push_back(t);
    }
    std::map<std::string, float> amax;
    std::map<std::string, double> noise;  // from calibration, for the accuracy budget's ranking
    std::vector<CalibrationSample> held_out;
    const bool budget = !config.accuracy_budget.empty();
    if (budget && config.calibration_data == nullptr) {
        return Status(StatusCode::kInvalidArgument,
                      name + ": an accuracy budget is judged on calibration samples: give calibration data (--calib)");
    }
    const std::string& cache_path = config.calibration_cache_path;
    std::error_code ec;
    if (!cache_path.empty() && std::filesystem::exists(cache_path, ec) && !budget) {
        RT_ASSIGN_OR_RETURN(quant::CalibrationTable table, quant::load_calibration_cache(cache_path, fingerprint));
        amax = std::move(table.amax);
        log(logger, Severity::kInfo, name + ": calibration skipped: " + std::to_string(amax.size()) +
                                         " tensor ranges from the calibration cache " + cache_path + " (" +
                                         table.calibrator + ", " + std::to_string(table.samples) + " samples)");
    } else {
        if (config.calibration_data == nullptr) {
            return Status(StatusCode::kInvalidArgument,
                          name + ": INT8 needs calibration data (rtexec: --calib DIR) or a calibration cache that "
                                 "exists, or a model with QuantizeLinear/DequantizeLinear nodes");
        }
        ir::Graph measured = original;
        measured.outputs = tensors;
        BuilderConfig fp32;
        fp32.backend = config.backend;
        fp32.plugin_libraries = config.plugin_libraries;
        fp32.memory_budget_bytes = config.memory_budget_bytes;
        int batch = profile.max;
        if (profile.dynamic) {
            batch = calibration_batch(config.backend);
            fp32.min_batch = 1;
            fp32.opt_batch = fp32.max_batch = batch;
        }
        auto engine = build_graph(std::move(measured), fp32, name + " (calibration)", &null_logger(), fingerprint);
        if (!engine) return engine.status().with_context(name + ": building the float32 engine that calibration runs");
        RT_ASSIGN_OR_RETURN(quant::CalibrationResult result,
                            quant::calibrate(**engine, batch, *config.calibration_data, tensors, options, logger, name,
                                             budget ? &held_out : nullptr));
        amax = result.amax;
        noise = result.noise;
        if (!cache_path.empty()) {
            quant::CalibrationTable table;
            table.model = fingerprint;
            table.calibrator = quant::calibrator_description(options);
            table.samples = result.samples;
            table.amax = amax;
            RT_RETURN_IF_ERROR(quant::save_calibration_cache(cache_path, table));
            log(logger, Severity::kInfo, name + ": calibration cache written to " + cache_path);
        }
    }
    const std::map<std::string, float> known = quant::known_ranges(shaped);
    for (const auto& [tensor, range] : known) amax[tensor] = range;
    if (!known.empty()) {
        log(logger, Severity::kInfo, name + ": " + std::to_string(known.size()) +
                                         " activations take the range their op fixes (Softmax, Sigmoid: [0, 1])");
    }
    std::set<std::string> keep_float;
    if (budget) {
        RT_ASSIGN_OR_RETURN(keep_float, fit_accuracy_budget(original, shaped, config, amax, noise, held_out, fingerprint,
                                                            name, logger));
    }
    RT_ASSIGN_OR_RETURN(quant::QdqSummary summary, quant::insert_qdq(shaped, amax, keep_float));
    std::string skipped;
    for (const auto& s : summary.skipped) skipped += (skipped.empty() ? "; left in float: " : ", ") + s;
    log(logger, Severity::kInfo, name + ": INT8: " + std::to_string(summary.quantized) +
                                     " layers quantized (weights per output channel, activations per tensor)" + skipped);
    return Status();
}

Expected<std::unique_ptr<Engine>> build_graph(ir::Graph graph, const BuilderConfig& config, const std::string& name,
                                              Logger* logger, const std::string& fingerprint, const Int8Plan* plan) {
    const auto t0 = std::chrono::steady_clock::now();
    if (config.backend == Backend::kCuda) {
        auto key = runtime::current_device_key(Backend::kCuda);
        if (!key.has_value()) return key.status().with_context(name + ": cannot build for the CUDA backend");
    }
    if (config.fp16 && config.backend == Backend::kCpu) {
        log(logger, Severity::kWarning, "the CPU backend computes in float32; fp16 applies to the CUDA backend");
    }
    if (graph.inputs.empty() && graph.outputs.empty()) return Status(StatusCode::kInvalidModel, name + ": the model has no outputs");
    {
        Status s = plugins::map_plugin_nodes(graph, config.plugin_libraries, ref::reference_registry());
        if (!s.is_ok()) return s.with_context(name);
    }
    BatchProfile profile;
    if (!graph.inputs.empty()) {
        auto p = batch_profile(graph, config);
        if (!p.has_value()) return p.status().with_context(name);
        profile = *p;
    }

    int removed = 0, folded = 0, fused = 0, dead = 0;
    RT_RETURN_IF_ERROR(passes::remove_identity(graph, &removed));
    // Folding evaluates nodes on the reference kernels at the opsets of this graph.
    auto evaluator = [&](const ir::Node& node, const std::vector<const ir::Tensor*>& ins, std::vector<ir::Tensor>& outs) {
        const ir::OpKernel* kernel = ref::reference_registry().find(node.domain, node.op_type);
        if (!kernel) return Status(StatusCode::kUnsupported, node.describe() + ": no kernel");
        return ref::evaluate_node(*kernel, node, graph.opset(ir::canonical_domain(node.domain)), ins, outs);
    };
    std::set<std::string> dependent;
    StaticDims static_dims;
    if (profile.dynamic) {
        auto dep = batch_dependent_values(graph, profile, evaluator, &static_dims);
        if (!dep.has_value()) return dep.status().with_context(name);
        dependent = *dep;
    }
    ir::Graph shaped = graph;
    set_batch(shaped, profile, profile.opt);
    {
        Status s = ir::infer_shapes(shaped, ref::reference_registry());
        if (!s.is_ok()) return s.with_context(name);
    }
    passes::FoldOptions fold;
    fold.batch_dependent = dependent;
    fold.static_dims = std::move(static_dims);
    RT_RETURN_IF_ERROR(passes::fold_constants(shaped, evaluator, fold, &folded));
    RT_RETURN_IF_ERROR(passes::fuse_conv_bn(shaped, &fused));
    int fused_act = 0;
    RT_RETURN_IF_ERROR(passes::fuse_conv_activation(shaped, &fused_act));
    int fused_linear = 0;
    RT_RETURN_IF_ERROR(passes::fuse_matmul_bias_activation(shaped, &fused_linear));
    // Shapes that only the shape arithmetic gives (a Reshape whose target is computed from a Shape), as they
    // are at this build batch, for the passes that match on shapes; values they cannot resolve stay unknown.
    if (auto resolved = resolved_at(shaped, profile, profile.opt, evaluator); resolved.has_value()) {
        for (const auto& [vname, rv] : resolved->values()) {
            ir::Value* v = shaped.find(vname);
            if (!v || v->shape_known || v->is_constant() || !rv.shape_known) continue;
            v->shape = rv.shape;
            v->shape_known = true;
            if (v->dtype == DataType::kUndefined) v->dtype = rv.dtype;
        }
    }
    int fused_attention = 0;
    RT_RETURN_IF_ERROR(passes::fuse_attention(shaped, &fused_attention));
    if (fused_attention > 0) {
        log(logger, Severity::kInfo,
            name + ": " + std::to_string(fused_attention) + " attention blocks fused (rtinfer.Attention)");
    }
    int views = 0;
    const passes::SymbolicShapes view_shapes = resolved_shapes(shaped, profile, evaluator);
    RT_RETURN_IF_ERROR(passes::fold_reshape_transpose(shaped, &view_shapes, &views));
    if (config.int8) RT_RETURN_IF_ERROR(apply_int8(graph, shaped, profile, config, fingerprint, name, logger, plan));
    RT_RETURN_IF_ERROR(passes::remove_dead_nodes(shaped, &dead));
    int halved = 0;
    if (config.fp16 && config.backend == Backend::kCuda) {
        RT_RETURN_IF_ERROR(passes::convert_to_fp16(shaped, &halved));
        Status s = ir::infer_shapes(shaped, ref::reference_registry());
        if (!s.is_ok()) return s.with_context(name + ": after float16 conversion");
        if (channels_last_enabled()) {
            int nhwc = 0, reformats = 0;
            RT_RETURN_IF_ERROR(passes::convert_to_nhwc(shaped, true, &nhwc, &reformats));
            int residual = 0, activations = 0;
            RT_RETURN_IF_ERROR(passes::fuse_conv_residual(shaped, &residual));
            RT_RETURN_IF_ERROR(passes::fuse_conv_activation(shaped, &activations));
            fused_act += activations;
            int reformats_fused = 0;
            RT_RETURN_IF_ERROR(passes::fuse_input_reformat(shaped, &reformats_fused));
            int input_acts = 0;
            if (input_activation_enabled()) RT_RETURN_IF_ERROR(passes::fuse_input_activation(shaped, &input_acts));
            s = ir::infer_shapes(shaped, ref::reference_registry());
            if (!s.is_ok()) return s.with_context(name + ": after the channels-last conversion");
            if (config.int8 && int8_pass_enabled()) {
                int int8_convs = 0, int8_outs = 0, kept = 0;
                const bool kernels = int8_kernels_available();
                RT_RETURN_IF_ERROR(passes::fuse_int8_conv(shaped, kernels, &int8_convs, &int8_outs,
                                                          kernels ? int8_choice(name, logger) : passes::Int8Choice(),
                                                          &kept));
                s = ir::infer_shapes(shaped, ref::reference_registry());
                if (!s.is_ok()) return s.with_context(name + ": after the int8 convolutions");
                log(logger, Severity::kInfo, name + ": " + std::to_string(int8_convs) +
                                                 " convolutions run on int8 tensor cores (" + std::to_string(int8_outs) +
                                                 " of them write int8)" +
                                                 (kept ? ", " + std::to_string(kept) + " stay float16 where that measured faster"
                                                       : std::string()));
            }
            if (nhwc > 0) {
                log(logger, Severity::kInfo, name + ": " + std::to_string(nhwc) + " layers run channels-last (NHWC), " +
                                                 std::to_string(reformats) + " layout reformats, " +
                                                 std::to_string(residual) + " residual adds fused into convolutions, " +
                                                 std::to_string(input_acts) +
                                                 " activations moved into the depthwise convolutions that read them");
            }
        }
    }
    int chains = 0, chained = 0;
    if (config.backend == Backend::kCuda) {
        RT_RETURN_IF_ERROR(passes::fuse_pointwise_chain(shaped, &chains, &chained));
        Status s = chains > 0 ? ir::infer_shapes(shaped, ref::reference_registry()) : Status();
        if (!s.is_ok()) return s.with_context(name + ": after fusing pointwise chains");
    }
    {
        Status s = shaped.validate();
        if (!s.is_ok()) return Status(StatusCode::kInternal, name + ": graph invalid after passes: " + s.message());
    }
    // Restore the dynamic dim markers of batch-dependent values for the engine's description.
    if (profile.dynamic) {
        auto dep = batch_dependent_values(shaped, profile, evaluator);
        if (!dep.has_value()) return dep.status().with_context(name);
        ir::Graph other = shaped;
        set_batch(other, profile, profile.opt + 1);
        RT_RETURN_IF_ERROR(ir::infer_shapes(other, ref::reference_registry()));
        for (const auto& vname : *dep) {
            ir::Value* v = shaped.find(vname);
            const ir::Value* w = other.find(vname);
            if (!v || !w || v->is_constant()) continue;
            for (size_t d = 0; d < v->shape.size() && d < w->shape.size(); ++d) {
                if (v->shape[d] != w->shape[d]) v->shape[d] = -1;
            }
        }
        for (const auto& in : profile.dynamic_inputs) shaped.at(in).shape[0] = -1;
    }

    auto impl = std::make_shared<Engine::Impl>();
    serialize::EngineData& d = impl->data;
    d.sdk_version = runtime::sdk_version();
    d.backend = config.backend;
    RT_ASSIGN_OR_RETURN(d.device_key, runtime::current_device_key(config.backend));
    d.fp16 = config.fp16;
    d.dynamic_batch = profile.dynamic;
    d.min_batch = profile.min;
    d.opt_batch = profile.opt;
    d.max_batch = profile.max;
    d.graph = std::move(shaped);
    impl->logger = logger;
    runtime::describe_io(*impl);

    // Describe outputs from real contexts at two batches: shape arithmetic that depends on the batch is
    // only resolved there. Dims that change with the batch are -1. Also plans the activations at max batch.
    auto engine = std::make_unique<Engine>(impl);
    {
        // CUDA layers measure their tactics here (through the timing cache when one is given).
        std::shared_ptr<void> cache;  // declared first: destroyed after the context that points at it
        std::unique_ptr<ExecutionContext> ctx;
        RT_RETURN_IF_ERROR(make_build_context(*engine, *impl, config, name, logger, ctx, cache));
        std::vector<std::vector<int64_t>> first;
        const int other = profile.opt + 1 <= profile.max ? profile.opt + 1 : profile.opt - 1;
        const bool compare = profile.dynamic && other >= profile.min && other != profile.opt;
        for (int batch : {profile.opt, compare ? other : profile.opt}) {
            RT_RETURN_IF_ERROR(ctx->set_batch(batch));
            for (size_t i = 0; i < d.graph.outputs.size(); ++i) {
                RT_ASSIGN_OR_RETURN(TensorDesc desc, ctx->tensor_desc(d.graph.outputs[i]));
                if (first.size() <= i) {
                    first.push_back(desc.dims);
                    continue;
                }
                ir::Value& v = d.graph.at(d.graph.outputs[i]);
                if (desc.dims.size() != first[i].size()) continue;
                v.shape = desc.dims;
                for (size_t k = 0; k < v.shape.size(); ++k) {
                    if (v.shape[k] != first[i][k]) v.shape[k] = -1;
                }
            }
        }
        runtime::describe_io(*impl);
        RT_RETURN_IF_ERROR(ctx->set_batch(profile.max));
        if (!d.graph.outputs.empty()) RT_RETURN_IF_ERROR(ctx->tensor_desc(d.graph.outputs[0]).status());
        d.activation_bytes = ctx->activation_bytes();
        RT_RETURN_IF_ERROR(finish_build_cache(cache, config, d));
        // Nodes the backend's kernels do not take run on the CPU reference; say which, and record it.
        const std::vector<std::string> fallbacks = ctx->impl().fallback_nodes();
        if (!fallbacks.empty()) {
            std::string list;
            for (const auto& f : fallbacks) list += (list.empty() ? "" : ", ") + f;
            log(logger, Severity::kWarning, name + ": " + std::to_string(fallbacks.size()) + " of " +
                                                std::to_string(d.graph.nodes.size()) + " layers fall back to the CPU: " + list);
            for (auto& node : d.graph.nodes) {
                for (const auto& f : fallbacks) {
                    if (f == node.name + " (" + node.op_type + ")") {
                        ir::Attribute a;
                        a.i = 1;
                        node.attrs["rt_cpu_fallback"] = a;
                    }
                }
            }
        }
    }
    if (config.memory_budget_bytes > 0) {
        const MemoryInfo m = engine->memory();
        const uint64_t need = m.weight_bytes + m.activation_bytes;
        const bool over = need > config.memory_budget_bytes;
        auto kib = [](uint64_t bytes) { return std::to_string((bytes + 1023) / 1024) + " KiB"; };
        log(logger, over ? Severity::kWarning : Severity::kInfo,
            name + ": weights and activations take " + kib(need) + " of the " + kib(config.memory_budget_bytes) +
                " memory budget" + (over ? " (over it: tactics stayed within it, the engine cannot)" : ""));
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    log(logger, Severity::kInfo,
        name + ": built " + std::to_string(d.graph.nodes.size()) + " layers in " + std::to_string(static_cast<int>(ms)) +
            " ms (identity removed " + std::to_string(removed) + ", folded " + std::to_string(folded) +
            ", conv+bn fused " + std::to_string(fused) + ", conv+activation fused " + std::to_string(fused_act) +
            ", matmul+bias+activation fused " + std::to_string(fused_linear) + ", reshape/transpose folded " +
            std::to_string(views) + ", dead removed " + std::to_string(dead) + ", float16 layers " +
            std::to_string(halved) + ", pointwise chains " + std::to_string(chains) + " of " +
            std::to_string(chained) + " nodes)");
    return engine;
}

}  // namespace

Builder::Builder(Logger* logger) : logger_(logger ? logger : &null_logger()) {}

Expected<std::unique_ptr<Engine>> Builder::build_from_file(const std::string& onnx_path, const BuilderConfig& config) {
    RT_ASSIGN_OR_RETURN(ir::Graph graph, onnx::import_model_file(onnx_path));
    std::string fingerprint;
    if (config.int8) {
        // The calibration cache belongs to these very bytes: other weights give other ranges.
        std::ifstream in(onnx_path, std::ios::binary);
        const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        fingerprint = model_fingerprint(bytes.data(), bytes.size());
    }
    return build_graph(std::move(graph), config, onnx_path, logger_, fingerprint);
}

Expected<std::unique_ptr<Engine>> Builder::build_from_memory(const void* data, size_t size, const BuilderConfig& config,
                                                            const std::string& model_name) {
    RT_ASSIGN_OR_RETURN(ir::Graph graph, onnx::import_model_bytes(data, size, model_name, ""));
    return build_graph(std::move(graph), config, model_name, logger_, model_fingerprint(data, size));
}

Expected<CapabilityReport> Builder::check_capability(const std::string& onnx_path, Backend backend) {
    RT_ASSIGN_OR_RETURN(ir::Graph graph, onnx::import_model_file(onnx_path));
    CapabilityReport report;
    report.node_count = graph.nodes.size();
    for (const auto& name : graph.inputs) {
        ir::Value& v = graph.at(name);
        for (auto& d : v.shape) d = d < 0 ? 1 : d;
        v.shape_known = true;
    }
    const auto& registry = ref::reference_registry();
    std::vector<plugins::MappingFailure> refused;  // nodes whose plugin refused them
    RT_RETURN_IF_ERROR(plugins::map_plugin_nodes(graph, std::vector<std::string>{}, registry, &refused).with_context(onnx_path));
    std::set<std::string> unknown;  // outputs of nodes that failed: their consumers cannot be judged
    for (const auto& node : graph.nodes) {
        std::string reason;
        // Every op the reference runs also runs in a CUDA engine (on the CPU where no CUDA kernel takes it).
        (void)backend;
        for (const auto& r : refused) {
            if (r.node_name == node.name) reason = r.status.message();
        }
        if (!reason.empty()) {
            for (const auto& o : node.outputs) unknown.insert(o);
        } else if (!registry.find(node.domain, node.op_type)) {
            reason = "no kernel implements op '" + (node.domain.empty() ? node.op_type : node.domain + "::" + node.op_type) +
                     "' (opset " + std::to_string(graph.opset(node.domain)) + ")";
        } else {
            bool judged = true;
            for (const auto& in : node.inputs) judged = judged && !unknown.count(in);
            for (const auto& in : node.inputs) {
                const ir::Value* v = in.empty() ? nullptr : graph.find(in);
                if (v && !v->shape_known) judged = false;
            }
            if (judged) {
                auto outs = ir::infer_node(graph, node, registry);
                if (!outs.has_value()) {
                    if (outs.status().code() == StatusCode::kUnsupported) reason = outs.status().message();
                    for (const auto& o : node.outputs) unknown.insert(o);
                } else {
                    for (size_t i = 0; i < node.outputs.size() && i < outs->size(); ++i) {
                        if (node.outputs[i].empty()) continue;
                        ir::Value& v = graph.add_value(node.outputs[i]);
                        v.dtype = (*outs)[i].dtype;
                        v.shape = (*outs)[i].shape;
                        v.shape_known = (*outs)[i].shape_known;
                    }
                }
            } else {
                for (const auto& o : node.outputs) unknown.insert(o);
            }
        }
        if (!reason.empty()) report.unsupported.push_back({node.name, node.op_type, reason});
    }
    return report;
}

}  // namespace rtinfer
