// Max Min Sum Mean: one or more inputs, all broadcast together, folded left to right into the output as
// core/kernels/ref/elementwise/variadic.cpp does (out = op(in0, in1), then out = op(out, in_k)), so float
// sums round in the same order. Max and Min propagate NaN like numpy. Max/Min: float32, float16, int32,
// int64; Sum/Mean: float32, float16.
#include "core/kernels/cuda/elementwise/common.cuh"
#include "core/kernels/cuda/elementwise/kernels.h"

namespace rtinfer::cuda {
namespace {

using namespace ew;

struct Max {
    template <class T>
    __device__ T operator()(T a, T b) const {
        if constexpr (std::is_floating_point_v<T>) {
            if (isnan(a) || isnan(b)) return a + b;
        }
        return a < b ? b : a;
    }
};
struct Min {
    template <class T>
    __device__ T operator()(T a, T b) const {
        if constexpr (std::is_floating_point_v<T>) {
            if (isnan(a) || isnan(b)) return a + b;
        }
        return b < a ? b : a;
    }
};
struct Sum {
    __device__ float operator()(float a, float b) const { return a + b; }
};
// Mean's last step: the reference sums, then divides by the input count.
struct SumDiv {
    float count;
    __device__ float operator()(float a, float b) const { return (a + b) / count; }
};

// Fold for every step but the last, which uses Last (they differ only for Mean).
template <class Fold, class Last, uint32_t Mask>
class VariadicCudaOp final : public CudaOp {
public:
    VariadicCudaOp(const Fold& fold, const Last& last, DataType dtype, std::vector<Broadcast<2>> steps,
                   size_t out_bytes)
        : fold_(fold), last_(last), dtype_(dtype), steps_(std::move(steps)), out_bytes_(out_bytes) {}

    // From three inputs on, input k >= 2 is read after the output was first written: if the output shares
    // its buffer, the fold goes to the workspace and is copied out at the end.
    size_t workspace_bytes() const override { return steps_.size() >= 2 ? out_bytes_ : 0; }

    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void* workspace,
                   const CudaLibs& libs) override {
        void* out = outputs[0].data;
        if (steps_.empty()) {
            if (out != inputs[0].data && out_bytes_ > 0) {
                RT_CUDA_CHECK(cudaMemcpyAsync(out, inputs[0].data, out_bytes_, cudaMemcpyDeviceToDevice, libs.stream));
            }
            return Status();
        }
        bool aliased = false;
        for (size_t k = 2; k < inputs.size(); ++k) aliased = aliased || inputs[k].data == out;
        if (aliased && !workspace)
            return Status(StatusCode::kInternal, "variadic op: no workspace for an in-place fold");
        void* acc = aliased ? workspace : out;
        Status status;
        const bool handled = dispatch<Mask>(dtype_, [&](auto tag) {
            using T = typename decltype(tag)::type;
            for (size_t s = 0; s < steps_.size() && status.is_ok(); ++s) {
                BinaryArgs args;
                args.a = s == 0 ? inputs[0].data : acc;
                args.b = inputs[s + 1].data;
                args.y = acc;
                args.bc = steps_[s];
                status = s + 1 == steps_.size() ? launch_binary<T, T>(args, last_, libs.stream)
                                                : launch_binary<T, T>(args, fold_, libs.stream);
            }
        });
        if (!handled) return unexpected_type(dtype_);
        RT_RETURN_IF_ERROR(status);
        if (aliased && out_bytes_ > 0) {
            RT_CUDA_CHECK(cudaMemcpyAsync(out, acc, out_bytes_, cudaMemcpyDeviceToDevice, libs.stream));
        }
        return Status();
    }

private:
    Fold fold_;
    Last last_;
    DataType dtype_;
    std::vector<Broadcast<2>> steps_;
    size_t out_bytes_;
};

template <class Fold, class Last, uint32_t Mask>
Expected<OpPtr> create_variadic(const OpSetup& setup, const Fold& fold, const Last& last) {
    const size_t n = setup.inputs.size();
    if (n == 0) return setup.unsupported("no inputs");
    for (size_t i = 0; i < n; ++i) {
        RT_RETURN_IF_ERROR(check_input(setup, i, Mask));
        RT_RETURN_IF_ERROR(check_same_type(setup, 0, i));
    }
    RT_RETURN_IF_ERROR(check_output(setup));
    const DataType dtype = setup.inputs[0].dtype;
    RT_RETURN_IF_ERROR(check_output_type(setup, dtype));
    const ir::Shape& out = setup.outputs[0].shape;
    if (n == 1 && setup.inputs[0].shape != out) return setup.unsupported("one input of another shape than the output");
    std::vector<Broadcast<2>> steps;
    for (size_t k = 1; k < n; ++k) {
        const ir::Shape& first = k == 1 ? setup.inputs[0].shape : out;
        RT_ASSIGN_OR_RETURN(Broadcast<2> bc, make_broadcast<2>(setup, out, {first, setup.inputs[k].shape}));
        steps.push_back(bc);
    }
    const size_t out_bytes = static_cast<size_t>(ir::shape_numel(out)) * data_type_size(dtype);
    return OpPtr(new VariadicCudaOp<Fold, Last, Mask>(fold, last, dtype, std::move(steps), out_bytes));
}

template <class Op, uint32_t Mask>
Expected<OpPtr> fold_create(const OpSetup& setup, const CudaLibs&) {
    return create_variadic<Op, Op, Mask>(setup, Op(), Op());
}

Expected<OpPtr> mean_create(const OpSetup& setup, const CudaLibs&) {
    return create_variadic<Sum, SumDiv, kFloatTypes>(setup, Sum(), SumDiv{static_cast<float>(setup.inputs.size())});
}

}  // namespace

const CudaKernel kMaxCuda = {"Max", "", fold_create<Max, kNumberTypes>};
const CudaKernel kMinCuda = {"Min", "", fold_create<Min, kNumberTypes>};
const CudaKernel kSumCuda = {"Sum", "", fold_create<Sum, kFloatTypes>};
const CudaKernel kMeanCuda = {"Mean", "", mean_create};

}  // namespace rtinfer::cuda
