// Gather along one axis with int32 or int64 indices on the device: output [outer, indices, inner] reads
// row (o, index) of the [outer, n, inner] view of data. Negative indices count from the end; an index out of
// range (which the reference reports as an error) cannot be reported from the device and gives zeros.
#include <algorithm>

#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/tensor/copy_util.cuh"
#include "core/kernels/cuda/tensor/kernels.h"

namespace rtinfer::cuda {
namespace {

struct GatherParams {
    const void* data;
    const void* indices;
    void* out;
    bool indices64;
    int64_t outer;
    int64_t n;          // data's extent along the axis
    int64_t count;      // number of indices
    int64_t row_units;  // units of U per gathered row
};

template <class U>
__global__ void gather_kernel(GatherParams p) {
    const U* data = static_cast<const U*>(p.data);
    U* out = static_cast<U*>(p.out);
    const int64_t total = p.outer * p.count * p.row_units;
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int64_t j = i % p.row_units;
        const int64_t t = i / p.row_units;
        const int64_t k = t % p.count;
        const int64_t o = t / p.count;
        int64_t idx = p.indices64 ? static_cast<const int64_t*>(p.indices)[k]
                                  : static_cast<int64_t>(static_cast<const int32_t*>(p.indices)[k]);
        if (idx < 0) idx += p.n;
        if (idx < 0 || idx >= p.n) {
            out[i] = U{};
        } else {
            out[i] = data[(o * p.n + idx) * p.row_units + j];
        }
    }
}

template <class U>
Status launch(const GatherParams& p, cudaStream_t stream) {
    const int64_t total = p.outer * p.count * p.row_units;
    const unsigned int grid = static_cast<unsigned int>(std::min<int64_t>((total + 255) / 256, 4096));
    gather_kernel<U><<<grid, 256, 0, stream>>>(p);
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

class GatherOp final : public CudaOp {
public:
    GatherOp(int64_t outer, int64_t n, int64_t row_bytes, size_t elem_size, bool indices64)
        : outer_(outer), n_(n), row_bytes_(row_bytes), elem_size_(elem_size), indices64_(indices64) {}

    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        const int64_t count = inputs[1].numel();
        if (outputs[0].numel() == 0) return Status();
        // The widest unit that divides a row and both pointers.
        int64_t unit = static_cast<int64_t>(elem_size_);
        for (int64_t u : {16, 8, 4, 2}) {
            if (u <= unit) break;
            if (row_bytes_ % u == 0 && reinterpret_cast<uintptr_t>(inputs[0].data) % u == 0 &&
                reinterpret_cast<uintptr_t>(outputs[0].data) % u == 0) {
                unit = u;
                break;
            }
        }
        const GatherParams p{inputs[0].data, inputs[1].data,   outputs[0].data, indices64_, outer_, n_,
                             count,          row_bytes_ / unit};
        switch (unit) {
            case 1:
                return launch<uint8_t>(p, libs.stream);
            case 2:
                return launch<uint16_t>(p, libs.stream);
            case 4:
                return launch<uint32_t>(p, libs.stream);
            case 8:
                return launch<unsigned long long>(p, libs.stream);
            case 16:
                return launch<uint4>(p, libs.stream);
            default:
                break;
        }
        return Status(StatusCode::kInternal, "gather of " + std::to_string(unit) + "-byte units");
    }

private:
    int64_t outer_;
    int64_t n_;
    int64_t row_bytes_;
    size_t elem_size_;
    bool indices64_;
};

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs&) {
    const ir::InputInfo& data = setup.inputs[0];
    const DataType index_type = setup.inputs[1].dtype;
    if (index_type != DataType::kInt32 && index_type != DataType::kInt64) {
        return setup_error(setup, std::string("indices must be int32 or int64, not ") + data_type_name(index_type));
    }
    const ir::Shape& shape = data.shape;
    if (shape.empty()) return setup_error(setup, "data must have rank >= 1");
    RT_ASSIGN_OR_RETURN(int axis, setup_axis(setup, setup.node.attr_int("axis", 0), static_cast<int>(shape.size())));
    int64_t outer = 1;
    int64_t inner = 1;
    for (int d = 0; d < axis; ++d) outer *= shape[static_cast<size_t>(d)];
    for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
    const size_t es = data_type_size(data.dtype);
    return std::unique_ptr<CudaOp>(new GatherOp(outer, shape[static_cast<size_t>(axis)],
                                                inner * static_cast<int64_t>(es), es, index_type == DataType::kInt64));
}

}  // namespace

const CudaKernel kGatherCuda = {"Gather", "", create};

}  // namespace rtinfer::cuda
