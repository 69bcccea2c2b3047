// Expand (broadcast to a shape) and Tile (repeat along each axis): one strided copy each, whose source
// strides are 0 along the repeated dims.
#include "core/ir/shape_util.h"
#include "core/kernels/cuda/tensor/copy_util.cuh"
#include "core/kernels/cuda/tensor/kernels.h"

namespace rtinfer::cuda {
namespace {

class RepeatOp final : public CudaOp {
public:
    explicit RepeatOp(CopyPlan plan) : plan_(std::move(plan)) {}
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        return plan_.launch(inputs[0].data, outputs[0].data, libs.stream);
    }

private:
    CopyPlan plan_;
};

Status check_output(const OpSetup& setup) {
    if (setup.outputs.empty() || !setup.outputs[0].shape_known) {
        return setup.unsupported("the output shape is not known at create");
    }
    if (setup.outputs[0].dtype != setup.inputs[0].dtype) return setup_error(setup, "output type differs from input");
    return Status();
}

Expected<std::unique_ptr<CudaOp>> create_expand(const OpSetup& setup, const CudaLibs&) {
    RT_RETURN_IF_ERROR(check_output(setup));
    const ir::Shape& in = setup.inputs[0].shape;
    const ir::Shape& out = setup.outputs[0].shape;
    auto b = ir::broadcast_shapes(in, out);
    if (!b.has_value() || *b != out) {
        return setup_error(setup, "input " + ir::shape_str(in) + " does not broadcast to " + ir::shape_str(out));
    }
    const auto dims = dims_into_contiguous(out, ir::broadcast_strides(in, out));
    RT_ASSIGN_OR_RETURN(auto plan, named(setup, CopyPlan::make(dims, data_type_size(setup.inputs[0].dtype))));
    return std::unique_ptr<CudaOp>(new RepeatOp(std::move(plan)));
}

Expected<std::unique_ptr<CudaOp>> create_tile(const OpSetup& setup, const CudaLibs&) {
    RT_RETURN_IF_ERROR(check_output(setup));
    const ir::Shape& in = setup.inputs[0].shape;
    const ir::Shape& out = setup.outputs[0].shape;
    RT_ASSIGN_OR_RETURN(auto reps, constant_ints(setup, 1, "repeats"));
    if (reps.size() != in.size() || out.size() != in.size()) {
        return setup_error(setup, "repeats " + ir::shape_str(reps) + " do not match input " + ir::shape_str(in));
    }
    const auto in_strides = ir::shape_strides(in);
    const auto out_strides = ir::shape_strides(out);
    // Output dim i seen as [repeat i][input dim i]: the repeat walks whole copies, the inner dim the data.
    std::vector<CopyDim> dims;
    for (size_t i = 0; i < reps.size(); ++i) {
        if (reps[i] < 0 || in[i] * reps[i] != out[i]) {
            return setup_error(setup, "repeats " + ir::shape_str(reps) + " do not give output " + ir::shape_str(out));
        }
        dims.push_back(CopyDim{reps[i], 0, in[i] * out_strides[i]});
        dims.push_back(CopyDim{in[i], in_strides[i], out_strides[i]});
    }
    RT_ASSIGN_OR_RETURN(auto plan, named(setup, CopyPlan::make(dims, data_type_size(setup.inputs[0].dtype))));
    return std::unique_ptr<CudaOp>(new RepeatOp(std::move(plan)));
}

}  // namespace

const CudaKernel kExpandCuda = {"Expand", "", create_expand};
const CudaKernel kTileCuda = {"Tile", "", create_tile};

}  // namespace rtinfer::cuda
