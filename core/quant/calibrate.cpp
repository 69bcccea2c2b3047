#include "core/quant/calibrate.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include "core/quant/histogram.h"
#include "rtinfer/types.h"

#ifdef RTINFER_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "core/kernels/cuda/cuda_check.h"
#endif

namespace rtinfer::quant {

namespace {

using Clock = std::chrono::steady_clock;

int64_t numel(const std::vector<int64_t>& dims) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
}

// "[##########----------] 250/500 samples, 3.1 s"
std::string progress_bar(int64_t done, int64_t total, double seconds) {
    constexpr int kWidth = 30;
    const int filled = total > 0 ? static_cast<int>(kWidth * std::min(done, total) / total) : 0;
    std::string bar = "[" + std::string(static_cast<size_t>(filled), '#') +
                      std::string(static_cast<size_t>(kWidth - filled), '-') + "] " + std::to_string(done);
    if (total > 0) bar += "/" + std::to_string(total);
    char time[32];
    std::snprintf(time, sizeof time, " samples, %.1f s", seconds);
    return bar + time;
}

// Memory the context reads and writes: host memory for the CPU backend, device memory for CUDA (with a host
// copy of each tensor to histogram).
class Buffers {
public:
    Buffers(Backend backend) : backend_(backend) {}
    Buffers(const Buffers&) = delete;
    Buffers& operator=(const Buffers&) = delete;
    ~Buffers() {
#ifdef RTINFER_HAVE_CUDA
        for (void* p : device_) cudaFree(p);
        if (stream_) cudaStreamDestroy(stream_);
#endif
    }
    Status init() {
#ifdef RTINFER_HAVE_CUDA
        if (backend_ == Backend::kCuda) RT_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
#endif
        return Status();
    }
    // Binds `name` to memory of `bytes`; for inputs, returns where the caller writes host data.
    Expected<void*> bind(ExecutionContext& ctx, const std::string& name, size_t bytes, float** host) {
        host_.emplace_back(bytes / sizeof(float) + 1);
        *host = host_.back().data();
        void* address = *host;
#ifdef RTINFER_HAVE_CUDA
        if (backend_ == Backend::kCuda) {
            RT_CUDA_CHECK(cudaMalloc(&address, std::max<size_t>(bytes, 1)));
            device_.push_back(address);
        }
#endif
        RT_RETURN_IF_ERROR(ctx.set_tensor_address(name, address));
        return address;
    }
    Status upload(void* device, const float* host, size_t bytes) {
#ifdef RTINFER_HAVE_CUDA
        if (backend_ == Backend::kCuda) RT_CUDA_CHECK(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, stream_));
#else
        (void)device, (void)host, (void)bytes;
#endif
        return Status();
    }
    Status download(float* host, const void* device, size_t bytes) {
#ifdef RTINFER_HAVE_CUDA
        if (backend_ == Backend::kCuda) RT_CUDA_CHECK(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, stream_));
#else
        (void)host, (void)device, (void)bytes;
#endif
        return Status();
    }
    Status run(ExecutionContext& ctx) {
#ifdef RTINFER_HAVE_CUDA
        if (backend_ == Backend::kCuda) return ctx.enqueue(stream_);
#endif
        return ctx.enqueue(nullptr);
    }
    Status sync() {
#ifdef RTINFER_HAVE_CUDA
        if (backend_ == Backend::kCuda) RT_CUDA_CHECK(cudaStreamSynchronize(stream_));
#endif
        return Status();
    }

private:
    Backend backend_;
    std::vector<std::vector<float>> host_;
    std::vector<void*> device_;
#ifdef RTINFER_HAVE_CUDA
    cudaStream_t stream_ = nullptr;
#endif
};

struct Observed {
    std::string name;
    void* address = nullptr;
    float* host = nullptr;
    int64_t per_sample = 0;  // values of one sample (the tensor's batch dim is the sample)
    int64_t count = 0;       // values of the whole batch
    AbsHistogram histogram;
};

// Histograms the first `samples` samples of each tensor, the tensors shared among threads.
void observe(std::vector<Observed>& tensors, int64_t samples) {
    std::atomic<size_t> next{0};
    auto work = [&] {
        for (size_t i = next++; i < tensors.size(); i = next++) {
            Observed& t = tensors[i];
            const int64_t n = t.per_sample > 0 ? std::min(t.count, t.per_sample * samples) : t.count;
            t.histogram.add(t.host, static_cast<size_t>(n));
        }
    };
    const size_t threads = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), tensors.size());
    std::vector<std::thread> pool;
    for (size_t i = 1; i < threads; ++i) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
}

}  // namespace

Expected<CalibrationResult> calibrate(const Engine& engine, int batch, CalibrationData& data,
                                      const std::vector<std::string>& tensors, const CalibratorOptions& options,
                                      Logger* logger, const std::string& name,
                                      std::vector<CalibrationSample>* held_out) {
    const auto t0 = Clock::now();
    auto log = [&](Severity s, const std::string& m) {
        if (logger) logger->log(s, m.c_str());
    };
    RT_ASSIGN_OR_RETURN(std::unique_ptr<ExecutionContext> ctx, engine.create_context());
    const bool dynamic = engine.min_batch() != engine.max_batch();
    if (!dynamic) batch = engine.max_batch();
    RT_RETURN_IF_ERROR(ctx->set_batch(batch));
    Buffers buffers(engine.backend());
    RT_RETURN_IF_ERROR(buffers.init());

    // The inputs as one sample has them (batch 1), and where a batch of them goes.
    std::vector<TensorDesc> sample_inputs = engine.inputs();
    std::vector<float*> input_host;
    std::vector<void*> input_address;
    std::vector<size_t> input_sample_values;
    for (auto& in : sample_inputs) {
        if (in.type != DataType::kFloat32)
            return Status(StatusCode::kUnsupported, name + ": calibration feeds float32 inputs; input '" + in.name +
                                                        "' is " + data_type_name(in.type));
        if (!in.dims.empty()) in.dims[0] = 1;
        RT_ASSIGN_OR_RETURN(TensorDesc at_batch, ctx->tensor_desc(in.name));
        float* host = nullptr;
        RT_ASSIGN_OR_RETURN(void* address, buffers.bind(*ctx, in.name, numel(at_batch.dims) * sizeof(float), &host));
        input_host.push_back(host);
        input_address.push_back(address);
        input_sample_values.push_back(static_cast<size_t>(numel(in.dims)));
    }
    std::vector<Observed> observed(tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
        Observed& o = observed[i];
        o.name = tensors[i];
        RT_ASSIGN_OR_RETURN(TensorDesc desc, ctx->tensor_desc(o.name));
        if (desc.type != DataType::kFloat32)
            return Status(StatusCode::kInternal, name + ": calibration tensor '" + o.name + "' is not float32");
        o.count = numel(desc.dims);
        if (!desc.dims.empty() && desc.dims[0] == batch) o.per_sample = o.count / batch;
        // A model input is measured where the samples are written (one name, one address).
        const auto input = std::find_if(sample_inputs.begin(), sample_inputs.end(),
                                        [&](const TensorDesc& in) { return in.name == o.name; });
        if (input != sample_inputs.end()) {
            o.host = input_host[static_cast<size_t>(input - sample_inputs.begin())];
            continue;
        }
        RT_ASSIGN_OR_RETURN(o.address, buffers.bind(*ctx, o.name, static_cast<size_t>(o.count) * sizeof(float), &o.host));
    }
    // Other outputs still need an address to be written to.
    for (const auto& out : engine.outputs()) {
        if (std::find(tensors.begin(), tensors.end(), out.name) != tensors.end()) continue;
        if (std::any_of(sample_inputs.begin(), sample_inputs.end(), [&](const TensorDesc& in) { return in.name == out.name; }))
            continue;
        RT_ASSIGN_OR_RETURN(TensorDesc desc, ctx->tensor_desc(out.name));
        float* unused = nullptr;
        RT_RETURN_IF_ERROR(
            buffers.bind(*ctx, out.name, static_cast<size_t>(numel(desc.dims)) * data_type_size(desc.type), &unused)
                .status());
    }

    const int64_t total = data.size();
    CalibrationResult result;
    log(Severity::kInfo, name + ": calibrating " + std::to_string(tensors.size()) + " tensors " + progress_bar(0, total, 0.0));
    auto last_report = t0;
    CalibrationSample sample;
    int64_t seen = 0;
    for (bool more = true; more;) {
        int filled = 0;
        while (filled < batch) {
            RT_ASSIGN_OR_RETURN(more, data.next(sample_inputs, &sample));
            if (!more) break;
            ++seen;
            if (held_out && seen % 8 == 0 && held_out->size() < 64) {
                held_out->push_back(sample);
                continue;
            }
            if (sample.size() != sample_inputs.size())
                return Status(StatusCode::kInvalidArgument, name + ": a calibration sample has " +
                                                                std::to_string(sample.size()) + " inputs, the model " +
                                                                std::to_string(sample_inputs.size()));
            for (size_t k = 0; k < sample.size(); ++k) {
                if (sample[k].size() != input_sample_values[k])
                    return Status(StatusCode::kInvalidArgument,
                                  name + ": a calibration sample for input '" + sample_inputs[k].name + "' has " +
                                      std::to_string(sample[k].size()) + " values, the input takes " +
                                      std::to_string(input_sample_values[k]));
                std::memcpy(input_host[k] + filled * input_sample_values[k], sample[k].data(),
                            input_sample_values[k] * sizeof(float));
            }
            ++filled;
        }
        if (filled == 0) break;
        // A static batch runs full: the rest of the last one repeats its first sample and is not observed.
        int run_batch = dynamic ? filled : batch;
        for (int b = filled; b < run_batch; ++b)
            for (size_t k = 0; k < input_host.size(); ++k)
                std::memcpy(input_host[k] + b * input_sample_values[k], input_host[k],
                            input_sample_values[k] * sizeof(float));
        if (dynamic && run_batch != ctx->batch()) {
            RT_RETURN_IF_ERROR(ctx->set_batch(run_batch));
            for (auto& o : observed) {
                RT_ASSIGN_OR_RETURN(TensorDesc desc, ctx->tensor_desc(o.name));
                o.count = numel(desc.dims);
            }
        }
        for (size_t k = 0; k < input_host.size(); ++k)
            RT_RETURN_IF_ERROR(buffers.upload(input_address[k], input_host[k],
                                              input_sample_values[k] * static_cast<size_t>(run_batch) * sizeof(float)));
        RT_RETURN_IF_ERROR(buffers.run(*ctx).with_context(name + ": calibration run"));
        for (auto& o : observed) {
            if (o.address) RT_RETURN_IF_ERROR(buffers.download(o.host, o.address, static_cast<size_t>(o.count) * sizeof(float)));
        }
        RT_RETURN_IF_ERROR(buffers.sync());
        observe(observed, filled);
        result.samples += filled;
        const auto now = Clock::now();
        if (std::chrono::duration<double>(now - last_report).count() >= 1.0) {
            last_report = now;
            log(Severity::kInfo, name + ": calibrating " + std::to_string(tensors.size()) + " tensors " +
                                     progress_bar(seen, total, std::chrono::duration<double>(now - t0).count()));
        }
    }
    if (result.samples == 0) return Status(StatusCode::kInvalidArgument, name + ": no calibration samples");
    for (auto& o : observed) {
        if (o.histogram.nonfinite() > 0)
            log(Severity::kWarning, name + ": calibration tensor '" + o.name + "' had " +
                                        std::to_string(o.histogram.nonfinite()) + " non-finite values (left out)");
        auto amax = choose_amax(o.histogram, options);
        if (!amax) return amax.status().with_context(name + ": tensor '" + o.name + "'");
        result.amax[o.name] = *amax;
        result.noise[o.name] = quantization_noise(o.histogram, *amax);
    }
    result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    log(Severity::kInfo, name + ": calibrated " + std::to_string(tensors.size()) + " tensors " +
                             progress_bar(seen, total, result.seconds) + " (" + calibrator_description(options) +
                             (held_out && !held_out->empty()
                                  ? "; " + std::to_string(held_out->size()) + " samples held out to judge the result"
                                  : std::string()) +
                             ")");
    return result;
}

double quantization_noise(const AbsHistogram& histogram, float amax) {
    const auto& counts = histogram.counts();
    const double w = histogram.bin_width();
    const double step = amax / 127.0;
    double signal = 0.0, noise = 0.0;
    for (size_t k = 0; k < counts.size(); ++k) {
        if (counts[k] == 0) continue;
        const double c = static_cast<double>(counts[k]);
        const double x = (static_cast<double>(k) + 0.5) * w;
        signal += c * x * x;
        noise += c * (x > amax ? (x - amax) * (x - amax) : step * step / 12.0);
    }
    return signal > 0.0 ? noise / signal : 0.0;
}

Expected<std::vector<std::vector<float>>> run_samples(const Engine& engine, const std::vector<CalibrationSample>& samples) {
    RT_ASSIGN_OR_RETURN(std::unique_ptr<ExecutionContext> ctx, engine.create_context());
    const int batch = engine.min_batch();
    RT_RETURN_IF_ERROR(ctx->set_batch(batch));
    Buffers buffers(engine.backend());
    RT_RETURN_IF_ERROR(buffers.init());
    std::vector<float*> in_host;
    std::vector<void*> in_address;
    std::vector<size_t> in_values;
    for (const auto& in : engine.inputs()) {
        RT_ASSIGN_OR_RETURN(TensorDesc d, ctx->tensor_desc(in.name));
        if (d.type != DataType::kFloat32)
            return Status(StatusCode::kUnsupported, "input '" + in.name + "' is not float32");
        float* host = nullptr;
        const size_t values = static_cast<size_t>(numel(d.dims));
        RT_ASSIGN_OR_RETURN(void* address, buffers.bind(*ctx, in.name, values * sizeof(float), &host));
        in_host.push_back(host);
        in_address.push_back(address);
        in_values.push_back(values / static_cast<size_t>(batch));
    }
    std::vector<float*> out_host;
    std::vector<void*> out_address;
    std::vector<size_t> out_values;
    for (const auto& out : engine.outputs()) {
        RT_ASSIGN_OR_RETURN(TensorDesc d, ctx->tensor_desc(out.name));
        if (d.type != DataType::kFloat32)
            return Status(StatusCode::kUnsupported, "output '" + out.name + "' is not float32");
        float* host = nullptr;
        const size_t values = static_cast<size_t>(numel(d.dims));
        RT_ASSIGN_OR_RETURN(void* address, buffers.bind(*ctx, out.name, values * sizeof(float), &host));
        out_host.push_back(host);
        out_address.push_back(address);
        out_values.push_back(values);
    }
    std::vector<std::vector<float>> outputs(out_host.size());
    for (const auto& sample : samples) {
        if (sample.size() != in_host.size()) return Status(StatusCode::kInvalidArgument, "a sample does not fit the inputs");
        for (size_t k = 0; k < sample.size(); ++k) {
            if (sample[k].size() != in_values[k]) return Status(StatusCode::kInvalidArgument, "a sample does not fit the inputs");
            for (int b = 0; b < batch; ++b) std::memcpy(in_host[k] + b * in_values[k], sample[k].data(), in_values[k] * sizeof(float));
            RT_RETURN_IF_ERROR(buffers.upload(in_address[k], in_host[k], in_values[k] * batch * sizeof(float)));
        }
        RT_RETURN_IF_ERROR(buffers.run(*ctx));
        for (size_t k = 0; k < out_host.size(); ++k)
            RT_RETURN_IF_ERROR(buffers.download(out_host[k], out_address[k], out_values[k] * sizeof(float)));
        RT_RETURN_IF_ERROR(buffers.sync());
        // The first sample of the batch (all of them are the same sample).
        for (size_t k = 0; k < out_host.size(); ++k)
            outputs[k].insert(outputs[k].end(), out_host[k], out_host[k] + out_values[k] / static_cast<size_t>(batch));
    }
    return outputs;
}

}  // namespace rtinfer::quant
