#include "core/kernels/cuda/tensor/copy_util.cuh"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/ir/half.h"
#include "core/ir/shape_util.h"
#include "core/kernels/cuda/cuda_check.h"

namespace rtinfer::cuda {
namespace {

constexpr int kThreads = 256;
// Grid-stride loops past this many blocks: enough to fill any of the target GPUs.
constexpr int64_t kMaxBlocks = 4096;

unsigned int grid_for(int64_t n) {
    return static_cast<unsigned int>(std::min<int64_t>((n + kThreads - 1) / kThreads, kMaxBlocks));
}

struct StridedCopyParams {
    const char* src;
    char* dst;
    int rank;
    int64_t count;
    int64_t size[kMaxCopyDims];
    int64_t src_stride[kMaxCopyDims];  // in units of U
    int64_t dst_stride[kMaxCopyDims];
};

// One thread per moved unit; the destination index decomposes into the block's coordinates. I is int32 when
// every index and offset fits, which keeps the divisions cheap.
template <class U, class I>
__global__ void strided_copy_kernel(StridedCopyParams p) {
    const I n = static_cast<I>(p.count);
    const I step = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
    const U* src = reinterpret_cast<const U*>(p.src);
    U* dst = reinterpret_cast<U*>(p.dst);
    for (I i = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x); i < n;
         i += step) {
        I rem = i;
        I s = 0;
        I d = 0;
        for (int k = p.rank - 1; k >= 0; --k) {
            const I size = static_cast<I>(p.size[k]);
            const I q = rem / size;
            const I c = rem - q * size;
            rem = q;
            s += c * static_cast<I>(p.src_stride[k]);
            d += c * static_cast<I>(p.dst_stride[k]);
        }
        dst[d] = src[s];
    }
}

template <class U>
Status launch_strided(const StridedCopyParams& p, bool wide_index, cudaStream_t stream) {
    const unsigned int grid = grid_for(p.count);
    if (wide_index) {
        strided_copy_kernel<U, int64_t><<<grid, kThreads, 0, stream>>>(p);
    } else {
        strided_copy_kernel<U, int32_t><<<grid, kThreads, 0, stream>>>(p);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

// A tile of 32x32 elements goes through shared memory so both the read and the write are coalesced; the
// extra column keeps the transposed reads free of bank conflicts.
template <class T>
__global__ void transpose_tiled_kernel(const T* src, T* dst, int64_t batch, int64_t rows, int64_t cols) {
    __shared__ T tile[32][33];
    const int64_t c0 = static_cast<int64_t>(blockIdx.x) * 32;
    const int64_t r0 = static_cast<int64_t>(blockIdx.y) * 32;
    const int tx = static_cast<int>(threadIdx.x);
    const int ty = static_cast<int>(threadIdx.y);
    const int64_t plane = rows * cols;
    for (int64_t b = blockIdx.z; b < batch; b += gridDim.z) {
        const T* in = src + b * plane;
        T* out = dst + b * plane;
        for (int j = ty; j < 32; j += 8) {
            const int64_t r = r0 + j;
            const int64_t c = c0 + tx;
            if (r < rows && c < cols) tile[j][tx] = in[r * cols + c];
        }
        __syncthreads();
        for (int j = ty; j < 32; j += 8) {
            const int64_t c = c0 + j;
            const int64_t r = r0 + tx;
            if (r < rows && c < cols) out[c * rows + r] = tile[tx][j];
        }
        __syncthreads();
    }
}

template <class T>
Status launch_tiled(const void* src, void* dst, int64_t batch, int64_t rows, int64_t cols, cudaStream_t stream) {
    const dim3 block(32, 8);
    const dim3 grid(static_cast<unsigned int>((cols + 31) / 32), static_cast<unsigned int>((rows + 31) / 32),
                    static_cast<unsigned int>(std::min<int64_t>(batch, 65535)));
    transpose_tiled_kernel<T>
        <<<grid, block, 0, stream>>>(static_cast<const T*>(src), static_cast<T*>(dst), batch, rows, cols);
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

template <class U>
__global__ void fill_kernel(U* dst, int64_t n, U value) {
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        dst[i] = value;
    }
}

template <class U>
Status launch_fill_typed(void* dst, int64_t n, uint64_t bits, cudaStream_t stream) {
    U value;
    std::memcpy(&value, &bits, sizeof(U));  // the low bytes on little-endian hosts and GPUs
    fill_kernel<U><<<grid_for(n), kThreads, 0, stream>>>(static_cast<U*>(dst), n, value);
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

bool aligned(const void* p, int64_t unit) {
    return reinterpret_cast<uintptr_t>(p) % static_cast<uintptr_t>(unit) == 0;
}

int64_t abs64(int64_t v) {
    return v < 0 ? -v : v;
}

}  // namespace

std::vector<CopyDim> dims_into_contiguous(const ir::Shape& shape, const std::vector<int64_t>& src_strides) {
    const auto dst_strides = ir::shape_strides(shape);
    std::vector<CopyDim> dims(shape.size());
    for (size_t i = 0; i < shape.size(); ++i) dims[i] = CopyDim{shape[i], src_strides[i], dst_strides[i]};
    return dims;
}

Expected<CopyPlan> CopyPlan::make(const std::vector<CopyDim>& dims, size_t elem_size) {
    CopyPlan plan;
    plan.elem_size_ = elem_size;
    plan.count_ = 1;
    const int64_t es = static_cast<int64_t>(elem_size);
    for (const CopyDim& d : dims) plan.count_ *= d.size;
    if (plan.count_ == 0) return plan;
    for (const CopyDim& d : dims) {
        if (d.size == 1) continue;
        const ByteDim b{d.size, d.src_stride * es, d.dst_stride * es};
        if (!plan.dims_.empty()) {
            ByteDim& o = plan.dims_.back();
            if (o.src == b.src * b.size && o.dst == b.dst * b.size) {
                o = ByteDim{o.size * b.size, b.src, b.dst};
                continue;
            }
        }
        plan.dims_.push_back(b);
    }
    if (plan.dims_.size() > static_cast<size_t>(kMaxCopyDims)) {
        return Status(StatusCode::kUnsupported, "a strided copy of " + std::to_string(plan.dims_.size()) +
                                                    " dims is more than the CUDA kernel handles");
    }
    return plan;
}

Status CopyPlan::launch(const void* src, void* dst, cudaStream_t stream) const {
    if (count_ == 0) return Status();
    const int64_t es = static_cast<int64_t>(elem_size_);
    if (dims_.empty()) {
        RT_CUDA_CHECK(cudaMemcpyAsync(dst, src, elem_size_, cudaMemcpyDeviceToDevice, stream));
        return Status();
    }
    const ByteDim& last = dims_.back();
    const bool inner_dense = last.src == es && last.dst == es;
    if (dims_.size() == 1 && inner_dense) {
        RT_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(count_ * es), cudaMemcpyDeviceToDevice, stream));
        return Status();
    }
    // Move the widest unit that divides the innermost dense run, every other stride and both pointers.
    int64_t unit = es;
    if (inner_dense) {
        const int64_t run = last.size * es;
        for (int64_t u : {16, 8, 4, 2}) {
            if (u <= es) break;
            bool ok = run % u == 0 && aligned(src, u) && aligned(dst, u);
            for (size_t k = 0; ok && k + 1 < dims_.size(); ++k) ok = dims_[k].src % u == 0 && dims_[k].dst % u == 0;
            if (ok) {
                unit = u;
                break;
            }
        }
    }
    StridedCopyParams p{};
    p.src = static_cast<const char*>(src);
    p.dst = static_cast<char*>(dst);
    p.rank = static_cast<int>(dims_.size());
    int64_t src_span = 0;
    int64_t dst_span = 0;
    p.count = 1;
    for (size_t k = 0; k < dims_.size(); ++k) {
        const bool widened = k + 1 == dims_.size() && unit != es;
        p.size[k] = widened ? dims_[k].size * es / unit : dims_[k].size;
        p.src_stride[k] = widened ? 1 : dims_[k].src / unit;
        p.dst_stride[k] = widened ? 1 : dims_[k].dst / unit;
        p.count *= p.size[k];
        src_span += (p.size[k] - 1) * abs64(p.src_stride[k]);
        dst_span += (p.size[k] - 1) * abs64(p.dst_stride[k]);
    }
    constexpr int64_t kNarrowLimit = std::numeric_limits<int32_t>::max() / 2;
    const bool wide = p.count > kNarrowLimit || src_span > kNarrowLimit || dst_span > kNarrowLimit;
    switch (unit) {
        case 1:
            return launch_strided<uint8_t>(p, wide, stream);
        case 2:
            return launch_strided<uint16_t>(p, wide, stream);
        case 4:
            return launch_strided<uint32_t>(p, wide, stream);
        case 8:
            return launch_strided<unsigned long long>(p, wide, stream);
        case 16:
            return launch_strided<uint4>(p, wide, stream);
        default:
            break;
    }
    return Status(StatusCode::kInternal, "strided copy of " + std::to_string(unit) + "-byte elements");
}

Expected<TransposePlan> TransposePlan::make(const ir::Shape& in_shape, const std::vector<int64_t>& perm,
                                            size_t elem_size) {
    TransposePlan plan;
    plan.elem_size_ = elem_size;
    const int64_t numel = ir::shape_numel(in_shape);
    if (numel == 0) return plan;
    plan.bytes_ = static_cast<size_t>(numel) * elem_size;

    // Drop size-1 dims, then merge input dims that stay neighbours in the same order in the output.
    std::vector<int> renumber(in_shape.size(), -1);
    int kept = 0;
    for (size_t d = 0; d < in_shape.size(); ++d) {
        if (in_shape[d] != 1) renumber[d] = kept++;
    }
    std::vector<int> p;
    for (int64_t a : perm) {
        if (renumber[static_cast<size_t>(a)] >= 0) p.push_back(renumber[static_cast<size_t>(a)]);
    }
    std::vector<int64_t> kept_shape;
    for (int64_t d : in_shape) {
        if (d != 1) kept_shape.push_back(d);
    }
    struct Group {
        int first;  // first input dim of the group
        int64_t size;
    };
    std::vector<Group> groups;  // in output order
    for (size_t j = 0; j < p.size(); ++j) {
        if (j > 0 && p[j] == p[j - 1] + 1) {
            groups.back().size *= kept_shape[static_cast<size_t>(p[j])];
        } else {
            groups.push_back(Group{p[j], kept_shape[static_cast<size_t>(p[j])]});
        }
    }
    std::vector<size_t> by_input(groups.size());
    for (size_t g = 0; g < groups.size(); ++g) by_input[g] = g;
    std::sort(by_input.begin(), by_input.end(), [&](size_t a, size_t b) { return groups[a].first < groups[b].first; });
    const size_t m = groups.size();
    ir::Shape in(m);
    std::vector<int64_t> cperm(m);
    for (size_t r = 0; r < m; ++r) {
        in[r] = groups[by_input[r]].size;
        cperm[by_input[r]] = static_cast<int64_t>(r);
    }
    bool identity = true;
    for (size_t j = 0; j < m; ++j) identity = identity && cperm[j] == static_cast<int64_t>(j);
    if (identity) {
        plan.kind_ = Kind::kMemcpy;
        return plan;
    }
    bool last_two =
        m >= 2 && cperm[m - 2] == static_cast<int64_t>(m - 1) && cperm[m - 1] == static_cast<int64_t>(m - 2);
    for (size_t j = 0; last_two && j + 2 < m; ++j) last_two = cperm[j] == static_cast<int64_t>(j);
    // Narrow planes waste most of each 32x32 tile; the strided copy serves them better.
    if (last_two && in[m - 2] >= 8 && in[m - 1] >= 8 && (in[m - 2] + 31) / 32 <= 65535) {
        plan.kind_ = Kind::kTiled;
        plan.rows_ = in[m - 2];
        plan.cols_ = in[m - 1];
        plan.batch_ = numel / (plan.rows_ * plan.cols_);
        return plan;
    }
    const auto in_strides = ir::shape_strides(in);
    ir::Shape out(m);
    std::vector<int64_t> src_strides(m);
    for (size_t j = 0; j < m; ++j) {
        out[j] = in[static_cast<size_t>(cperm[j])];
        src_strides[j] = in_strides[static_cast<size_t>(cperm[j])];
    }
    RT_ASSIGN_OR_RETURN(plan.strided_, CopyPlan::make(dims_into_contiguous(out, src_strides), elem_size));
    plan.kind_ = Kind::kStrided;
    return plan;
}

Status TransposePlan::launch(const void* src, void* dst, cudaStream_t stream) const {
    switch (kind_) {
        case Kind::kEmpty:
            return Status();
        case Kind::kMemcpy:
            if (src != dst) RT_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes_, cudaMemcpyDeviceToDevice, stream));
            return Status();
        case Kind::kStrided:
            return strided_.launch(src, dst, stream);
        case Kind::kTiled:
            switch (elem_size_) {
                case 1:
                    return launch_tiled<uint8_t>(src, dst, batch_, rows_, cols_, stream);
                case 2:
                    return launch_tiled<uint16_t>(src, dst, batch_, rows_, cols_, stream);
                case 4:
                    return launch_tiled<uint32_t>(src, dst, batch_, rows_, cols_, stream);
                case 8:
                    return launch_tiled<unsigned long long>(src, dst, batch_, rows_, cols_, stream);
                default:
                    break;
            }
            break;
    }
    return Status(StatusCode::kInternal, "transpose of " + std::to_string(elem_size_) + "-byte elements");
}

Status launch_fill(void* dst, int64_t n, size_t elem_size, uint64_t bits, cudaStream_t stream) {
    if (n <= 0) return Status();
    switch (elem_size) {
        case 1:
            return launch_fill_typed<uint8_t>(dst, n, bits, stream);
        case 2:
            return launch_fill_typed<uint16_t>(dst, n, bits, stream);
        case 4:
            return launch_fill_typed<uint32_t>(dst, n, bits, stream);
        case 8:
            return launch_fill_typed<unsigned long long>(dst, n, bits, stream);
        default:
            break;
    }
    return Status(StatusCode::kInternal, "fill of " + std::to_string(elem_size) + "-byte elements");
}

Status copy_tensor(const DeviceTensor& src, const DeviceTensor& dst, cudaStream_t stream) {
    const size_t bytes = dst.nbytes();
    if (src.data != dst.data && bytes != 0) {
        RT_CUDA_CHECK(cudaMemcpyAsync(dst.data, src.data, bytes, cudaMemcpyDeviceToDevice, stream));
    }
    return Status();
}

uint64_t scalar_bits(DataType dtype, double value) {
    uint64_t bits = 0;
    auto put = [&bits](auto v) { std::memcpy(&bits, &v, sizeof v); };
    switch (dtype) {
        case DataType::kFloat32:
            put(static_cast<float>(value));
            break;
        case DataType::kFloat64:
            put(value);
            break;
        case DataType::kFloat16:
            put(ir::float_to_half(static_cast<float>(value)));
            break;
        case DataType::kInt8:
            put(static_cast<int8_t>(value));
            break;
        case DataType::kUInt8:
            put(static_cast<uint8_t>(value));
            break;
        case DataType::kBool:
            put(static_cast<uint8_t>(value != 0.0 ? 1 : 0));
            break;
        case DataType::kInt32:
            put(static_cast<int32_t>(value));
            break;
        case DataType::kInt64:
            put(static_cast<int64_t>(value));
            break;
        case DataType::kUndefined:
            break;
    }
    return bits;
}

namespace {
Status value_check(const OpSetup& setup, size_t input, const char* what) {
    if (!setup.has_input(input) || input >= setup.inputs.size()) {
        return setup_error(setup, std::string("input '") + what + "' is missing");
    }
    if (!setup.inputs[input].value) {
        return setup.unsupported(std::string("input '") + what + "' is not a constant");
    }
    return Status();
}
}  // namespace

Expected<std::vector<int64_t>> constant_ints(const OpSetup& setup, size_t input, const char* what) {
    RT_RETURN_IF_ERROR(value_check(setup, input, what));
    const ir::Tensor& t = *setup.inputs[input].value;
    const DataType d = t.dtype();
    if (d != DataType::kInt64 && d != DataType::kInt32 && d != DataType::kInt8 && d != DataType::kUInt8 &&
        d != DataType::kBool) {
        return setup_error(setup, std::string("input '") + what + "' must be an integer tensor");
    }
    return ir::to_int64s(t);
}

Expected<std::vector<double>> constant_doubles(const OpSetup& setup, size_t input, const char* what) {
    RT_RETURN_IF_ERROR(value_check(setup, input, what));
    return ir::to_doubles(*setup.inputs[input].value);
}

Expected<int> setup_axis(const OpSetup& setup, int64_t axis, int rank) {
    if (axis < -rank || axis >= std::max(rank, 1)) {
        return setup_error(setup, "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    }
    return static_cast<int>(axis < 0 ? axis + rank : axis);
}

Status setup_error(const OpSetup& setup, const std::string& why) {
    return Status(StatusCode::kInvalidModel, setup.node.describe() + ": " + why);
}

}  // namespace rtinfer::cuda
