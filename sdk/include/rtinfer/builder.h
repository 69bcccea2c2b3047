// Builder: ONNX model -> optimized Engine for this device.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rtinfer/engine.h"
#include "rtinfer/logger.h"
#include "rtinfer/status.h"
#include "rtinfer/types.h"

namespace rtinfer {

// One calibration sample for an INT8 build: for each model input, float32 values of the input's shape at
// batch 1 (C order), in the order of the model's inputs.
using CalibrationSample = std::vector<std::vector<float>>;

// Where an INT8 build takes its calibration samples from (as TensorRT's calibrator gives batches): images
// through a model's pre-processing, .npy tensors, or anything an application has. The builder reads every
// sample once, in order.
class CalibrationData {
public:
    virtual ~CalibrationData() = default;
    // How many samples next() gives in all (the progress bar's total).
    virtual int64_t size() const = 0;
    // Fills *sample with the next sample; false once all were given. Errors name the file at fault.
    virtual Expected<bool> next(const std::vector<TensorDesc>& inputs, CalibrationSample* sample) = 0;
};

struct BuilderConfig {
    Backend backend = Backend::kCpu;
    bool fp16 = false;  // allow float16 kernels where the backend has them
    bool int8 = false;  // allow int8 kernels (needs calibration or Q/DQ)
    bool tf32 = false;  // allow TF32 math for float32 layers on the GPU
    // Batch profile for a model whose dim 0 is dynamic; 0 = 1 for min/opt and opt for max.
    int min_batch = 0;
    int opt_batch = 0;
    int max_batch = 0;
    uint64_t memory_budget_bytes = 0;  // 0 = no limit; otherwise the build fails or skips what exceeds it
    // CUDA: a timing cache file read before and written after the build ("" = measure every layer).
    std::string timing_cache_path;
    // Plugin libraries to load before importing (as load_plugin_library does); ONNX nodes that no built-in
    // op takes map to their plugins by op type and domain.
    std::vector<std::string> plugin_libraries;

    // INT8 (int8 = true) for a model without QuantizeLinear/DequantizeLinear nodes: the activation ranges come
    // from calibration_cache_path when that file exists (and was made for this model), else from calibrating
    // with calibration_data, and are then written to calibration_cache_path when one is given. A model with
    // Q/DQ nodes runs with their scales and needs neither.
    CalibrationData* calibration_data = nullptr;  // not owned; used during the build only
    std::string calibrator = "entropy";         // entropy | percentile | minmax | mse
    double calibration_percentile = 99.99;      // the percentile calibrator's
    std::string calibration_cache_path;
    // What INT8 may cost, judged against float32 on calibration samples held out of calibration (every 8th, up
    // to 64): "0.02" = the largest relative L2 error of any output, "top1:99" = top-1 agreement in % of the
    // [batch, classes] outputs. The layers whose int8 costs most stay in float until it holds. "" = quantize
    // every layer that can be. Needs calibration_data.
    std::string accuracy_budget;
};

// One node the SDK cannot run, and why.
struct UnsupportedNode {
    std::string node_name;
    std::string op_type;
    std::string reason;
};

struct CapabilityReport {
    size_t node_count = 0;
    std::vector<UnsupportedNode> unsupported;
    bool supported() const { return unsupported.empty(); }
};

class Builder {
public:
    // logger may be null (messages are dropped); it must outlive the Builder.
    explicit Builder(Logger* logger = nullptr);

    // Imports, optimizes and builds. Errors name the file and, where one is at fault, the ONNX node.
    Expected<std::unique_ptr<Engine>> build_from_file(const std::string& onnx_path, const BuilderConfig& config);
    Expected<std::unique_ptr<Engine>> build_from_memory(const void* data, size_t size, const BuilderConfig& config,
                                                        const std::string& model_name = "<memory>");

    // Lists every node of the model this SDK cannot run (on the given backend), without building.
    Expected<CapabilityReport> check_capability(const std::string& onnx_path, Backend backend = Backend::kCpu);

private:
    Logger* logger_;
};

}  // namespace rtinfer
