// TopK along the last axis for k <= 64 (larger k or another axis runs on the reference): one block per row
// selects the k elements one after the other, each the best of those ranked after the previous pick. The
// order is strict (value, then lower index; NaN above every number, as in the reference), so the output is
// sorted and deterministic.
#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/reduce/kernels.h"
#include "core/kernels/cuda/reduce/reduce_common.cuh"

namespace rtinfer::cuda {
namespace {

constexpr int64_t kMaxK = 64;
constexpr int kThreads = 128;

struct TopKParams {
    const void* x;
    void* values;      // may be null (output omitted)
    int64_t* indices;  // may be null
    int64_t rows;
    int64_t n;
    int64_t k;
    bool largest;
};

// Whether (a, ia) ranks before (b, ib).
__device__ __forceinline__ bool ranks_before(bool largest, float a, int64_t ia, float b, int64_t ib) {
    const bool na = a != a;
    const bool nb = b != b;
    if (na != nb) return largest ? na : nb;
    if (!na && a != b) return largest ? a > b : a < b;
    return ia < ib;
}

// Keeps the better of two candidates; an index < 0 is no candidate.
__device__ __forceinline__ void keep_best(bool largest, float& v, int64_t& i, float ov, int64_t oi) {
    if (oi < 0) return;
    if (i < 0 || ranks_before(largest, ov, oi, v, i)) {
        v = ov;
        i = oi;
    }
}

template <class T>
__global__ void top_k_kernel(TopKParams p) {
    __shared__ float sv[kThreads / 32];
    __shared__ int64_t si[kThreads / 32];
    const int64_t row = blockIdx.x;
    const T* x = static_cast<const T*>(p.x) + row * p.n;
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    float prev_v = 0.0f;
    int64_t prev_i = -1;
    for (int64_t j = 0; j < p.k; ++j) {
        float bv = 0.0f;
        int64_t bi = -1;
        for (int64_t e = threadIdx.x; e < p.n; e += blockDim.x) {
            const float v = to_float(x[e]);
            if (prev_i >= 0 && !ranks_before(p.largest, prev_v, prev_i, v, e)) continue;
            keep_best(p.largest, bv, bi, v, e);
        }
        for (int o = 16; o > 0; o >>= 1) {
            const float ov = __shfl_xor_sync(0xffffffffu, bv, o);
            const int64_t oi = __shfl_xor_sync(0xffffffffu, bi, o);
            keep_best(p.largest, bv, bi, ov, oi);
        }
        if (lane == 0) {
            sv[warp] = bv;
            si[warp] = bi;
        }
        __syncthreads();
        bv = sv[0];
        bi = si[0];
        for (int w = 1; w < kThreads / 32; ++w) keep_best(p.largest, bv, bi, sv[w], si[w]);
        __syncthreads();  // sv/si are rewritten in the next round
        if (threadIdx.x == 0) {
            if (p.values) static_cast<T*>(p.values)[row * p.k + j] = x[bi];
            if (p.indices) p.indices[row * p.k + j] = bi;
        }
        prev_v = bv;
        prev_i = bi;
    }
}

class TopKOp final : public CudaOp {
public:
    TopKOp(TopKParams params, bool half) : params_(params), half_(half) {}
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        if (params_.rows == 0 || params_.k == 0) return Status();
        TopKParams p = params_;
        p.x = inputs[0].data;
        p.values = outputs.size() > 0 ? outputs[0].data : nullptr;
        p.indices = outputs.size() > 1 ? static_cast<int64_t*>(outputs[1].data) : nullptr;
        const unsigned int grid = static_cast<unsigned int>(p.rows);
        if (half_) {
            top_k_kernel<__half><<<grid, kThreads, 0, libs.stream>>>(p);
        } else {
            top_k_kernel<float><<<grid, kThreads, 0, libs.stream>>>(p);
        }
        RT_CUDA_CHECK_LAUNCH();
        return Status();
    }

private:
    TopKParams params_;
    bool half_;
};

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs&) {
    const ir::InputInfo& x = setup.inputs[0];
    if (!is_float_math_type(x.dtype)) return setup.unsupported(std::string("type ") + data_type_name(x.dtype));
    const int rank = static_cast<int>(x.shape.size());
    const int64_t axis = setup.node.attr_int("axis", -1);
    if (rank == 0 || axis < -rank || axis >= rank) {
        return reduce_setup_error(setup,
                                  "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    }
    const AxisView v = view_at_axis(x.shape, static_cast<int>(axis < 0 ? axis + rank : axis));
    if (v.inner != 1) return setup.unsupported("an axis other than the last");
    int64_t k = 0;
    if (setup.opset >= 10 || setup.has_input(1)) {
        if (!setup.has_input(1) || setup.inputs.size() < 2 || !setup.inputs[1].value) {
            return setup.unsupported("K is not a constant");
        }
        const auto values = ir::to_int64s(*setup.inputs[1].value);
        if (values.size() != 1) return reduce_setup_error(setup, "K must hold one value");
        k = values[0];
    } else {
        k = setup.node.attr_int("k", 0);
    }
    if (k < 0 || k > v.axis) return reduce_setup_error(setup, "k = " + std::to_string(k) + " is out of range");
    if (k > kMaxK) return setup.unsupported("k above " + std::to_string(kMaxK));
    if (v.outer > INT32_MAX) return setup.unsupported("more than 2^31 rows");
    const TopKParams p{nullptr, nullptr, nullptr, v.outer, v.axis, k, setup.node.attr_int("largest", 1) != 0};
    return std::unique_ptr<CudaOp>(new TopKOp(p, x.dtype == DataType::kFloat16));
}

}  // namespace

const CudaKernel kTopKCuda = {"TopK", "", create};

}  // namespace rtinfer::cuda
