// Slice: starts/ends/axes attributes before opset 10, constant inputs (with steps) from 10; bounds clamp as
// the spec says and negative steps read backwards, so the whole op is one strided copy from an offset.
#include <algorithm>

#include "core/kernels/cuda/tensor/copy_util.cuh"
#include "core/kernels/cuda/tensor/kernels.h"

namespace rtinfer::cuda {
namespace {

class SliceOp final : public CudaOp {
public:
    SliceOp(CopyPlan plan, int64_t src_offset) : plan_(std::move(plan)), src_offset_(src_offset) {}
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        return plan_.launch(static_cast<const char*>(inputs[0].data) + src_offset_, outputs[0].data, libs.stream);
    }

private:
    CopyPlan plan_;
    int64_t src_offset_;  // bytes
};

struct SliceArgs {
    std::vector<int64_t> starts, ends, axes, steps;
};

Expected<SliceArgs> slice_args(const OpSetup& setup) {
    SliceArgs a;
    if (setup.opset < 10) {
        a.starts = setup.node.attr_ints("starts");
        a.ends = setup.node.attr_ints("ends");
        a.axes = setup.node.attr_ints("axes");
        return a;
    }
    RT_ASSIGN_OR_RETURN(a.starts, constant_ints(setup, 1, "starts"));
    RT_ASSIGN_OR_RETURN(a.ends, constant_ints(setup, 2, "ends"));
    if (setup.has_input(3)) {
        RT_ASSIGN_OR_RETURN(a.axes, constant_ints(setup, 3, "axes"));
    }
    if (setup.has_input(4)) {
        RT_ASSIGN_OR_RETURN(a.steps, constant_ints(setup, 4, "steps"));
    }
    return a;
}

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs&) {
    const ir::InputInfo& x = setup.inputs[0];
    const ir::Shape& in = x.shape;
    RT_ASSIGN_OR_RETURN(SliceArgs a, slice_args(setup));
    if (a.starts.size() != a.ends.size()) return setup_error(setup, "starts and ends differ in length");
    if (a.axes.empty()) {
        for (size_t i = 0; i < a.starts.size(); ++i) a.axes.push_back(static_cast<int64_t>(i));
    }
    if (a.steps.empty()) a.steps.assign(a.starts.size(), 1);
    if (a.axes.size() != a.starts.size() || a.steps.size() != a.starts.size()) {
        return setup_error(setup, "starts, ends, axes and steps must have the same length");
    }
    const int rank = static_cast<int>(in.size());
    std::vector<int64_t> start(in.size(), 0);
    std::vector<int64_t> step(in.size(), 1);
    std::vector<bool> seen(in.size(), false);
    ir::Shape out = in;
    for (size_t k = 0; k < a.axes.size(); ++k) {
        RT_ASSIGN_OR_RETURN(int axis, setup_axis(setup, a.axes[k], rank));
        const size_t d = static_cast<size_t>(axis);
        if (seen[d]) return setup_error(setup, "axis " + std::to_string(a.axes[k]) + " is repeated");
        seen[d] = true;
        const int64_t dim = in[d];
        const int64_t s = a.steps[k];
        if (s == 0) return setup_error(setup, "a step is 0");
        int64_t b = a.starts[k] < 0 ? a.starts[k] + dim : a.starts[k];
        int64_t e = a.ends[k] < 0 ? a.ends[k] + dim : a.ends[k];
        int64_t count = 0;
        if (s > 0) {
            b = std::clamp<int64_t>(b, 0, dim);
            e = std::clamp<int64_t>(e, 0, dim);
            if (e > b) count = (e - b - 1) / s + 1;
        } else {
            b = std::clamp<int64_t>(b, 0, dim - 1);
            e = std::clamp<int64_t>(e, -1, dim - 1);
            if (b > e) count = (b - e - 1) / -s + 1;
        }
        start[d] = count > 0 ? b : 0;
        step[d] = s;
        out[d] = count;
    }
    if (!setup.outputs.empty() && setup.outputs[0].shape_known && setup.outputs[0].shape != out) {
        return setup_error(
            setup, "output " + ir::shape_str(setup.outputs[0].shape) + " differs from the slice " + ir::shape_str(out));
    }
    const auto strides = ir::shape_strides(in);
    const size_t es = data_type_size(x.dtype);
    int64_t offset = 0;
    std::vector<int64_t> src_strides(in.size());
    for (size_t d = 0; d < in.size(); ++d) {
        if (out[d] > 0) offset += start[d] * strides[d];
        src_strides[d] = strides[d] * step[d];
    }
    RT_ASSIGN_OR_RETURN(auto plan, named(setup, CopyPlan::make(dims_into_contiguous(out, src_strides), es)));
    return std::unique_ptr<CudaOp>(new SliceOp(std::move(plan), offset * static_cast<int64_t>(es)));
}

}  // namespace

const CudaKernel kSliceCuda = {"Slice", "", create};

}  // namespace rtinfer::cuda
