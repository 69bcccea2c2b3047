// EfficientNMS_TRT latency: loads the NMS plugin library through its C ABI (as rtinfer does) and times
// enqueue_cpu and, where a CUDA device is present, enqueue_cuda (launched directly and replayed as a CUDA
// graph, which is how a CUDA engine runs it) on detector-like inputs: 8 images x 8400 boxes x 80 classes,
// and 6 classes, at a deployment score threshold (0.25, 100 detections) and an evaluation one (0.001, 300
// detections). Prints one table row per case and backend: p50 / p99 / mean milliseconds, and whether the
// GPU's detections equal the CPU's. Without a GPU (or built without CUDA) it prints the CPU rows and says
// why the GPU rows are missing.
//
//   nms_bench [--plugin PATH] [--iterations N] [--cpu-iterations N] [--batch N] [--boxes N] [--seed N]
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "rtinfer/plugin.h"
#ifdef RTINFER_BENCH_CUDA
#include <cuda_runtime.h>
#endif

namespace {

// The plugin this build wrote, else one beside the program (bin/../lib/rtinfer/plugins or bin/), for a
// copy of the binaries on another machine.
std::string default_plugin() {
    const std::string built = RTINFER_NMS_PLUGIN_PATH, file = "librtinfer_plugin_nms.so";
    if (::access(built.c_str(), R_OK) == 0) return built;
    char exe[4096] = {};
    const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) return built;
    std::string dir(exe, static_cast<size_t>(n));
    dir = dir.substr(0, dir.rfind('/'));
    for (const std::string& candidate : {dir + "/../lib/rtinfer/plugins/" + file, dir + "/" + file}) {
        if (::access(candidate.c_str(), R_OK) == 0) return candidate;
    }
    return built;
}

struct Options {
    std::string plugin = default_plugin();
    int iterations = 200;  // GPU
    int cpu_iterations = 10;
    int batch = 8;
    int boxes = 8400;
    unsigned seed = 1;
};

struct Case {
    int classes;
    float score_threshold;
    int max_output_boxes;
};

const float kIouThreshold = 0.45f;

struct Inputs {
    std::vector<float> boxes;   // [batch, boxes, 4] corners
    std::vector<float> scores;  // [batch, boxes, classes]
};

// Detector-like data in a 640 x 640 image: 30 objects per image, each seen by about 30 anchors with
// jittered boxes and a confident score (0.3 to 0.95) for its class; every other score is small
// (0.01 * u^6: about a third above 0.001, none above 0.01).
Inputs make_inputs(const Options& o, int classes, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    Inputs in;
    in.boxes.resize(static_cast<size_t>(o.batch) * o.boxes * 4);
    in.scores.resize(static_cast<size_t>(o.batch) * o.boxes * classes);
    for (auto& s : in.scores) s = 0.01f * std::pow(u(rng), 6.0f);
    for (int n = 0; n < o.batch; ++n) {
        float* boxes = &in.boxes[static_cast<size_t>(n) * o.boxes * 4];
        float* scores = &in.scores[static_cast<size_t>(n) * o.boxes * classes];
        for (int a = 0; a < o.boxes; ++a) {
            const float x = 640.0f * u(rng), y = 640.0f * u(rng), w = 10.0f + 200.0f * u(rng),
                        h = 10.0f + 200.0f * u(rng);
            const float b[4] = {x - w / 2, y - h / 2, x + w / 2, y + h / 2};
            std::memcpy(boxes + a * 4, b, sizeof(b));
        }
        for (int object = 0; object < 30; ++object) {
            const float x = 640.0f * u(rng), y = 640.0f * u(rng), w = 20.0f + 200.0f * u(rng),
                        h = 20.0f + 200.0f * u(rng);
            const int cls = static_cast<int>(u(rng) * static_cast<float>(classes)) % classes;
            for (int k = 0; k < 30; ++k) {
                const int a = static_cast<int>(u(rng) * static_cast<float>(o.boxes)) % o.boxes;
                const float jx = (u(rng) - 0.5f) * 0.2f * w, jy = (u(rng) - 0.5f) * 0.2f * h;
                const float b[4] = {x + jx - w / 2, y + jy - h / 2, x + jx + w / 2, y + jy + h / 2};
                std::memcpy(boxes + a * 4, b, sizeof(b));
                scores[static_cast<size_t>(a) * classes + cls] = 0.3f + 0.65f * u(rng);
            }
        }
    }
    return in;
}

struct Stats {
    double p50 = 0, p99 = 0, mean = 0;
};

Stats stats(std::vector<double> ms) {
    Stats s;
    if (ms.empty()) return s;
    std::sort(ms.begin(), ms.end());
    auto at = [&](double q) {
        return ms[std::min(ms.size() - 1, static_cast<size_t>(q * static_cast<double>(ms.size())))];
    };
    s.p50 = at(0.5);
    s.p99 = at(0.99);
    for (double v : ms) s.mean += v;
    s.mean /= static_cast<double>(ms.size());
    return s;
}

// The plugin library and one instance of EfficientNMS_TRT.
class NmsPlugin {
  public:
    bool load(const std::string& path, std::string* error) {
        handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle_) {
            *error = std::string("cannot load the NMS plugin: ") + dlerror() + " (give --plugin PATH)";
            return false;
        }
        auto entry = reinterpret_cast<rt_plugin_get_creators_fn>(dlsym(handle_, RT_PLUGIN_ENTRY_POINT));
        int32_t count = 0;
        const rt_plugin_creator* const* creators = entry ? entry(RT_PLUGIN_ABI_VERSION, &count) : nullptr;
        for (int32_t i = 0; creators && i < count; ++i) {
            if (std::strcmp(creators[i]->name, "EfficientNMS_TRT") == 0) creator_ = creators[i];
        }
        if (!creator_) *error = path + " has no EfficientNMS_TRT plugin";
        return creator_ != nullptr;
    }
    ~NmsPlugin() {
        if (plugin_) plugin_->destroy(plugin_);
        if (handle_) dlclose(handle_);
    }

    bool create(const Case& c, const Options& o, std::string* error) {
        if (plugin_) plugin_->destroy(plugin_);
        const double threshold = c.score_threshold, iou = kIouThreshold;
        rt_plugin_attr attrs[3] = {};
        attrs[0].name = "score_threshold";
        attrs[0].type = RT_PLUGIN_ATTR_FLOAT;
        attrs[0].f = threshold;
        attrs[1].name = "iou_threshold";
        attrs[1].type = RT_PLUGIN_ATTR_FLOAT;
        attrs[1].f = iou;
        attrs[2].name = "max_output_boxes";
        attrs[2].type = RT_PLUGIN_ATTR_INT;
        attrs[2].i = c.max_output_boxes;
        char message[512] = {};
        rt_plugin_error err{message, sizeof(message)};
        plugin_ = creator_->create(creator_, "nms", attrs, 3, &err);
        if (!plugin_) {
            *error = std::string("create failed: ") + message;
            return false;
        }
        in_[0] = desc(3, o.batch, o.boxes, 4);
        in_[1] = desc(3, o.batch, o.boxes, c.classes);
        if (plugin_->get_output_descs(plugin_, in_, 2, out_, 4, &err) != RT_PLUGIN_OK) {
            *error = std::string("get_output_descs failed: ") + message;
            return false;
        }
        workspace_ = plugin_->get_workspace_size(plugin_, in_, 2, out_, 4);
        return true;
    }

    bool has_cuda() const { return plugin_ && plugin_->enqueue_cuda; }
    size_t workspace() const { return workspace_; }
    size_t output_bytes(int i) const {
        size_t n = 4;
        for (int d = 0; d < out_[i].rank; ++d) n *= static_cast<size_t>(out_[i].dims[d]);
        return n;
    }

    // inputs: boxes, scores; outputs: the four NMS outputs; host or device pointers.
    int32_t enqueue(bool cuda, const void* const* inputs, void* const* outputs, void* workspace, void* stream,
                    std::string* error) const {
        rt_plugin_io io{};
        io.abi_version = RT_PLUGIN_ABI_VERSION;
        io.struct_size = sizeof(rt_plugin_io);
        io.num_inputs = 2;
        io.num_outputs = 4;
        io.input_descs = in_;
        io.output_descs = out_;
        io.inputs = inputs;
        io.outputs = outputs;
        io.workspace = workspace;
        io.workspace_size = workspace_;
        io.stream = stream;
        char message[512] = {};
        rt_plugin_error err{message, sizeof(message)};
        const int32_t code =
            cuda ? plugin_->enqueue_cuda(plugin_, &io, &err) : plugin_->enqueue_cpu(plugin_, &io, &err);
        if (code != RT_PLUGIN_OK) *error = message;
        return code;
    }

  private:
    static rt_plugin_tensor_desc desc(int32_t rank, int64_t d0, int64_t d1, int64_t d2) {
        rt_plugin_tensor_desc d{};
        d.dtype = RT_PLUGIN_DTYPE_FLOAT32;
        d.rank = rank;
        d.dims[0] = d0;
        d.dims[1] = d1;
        d.dims[2] = d2;
        return d;
    }

    void* handle_ = nullptr;
    const rt_plugin_creator* creator_ = nullptr;
    rt_plugin* plugin_ = nullptr;
    rt_plugin_tensor_desc in_[2] = {}, out_[4] = {};
    size_t workspace_ = 0;
};

struct Result {
    Stats ms;
    int iterations = 0;
    std::vector<std::vector<uint8_t>> outputs;
    std::string error;
};

Result time_cpu(const NmsPlugin& nms, const Inputs& in, int iterations) {
    Result r;
    for (int i = 0; i < 4; ++i) r.outputs.emplace_back(nms.output_bytes(i));
    std::vector<uint8_t> workspace(nms.workspace() + 256);
    void* ws = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(workspace.data()) + 255) & ~uintptr_t(255));
    const void* inputs[2] = {in.boxes.data(), in.scores.data()};
    void* outputs[4] = {r.outputs[0].data(), r.outputs[1].data(), r.outputs[2].data(), r.outputs[3].data()};
    std::vector<double> ms;
    for (int i = -1; i < iterations; ++i) {  // one warm-up run
        const auto t0 = std::chrono::steady_clock::now();
        if (nms.enqueue(false, inputs, outputs, ws, nullptr, &r.error) != RT_PLUGIN_OK) return r;
        const auto t1 = std::chrono::steady_clock::now();
        if (i >= 0) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    r.ms = stats(ms);
    r.iterations = iterations;
    return r;
}

#ifdef RTINFER_BENCH_CUDA

// Empty when a CUDA device is usable, else why not; `name` receives the device's name.
std::string gpu_absent_reason(std::string* name) {
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        cudaGetLastError();
        return std::string("no CUDA device (") + cudaGetErrorString(err) + ")";
    }
    if (count == 0) return "no CUDA device";
    cudaDeviceProp prop{};
    cudaGetDeviceProperties(&prop, 0);
    *name = std::string(prop.name) + ", sm_" + std::to_string(prop.major) + std::to_string(prop.minor);
    return "";
}

#define BENCH_CUDA(call)                                                  \
    do {                                                                  \
        const cudaError_t e_ = (call);                                    \
        if (e_ != cudaSuccess) {                                          \
            r.error = std::string(#call) + ": " + cudaGetErrorString(e_); \
            return r;                                                     \
        }                                                                 \
    } while (0)

// Device buffers of one case, freed on scope exit.
struct DeviceBuffers {
    std::vector<void*> ptrs;
    ~DeviceBuffers() {
        for (void* p : ptrs) cudaFree(p);
    }
    void* add(size_t bytes) {
        void* p = nullptr;
        if (cudaMalloc(&p, std::max<size_t>(bytes, 1)) != cudaSuccess) return nullptr;
        ptrs.push_back(p);
        return p;
    }
};

// graph: capture one enqueue into a CUDA graph and time its replays.
Result time_cuda(const NmsPlugin& nms, const Inputs& in, int iterations, bool graph) {
    Result r;
    DeviceBuffers mem;
    void* boxes = mem.add(in.boxes.size() * 4);
    void* scores = mem.add(in.scores.size() * 4);
    void* ws = mem.add(nms.workspace());
    void* outputs[4];
    for (int i = 0; i < 4; ++i) outputs[i] = mem.add(nms.output_bytes(i));
    if (!boxes || !scores || !ws || !outputs[0] || !outputs[1] || !outputs[2] || !outputs[3]) {
        r.error = "cudaMalloc failed (workspace " + std::to_string(nms.workspace()) + " bytes)";
        return r;
    }
    BENCH_CUDA(cudaMemcpy(boxes, in.boxes.data(), in.boxes.size() * 4, cudaMemcpyHostToDevice));
    BENCH_CUDA(cudaMemcpy(scores, in.scores.data(), in.scores.size() * 4, cudaMemcpyHostToDevice));
    cudaStream_t stream = nullptr;
    cudaEvent_t start = nullptr, stop = nullptr;
    BENCH_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    BENCH_CUDA(cudaEventCreate(&start));
    BENCH_CUDA(cudaEventCreate(&stop));
    cudaGraphExec_t exec = nullptr;
    const void* inputs[2] = {boxes, scores};
    auto launch = [&]() -> bool {
        if (exec) return cudaGraphLaunch(exec, stream) == cudaSuccess;
        return nms.enqueue(true, inputs, outputs, ws, stream, &r.error) == RT_PLUGIN_OK;
    };
    if (graph) {
        cudaGraph_t g = nullptr;
        BENCH_CUDA(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
        const bool ok = launch();
        BENCH_CUDA(cudaStreamEndCapture(stream, &g));
        if (!ok) return r;
        BENCH_CUDA(cudaGraphInstantiate(&exec, g, 0));
        cudaGraphDestroy(g);
    }
    std::vector<double> ms;
    for (int i = -10; i < iterations; ++i) {  // ten warm-up runs
        BENCH_CUDA(cudaEventRecord(start, stream));
        if (!launch()) {
            if (r.error.empty()) r.error = "graph launch failed";
            return r;
        }
        BENCH_CUDA(cudaEventRecord(stop, stream));
        BENCH_CUDA(cudaEventSynchronize(stop));
        float elapsed = 0.0f;
        BENCH_CUDA(cudaEventElapsedTime(&elapsed, start, stop));
        if (i >= 0) ms.push_back(elapsed);
    }
    for (int i = 0; i < 4; ++i) {
        r.outputs.emplace_back(nms.output_bytes(i));
        BENCH_CUDA(cudaMemcpy(r.outputs.back().data(), outputs[i], r.outputs.back().size(), cudaMemcpyDeviceToHost));
    }
    if (exec) cudaGraphExecDestroy(exec);
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    cudaStreamDestroy(stream);
    r.ms = stats(ms);
    r.iterations = iterations;
    return r;
}

#endif  // RTINFER_BENCH_CUDA

void print_row(const Case& c, double candidates, const char* backend, const Result& r, const char* same) {
    if (!r.error.empty()) {
        std::printf("%7d  %9g  %4d  %16.0f  %-10s  error: %s\n", c.classes, static_cast<double>(c.score_threshold),
                    c.max_output_boxes, candidates, backend, r.error.c_str());
        return;
    }
    std::printf("%7d  %9g  %4d  %16.0f  %-10s  %6d  %9.3f  %9.3f  %9.3f  %s\n", c.classes,
                static_cast<double>(c.score_threshold), c.max_output_boxes, candidates, backend, r.iterations, r.ms.p50,
                r.ms.p99, r.ms.mean, same);
}

bool parse(int argc, char** argv, Options* o) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool has_value = i + 1 < argc;
        if (a == "--plugin" && has_value) {
            o->plugin = argv[++i];
        } else if (a == "--iterations" && has_value) {
            o->iterations = std::atoi(argv[++i]);
        } else if (a == "--cpu-iterations" && has_value) {
            o->cpu_iterations = std::atoi(argv[++i]);
        } else if (a == "--batch" && has_value) {
            o->batch = std::atoi(argv[++i]);
        } else if (a == "--boxes" && has_value) {
            o->boxes = std::atoi(argv[++i]);
        } else if (a == "--seed" && has_value) {
            o->seed = static_cast<unsigned>(std::atoi(argv[++i]));
        } else {
            std::fprintf(stderr,
                         "usage: nms_bench [--plugin PATH] [--iterations N] [--cpu-iterations N] [--batch N] "
                         "[--boxes N] [--seed N]\n");
            return false;
        }
    }
    if (o->iterations < 1 || o->cpu_iterations < 1 || o->batch < 1 || o->boxes < 1) {
        std::fprintf(stderr, "nms_bench: iterations, batch and boxes must be at least 1\n");
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (!parse(argc, argv, &o)) return 2;
    NmsPlugin nms;
    std::string error;
    if (!nms.load(o.plugin, &error)) {
        std::fprintf(stderr, "nms_bench: error: %s\n", error.c_str());
        return 1;
    }
    std::string gpu_name;
#ifdef RTINFER_BENCH_CUDA
    const std::string gpu_absent = gpu_absent_reason(&gpu_name);
#else
    const std::string gpu_absent = "this build has no CUDA";
#endif
    std::printf("EfficientNMS_TRT latency, %d images x %d boxes, IoU threshold %g, plugin %s\n", o.batch, o.boxes,
                static_cast<double>(kIouThreshold), o.plugin.c_str());
    std::printf("GPU: %s\n",
                gpu_absent.empty() ? gpu_name.c_str() : ("absent: " + gpu_absent + "; CPU rows only").c_str());
    std::printf(
        "cpu: enqueue_cpu, one thread; cuda: enqueue_cuda launched directly; cuda graph: replayed CUDA graph\n");
    std::printf("ms per batch: the wall clock around each CPU run, CUDA events around each GPU run\n\n");
    std::printf("%7s  %9s  %4s  %16s  %-10s  %6s  %9s  %9s  %9s  %s\n", "classes", "threshold", "K", "candidates/image",
                "backend", "iters", "p50 ms", "p99 ms", "mean ms", "same as cpu");

    const Case cases[] = {{80, 0.25f, 100}, {6, 0.25f, 100}, {80, 0.001f, 300}, {6, 0.001f, 300}};
    int failures = 0;
    for (const Case& c : cases) {
        const Inputs in = make_inputs(o, c.classes, o.seed + static_cast<unsigned>(c.classes));
        size_t passing = 0;
        for (float s : in.scores) passing += s > c.score_threshold;
        const double candidates = static_cast<double>(passing) / o.batch;
        if (!nms.create(c, o, &error)) {
            std::fprintf(stderr, "nms_bench: error: %s\n", error.c_str());
            return 1;
        }
        const Result cpu = time_cpu(nms, in, o.cpu_iterations);
        print_row(c, candidates, "cpu", cpu, "");
        failures += !cpu.error.empty();
#ifdef RTINFER_BENCH_CUDA
        if (gpu_absent.empty() && nms.has_cuda()) {
            for (bool graph : {false, true}) {
                const Result gpu = time_cuda(nms, in, o.iterations, graph);
                const bool same = gpu.error.empty() && cpu.error.empty() && gpu.outputs == cpu.outputs;
                print_row(c, candidates, graph ? "cuda graph" : "cuda", gpu, same ? "yes" : "NO");
                failures += !gpu.error.empty() || !same;
            }
        }
#endif
        std::fflush(stdout);
    }
    if (gpu_absent.empty() && !nms.has_cuda())
        std::printf("\nthe plugin library has no CUDA enqueue: GPU rows skipped\n");
    return failures ? 1 : 0;
}
