// Split: sizes from the 'split' attribute before opset 13, the constant 'split' input from 13, or
// num_outputs from 18 (the last chunk may be smaller). Each present output is one strided copy.
#include <algorithm>

#include "core/kernels/cuda/tensor/copy_util.cuh"
#include "core/kernels/cuda/tensor/kernels.h"

namespace rtinfer::cuda {
namespace {

class SplitOp final : public CudaOp {
public:
    struct Part {
        CopyPlan plan;
        int64_t src_offset;  // bytes
    };
    explicit SplitOp(std::vector<Part> parts) : parts_(std::move(parts)) {}
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        const char* src = static_cast<const char*>(inputs[0].data);
        for (size_t i = 0; i < parts_.size() && i < outputs.size(); ++i) {
            if (!outputs[i].data) continue;
            RT_RETURN_IF_ERROR(parts_[i].plan.launch(src + parts_[i].src_offset, outputs[i].data, libs.stream));
        }
        return Status();
    }

private:
    std::vector<Part> parts_;
};

Expected<std::vector<int64_t>> split_sizes(const OpSetup& setup, int64_t dim) {
    const ir::Node& node = setup.node;
    const size_t num_outputs = node.outputs.size();
    std::vector<int64_t> sizes;
    if (setup.opset < 13 && node.has_attr("split")) {
        sizes = node.attr_ints("split");
    } else if (setup.opset >= 13 && setup.has_input(1)) {
        RT_ASSIGN_OR_RETURN(sizes, constant_ints(setup, 1, "split"));
    }
    if (!sizes.empty()) {
        int64_t total = 0;
        for (int64_t s : sizes) {
            if (s < 0) return setup_error(setup, "split has a negative size");
            total += s;
        }
        if (sizes.size() != num_outputs || total != dim) {
            return setup_error(setup, "split " + ir::shape_str(sizes) + " does not cut a dim of " +
                                          std::to_string(dim) + " into " + std::to_string(num_outputs) + " outputs");
        }
        return sizes;
    }
    const int64_t n = static_cast<int64_t>(num_outputs);
    if (n <= 0) return setup_error(setup, "has no outputs");
    if (dim % n == 0) return std::vector<int64_t>(num_outputs, dim / n);
    if (setup.opset < 18) return setup_error(setup, "the dim does not split evenly");
    const int64_t chunk = (dim + n - 1) / n;
    for (int64_t i = 0; i < n; ++i) sizes.push_back(std::max<int64_t>(std::min(chunk, dim - i * chunk), 0));
    return sizes;
}

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs&) {
    const ir::InputInfo& x = setup.inputs[0];
    RT_ASSIGN_OR_RETURN(int axis, setup_axis(setup, setup.node.attr_int("axis", 0), static_cast<int>(x.shape.size())));
    const size_t a = static_cast<size_t>(axis);
    RT_ASSIGN_OR_RETURN(auto sizes, split_sizes(setup, x.shape[a]));
    const auto in_strides = ir::shape_strides(x.shape);
    const size_t es = data_type_size(x.dtype);
    std::vector<SplitOp::Part> parts;
    int64_t offset = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
        ir::Shape shape = x.shape;
        shape[a] = sizes[i];
        RT_ASSIGN_OR_RETURN(auto plan, named(setup, CopyPlan::make(dims_into_contiguous(shape, in_strides), es)));
        parts.push_back(SplitOp::Part{std::move(plan), offset * in_strides[a] * static_cast<int64_t>(es)});
        offset += sizes[i];
    }
    return std::unique_ptr<CudaOp>(new SplitOp(std::move(parts)));
}

}  // namespace

const CudaKernel kSplitCuda = {"Split", "", create};

}  // namespace rtinfer::cuda
