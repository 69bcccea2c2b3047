// Concat: each input is one strided copy into its band of the output (a launch per input).
#include "core/kernels/cuda/tensor/copy_util.cuh"
#include "core/kernels/cuda/tensor/kernels.h"

namespace rtinfer::cuda {
namespace {

class ConcatOp final : public CudaOp {
public:
    struct Part {
        CopyPlan plan;
        int64_t dst_offset;  // bytes
    };
    explicit ConcatOp(std::vector<Part> parts) : parts_(std::move(parts)) {}
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        char* dst = static_cast<char*>(outputs[0].data);
        for (size_t i = 0; i < parts_.size(); ++i) {
            RT_RETURN_IF_ERROR(parts_[i].plan.launch(inputs[i].data, dst + parts_[i].dst_offset, libs.stream));
        }
        return Status();
    }

private:
    std::vector<Part> parts_;
};

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs&) {
    if (setup.inputs.empty() || setup.outputs.empty()) return setup_error(setup, "needs inputs and an output");
    if (!setup.node.has_attr("axis")) return setup_error(setup, "attribute 'axis' is required");
    const ir::Shape& out = setup.outputs[0].shape;
    const int rank = static_cast<int>(out.size());
    RT_ASSIGN_OR_RETURN(int axis, setup_axis(setup, setup.node.attr_int("axis", 0), rank));
    const size_t a = static_cast<size_t>(axis);
    const auto out_strides = ir::shape_strides(out);
    const size_t es = data_type_size(setup.outputs[0].dtype);
    std::vector<ConcatOp::Part> parts;
    int64_t offset = 0;
    for (size_t i = 0; i < setup.inputs.size(); ++i) {
        const ir::InputInfo& x = setup.inputs[i];
        if (!setup.has_input(i)) return setup_error(setup, "input " + std::to_string(i) + " is missing");
        bool ok = x.dtype == setup.outputs[0].dtype && x.shape.size() == out.size();
        for (size_t d = 0; ok && d < out.size(); ++d) ok = d == a || x.shape[d] == out[d];
        if (!ok) {
            return setup_error(setup, "input " + ir::shape_str(x.shape) + " does not fit output " + ir::shape_str(out) +
                                          " along axis " + std::to_string(axis));
        }
        const auto in_strides = ir::shape_strides(x.shape);
        std::vector<CopyDim> dims(out.size());
        for (size_t d = 0; d < out.size(); ++d) dims[d] = CopyDim{x.shape[d], in_strides[d], out_strides[d]};
        RT_ASSIGN_OR_RETURN(auto plan, named(setup, CopyPlan::make(dims, es)));
        parts.push_back(ConcatOp::Part{std::move(plan), offset * out_strides[a] * static_cast<int64_t>(es)});
        offset += x.shape[a];
    }
    if (offset != out[a]) return setup_error(setup, "the inputs do not add up to output " + ir::shape_str(out));
    return std::unique_ptr<CudaOp>(new ConcatOp(std::move(parts)));
}

}  // namespace

const CudaKernel kConcatCuda = {"Concat", "", create};

}  // namespace rtinfer::cuda
