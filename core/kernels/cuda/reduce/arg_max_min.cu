// ArgMax / ArgMin over float32/float16: the int64 index of the extreme value along one axis, the first on
// ties or the last with select_last_index. Rows along the last axis take a warp each, other axes a thread per
// (outer, inner) column that scans the axis in order as the reference does.
#include <algorithm>

#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/reduce/kernels.h"
#include "core/kernels/cuda/reduce/reduce_common.cuh"

namespace rtinfer::cuda {
namespace {

struct ArgParams {
    const void* x;
    int64_t* y;
    int64_t outer;
    int64_t n;
    int64_t inner;
    bool max;
    bool last;  // select_last_index
};

// Whether (v, k) beats the best so far (bv, bk); bk < 0 means there is none yet.
__device__ __forceinline__ bool better(const ArgParams& p, float v, int64_t k, float bv, int64_t bk) {
    if (k < 0) return false;
    if (bk < 0) return true;
    if (v == bv) return p.last ? k > bk : k < bk;
    return p.max ? v > bv : v < bv;
}

template <class T>
__global__ void arg_warp_kernel(ArgParams p) {
    const int64_t row = static_cast<int64_t>(blockIdx.x) * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= p.outer) return;
    const int lane = threadIdx.x & 31;
    const T* x = static_cast<const T*>(p.x) + row * p.n;
    float bv = 0.0f;
    int64_t bk = -1;
    for (int64_t k = lane; k < p.n; k += 32) {
        const float v = to_float(x[k]);
        if (better(p, v, k, bv, bk)) {
            bv = v;
            bk = k;
        }
    }
    for (int o = 16; o > 0; o >>= 1) {
        const float v = __shfl_xor_sync(0xffffffffu, bv, o);
        const int64_t k = __shfl_xor_sync(0xffffffffu, bk, o);
        if (better(p, v, k, bv, bk)) {
            bv = v;
            bk = k;
        }
    }
    if (lane == 0) p.y[row] = bk < 0 ? 0 : bk;
}

template <class T>
__global__ void arg_column_kernel(ArgParams p) {
    const int64_t columns = p.outer * p.inner;
    for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < columns;
         c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int64_t o = c / p.inner;
        const int64_t i = c - o * p.inner;
        const T* x = static_cast<const T*>(p.x) + o * p.n * p.inner + i;
        float bv = to_float(x[0]);
        int64_t bk = 0;
        for (int64_t k = 1; k < p.n; ++k) {
            const float v = to_float(x[k * p.inner]);
            const bool take = p.max ? (v > bv || (p.last && v == bv)) : (v < bv || (p.last && v == bv));
            if (take) {
                bv = v;
                bk = k;
            }
        }
        p.y[c] = bk;
    }
}

template <class T>
Status launch(const ArgParams& p, cudaStream_t stream) {
    if (p.inner == 1) {
        arg_warp_kernel<T><<<static_cast<unsigned int>((p.outer + 3) / 4), 128, 0, stream>>>(p);
    } else {
        const int64_t columns = p.outer * p.inner;
        const unsigned int grid = static_cast<unsigned int>(std::min<int64_t>((columns + 255) / 256, 4096));
        arg_column_kernel<T><<<grid, 256, 0, stream>>>(p);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

class ArgOp final : public CudaOp {
public:
    ArgOp(ArgParams params, bool half) : params_(params), half_(half) {}
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        if (params_.outer * params_.inner == 0) return Status();
        ArgParams p = params_;
        p.x = inputs[0].data;
        p.y = static_cast<int64_t*>(outputs[0].data);
        return half_ ? launch<__half>(p, libs.stream) : launch<float>(p, libs.stream);
    }

private:
    ArgParams params_;
    bool half_;
};

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs&) {
    const ir::InputInfo& x = setup.inputs[0];
    if (!is_float_math_type(x.dtype)) return setup.unsupported(std::string("type ") + data_type_name(x.dtype));
    const int rank = static_cast<int>(x.shape.size());
    const int64_t axis = setup.node.attr_int("axis", 0);
    if (rank == 0 || axis < -rank || axis >= rank) {
        return reduce_setup_error(setup,
                                  "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    }
    const AxisView v = view_at_axis(x.shape, static_cast<int>(axis < 0 ? axis + rank : axis));
    if (v.axis == 0 && v.outer * v.inner > 0) return reduce_setup_error(setup, "the axis is empty");
    if (v.inner == 1 && v.outer > INT32_MAX) return setup.unsupported("more than 2^31 rows");
    const ArgParams p{nullptr,
                      nullptr,
                      v.outer,
                      v.axis,
                      v.inner,
                      setup.node.op_type == "ArgMax",
                      setup.node.attr_int("select_last_index", 0) != 0};
    return std::unique_ptr<CudaOp>(new ArgOp(p, x.dtype == DataType::kFloat16));
}

}  // namespace

const CudaKernel kArgMaxCuda = {"ArgMax", "", create};
const CudaKernel kArgMinCuda = {"ArgMin", "", create};

}  // namespace rtinfer::cuda
