// The CUDA kernel interface. A CudaKernel creates, for one node at the context's concrete shapes, a CudaOp
// (the "prepare" step: check types and attributes, make descriptors, size the workspace, transform weights)
// whose enqueue() launches work on a stream without allocating, logging or synchronizing. A kernel that
// cannot handle a node returns kUnsupported from create(), and the node runs on the CPU reference kernel.
//
// Tensors are dense, row-major (NCHW for images), in the dtype the graph gives; a float32 engine uses
// float32 everywhere, an fp16 engine float16 activations.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/ir/op.h"

namespace rtinfer::cuda {

struct DeviceTensor {
    void* data = nullptr;  // device memory
    DataType dtype = DataType::kUndefined;
    ir::Shape shape;
    int64_t numel() const { return ir::shape_numel(shape); }
    size_t nbytes() const { return static_cast<size_t>(numel()) * data_type_size(dtype); }
};

// Library handles of one execution context; every op of the context enqueues on `stream`.
class TimingCache;

struct CudaLibs {
    cudaStream_t stream = nullptr;
    cudnnHandle_t cudnn = nullptr;
    cublasLtHandle_t cublaslt = nullptr;
    bool allow_tf32 = false;
    // At build time: where measured tactics are looked up and recorded (may be null).
    TimingCache* timing_cache = nullptr;
    // At build time: the most scratch memory one layer's tactic may use (the build's memory budget); tactics
    // that need more are skipped.
    size_t workspace_limit = SIZE_MAX;
};

// What create() sees: the node and its inputs/outputs at concrete shapes. Constant inputs (weights,
// folded values) have InputInfo::value set to the host tensor.
struct OpSetup {
    const ir::Node& node;
    int64_t opset;
    std::vector<ir::InputInfo> inputs;
    std::vector<ir::OutputInfo> outputs;

    bool has_input(size_t i) const { return i < node.inputs.size() && !node.inputs[i].empty(); }
    Status unsupported(const std::string& why) const {
        return Status(StatusCode::kUnsupported, node.describe() + ": " + why);
    }
};

class CudaOp {
public:
    virtual ~CudaOp() = default;
    // Scratch device memory enqueue() needs; the context provides it.
    virtual size_t workspace_bytes() const { return 0; }
    // The tactic create() chose by measurement (-1: none to choose). create() looks its layer signature up in
    // the timing cache first; the builder stores the signatures it used in the engine, so contexts of a
    // loaded engine take the built tactics instead of measuring.
    virtual int64_t tactic() const { return -1; }
    // Launches the op. inputs/outputs follow the node's order; omitted optional ones have data == nullptr.
    virtual Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs,
                           void* workspace, const CudaLibs& libs) = 0;

    // Ops whose output shapes depend on the data (NonMaxSuppression). create() sees such outputs with -1
    // where run time decides and answers here with an upper bound per output (empty: the shapes are static).
    // The context gives enqueue() output buffers of these shapes, then calls read_shapes().
    virtual std::vector<ir::Shape> bound_shapes() const { return {}; }
    // After enqueue(): waits for `stream` and says each output's actual shape; the data are the leading
    // elements of the bound-sized buffers. May copy to the host and synchronize (unlike enqueue()).
    virtual Expected<std::vector<ir::Shape>> read_shapes(cudaStream_t stream) {
        (void)stream;
        return Status(StatusCode::kInternal, "this op's output shapes are static");
    }
};

using CreateFn = Expected<std::unique_ptr<CudaOp>> (*)(const OpSetup& setup, const CudaLibs& libs);

struct CudaKernel {
    const char* op_type = "";
    const char* domain = "";
    CreateFn create = nullptr;
    // create() takes outputs of unknown shape and answers CudaOp::bound_shapes() (NonMaxSuppression).
    bool bounded_outputs = false;
};

class CudaRegistry {
public:
    Status add(const CudaKernel& kernel);
    const CudaKernel* find(const std::string& domain, const std::string& op_type) const;

private:
    std::map<std::pair<std::string, std::string>, CudaKernel> kernels_;
};

// Every CUDA kernel, registered once (thread-safe).
const CudaRegistry& cuda_registry();

// The families' tables; each family folder has kernels.h + register.cpp like the reference backend.
Status register_cuda_elementwise_kernels(CudaRegistry& registry);
Status register_cuda_nn_kernels(CudaRegistry& registry);
Status register_cuda_tensor_kernels(CudaRegistry& registry);
Status register_cuda_reduce_kernels(CudaRegistry& registry);
Status register_cuda_misc_kernels(CudaRegistry& registry);

}  // namespace rtinfer::cuda
