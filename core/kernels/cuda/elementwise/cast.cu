// Cast (to the output's type, which infer took from `to`) and CastLike (to input 1's type) between float32,
// float16, int8, uint8, int32, int64 and bool, with the conversions of the reference (ir::cast_tensor):
// C++ casts, float16 through float, integer narrowing by truncation, anything to bool as x != 0. One kernel
// with run-time type switches (uniform across the grid) rather than a template per pair of types.
#include "core/kernels/cuda/elementwise/common.cuh"
#include "core/kernels/cuda/elementwise/kernels.h"

namespace rtinfer::cuda {
namespace {

using namespace ew;

struct CastArgs {
    const void* x = nullptr;
    void* y = nullptr;
    int64_t n = 0;
    Elem from = Elem::kF32;
    Elem to = Elem::kF32;
};

// An element read exactly: floats as float (float16 widens exactly), integers and bool as int64.
struct Value {
    bool is_float;
    float f;
    int64_t i;
};

__device__ __forceinline__ Value read(const void* p, Elem t, int64_t i) {
    switch (t) {
        case Elem::kF32:
            return {true, static_cast<const float*>(p)[i], 0};
        case Elem::kF16:
            return {true, __half2float(static_cast<const __half*>(p)[i]), 0};
        case Elem::kI8:
            return {false, 0.0f, static_cast<const int8_t*>(p)[i]};
        case Elem::kI32:
            return {false, 0.0f, static_cast<const int32_t*>(p)[i]};
        case Elem::kI64:
            return {false, 0.0f, static_cast<const int64_t*>(p)[i]};
        default:
            return {false, 0.0f, static_cast<const uint8_t*>(p)[i]};  // uint8, bool
    }
}

// Float to integer truncates toward zero. Out of range (undefined in C++) these give what x86's cvttss2si,
// which the reference compiles to, gives: the most negative value; narrower types take the low bits.
__device__ __forceinline__ int32_t float_to_i32(float f) {
    return (f >= -2147483648.0f && f < 2147483648.0f) ? static_cast<int32_t>(f) : INT32_MIN;
}
__device__ __forceinline__ int64_t float_to_i64(float f) {
    return (f >= -9223372036854775808.0f && f < 9223372036854775808.0f) ? static_cast<int64_t>(f) : INT64_MIN;
}

__device__ __forceinline__ void write(void* p, Elem t, int64_t i, const Value& v) {
    switch (t) {
        case Elem::kF32:
            static_cast<float*>(p)[i] = v.is_float ? v.f : static_cast<float>(v.i);
            break;
        case Elem::kF16:
            static_cast<__half*>(p)[i] = __float2half_rn(v.is_float ? v.f : static_cast<float>(v.i));
            break;
        case Elem::kI8:
            static_cast<int8_t*>(p)[i] = static_cast<int8_t>(v.is_float ? float_to_i32(v.f) : v.i);
            break;
        case Elem::kU8:
            static_cast<uint8_t*>(p)[i] = static_cast<uint8_t>(v.is_float ? float_to_i32(v.f) : v.i);
            break;
        case Elem::kI32:
            static_cast<int32_t*>(p)[i] = static_cast<int32_t>(v.is_float ? float_to_i32(v.f) : v.i);
            break;
        case Elem::kI64:
            static_cast<int64_t*>(p)[i] = v.is_float ? float_to_i64(v.f) : v.i;
            break;
        case Elem::kBool:
            static_cast<uint8_t*>(p)[i] = (v.is_float ? v.f != 0.0f : v.i != 0) ? 1 : 0;
            break;
    }
}

__global__ void cast_kernel(CastArgs args) {
    RT_EW_FOR_EACH(i, args.n) {
        write(args.y, args.to, i, read(args.x, args.from, i));
    }
}

class CastCudaOp final : public CudaOp {
public:
    CastCudaOp(DataType from, DataType to, int64_t n) : from_(from), to_(to), n_(n) {}

    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        if (n_ == 0) return Status();
        if (from_ == to_) {
            if (outputs[0].data != inputs[0].data) {
                RT_CUDA_CHECK(cudaMemcpyAsync(outputs[0].data, inputs[0].data,
                                              static_cast<size_t>(n_) * data_type_size(from_), cudaMemcpyDeviceToDevice,
                                              libs.stream));
            }
            return Status();
        }
        CastArgs args;
        args.x = inputs[0].data;
        args.y = outputs[0].data;
        args.n = n_;
        args.from = elem_of(from_);
        args.to = elem_of(to_);
        cast_kernel<<<blocks_for(n_), kThreads, 0, libs.stream>>>(args);
        RT_CUDA_CHECK_LAUNCH();
        return Status();
    }

private:
    DataType from_;
    DataType to_;
    int64_t n_;
};

Expected<OpPtr> create_cast(const OpSetup& setup, DataType to) {
    RT_RETURN_IF_ERROR(check_input(setup, 0, kCastTypes));
    RT_RETURN_IF_ERROR(check_output(setup));
    if (!type_in(to, kCastTypes)) return setup.unsupported(std::string("cast to ") + data_type_name(to));
    RT_RETURN_IF_ERROR(check_output_type(setup, to));
    const int64_t n = ir::shape_numel(setup.outputs[0].shape);
    if (n != ir::shape_numel(setup.inputs[0].shape)) return setup.unsupported("output shape differs from the input");
    return OpPtr(new CastCudaOp(setup.inputs[0].dtype, to, n));
}

Expected<OpPtr> cast_create(const OpSetup& setup, const CudaLibs&) {
    RT_RETURN_IF_ERROR(check_output(setup));
    return create_cast(setup, setup.outputs[0].dtype);
}

Expected<OpPtr> cast_like_create(const OpSetup& setup, const CudaLibs&) {
    if (setup.inputs.size() != 2) return setup.unsupported("expects inputs input and target_type");
    RT_RETURN_IF_ERROR(check_input(setup, 1, kCastTypes));
    return create_cast(setup, setup.inputs[1].dtype);
}

}  // namespace

const CudaKernel kCastCuda = {"Cast", "", cast_create};
const CudaKernel kCastLikeCuda = {"CastLike", "", cast_like_create};

}  // namespace rtinfer::cuda
