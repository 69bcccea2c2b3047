#include "pipelines/runner/shared_model.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <thread>

#include "core/ir/half.h"
#include "pipelines/runner/engine_cache.h"
#include "rtinfer/engine.h"

#ifdef RTINFER_HAVE_CUDA
#include <cuda_runtime.h>
#endif
#ifdef RTINFER_HAVE_PREPROCESS_CUDA
#include "pipelines/preprocess/cuda_preprocess.h"
#endif

namespace rtinfer::pipelines {

namespace {

using Clock = std::chrono::steady_clock;

std::atomic<int> g_live{0};

int64_t numel(const std::vector<int64_t>& dims, size_t from) {
    int64_t n = 1;
    for (size_t i = from; i < dims.size(); ++i) n *= dims[i];
    return n;
}

// Batch sizes that get their own execution context (and CUDA graph): powers of two up to the maximum, and the
// maximum itself. A batch of n frames runs on the smallest such size ≥ n with the spare slots zero.
int run_size(int n, int max_batch) {
    int size = 1;
    while (size < n) size *= 2;
    return std::min(size, max_batch);
}

void to_float(DataType type, const uint8_t* src, int64_t count, float* dst) {
    switch (type) {
        case DataType::kFloat32: std::memcpy(dst, src, static_cast<size_t>(count) * 4); return;
        case DataType::kFloat16: {
            const auto* h = reinterpret_cast<const uint16_t*>(src);
            for (int64_t i = 0; i < count; ++i) dst[i] = ir::half_to_float(h[i]);
            return;
        }
        case DataType::kInt32: {
            const auto* v = reinterpret_cast<const int32_t*>(src);
            for (int64_t i = 0; i < count; ++i) dst[i] = static_cast<float>(v[i]);
            return;
        }
        case DataType::kInt64: {
            const auto* v = reinterpret_cast<const int64_t*>(src);
            for (int64_t i = 0; i < count; ++i) dst[i] = static_cast<float>(v[i]);
            return;
        }
        case DataType::kInt8: {
            const auto* v = reinterpret_cast<const int8_t*>(src);
            for (int64_t i = 0; i < count; ++i) dst[i] = v[i];
            return;
        }
        case DataType::kUInt8:
        case DataType::kBool:
            for (int64_t i = 0; i < count; ++i) dst[i] = src[i];
            return;
        default: std::fill(dst, dst + count, 0.0f); return;
    }
}

struct OutputInfo {
    std::string name;
    DataType type = DataType::kUndefined;
    std::vector<int64_t> shape;  // per image
    int64_t count = 0;           // elements per image
    size_t bytes = 0;            // bytes per image
};

enum class BatchState { kFree, kFilling, kClosed, kDone };

struct Batch {
    BatchState state = BatchState::kFree;
    int claimed = 0;
    int ready = 0;
    int released = 0;
    Clock::time_point deadline;
    float* host_input = nullptr;         // CPU pre-processing: max_batch images (pinned for the cuda backend)
    bool pinned = false;
    std::condition_variable done;        // the batch has run
    void* device_input = nullptr;        // GPU pre-processing: max_batch images in device memory
    std::vector<Placement> placements;   // per slot
    std::vector<Status> slot_status;     // per slot: the pre-processing result
    std::vector<std::vector<uint8_t>> outputs;  // per output: max_batch images, host memory
    std::vector<uint8_t*> output_data;   // per output: where its results are read (outputs, or mapped memory)
    Status status;                       // the inference result
    // Integrated-GPU memory mode (zero copy): the GPU reads host_input and writes the outputs where they are,
    // through their mapped device addresses; each batch has its own contexts, so that the addresses each
    // context (and its CUDA graph) is bound to stay the same.
    void* input_device = nullptr;        // host_input as the GPU sees it
    std::vector<void*> output_device;    // output_data as the GPU sees it
    std::map<int, std::unique_ptr<ExecutionContext>> contexts;  // by run size
};

void log(Logger* logger, Severity severity, const std::string& message) {
    if (logger != nullptr) logger->log(severity, message.c_str());
}

}  // namespace

struct SharedModel::Impl {
    config::ModelConfig config;
    SharedModelOptions options;
    Logger* logger = nullptr;
    Backend backend = Backend::kCpu;
    bool gpu_pre = false;
    std::unique_ptr<Engine> engine;
    std::map<int, std::unique_ptr<ExecutionContext>> contexts;  // by run size (executor thread only)
    bool zero_copy = false;  // integrated-GPU memory mode with the cuda backend
    std::string input_name;
    int input_w = 0, input_h = 0, channels = 0;
    int64_t image_elems = 0;
    std::vector<OutputInfo> outputs;
    int max_batch = 1;

    std::mutex mutex;
    // Who waits for what, so that a wake-up reaches only those it concerns: the executor (a batch to close or
    // to run), streams waiting for a slot (a batch closed or freed), and each batch's streams (Batch::done).
    std::condition_variable executor_cv;
    std::condition_variable slot_cv;
    std::vector<std::unique_ptr<Batch>> batches;
    Batch* filling = nullptr;
    int streams = 0;
    bool stopping = false;
    std::thread executor;
    std::atomic<int64_t> infer_us{0};

#ifdef RTINFER_HAVE_CUDA
    cudaStream_t stream = nullptr;
    void* device_input = nullptr;
    std::vector<void*> device_outputs;
#endif

    ~Impl();
    Status init();
    void run_executor();
    Status run_batch(Batch& batch);
    Status preprocess_into(Batch& batch, int slot, const FrameView& frame);
    Expected<FrameOutput> decode(const Batch& batch, int slot, int frame_w, int frame_h) const;
};

SharedModel::Impl::~Impl() {
    {
        std::lock_guard<std::mutex> lock(mutex);
        stopping = true;
    }
    executor_cv.notify_all();
    if (executor.joinable()) executor.join();
    contexts.clear();
    for (auto& b : batches) {
        b->contexts.clear();
#ifdef RTINFER_HAVE_CUDA
        if (zero_copy) {
            for (size_t i = 0; i < b->output_data.size(); ++i) cudaFreeHost(b->output_data[i]);
        }
        if (b->pinned) {
            cudaFreeHost(b->host_input);
            continue;
        }
#endif
        std::free(b->host_input);
    }
#ifdef RTINFER_HAVE_CUDA
    if (backend == Backend::kCuda) {
        for (auto& b : batches) cudaFree(b->device_input);
        cudaFree(device_input);
        for (void* p : device_outputs) cudaFree(p);
        if (stream) cudaStreamDestroy(stream);
    }
#endif
}

Status SharedModel::Impl::init() {
    const std::string& src = config.source;
    backend = choose_backend(config.model);
    RT_ASSIGN_OR_RETURN(engine, load_or_build_engine(config, backend, logger));
    backend = engine->backend();
    max_batch = std::max(1, std::min(config.model.batch, engine->max_batch()));
    if (engine->min_batch() > 1) {
        return Status(StatusCode::kInvalidArgument,
                      src + ": the engine's smallest batch is " + std::to_string(engine->min_batch()) +
                          "; streams need batch 1 to run alone");
    }

    // The input tensor: the configured one or the only one, float32, channels and layout as configured.
    const auto& ins = engine->inputs();
    const TensorDesc* in = nullptr;
    if (config.input.tensor.empty()) {
        if (ins.size() != 1)
            return Status(StatusCode::kInvalidArgument,
                          src + ": input.tensor: the model has " + std::to_string(ins.size()) + " inputs; name one");
        in = &ins[0];
    } else {
        for (const auto& d : ins)
            if (d.name == config.input.tensor) in = &d;
        if (!in)
            return Status(StatusCode::kInvalidArgument,
                          src + ": input.tensor: the model has no input '" + config.input.tensor + "'");
    }
    input_name = in->name;
    if (in->type != DataType::kFloat32 || in->dims.size() != 4) {
        return Status(StatusCode::kInvalidArgument, src + ": input '" + in->name +
                                                        "' must be a float32 image batch [N,C,H,W] or [N,H,W,C]");
    }
    const bool nchw = config.input.layout == config::Layout::kNchw;
    channels = static_cast<int>(nchw ? in->dims[1] : in->dims[3]);
    input_h = static_cast<int>(nchw ? in->dims[2] : in->dims[1]);
    input_w = static_cast<int>(nchw ? in->dims[3] : in->dims[2]);
    if (channels != config.input.channels()) {
        return Status(StatusCode::kInvalidArgument,
                      src + ": input.color " + config::color_order_name(config.input.color) + " gives " +
                          std::to_string(config.input.channels()) + " channels, but input '" + in->name + "' has " +
                          std::to_string(channels) + " (input.layout " + config::layout_name(config.input.layout) +
                          ")");
    }
    if (config.input.width != 0 && (config.input.width != input_w || config.input.height != input_h)) {
        return Status(StatusCode::kInvalidArgument,
                      src + ": input.width/height " + std::to_string(config.input.width) + "x" +
                          std::to_string(config.input.height) + " differ from the model's " + std::to_string(input_w) +
                          "x" + std::to_string(input_h));
    }
    image_elems = numel(in->dims, 1);

    for (const auto& d : engine->outputs()) {
        OutputInfo o;
        o.name = d.name;
        o.type = d.type;
        o.shape.assign(d.dims.begin() + (d.dims.empty() ? 0 : 1), d.dims.end());
        for (int64_t v : o.shape) {
            if (v < 0)
                return Status(StatusCode::kUnsupported,
                              src + ": output '" + d.name + "' has a data-dependent shape, which streams cannot batch");
        }
        o.count = numel(o.shape, 0);
        o.bytes = static_cast<size_t>(o.count) * data_type_size(d.type);
        outputs.push_back(o);
    }

#ifdef RTINFER_HAVE_PREPROCESS_CUDA
    gpu_pre = backend == Backend::kCuda && options.preprocess != PreprocessPlace::kCpu;
#else
    if (options.preprocess == PreprocessPlace::kGpu)
        return Status(StatusCode::kUnsupported, src + ": GPU pre-processing needs a build with CUDA");
#endif
    if (options.preprocess == PreprocessPlace::kGpu && backend != Backend::kCuda)
        return Status(StatusCode::kInvalidArgument, src + ": GPU pre-processing needs the cuda backend");

    [[maybe_unused]] const size_t input_bytes = static_cast<size_t>(image_elems) * max_batch * sizeof(float);
#ifdef RTINFER_HAVE_CUDA
    zero_copy = backend == Backend::kCuda && integrated_memory_mode();
    if (backend == Backend::kCuda) {
        auto check = [&](cudaError_t e, const char* what) {
            return e == cudaSuccess ? Status()
                                    : Status(StatusCode::kCudaError, src + ": " + what + ": " + cudaGetErrorString(e));
        };
        RT_RETURN_IF_ERROR(check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate"));
        RT_RETURN_IF_ERROR(check(cudaMalloc(&device_input, input_bytes), "cudaMalloc"));
        RT_RETURN_IF_ERROR(check(cudaMemset(device_input, 0, input_bytes), "cudaMemset"));
        for (const auto& o : outputs) {
            void* p = nullptr;
            RT_RETURN_IF_ERROR(check(cudaMalloc(&p, std::max<size_t>(64, o.bytes * max_batch)), "cudaMalloc"));
            device_outputs.push_back(p);
        }
    }
#endif
    // Three batches: one running, one filling, one being read back by its streams.
    for (int i = 0; i < 3; ++i) {
        auto b = std::make_unique<Batch>();
        b->placements.resize(max_batch);
        b->slot_status.resize(max_batch);
#ifdef RTINFER_HAVE_CUDA
        // Pinned: the frames' tensors go to the GPU at full speed, and the copy does not stage through the driver.
        if (!gpu_pre && backend == Backend::kCuda) {
            void* p = nullptr;
            if (cudaHostAlloc(&p, input_bytes, zero_copy ? cudaHostAllocMapped : cudaHostAllocDefault) == cudaSuccess) {
                b->host_input = static_cast<float*>(p);
                b->pinned = true;
                if (zero_copy && cudaHostGetDevicePointer(&b->input_device, p, 0) != cudaSuccess)
                    return Status(StatusCode::kCudaError, src + ": no device address for the mapped input batch");
            }
        }
#endif
        if (!gpu_pre && !b->host_input) {
            b->host_input = static_cast<float*>(std::calloc(static_cast<size_t>(image_elems) * max_batch, sizeof(float)));
            if (!b->host_input) return Status(StatusCode::kOutOfMemory, src + ": cannot allocate the input batch");
        }
#ifdef RTINFER_HAVE_CUDA
        if (gpu_pre) {
            cudaError_t e = cudaMalloc(&b->device_input, input_bytes);
            if (e == cudaSuccess) e = cudaMemset(b->device_input, 0, input_bytes);
            if (e != cudaSuccess)
                return Status(StatusCode::kCudaError, src + ": cudaMalloc: " + cudaGetErrorString(e));
        }
#endif
        for (const auto& o : outputs) {
            const size_t bytes = std::max<size_t>(1, o.bytes * max_batch);
#ifdef RTINFER_HAVE_CUDA
            if (zero_copy) {
                void* p = nullptr;
                void* dev = nullptr;
                cudaError_t e = cudaHostAlloc(&p, bytes, cudaHostAllocMapped);
                if (e == cudaSuccess) b->output_data.push_back(static_cast<uint8_t*>(p));
                if (e == cudaSuccess) e = cudaHostGetDevicePointer(&dev, p, 0);
                if (e != cudaSuccess)
                    return Status(StatusCode::kCudaError, src + ": mapped output batch: " + cudaGetErrorString(e));
                b->output_device.push_back(dev);
                continue;
            }
#endif
            b->outputs.emplace_back(bytes);
            b->output_data.push_back(b->outputs.back().data());
        }
        batches.push_back(std::move(b));
    }
    executor = std::thread([this] { run_executor(); });
    log(logger, Severity::kInfo,
        src + ": model ready (" + backend_name(backend) + ", batch up to " + std::to_string(max_batch) + ", " +
            (gpu_pre ? "GPU" : "CPU") + " pre-processing)");
    return Status();
}

void SharedModel::Impl::run_executor() {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
        // Close the filling batch once it is full, every stream has a frame in it, or its time is up.
        Batch* batch = nullptr;
        while (!stopping) {
            Batch* f = filling;
            if (f && f->claimed > 0) {
                const bool full = f->claimed >= max_batch || (streams > 0 && f->claimed >= streams);
                if (full || Clock::now() >= f->deadline) {
                    batch = f;
                    break;
                }
                executor_cv.wait_until(lock, f->deadline);
            } else {
                executor_cv.wait(lock);
            }
        }
        if (!batch) return;
        batch->state = BatchState::kClosed;
        filling = nullptr;
        slot_cv.notify_all();
        executor_cv.wait(lock, [&] { return batch->ready == batch->claimed; });
        lock.unlock();
        const auto start = Clock::now();
        Status s = run_batch(*batch);
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
        infer_us = (infer_us.load() * 7 + us) / 8;
        lock.lock();
        batch->status = s;
        batch->state = BatchState::kDone;
        batch->done.notify_all();
    }
}

Status SharedModel::Impl::run_batch(Batch& batch) {
    const int n = batch.claimed;
    const int size = run_size(n, max_batch);
#ifdef RTINFER_HAVE_CUDA
    if (zero_copy) {
        if (!gpu_pre && !batch.input_device) return Status(StatusCode::kCudaError, "the input batch is not host-mapped");
        // No copies: the context reads this batch's input and writes its outputs where the streams find them.
        auto& own = batch.contexts[size];
        if (!own) {
            RT_ASSIGN_OR_RETURN(own, engine->create_context());
            RT_RETURN_IF_ERROR(own->set_batch(size));
        }
        RT_RETURN_IF_ERROR(own->set_tensor_address(input_name, gpu_pre ? batch.device_input : batch.input_device));
        for (size_t i = 0; i < outputs.size(); ++i)
            RT_RETURN_IF_ERROR(own->set_tensor_address(outputs[i].name, batch.output_device[i]));
        RT_RETURN_IF_ERROR(own->enqueue(stream));
        const cudaError_t e = cudaStreamSynchronize(stream);
        return e == cudaSuccess ? Status() : Status(StatusCode::kCudaError, std::string("inference: ") + cudaGetErrorString(e));
    }
#endif
    auto& ctx = contexts[size];
    if (!ctx) {
        RT_ASSIGN_OR_RETURN(ctx, engine->create_context());
        RT_RETURN_IF_ERROR(ctx->set_batch(size));
    }
    [[maybe_unused]] const size_t image_bytes = static_cast<size_t>(image_elems) * sizeof(float);
    if (backend == Backend::kCpu) {
        // Spare slots of a rounded-up batch hold the previous batch's frames: harmless, never read.
        RT_RETURN_IF_ERROR(ctx->set_tensor_address(input_name, batch.host_input));
        for (size_t i = 0; i < outputs.size(); ++i)
            RT_RETURN_IF_ERROR(ctx->set_tensor_address(outputs[i].name, batch.output_data[i]));
        return ctx->enqueue();
    }
#ifdef RTINFER_HAVE_CUDA
    auto check = [](cudaError_t e, const char* what) {
        return e == cudaSuccess ? Status() : Status(StatusCode::kCudaError, std::string(what) + ": " + cudaGetErrorString(e));
    };
    const void* src = gpu_pre ? batch.device_input : static_cast<const void*>(batch.host_input);
    RT_RETURN_IF_ERROR(check(cudaMemcpyAsync(device_input, src, image_bytes * n,
                                             gpu_pre ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice, stream),
                             "input copy"));
    RT_RETURN_IF_ERROR(ctx->set_tensor_address(input_name, device_input));
    for (size_t i = 0; i < outputs.size(); ++i)
        RT_RETURN_IF_ERROR(ctx->set_tensor_address(outputs[i].name, device_outputs[i]));
    RT_RETURN_IF_ERROR(ctx->enqueue(stream));
    for (size_t i = 0; i < outputs.size(); ++i) {
        RT_RETURN_IF_ERROR(check(cudaMemcpyAsync(batch.output_data[i], device_outputs[i], outputs[i].bytes * n,
                                                 cudaMemcpyDeviceToHost, stream),
                                 "output copy"));
    }
    return check(cudaStreamSynchronize(stream), "inference");
#else
    return Status(StatusCode::kUnsupported, "this build has no CUDA backend");
#endif
}

Status SharedModel::Impl::preprocess_into(Batch& batch, int slot, const FrameView& frame) {
    Placement* placement = &batch.placements[static_cast<size_t>(slot)];
#ifdef RTINFER_HAVE_PREPROCESS_CUDA
    if (gpu_pre) {
        // Each streaming thread keeps its own device frame buffer and CUDA stream: the frame goes up, one kernel
        // writes the input slot, and the slot is complete when the stream is.
        // The frame is first copied into pinned memory: copies from pageable memory go through the driver's
        // own staging one at a time, while pinned copies of many streams run at once at full speed.
        struct Stage {
            DeviceFrameBuffer buffer;
            cudaStream_t stream = nullptr;
            uint8_t* pinned = nullptr;
            size_t pinned_bytes = 0;
            ~Stage() {
                if (stream) cudaStreamDestroy(stream);
                if (pinned) cudaFreeHost(pinned);
            }
        };
        thread_local Stage stage;
        if (!stage.stream) {
            const cudaError_t e = cudaStreamCreateWithFlags(&stage.stream, cudaStreamNonBlocking);
            if (e != cudaSuccess) return Status(StatusCode::kCudaError, std::string("cudaStreamCreate: ") + cudaGetErrorString(e));
        }
        RT_RETURN_IF_ERROR(check_frame(frame));
        FrameView staged = frame;
        const PlaneLayout layout = plane_layout(frame);
        // A plane's bytes: full strides, except the last row, which may end at its last pixel.
        size_t plane_bytes[3] = {0, 0, 0}, bytes = 0;
        for (int p = 0; p < layout.planes; ++p) {
            plane_bytes[p] = static_cast<size_t>(frame.strides[p]) * (layout.rows[p] - 1) + layout.row_bytes[p];
            bytes += plane_bytes[p];
        }
        if (bytes > stage.pinned_bytes) {
            if (stage.pinned) cudaFreeHost(stage.pinned);
            stage.pinned = nullptr;
            stage.pinned_bytes = 0;
            void* p = nullptr;
            if (cudaHostAlloc(&p, bytes, cudaHostAllocDefault) == cudaSuccess) {
                stage.pinned = static_cast<uint8_t*>(p);
                stage.pinned_bytes = bytes;
            }
        }
        if (stage.pinned) {  // without pinned memory the upload reads the frame where it is
            size_t offset = 0;
            for (int p = 0; p < layout.planes; ++p) {
                std::memcpy(stage.pinned + offset, frame.planes[p], plane_bytes[p]);
                staged.planes[p] = stage.pinned + offset;
                offset += plane_bytes[p];
            }
        }
        RT_ASSIGN_OR_RETURN(FrameView device_frame, stage.buffer.upload(staged, stage.stream));
        float* out = static_cast<float*>(batch.device_input) + image_elems * slot;
        RT_RETURN_IF_ERROR(preprocess_frame_cuda(device_frame, config.input, input_w, input_h, out, stage.stream, placement));
        const cudaError_t e = cudaStreamSynchronize(stage.stream);
        if (e != cudaSuccess) return Status(StatusCode::kCudaError, std::string("pre-processing: ") + cudaGetErrorString(e));
        return Status();
    }
#endif
    return preprocess_frame(frame, config.input, input_w, input_h, batch.host_input + image_elems * slot,
                            placement);
}

Expected<FrameOutput> SharedModel::Impl::decode(const Batch& batch, int slot, int frame_w, int frame_h) const {
    FrameOutput out;
    out.placement = batch.placements[static_cast<size_t>(slot)];
    out.input_width = input_w;
    out.input_height = input_h;
    out.batch_size = batch.claimed;
    // This frame's slice of every output, as float32.
    std::vector<std::vector<float>> data(outputs.size());
    for (size_t i = 0; i < outputs.size(); ++i) {
        data[i].resize(static_cast<size_t>(outputs[i].count));
        to_float(outputs[i].type, batch.output_data[i] + outputs[i].bytes * slot, outputs[i].count, data[i].data());
    }
    auto find = [&](const std::string& name) -> Expected<size_t> {
        if (name.empty()) {
            if (outputs.size() != 1)
                return Status(StatusCode::kInvalidArgument,
                              config.source + ": the model has " + std::to_string(outputs.size()) +
                                  " outputs; name the one to decode");
            return size_t{0};
        }
        for (size_t i = 0; i < outputs.size(); ++i)
            if (outputs[i].name == name) return i;
        return Status(StatusCode::kInvalidArgument, config.source + ": the model has no output '" + name + "'");
    };
    auto view = [&](size_t i) { return TensorView{data[i].data(), outputs[i].shape}; };
    const auto& o = config.output;
    switch (o.task) {
        case config::Task::kClassifier: {
            RT_ASSIGN_OR_RETURN(size_t i, find(o.classifier.tensor));
            RT_ASSIGN_OR_RETURN(out.classes, decode_classifier(o.classifier, view(i)));
            break;
        }
        case config::Task::kDetector: {
            std::vector<TensorView> views;
            const int want = config::DetectorOutput::tensor_count(o.detector.format);
            if (o.detector.tensors.empty()) {
                if (static_cast<int>(outputs.size()) < want)
                    return Status(StatusCode::kInvalidArgument,
                                  config.source + ": output.detector: the format " +
                                      config::detector_format_name(o.detector.format) + " reads " +
                                      std::to_string(want) + " tensors; the model has " +
                                      std::to_string(outputs.size()) + " outputs");
                for (int i = 0; i < want; ++i) views.push_back(view(static_cast<size_t>(i)));
            } else {
                for (const auto& name : o.detector.tensors) {
                    RT_ASSIGN_OR_RETURN(size_t i, find(name));
                    views.push_back(view(i));
                }
            }
            RT_ASSIGN_OR_RETURN(out.objects, decode_detections(o.detector, views, input_w, input_h, out.placement,
                                                               frame_w, frame_h));
            break;
        }
        case config::Task::kSegmentation: {
            RT_ASSIGN_OR_RETURN(size_t i, find(o.segmentation.tensor));
            const auto& shape = outputs[i].shape;
            if (shape.size() != 3)
                return Status(StatusCode::kInvalidArgument,
                              config.source + ": segmentation output '" + outputs[i].name + "' must be [N,C,H,W]");
            RT_ASSIGN_OR_RETURN(out.mask, decode_segmentation(view(i)));
            out.mask_height = static_cast<int>(shape[1]);
            out.mask_width = static_cast<int>(shape[2]);
            break;
        }
        case config::Task::kRaw: {
            std::vector<size_t> which;
            if (o.raw.tensors.empty()) {
                for (size_t i = 0; i < outputs.size(); ++i) which.push_back(i);
            } else {
                for (const auto& name : o.raw.tensors) {
                    RT_ASSIGN_OR_RETURN(size_t i, find(name));
                    which.push_back(i);
                }
            }
            for (size_t i : which) out.tensors.push_back({outputs[i].name, outputs[i].shape, data[i]});
            break;
        }
    }
    return out;
}

namespace {

struct Registry {
    std::mutex mutex;
    std::map<std::string, std::weak_ptr<SharedModel>> models;
};

Registry& registry() {
    static auto* r = new Registry;  // never destroyed: models may be released from static destructors
    return *r;
}

// Same file, same content: the same model. A config edited between two loads is a different model.
std::string registry_key(const config::ModelConfig& config, const SharedModelOptions& options) {
    std::error_code ec;
    std::string key = std::filesystem::weakly_canonical(config.source, ec).string();
    std::ifstream in(config.source, std::ios::binary);
    key += '\n' + std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    key += '\n' + std::to_string(static_cast<int>(options.preprocess));
    return key;
}

}  // namespace

SharedModel::SharedModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) { ++g_live; }
SharedModel::~SharedModel() { --g_live; }

Expected<std::shared_ptr<SharedModel>> SharedModel::acquire(const config::ModelConfig& config,
                                                            const SharedModelOptions& options, Logger* logger) {
    Registry& r = registry();
    // Held while building: a second stream of the same model waits for the first build instead of repeating it.
    std::lock_guard<std::mutex> lock(r.mutex);
    const std::string key = registry_key(config, options);
    if (auto existing = r.models[key].lock()) return existing;
    auto impl = std::make_unique<Impl>();
    impl->config = config;
    impl->options = options;
    impl->logger = logger;
    RT_RETURN_IF_ERROR(impl->init());
    std::shared_ptr<SharedModel> model(new SharedModel(std::move(impl)));
    r.models[key] = model;
    return model;
}

void SharedModel::add_stream() {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    ++impl_->streams;
}

void SharedModel::remove_stream() {
    {
        std::lock_guard<std::mutex> lock(impl_->mutex);
        --impl_->streams;
    }
    impl_->executor_cv.notify_one();  // a batch that waited for this stream may run now
}

int SharedModel::streams() const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    return impl_->streams;
}

Expected<FrameOutput> SharedModel::infer(const FrameView& frame) {
    Impl& m = *impl_;
    Batch* batch = nullptr;
    int slot = 0;
    {
        std::unique_lock<std::mutex> lock(m.mutex);
        for (;;) {
            if (m.filling && m.filling->claimed < m.max_batch) break;
            if (!m.filling) {
                for (auto& b : m.batches) {
                    if (b->state == BatchState::kFree) {
                        b->state = BatchState::kFilling;
                        b->claimed = b->ready = b->released = 0;
                        m.filling = b.get();
                        break;
                    }
                }
                if (m.filling) break;
            }
            m.slot_cv.wait(lock);
        }
        batch = m.filling;
        slot = batch->claimed++;
        if (slot == 0) batch->deadline = Clock::now() + m.options.max_latency;
        m.executor_cv.notify_one();
    }
    batch->slot_status[static_cast<size_t>(slot)] = m.preprocess_into(*batch, slot, frame);
    {
        std::unique_lock<std::mutex> lock(m.mutex);
        if (++batch->ready == batch->claimed) m.executor_cv.notify_one();
        batch->done.wait(lock, [&] { return batch->state == BatchState::kDone; });
    }
    Expected<FrameOutput> result = Status(StatusCode::kInternal, "not run");
    if (!batch->slot_status[static_cast<size_t>(slot)].is_ok()) {
        result = batch->slot_status[static_cast<size_t>(slot)];
    } else if (!batch->status.is_ok()) {
        result = batch->status.with_context(m.config.source + ": inference");
    } else {
        result = m.decode(*batch, slot, frame.width, frame.height);
    }
    {
        std::lock_guard<std::mutex> lock(m.mutex);
        if (++batch->released == batch->claimed) {
            batch->state = BatchState::kFree;
            m.slot_cv.notify_all();
        }
    }
    return result;
}

const config::ModelConfig& SharedModel::config() const { return impl_->config; }
Backend SharedModel::backend() const { return impl_->backend; }
bool SharedModel::gpu_preprocess() const { return impl_->gpu_pre; }
int SharedModel::max_batch() const { return impl_->max_batch; }
int SharedModel::input_width() const { return impl_->input_w; }
int SharedModel::input_height() const { return impl_->input_h; }
std::chrono::microseconds SharedModel::max_latency() const { return impl_->options.max_latency; }
std::chrono::microseconds SharedModel::inference_time() const {
    return std::chrono::microseconds(impl_->infer_us.load());
}
int SharedModel::live_count() { return g_live.load(); }

}  // namespace rtinfer::pipelines
