// A model shared by every video stream of a process that runs the same model.yml: one engine, one execution
// context, and a batcher that gathers frames from all streams into one inference.
//
// Each stream calls infer() from its own thread with one frame and blocks until that frame's results are
// ready. The caller pre-processes its frame straight into a slot of the batch being filled (in parallel with
// the other streams); the batch runs when every registered stream has put a frame in it, when it is full
// (the config's batch), or when `max_latency` has passed since its first frame, whichever comes first. So a
// stream that stalls or ends delays the others by at most max_latency, never more. While one batch runs on
// the executor thread, the next one fills.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pipelines/config/model_config.h"
#include "pipelines/decode/decode.h"
#include "pipelines/preprocess/frame_preprocess.h"
#include "rtinfer/logger.h"
#include "rtinfer/status.h"
#include "rtinfer/types.h"

namespace rtinfer::pipelines {

enum class PreprocessPlace {
    kAuto,  // the GPU for the CUDA backend when built with CUDA, else the CPU
    kCpu,
    kGpu,
};

struct SharedModelOptions {
    std::chrono::microseconds max_latency{20000};
    PreprocessPlace preprocess = PreprocessPlace::kAuto;
};

// One output tensor of one frame, converted to float32.
struct RawTensor {
    std::string name;
    std::vector<int64_t> shape;  // without the batch dim
    std::vector<float> data;
};

// What inference found in one frame, in frame pixels.
struct FrameOutput {
    std::vector<Detection> objects;
    std::vector<Classification> classes;
    std::vector<int32_t> mask;  // segmentation: class per input pixel, mask_height x mask_width
    int mask_width = 0;
    int mask_height = 0;
    Placement placement;  // where the frame lay in the network input
    int input_width = 0;
    int input_height = 0;
    std::vector<RawTensor> tensors;  // task raw: the configured outputs
    int batch_size = 0;              // how many frames the inference that produced this held
};

class SharedModel {
public:
    // The model for this config: the one already loaded in this process for the same file and content, or a
    // new one (the engine loaded from the cache, or built and cached, on first use). Options apply when the
    // model is first made. Errors name the config file and what failed.
    static Expected<std::shared_ptr<SharedModel>> acquire(const config::ModelConfig& config,
                                                          const SharedModelOptions& options, Logger* logger);
    ~SharedModel();
    SharedModel(const SharedModel&) = delete;
    SharedModel& operator=(const SharedModel&) = delete;

    // A stream announces itself so that a batch can run as soon as every stream has a frame in it.
    void add_stream();
    void remove_stream();
    int streams() const;

    // Runs one frame (blocking; thread-safe). Errors name the frame problem or the inference failure.
    Expected<FrameOutput> infer(const FrameView& frame);

    const config::ModelConfig& config() const;
    Backend backend() const;
    bool gpu_preprocess() const;
    int max_batch() const;
    int input_width() const;
    int input_height() const;
    std::chrono::microseconds max_latency() const;
    // Mean time of the last inferences (the executor's part, not the wait), for latency queries.
    std::chrono::microseconds inference_time() const;
    // How many SharedModel objects are alive in the process (for tests of sharing).
    static int live_count();

    struct Impl;

private:
    explicit SharedModel(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace rtinfer::pipelines
