#include "core/kernels/cuda/layer_timer.h"

#include <vector>

#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/cuda_op.h"
#include "core/kernels/cuda/tactic_timing.h"

namespace rtinfer::cuda {

struct LayerTimer::Handles {
    cudaStream_t stream = nullptr;
    cudnnHandle_t cudnn = nullptr;
    cublasLtHandle_t cublaslt = nullptr;
    ~Handles() {
        if (cublaslt) cublasLtDestroy(cublaslt);
        if (cudnn) cudnnDestroy(cudnn);
        if (stream) cudaStreamDestroy(stream);
    }
};

LayerTimer::~LayerTimer() = default;

Expected<std::unique_ptr<LayerTimer>> LayerTimer::create() {
    std::unique_ptr<LayerTimer> timer(new LayerTimer());
    timer->handles_ = std::make_unique<Handles>();
    Handles& h = *timer->handles_;
    RT_CUDA_CHECK(cudaStreamCreateWithFlags(&h.stream, cudaStreamNonBlocking));
    RT_CUDNN_CHECK(cudnnCreate(&h.cudnn));
    RT_CUBLAS_CHECK(cublasLtCreate(&h.cublaslt));
    return timer;
}

Expected<float> LayerTimer::time(const ir::Graph& graph, const ir::Node& node) {
    const CudaKernel* kernel = cuda_registry().find(node.domain, node.op_type);
    if (!kernel) return Status(StatusCode::kUnsupported, node.describe() + ": no CUDA kernel");
    std::vector<ir::InputInfo> infos;
    for (const auto& name : node.inputs) {
        ir::InputInfo info;
        if (!name.empty()) {
            const ir::Value& v = graph.at(name);
            info.dtype = v.dtype;
            info.shape = v.is_constant() ? v.constant.shape() : v.shape;
            info.value = v.is_constant() ? &v.constant : nullptr;
        }
        infos.push_back(info);
    }
    std::vector<ir::OutputInfo> outs;
    for (const auto& name : node.outputs) {
        const ir::Value& v = graph.at(name);
        outs.push_back(ir::OutputInfo{v.dtype, v.shape, true});
    }
    const OpSetup setup{node, graph.opset(ir::canonical_domain(node.domain)), infos, outs};
    CudaLibs libs;
    libs.stream = handles_->stream;
    libs.cudnn = handles_->cudnn;
    libs.cublaslt = handles_->cublaslt;
    RT_ASSIGN_OR_RETURN(std::unique_ptr<CudaOp> op, kernel->create(setup, libs));

    std::vector<DeviceBuffer> buffers;
    std::vector<DeviceTensor> inputs, outputs;
    auto scratch = [&](DataType dtype, const ir::Shape& shape) -> Expected<DeviceTensor> {
        DeviceTensor t{nullptr, dtype, shape};
        RT_ASSIGN_OR_RETURN(DeviceBuffer buf, DeviceBuffer::allocate(t.nbytes()));
        if (t.nbytes()) RT_CUDA_CHECK(cudaMemsetAsync(buf.get(), 0, t.nbytes(), libs.stream));
        t.data = buf.get();
        buffers.push_back(std::move(buf));
        return t;
    };
    for (const auto& info : infos) {
        if (info.dtype == DataType::kUndefined) {
            inputs.push_back(DeviceTensor{});
            continue;
        }
        RT_ASSIGN_OR_RETURN(DeviceTensor t, scratch(info.dtype, info.shape));  // constants: the op holds its copy
        inputs.push_back(t);
    }
    for (const auto& out : outs) {
        RT_ASSIGN_OR_RETURN(DeviceTensor t, scratch(out.dtype, out.shape));
        outputs.push_back(t);
    }
    RT_ASSIGN_OR_RETURN(DeviceBuffer workspace, DeviceBuffer::allocate(op->workspace_bytes()));
    return time_ms(libs.stream, [&] { return op->enqueue(inputs, outputs, workspace.get(), libs); });
}

}  // namespace rtinfer::cuda
