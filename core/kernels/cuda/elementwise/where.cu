// Where: y = cond ? x : y-input, all three broadcast together. It only selects elements, so it moves them by
// size: one kernel each for 1-, 2-, 4- and 8-byte types (bool, int8, uint8, float16, float32, int32, int64).
#include "core/kernels/cuda/elementwise/common.cuh"
#include "core/kernels/cuda/elementwise/kernels.h"

namespace rtinfer::cuda {
namespace {

using namespace ew;

struct WhereArgs {
    const void* cond = nullptr;
    const void* x = nullptr;
    const void* y = nullptr;
    void* out = nullptr;
    Broadcast<3> bc;
};

template <class T>
__global__ void where_kernel(WhereArgs args) {
    const uint8_t* cond = static_cast<const uint8_t*>(args.cond);
    const T* x = static_cast<const T*>(args.x);
    const T* y = static_cast<const T*>(args.y);
    T* out = static_cast<T*>(args.out);
    RT_EW_FOR_EACH(i, args.bc.n) {
        int64_t off[3];
        broadcast_offsets(args.bc, i, off);
        out[i] = cond[off[0]] ? x[off[1]] : y[off[2]];
    }
}

template <class T>
Status launch_where(const WhereArgs& args, cudaStream_t stream) {
    if (args.bc.n == 0) return Status();
    where_kernel<T><<<blocks_for(args.bc.n), kThreads, 0, stream>>>(args);
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

class WhereCudaOp final : public CudaOp {
public:
    WhereCudaOp(size_t elem_size, const Broadcast<3>& bc) : elem_size_(elem_size), bc_(bc) {}

    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        WhereArgs args;
        args.cond = inputs[0].data;
        args.x = inputs[1].data;
        args.y = inputs[2].data;
        args.out = outputs[0].data;
        args.bc = bc_;
        switch (elem_size_) {
            case 1:
                return launch_where<uint8_t>(args, libs.stream);
            case 2:
                return launch_where<uint16_t>(args, libs.stream);
            case 4:
                return launch_where<uint32_t>(args, libs.stream);
            default:
                return launch_where<uint64_t>(args, libs.stream);
        }
    }

private:
    size_t elem_size_;
    Broadcast<3> bc_;
};

Expected<OpPtr> create(const OpSetup& setup, const CudaLibs&) {
    if (setup.inputs.size() != 3) return setup.unsupported("expects 3 inputs");
    RT_RETURN_IF_ERROR(check_input(setup, 0, kBoolType));
    RT_RETURN_IF_ERROR(check_input(setup, 1, kCastTypes));
    RT_RETURN_IF_ERROR(check_input(setup, 2, kCastTypes));
    RT_RETURN_IF_ERROR(check_same_type(setup, 1, 2));
    RT_RETURN_IF_ERROR(check_output(setup));
    const DataType dtype = setup.inputs[1].dtype;
    RT_RETURN_IF_ERROR(check_output_type(setup, dtype));
    RT_ASSIGN_OR_RETURN(Broadcast<3> bc, make_broadcast<3>(setup, setup.outputs[0].shape, input_shapes(setup, 0, 3)));
    return OpPtr(new WhereCudaOp(data_type_size(dtype), bc));
}

}  // namespace

const CudaKernel kWhereCuda = {"Where", "", create};

}  // namespace rtinfer::cuda
