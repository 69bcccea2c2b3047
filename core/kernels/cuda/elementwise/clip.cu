// Clip: y = min(max(x, lo), hi), NaN passing through. Before opset 11 lo and hi are float attributes; from 11
// they are optional one-element inputs of x's type: constants are read here at create, others are read by
// the kernel from device memory at run time. float32, float16 (bounds in float, as the reference widens
// float16 to float32), int32, int64.
#include <cfloat>
#include <limits>

#include "core/kernels/cuda/elementwise/common.cuh"
#include "core/kernels/cuda/elementwise/kernels.h"

namespace rtinfer::cuda {
namespace {

using namespace ew;

constexpr uint32_t kClipTypes = kFloatTypes | kIndexTypes;

template <class E>
struct ClipFn {
    const E* lo_ptr = nullptr;  // device scalar, or null for the constant below
    const E* hi_ptr = nullptr;
    math_t<E> lo;
    math_t<E> hi;
    __device__ math_t<E> operator()(math_t<E> x) const {
        const math_t<E> l = lo_ptr ? load(lo_ptr, 0) : lo;
        const math_t<E> h = hi_ptr ? load(hi_ptr, 0) : hi;
        const math_t<E> v = x < l ? l : x;
        return h < v ? h : v;
    }
};

// One bound: a run-time input, or a constant (kept as float for float types, int64 for integers).
struct Bound {
    bool from_input = false;
    float f = 0.0f;
    int64_t i = 0;
};

class ClipCudaOp final : public CudaOp {
public:
    ClipCudaOp(DataType dtype, int64_t n, Bound lo, Bound hi) : dtype_(dtype), n_(n), lo_(lo), hi_(hi) {}

    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        const UnaryArgs args{inputs[0].data, outputs[0].data, n_};
        Status status;
        const bool handled = dispatch<kClipTypes>(dtype_, [&](auto tag) {
            using E = typename decltype(tag)::type;
            using M = math_t<E>;
            ClipFn<E> fn;
            if (lo_.from_input) fn.lo_ptr = static_cast<const E*>(inputs[1].data);
            if (hi_.from_input) fn.hi_ptr = static_cast<const E*>(inputs[2].data);
            if constexpr (std::is_integral_v<M>) {
                fn.lo = static_cast<M>(lo_.i);
                fn.hi = static_cast<M>(hi_.i);
            } else {
                fn.lo = lo_.f;
                fn.hi = hi_.f;
            }
            status = launch_unary<E, E>(args, fn, libs.stream);
        });
        return handled ? status : unexpected_type(dtype_);
    }

private:
    DataType dtype_;
    int64_t n_;
    Bound lo_;
    Bound hi_;
};

// The bound of input i (1 = min, 2 = max) from opset 11; absent inputs and empty tensors leave `b` as is.
Status read_bound(const OpSetup& setup, size_t i, Bound& b) {
    if (!setup.has_input(i) || i >= setup.inputs.size()) return Status();
    RT_RETURN_IF_ERROR(check_same_type(setup, 0, i));
    const ir::InputInfo& info = setup.inputs[i];
    const int64_t count = ir::shape_numel(info.shape);
    if (count == 0) return Status();
    if (count != 1) return setup.unsupported(std::string(i == 1 ? "min" : "max") + " is not a scalar");
    if (!info.value) {
        b.from_input = true;
    } else if (type_in(info.dtype, kIndexTypes)) {
        b.i = ir::to_int64s(*info.value)[0];
    } else {
        b.f = static_cast<float>(ir::to_doubles(*info.value)[0]);
    }
    return Status();
}

Expected<OpPtr> create(const OpSetup& setup, const CudaLibs&) {
    RT_RETURN_IF_ERROR(check_input(setup, 0, kClipTypes));
    RT_RETURN_IF_ERROR(check_output(setup));
    const DataType dtype = setup.inputs[0].dtype;
    RT_RETURN_IF_ERROR(check_output_type(setup, dtype));
    Bound lo;
    Bound hi;
    if (dtype == DataType::kInt32) {
        lo.i = std::numeric_limits<int32_t>::lowest();
        hi.i = std::numeric_limits<int32_t>::max();
    } else {
        lo.i = std::numeric_limits<int64_t>::lowest();
        hi.i = std::numeric_limits<int64_t>::max();
    }
    lo.f = -FLT_MAX;
    hi.f = FLT_MAX;
    if (setup.opset >= 11) {
        if (setup.inputs.size() > 3) return setup.unsupported("more than 3 inputs");
        RT_RETURN_IF_ERROR(read_bound(setup, 1, lo));
        RT_RETURN_IF_ERROR(read_bound(setup, 2, hi));
    } else {
        if (setup.inputs.size() != 1) return setup.unsupported("inputs besides x before opset 11");
        const ir::Node& n = setup.node;
        if (n.has_attr("min")) {
            lo.f = n.attr_float("min", 0.0f);
            lo.i = static_cast<int64_t>(lo.f);
        }
        if (n.has_attr("max")) {
            hi.f = n.attr_float("max", 0.0f);
            hi.i = static_cast<int64_t>(hi.f);
        }
    }
    const int64_t n = ir::shape_numel(setup.outputs[0].shape);
    if (n != ir::shape_numel(setup.inputs[0].shape)) return setup.unsupported("output shape differs from x");
    return OpPtr(new ClipCudaOp(dtype, n, lo, hi));
}

}  // namespace

const CudaKernel kClipCuda = {"Clip", "", create};

}  // namespace rtinfer::cuda
