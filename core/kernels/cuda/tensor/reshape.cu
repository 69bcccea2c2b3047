// Reshape, Flatten, Squeeze, Unsqueeze, Identity and Dropout (inference): the bytes do not change, so the op
// is one device-to-device copy, none when the runtime runs it in place. Dropout's optional mask is all true.
#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/tensor/copy_util.cuh"
#include "core/kernels/cuda/tensor/kernels.h"

namespace rtinfer::cuda {
namespace {

class CopyOp final : public CudaOp {
public:
    CopyOp(bool has_mask, size_t mask_elem_size, uint64_t mask_one)
        : has_mask_(has_mask), mask_elem_size_(mask_elem_size), mask_one_(mask_one) {}

    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        RT_RETURN_IF_ERROR(copy_tensor(inputs[0], outputs[0], libs.stream));
        if (has_mask_ && outputs.size() > 1 && outputs[1].data) {
            RT_RETURN_IF_ERROR(
                launch_fill(outputs[1].data, outputs[1].numel(), mask_elem_size_, mask_one_, libs.stream));
        }
        return Status();
    }

private:
    bool has_mask_;
    size_t mask_elem_size_;
    uint64_t mask_one_;
};

Status check_same_bytes(const OpSetup& setup) {
    if (setup.inputs.empty() || setup.outputs.empty()) return setup_error(setup, "needs one input and one output");
    const ir::InputInfo& in = setup.inputs[0];
    const ir::OutputInfo& out = setup.outputs[0];
    if (!out.shape_known) return setup.unsupported("the output shape is not known at create");
    if (in.dtype != out.dtype || ir::shape_numel(in.shape) != ir::shape_numel(out.shape)) {
        return setup_error(setup, "output " + ir::shape_str(out.shape) + " does not hold the bytes of input " +
                                      ir::shape_str(in.shape));
    }
    return Status();
}

Expected<std::unique_ptr<CudaOp>> create_copy(const OpSetup& setup, const CudaLibs&) {
    RT_RETURN_IF_ERROR(check_same_bytes(setup));
    return std::unique_ptr<CudaOp>(new CopyOp(false, 0, 0));
}

// Training mode with a nonzero ratio drops random elements, which an inference engine does not do.
Expected<std::unique_ptr<CudaOp>> create_dropout(const OpSetup& setup, const CudaLibs&) {
    RT_RETURN_IF_ERROR(check_same_bytes(setup));
    if (setup.opset >= 12 && setup.has_input(2)) {
        RT_ASSIGN_OR_RETURN(auto training, constant_ints(setup, 2, "training_mode"));
        if (!training.empty() && training[0] != 0) {
            double ratio = 0.5;
            if (setup.has_input(1)) {
                RT_ASSIGN_OR_RETURN(auto r, constant_doubles(setup, 1, "ratio"));
                if (!r.empty()) ratio = r[0];
            }
            if (ratio != 0.0) return setup.unsupported("training_mode=true with a nonzero ratio");
        }
    }
    const bool has_mask = setup.node.outputs.size() > 1 && !setup.node.outputs[1].empty();
    if (!has_mask) return std::unique_ptr<CudaOp>(new CopyOp(false, 0, 0));
    if (setup.outputs.size() < 2) return setup_error(setup, "the mask output has no type");
    const DataType mask_type = setup.outputs[1].dtype;
    return std::unique_ptr<CudaOp>(new CopyOp(true, data_type_size(mask_type), scalar_bits(mask_type, 1.0)));
}

}  // namespace

const CudaKernel kReshapeCuda = {"Reshape", "", create_copy};
const CudaKernel kFlattenCuda = {"Flatten", "", create_copy};
const CudaKernel kSqueezeCuda = {"Squeeze", "", create_copy};
const CudaKernel kUnsqueezeCuda = {"Unsqueeze", "", create_copy};
const CudaKernel kIdentityCuda = {"Identity", "", create_copy};
const CudaKernel kDropoutCuda = {"Dropout", "", create_dropout};

}  // namespace rtinfer::cuda
