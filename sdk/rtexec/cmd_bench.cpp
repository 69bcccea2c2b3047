// rtexec bench: latency and throughput of an engine, one context (and CUDA stream) per thread.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "rtinfer/engine.h"
#include "sdk/rtexec/args.h"
#include "sdk/rtexec/commands.h"
#include "sdk/rtexec/common.h"

namespace rtexec {

using rtinfer::Status;
using rtinfer::StatusCode;
using Clock = std::chrono::steady_clock;

namespace {

// Lets the timed phase of all streams start together, after every stream finished its warmup.
class StartGate {
public:
    explicit StartGate(int count) : waiting_(count) {}
    void arrive_and_wait() {
        std::unique_lock<std::mutex> lock(mutex_);
        if (--waiting_ == 0) {
            start_ = Clock::now();
            cv_.notify_all();
        } else {
            cv_.wait(lock, [this] { return waiting_ == 0; });
        }
    }
    Clock::time_point start() const { return start_; }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    int waiting_;
    Clock::time_point start_;
};

struct StreamResult {
    Status status;
    std::vector<double> latencies_ms;
    Clock::time_point end;
    std::vector<rtinfer::LayerTiming> layers;  // stream 0 with --profile
};

// One stream's work: its own context, buffers and CUDA stream; warmup, then the timed iterations.
void run_stream(const rtinfer::Engine& engine, int batch, bool set_batch, int stream_index, int64_t warmup,
                int64_t iterations, bool profile, StartGate& gate, DeviceMemoryMeter& memory, StreamResult& result) {
    auto prepare = [&](std::unique_ptr<rtinfer::ExecutionContext>& ctx, Stream& stream,
                       std::vector<TensorBuffer>& buffers) -> Status {
        RT_ASSIGN_OR_RETURN(ctx, engine.create_context());
        if (set_batch) RT_RETURN_IF_ERROR(ctx->set_batch(batch));
        RT_ASSIGN_OR_RETURN(stream, Stream::create(engine.backend()));
        return bind_random_io(engine, *ctx, static_cast<uint64_t>(stream_index) << 32, buffers);
    };
    auto infer = [](rtinfer::ExecutionContext& ctx, const Stream& stream) -> Status {
        RT_RETURN_IF_ERROR(ctx.enqueue(stream.handle()));
        return stream.synchronize();
    };

    std::unique_ptr<rtinfer::ExecutionContext> ctx;
    Stream stream;
    std::vector<TensorBuffer> buffers;
    result.status = prepare(ctx, stream, buffers);
    memory.sample();
    for (int64_t i = 0; result.status && i < warmup; ++i) result.status = infer(*ctx, stream);
    memory.sample();
    // Arrive even after a failure, or the other streams would wait forever.
    gate.arrive_and_wait();
    result.latencies_ms.reserve(static_cast<size_t>(iterations));
    for (int64_t i = 0; result.status && i < iterations; ++i) {
        const auto t0 = Clock::now();
        result.status = infer(*ctx, stream);
        result.latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    result.end = Clock::now();
    memory.sample();
    if (result.status && profile && stream_index == 0) {
        auto layers = ctx->profile(static_cast<int>(std::min<int64_t>(iterations, 1000)), stream.handle());
        if (layers) {
            result.layers = std::move(layers).value();
        } else {
            result.status = layers.status().with_context("profile");
        }
    }
}

// The per-layer profile: time by op type, then the slowest layers.
void print_profile(const std::vector<rtinfer::LayerTiming>& layers, size_t top) {
    double total = 0.0;
    std::map<std::string, std::pair<double, int>> by_type;
    for (const auto& l : layers) {
        total += l.ms;
        auto& t = by_type[l.op_type + " (" + l.backend + ")"];
        t.first += l.ms;
        t.second += 1;
    }
    std::vector<std::pair<std::string, std::pair<double, int>>> types(by_type.begin(), by_type.end());
    std::sort(types.begin(), types.end(), [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
    std::printf("profile: %zu layers, %.4f ms per inference summed layer by layer (queued back to back, no CUDA graph)\n", layers.size(), total);
    std::printf("%-32s %7s %10s %7s\n", "op type (backend)", "layers", "ms", "share");
    for (const auto& [name, t] : types) {
        std::printf("%-32s %7d %10.4f %6.1f%%\n", name.c_str(), t.second, t.first, total > 0 ? 100.0 * t.first / total : 0.0);
    }
    std::vector<const rtinfer::LayerTiming*> order;
    for (const auto& l : layers) order.push_back(&l);
    std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) { return a->ms > b->ms; });
    if (order.size() > top) order.resize(top);
    std::printf("%-48s %-20s %10s\n", "slowest layers", "op type", "ms");
    for (const auto* l : order) std::printf("%-48s %-20s %10.4f\n", l->name.c_str(), l->op_type.c_str(), l->ms);
}

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return 0.0;
    size_t rank = static_cast<size_t>(q * static_cast<double>(sorted.size()) + 0.999999);
    rank = std::min(std::max<size_t>(rank, 1), sorted.size());
    return sorted[rank - 1];
}

}  // namespace

int cmd_bench(const std::vector<std::string>& args) {
    const std::string cmd = "bench";
    EngineSource source;
    std::vector<std::string> plugins;
    int64_t batch = 0, streams = 1, iterations = 100, warmup = 10;

    ArgParser parser(cmd, "(--engine m.engine | --onnx m.onnx) [options]",
                     "Runs the engine on random inputs: each stream is a thread with its own execution context\n"
                     "(and CUDA stream for a cuda engine). Prints a table and a final JSON line.");
    add_engine_source_flags(parser, &source);
    parser.add_int("batch", &batch, "B", "batch for an engine with a dynamic batch (default: the engine's smallest)", 1,
                   1 << 20);
    parser.add_int("streams", &streams, "N", "concurrent streams (default 1)", 1, 256);
    parser.add_int("iterations", &iterations, "K", "timed inferences per stream (default 100)", 1, 100000000);
    parser.add_int("warmup", &warmup, "W", "untimed inferences per stream first (default 10)", 0, 100000000);
    bool profile = false;
    parser.add_flag("profile", &profile,
                    "afterwards, time every layer of stream 0 over the iterations and print time by op type and the "
                    "slowest layers (before the JSON line)");
    parser.add_strings("plugins", &plugins, "LIB", kPluginsHelp);

    Status s = parser.parse(args);
    if (!s) return usage_error(cmd, s);
    if (parser.help_requested()) {
        std::fputs(parser.help_text().c_str(), stdout);
        return kExitOk;
    }
    s = check_engine_source(parser, source);
    if (!s) return usage_error(cmd, s);

    s = load_plugins(plugins);
    if (!s) return runtime_error(cmd, s);
    rtinfer::StderrLogger logger;
    auto loaded = load_engine_source(&source, &logger);
    if (!loaded) return runtime_error(cmd, loaded.status());
    const rtinfer::Engine& engine = **loaded;

    bool dynamic = false;
    for (const auto& d : engine.inputs()) dynamic = dynamic || (!d.dims.empty() && d.dims[0] < 0);
    const bool set_batch = dynamic || parser.given("batch");
    const int chosen_batch = parser.given("batch") ? static_cast<int>(batch) : std::max(1, engine.min_batch());

    const int n = static_cast<int>(streams);
    DeviceMemoryMeter memory(engine.backend());
    StartGate gate(n);
    std::vector<StreamResult> results(static_cast<size_t>(n));
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
        threads.emplace_back(run_stream, std::cref(engine), chosen_batch, set_batch, i, warmup, iterations, profile,
                             std::ref(gate), std::ref(memory), std::ref(results[static_cast<size_t>(i)]));
    }
    for (auto& t : threads) t.join();

    std::vector<double> all;
    Clock::time_point end = gate.start();
    for (int i = 0; i < n; ++i) {
        const auto& r = results[static_cast<size_t>(i)];
        if (!r.status) return runtime_error(cmd, r.status.with_context("stream " + std::to_string(i)));
        all.insert(all.end(), r.latencies_ms.begin(), r.latencies_ms.end());
        end = std::max(end, r.end);
    }
    std::sort(all.begin(), all.end());
    double sum = 0.0;
    for (double v : all) sum += v;
    const double mean = sum / static_cast<double>(all.size());
    const double wall_s = std::chrono::duration<double>(end - gate.start()).count();
    const double ips = wall_s > 0 ? static_cast<double>(all.size()) / wall_s : 0.0;
    // The batch the contexts actually ran (a static engine keeps its own).
    int ran_batch = chosen_batch;
    if (!set_batch) {
        auto ctx = engine.create_context();
        if (ctx) ran_batch = (*ctx)->batch();
    }
    const double items = ips * ran_batch;
    const double p50 = percentile(all, 0.50), p90 = percentile(all, 0.90), p99 = percentile(all, 0.99);

    std::printf("engine %s: backend %s, %d stream(s), batch %d, %lld warmup + %lld timed iterations per stream\n",
                source.engine_path.c_str(), rtinfer::backend_name(engine.backend()), n, ran_batch,
                static_cast<long long>(warmup), static_cast<long long>(iterations));
    std::printf("%7s %6s %10s %10s %10s %10s %10s %10s %12s %12s\n", "streams", "batch", "mean_ms", "p50_ms", "p90_ms",
                "p99_ms", "min_ms", "max_ms", "infer/s", "items/s");
    std::printf("%7d %6d %10.4g %10.4g %10.4g %10.4g %10.4g %10.4g %12.1f %12.1f\n", n, ran_batch, mean, p50, p90, p99,
                all.front(), all.back(), ips, items);
    const rtinfer::MemoryInfo planned = engine.memory();
    const double mib = 1.0 / (1024.0 * 1024.0);
    std::printf("%s\n", peak_memory_line(memory).c_str());
    if (memory.active()) {
        std::printf("device memory: %.1f MiB peak measured (the fall in free device memory from before the first "
                    "context to the last sample, all streams); planned per context: weights %.1f MiB, activations "
                    "%.1f MiB, workspace %.1f MiB\n",
                    static_cast<double>(memory.peak_bytes()) * mib, static_cast<double>(planned.weight_bytes) * mib,
                    static_cast<double>(planned.activation_bytes) * mib, static_cast<double>(planned.workspace_bytes) * mib);
    }
    if (profile) print_profile(results[0].layers, 25);
    std::printf(
        "{\"latency_ms\":{\"mean\":%.6f,\"p50\":%.6f,\"p90\":%.6f,\"p99\":%.6f,\"min\":%.6f,\"max\":%.6f},"
        "\"throughput_ips\":%.3f,\"items_per_s\":%.3f,\"batch\":%d,\"streams\":%d,\"iterations\":%lld,"
        "\"peak_device_bytes\":%llu}\n",
        mean, p50, p90, p99, all.front(), all.back(), ips, items, ran_batch, n, static_cast<long long>(iterations),
        static_cast<unsigned long long>(memory.peak_bytes()));
    return kExitOk;
}

}  // namespace rtexec
