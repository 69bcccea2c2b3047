// Pad (constant, reflect, edge, wrap): pads/value attributes before opset 11, constant pads/constant_value
// inputs from 11, axes input from 18. Negative pads crop. Every output element maps, per axis, to a source
// coordinate inside the kept block of the input, or (constant mode, outside it) to the fill value.
#include <algorithm>
#include <cstring>

#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/tensor/copy_util.cuh"
#include "core/kernels/cuda/tensor/kernels.h"

namespace rtinfer::cuda {
namespace {

constexpr int kMaxPadDims = 8;
enum PadMode : int { kConstant = 0, kReflect = 1, kEdge = 2, kWrap = 3 };

struct PadParams {
    const void* src;
    void* dst;
    int rank;
    int mode;
    unsigned long long fill;  // the fill value's bytes
    int64_t count;
    int64_t out_size[kMaxPadDims];
    int64_t in_stride[kMaxPadDims];
    int64_t at[kMaxPadDims];    // output position of the kept block's first element
    int64_t lo[kMaxPadDims];    // input position of the kept block's first element
    int64_t kept[kMaxPadDims];  // extent of the kept block
};

template <class I>
__device__ __forceinline__ I map_coordinate(int mode, I p, I n) {
    if (mode == kEdge) return p < 0 ? 0 : (p >= n ? n - 1 : p);
    if (mode == kWrap) return ((p % n) + n) % n;
    if (n == 1) return 0;  // reflect
    const I period = 2 * (n - 1);
    const I q = ((p % period) + period) % period;
    return q < n ? q : period - q;
}

// I is int32 when every index fits, which keeps the per-dim divisions cheap.
template <class T, class I>
__global__ void pad_kernel(PadParams p) {
    const T* src = static_cast<const T*>(p.src);
    T* dst = static_cast<T*>(p.dst);
    T fill;
    memcpy(&fill, &p.fill, sizeof(T));
    const I count = static_cast<I>(p.count);
    const I step = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
    for (I i = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x); i < count;
         i += step) {
        I rem = i;
        I s = 0;
        bool outside = false;
        for (int d = p.rank - 1; d >= 0; --d) {
            const I size = static_cast<I>(p.out_size[d]);
            const I next = rem / size;
            const I o = rem - next * size;
            rem = next;
            I q = o - static_cast<I>(p.at[d]);
            const I kept = static_cast<I>(p.kept[d]);
            if (p.mode == kConstant) {
                outside = outside || q < 0 || q >= kept;
            } else {
                q = map_coordinate<I>(p.mode, q, kept);
            }
            s += (static_cast<I>(p.lo[d]) + q) * static_cast<I>(p.in_stride[d]);
        }
        dst[i] = outside ? fill : src[s];
    }
}

template <class T>
Status launch(const PadParams& p, bool wide, cudaStream_t stream) {
    const unsigned int grid = static_cast<unsigned int>(std::min<int64_t>((p.count + 255) / 256, 4096));
    if (wide) {
        pad_kernel<T, int64_t><<<grid, 256, 0, stream>>>(p);
    } else {
        pad_kernel<T, int32_t><<<grid, 256, 0, stream>>>(p);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

// Rows of `in_cols` 2-byte elements widened with the fill to rows of 8 (16 bytes, one store): a channels-last
// image padded along C to 8 channels for tensor cores (see convert_to_nhwc).
__global__ void pad_rows_to_8_kernel(const uint16_t* src, uint4* dst, int64_t rows, int in_cols, uint16_t fill) {
    for (int64_t r = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; r < rows; r += int64_t(gridDim.x) * blockDim.x) {
        uint16_t v[8];
#pragma unroll
        for (int c = 0; c < 8; ++c) v[c] = c < in_cols ? src[r * in_cols + c] : fill;
        uint4 out;
        memcpy(&out, v, sizeof(out));
        dst[r] = out;
    }
}

// The row case above: constant mode, two dims after merging, only the inner one padded, at its end, to 8.
bool is_row_pad_to_8(const PadParams& p, size_t elem_size) {
    return p.mode == kConstant && p.rank == 2 && elem_size == 2 && p.out_size[1] == 8 && p.at[0] == 0 &&
           p.at[1] == 0 && p.lo[0] == 0 && p.lo[1] == 0 && p.kept[0] == p.out_size[0] && p.kept[1] < 8;
}

class PadOp final : public CudaOp {
public:
    PadOp(PadParams params, size_t elem_size, bool wide) : params_(params), elem_size_(elem_size), wide_(wide) {}
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        if (params_.count == 0) return Status();
        PadParams p = params_;
        p.src = inputs[0].data;
        p.dst = outputs[0].data;
        if (is_row_pad_to_8(p, elem_size_) && reinterpret_cast<uintptr_t>(p.dst) % 16 == 0) {
            const int64_t rows = p.out_size[0];
            const unsigned grid = static_cast<unsigned>(std::min<int64_t>((rows + 255) / 256, 1 << 20));
            pad_rows_to_8_kernel<<<grid, 256, 0, libs.stream>>>(static_cast<const uint16_t*>(p.src),
                                                                static_cast<uint4*>(p.dst), rows,
                                                                static_cast<int>(p.kept[1]),
                                                                static_cast<uint16_t>(p.fill));
            RT_CUDA_CHECK_LAUNCH();
            return Status();
        }
        switch (elem_size_) {
            case 1:
                return launch<uint8_t>(p, wide_, libs.stream);
            case 2:
                return launch<uint16_t>(p, wide_, libs.stream);
            case 4:
                return launch<uint32_t>(p, wide_, libs.stream);
            case 8:
                return launch<unsigned long long>(p, wide_, libs.stream);
            default:
                break;
        }
        return Status(StatusCode::kInternal, "pad of " + std::to_string(elem_size_) + "-byte elements");
    }

private:
    PadParams params_;
    size_t elem_size_;
    bool wide_;
};

Expected<std::unique_ptr<CudaOp>> make_pad_op(const OpSetup& setup, PadParams p, const ir::Shape& in,
                                              const std::vector<int64_t>& begin, const std::vector<int64_t>& end,
                                              const std::string& mode_name, size_t elem_size);

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs&) {
    const ir::InputInfo& x = setup.inputs[0];
    const ir::Shape& in = x.shape;
    const int rank = static_cast<int>(in.size());
    if (rank > kMaxPadDims) return setup.unsupported("rank above " + std::to_string(kMaxPadDims));
    const std::string mode_name = setup.node.attr_string("mode", "constant");
    int mode = kConstant;
    if (mode_name == "reflect") {
        mode = kReflect;
    } else if (mode_name == "edge") {
        mode = kEdge;
    } else if (mode_name == "wrap" && setup.opset >= 19) {
        mode = kWrap;
    } else if (mode_name != "constant") {
        return setup.unsupported("mode '" + mode_name + "'");
    }
    std::vector<int64_t> pads;
    uint64_t fill = 0;
    if (setup.opset < 11) {
        pads = setup.node.attr_ints("pads");
        fill = scalar_bits(x.dtype, setup.node.attr_float("value", 0.0f));
    } else {
        RT_ASSIGN_OR_RETURN(pads, constant_ints(setup, 1, "pads"));
        if (setup.has_input(2)) {
            RT_ASSIGN_OR_RETURN(auto v, constant_doubles(setup, 2, "constant_value"));
            const ir::Tensor& value = *setup.inputs[2].value;
            if (value.numel() > 0 && value.dtype() == x.dtype) {
                // The value's own bytes: int64 fills beyond 2^53 would not survive a trip through double.
                std::memcpy(&fill, value.raw(), data_type_size(x.dtype));
            } else if (!v.empty()) {
                fill = scalar_bits(x.dtype, v[0]);
            }
        }
    }
    std::vector<int> axes;
    if (setup.opset >= 18 && setup.has_input(3)) {
        RT_ASSIGN_OR_RETURN(auto raw, constant_ints(setup, 3, "axes"));
        for (int64_t a : raw) {
            RT_ASSIGN_OR_RETURN(int axis, setup_axis(setup, a, rank));
            if (std::find(axes.begin(), axes.end(), axis) != axes.end()) return setup_error(setup, "repeated axis");
            axes.push_back(axis);
        }
    } else {
        for (int i = 0; i < rank; ++i) axes.push_back(i);
    }
    if (pads.size() != 2 * axes.size()) return setup_error(setup, "pads must have 2 values per padded axis");
    std::vector<int64_t> begin(in.size(), 0);
    std::vector<int64_t> end(in.size(), 0);
    for (size_t k = 0; k < axes.size(); ++k) {
        begin[static_cast<size_t>(axes[k])] = pads[k];
        end[static_cast<size_t>(axes[k])] = pads[k + axes.size()];
    }
    ir::Shape out_shape(in.size());
    for (size_t d = 0; d < in.size(); ++d) out_shape[d] = in[d] + begin[d] + end[d];
    if (!setup.outputs.empty() && setup.outputs[0].shape_known && setup.outputs[0].shape != out_shape &&
        std::all_of(out_shape.begin(), out_shape.end(), [](int64_t v) { return v >= 0; })) {
        return setup_error(setup, "output " + ir::shape_str(setup.outputs[0].shape) + " differs from the padded " +
                                      ir::shape_str(out_shape));
    }
    // Neighbouring unpadded dims index as one (an NHWC image padded along C is [N * H * W, C]): fewer
    // divisions per element.
    ir::Shape merged_in;
    std::vector<int64_t> merged_begin, merged_end;
    for (size_t d = 0; d < in.size(); ++d) {
        const bool unpadded = begin[d] == 0 && end[d] == 0;
        if (unpadded && !merged_in.empty() && merged_begin.back() == 0 && merged_end.back() == 0) {
            merged_in.back() *= in[d];
            continue;
        }
        merged_in.push_back(in[d]);
        merged_begin.push_back(begin[d]);
        merged_end.push_back(end[d]);
    }
    PadParams p{};
    p.rank = static_cast<int>(merged_in.size());
    p.mode = mode;
    p.fill = fill;
    return make_pad_op(setup, p, merged_in, merged_begin, merged_end, mode_name, data_type_size(x.dtype));
}

Expected<std::unique_ptr<CudaOp>> make_pad_op(const OpSetup& setup, PadParams p, const ir::Shape& in,
                                              const std::vector<int64_t>& begin, const std::vector<int64_t>& end,
                                              const std::string& mode_name, size_t elem_size) {
    const int mode = p.mode;
    const auto strides = ir::shape_strides(in);
    ir::Shape out(in.size());
    for (size_t d = 0; d < in.size(); ++d) {
        out[d] = in[d] + begin[d] + end[d];
        if (out[d] < 0) return setup_error(setup, "pads crop more than the input has");
        p.out_size[d] = out[d];
        p.in_stride[d] = strides[d];
        p.lo[d] = std::max<int64_t>(0, -begin[d]);
        p.kept[d] = std::max<int64_t>(0, in[d] - p.lo[d] - std::max<int64_t>(0, -end[d]));
        p.at[d] = std::max<int64_t>(0, begin[d]);
        if (mode != kConstant && p.kept[d] <= 0 && out[d] > 0) {
            return setup_error(setup, "mode '" + mode_name + "' cannot pad an axis with no elements");
        }
    }
    p.count = ir::shape_numel(out);
    constexpr int64_t kNarrowLimit = INT32_MAX / 4;
    bool wide = p.count > kNarrowLimit || ir::shape_numel(in) > kNarrowLimit;
    int64_t span = 0;  // bounds |source offset|, also for the coordinates outside the kept block
    for (size_t d = 0; d < in.size(); ++d) span += (p.lo[d] + p.at[d] + std::max(out[d], p.kept[d])) * strides[d];
    wide = wide || span > kNarrowLimit;
    return std::unique_ptr<CudaOp>(new PadOp(p, elem_size, wide));
}

}  // namespace

const CudaKernel kPadCuda = {"Pad", "", create};

}  // namespace rtinfer::cuda
