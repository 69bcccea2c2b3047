// Resize (opsets 10-19) and Upsample, nearest and linear, over the last two dims (the other dims must keep
// their size). The taps of every output row and column are computed on the host at create, exactly as the
// reference kernel computes them (in double), and uploaded once; the kernels only read them. Nearest moves
// elements by size (any dtype); linear computes in float for float32/float16. Cubic, antialiasing and
// tf_crop_and_resize, and scales/sizes not known at create, are left to the reference kernel.
#include <algorithm>
#include <cmath>

#include <cuda_fp16.h>

#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/tensor/copy_util.cuh"
#include "core/kernels/cuda/tensor/kernels.h"

namespace rtinfer::cuda {
namespace {

// Output coordinate o of an axis reads input i0 with weight w0 plus input i1 with weight w1.
struct Tap {
    int32_t i0;
    int32_t i1;
    float w0;
    float w1;
};

struct ResizeParams {
    const void* src;
    void* dst;
    const Tap* rows;  // out_h taps
    const Tap* cols;  // out_w taps
    int64_t planes;
    int64_t in_h, in_w, out_h, out_w;
};

// I is int32 when every index fits, which keeps the divisions cheap.
template <class T, class I>
__global__ void resize_nearest_kernel(ResizeParams p) {
    const T* src = static_cast<const T*>(p.src);
    T* dst = static_cast<T*>(p.dst);
    const I out_w = static_cast<I>(p.out_w);
    const I out_h = static_cast<I>(p.out_h);
    const I total = static_cast<I>(p.planes) * out_h * out_w;
    const I step = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
    for (I i = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x); i < total;
         i += step) {
        const I t = i / out_w;
        const I x = i - t * out_w;
        const I b = t / out_h;
        const I y = t - b * out_h;
        dst[i] = src[(b * static_cast<I>(p.in_h) + p.rows[y].i0) * static_cast<I>(p.in_w) + p.cols[x].i0];
    }
}

__device__ __forceinline__ float load_float(const float* p, int64_t i) {
    return p[i];
}
__device__ __forceinline__ float load_float(const __half* p, int64_t i) {
    return __half2float(p[i]);
}
__device__ __forceinline__ void store_float(float* p, int64_t i, float v) {
    p[i] = v;
}
__device__ __forceinline__ void store_float(__half* p, int64_t i, float v) {
    p[i] = __float2half_rn(v);
}

template <class T, class I>
__global__ void resize_linear_kernel(ResizeParams p) {
    const T* src = static_cast<const T*>(p.src);
    T* dst = static_cast<T*>(p.dst);
    const I out_w = static_cast<I>(p.out_w);
    const I out_h = static_cast<I>(p.out_h);
    const I in_w = static_cast<I>(p.in_w);
    const I in_h = static_cast<I>(p.in_h);
    const I total = static_cast<I>(p.planes) * out_h * out_w;
    const I step = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
    for (I i = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x); i < total;
         i += step) {
        const I t = i / out_w;
        const I x = i - t * out_w;
        const I b = t / out_h;
        const I y = t - b * out_h;
        const Tap ry = p.rows[y];
        const Tap cx = p.cols[x];
        const I r0 = (b * in_h + ry.i0) * in_w;
        const I r1 = (b * in_h + ry.i1) * in_w;
        const float top = cx.w0 * load_float(src, r0 + cx.i0) + cx.w1 * load_float(src, r0 + cx.i1);
        const float bottom = cx.w0 * load_float(src, r1 + cx.i0) + cx.w1 * load_float(src, r1 + cx.i1);
        store_float(dst, i, ry.w0 * top + ry.w1 * bottom);
    }
}

template <class I>
void launch_resize(const ResizeParams& p, bool linear, DataType dtype, unsigned int grid, cudaStream_t stream) {
    if (linear) {
        if (dtype == DataType::kFloat16) {
            resize_linear_kernel<__half, I><<<grid, 256, 0, stream>>>(p);
        } else {
            resize_linear_kernel<float, I><<<grid, 256, 0, stream>>>(p);
        }
        return;
    }
    switch (data_type_size(dtype)) {
        case 1:
            resize_nearest_kernel<uint8_t, I><<<grid, 256, 0, stream>>>(p);
            break;
        case 2:
            resize_nearest_kernel<uint16_t, I><<<grid, 256, 0, stream>>>(p);
            break;
        case 4:
            resize_nearest_kernel<uint32_t, I><<<grid, 256, 0, stream>>>(p);
            break;
        default:
            resize_nearest_kernel<unsigned long long, I><<<grid, 256, 0, stream>>>(p);
            break;
    }
}

enum class Coord { kHalfPixel, kHalfPixelSymmetric, kPytorchHalfPixel, kAlignCorners, kAsymmetric, kTfHalfPixelForNn };
enum class Nearest { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kLegacy };

struct Plan {
    bool linear = false;
    Coord coord = Coord::kHalfPixel;
    Nearest nearest = Nearest::kRoundPreferFloor;
    bool exclude_outside = false;
    std::vector<double> scales;
    ir::Shape out;
};

Status parse_attributes(const OpSetup& setup, bool legacy, Plan& p) {
    const ir::Node& node = setup.node;
    const std::string mode = node.attr_string("mode", "nearest");
    if (mode == "linear" || (legacy && mode == "bilinear")) {
        p.linear = true;
    } else if (mode != "nearest") {
        return setup.unsupported("mode '" + mode + "'");
    }
    if (legacy) {
        p.coord = Coord::kAsymmetric;
        p.nearest = Nearest::kLegacy;
        return Status();
    }
    const std::string coord = node.attr_string("coordinate_transformation_mode", "half_pixel");
    if (coord == "half_pixel") {
        p.coord = Coord::kHalfPixel;
    } else if (coord == "half_pixel_symmetric" && setup.opset >= 19) {
        p.coord = Coord::kHalfPixelSymmetric;
    } else if (coord == "pytorch_half_pixel") {
        p.coord = Coord::kPytorchHalfPixel;
    } else if (coord == "align_corners") {
        p.coord = Coord::kAlignCorners;
    } else if (coord == "asymmetric") {
        p.coord = Coord::kAsymmetric;
    } else if (coord == "tf_half_pixel_for_nn" && setup.opset < 13) {
        p.coord = Coord::kTfHalfPixelForNn;
    } else {
        return setup.unsupported("coordinate_transformation_mode '" + coord + "'");
    }
    const std::string nearest = node.attr_string("nearest_mode", "round_prefer_floor");
    if (nearest == "round_prefer_floor") {
        p.nearest = Nearest::kRoundPreferFloor;
    } else if (nearest == "round_prefer_ceil") {
        p.nearest = Nearest::kRoundPreferCeil;
    } else if (nearest == "floor") {
        p.nearest = Nearest::kFloor;
    } else if (nearest == "ceil") {
        p.nearest = Nearest::kCeil;
    } else {
        return setup.unsupported("nearest_mode '" + nearest + "'");
    }
    p.exclude_outside = node.attr_int("exclude_outside", 0) != 0;
    if (setup.opset >= 18 && node.attr_int("antialias", 0) != 0 && p.linear) return setup.unsupported("antialias");
    return Status();
}

// Scales and the output shape, as the reference derives them (sizes win over scales; opset 18 axes and
// keep_aspect_ratio_policy).
Expected<Plan> make_plan(const OpSetup& setup, const ir::Shape& in) {
    Plan p;
    const ir::Node& node = setup.node;
    const bool upsample = node.op_type == "Upsample";
    const bool legacy = upsample || setup.opset < 11;
    RT_RETURN_IF_ERROR(parse_attributes(setup, legacy, p));
    const int rank = static_cast<int>(in.size());
    std::vector<int> axes;
    if (!legacy && setup.opset >= 18 && node.has_attr("axes")) {
        for (int64_t a : node.attr_ints("axes")) {
            RT_ASSIGN_OR_RETURN(int axis, setup_axis(setup, a, rank));
            axes.push_back(axis);
        }
    } else {
        for (int i = 0; i < rank; ++i) axes.push_back(i);
    }
    const size_t na = axes.size();
    p.scales.assign(in.size(), 1.0);
    p.out = in;
    std::vector<double> scales;
    std::vector<int64_t> sizes;
    if (upsample && setup.opset < 9) {
        for (float s : node.attr_floats("scales")) scales.push_back(s);
    } else if (legacy) {
        RT_ASSIGN_OR_RETURN(scales, constant_doubles(setup, 1, "scales"));
    } else {
        const bool has_sizes =
            setup.has_input(3) && setup.inputs.size() > 3 && ir::shape_numel(setup.inputs[3].shape) > 0;
        const bool has_scales =
            setup.has_input(2) && setup.inputs.size() > 2 && ir::shape_numel(setup.inputs[2].shape) > 0;
        if (has_sizes) {
            RT_ASSIGN_OR_RETURN(sizes, constant_ints(setup, 3, "sizes"));
        } else if (has_scales) {
            RT_ASSIGN_OR_RETURN(scales, constant_doubles(setup, 2, "scales"));
        } else {
            return setup_error(setup, "needs a non-empty 'scales' or 'sizes' input");
        }
    }
    if (!sizes.empty()) {
        if (sizes.size() != na) return setup_error(setup, "sizes must hold one value per resized axis");
        for (size_t k = 0; k < na; ++k) {
            const size_t a = static_cast<size_t>(axes[k]);
            if (sizes[k] < 0) return setup_error(setup, "sizes has a negative value");
            p.out[a] = sizes[k];
            p.scales[a] = in[a] == 0 ? 1.0 : static_cast<double>(sizes[k]) / static_cast<double>(in[a]);
        }
        const std::string policy =
            setup.opset >= 18 ? node.attr_string("keep_aspect_ratio_policy", "stretch") : "stretch";
        if (policy == "not_larger" || policy == "not_smaller") {
            double scale = p.scales[static_cast<size_t>(axes[0])];
            for (int a : axes) {
                const double s = p.scales[static_cast<size_t>(a)];
                scale = policy == "not_larger" ? std::min(scale, s) : std::max(scale, s);
            }
            for (int a : axes) {
                p.scales[static_cast<size_t>(a)] = scale;
                p.out[static_cast<size_t>(a)] =
                    static_cast<int64_t>(scale * static_cast<double>(in[static_cast<size_t>(a)]) + 0.5);
            }
        } else if (policy != "stretch") {
            return setup.unsupported("keep_aspect_ratio_policy '" + policy + "'");
        }
    } else {
        if (scales.size() != na) return setup_error(setup, "scales must hold one value per resized axis");
        for (size_t k = 0; k < na; ++k) {
            const size_t a = static_cast<size_t>(axes[k]);
            if (!(scales[k] > 0.0)) return setup_error(setup, "scales must be positive");
            p.scales[a] = scales[k];
            p.out[a] = static_cast<int64_t>(scales[k] * static_cast<double>(in[a]));
        }
    }
    return p;
}

double source_coordinate(const Plan& p, size_t d, int64_t o, int64_t in_len, int64_t out_len) {
    const double x = static_cast<double>(o);
    const double scale = p.scales[d];
    const double in_f = static_cast<double>(in_len);
    const double out_f = scale * in_f;  // the reference's length, not the rounded one
    switch (p.coord) {
        case Coord::kHalfPixel:
            return (x + 0.5) / scale - 0.5;
        case Coord::kHalfPixelSymmetric: {
            const double adjustment = static_cast<double>(out_len) / out_f;
            const double offset = in_f / 2.0 * (1.0 - adjustment);
            return offset + (x + 0.5) / scale - 0.5;
        }
        case Coord::kPytorchHalfPixel:
            return out_len > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
        case Coord::kAlignCorners:
            return out_f == 1.0 ? 0.0 : x * (in_f - 1.0) / (out_f - 1.0);
        case Coord::kAsymmetric:
            return x / scale;
        case Coord::kTfHalfPixelForNn:
            return (x + 0.5) / scale;
    }
    return x;
}

// The taps of one axis. The left neighbour is strictly below the source coordinate, so the ratio past it is in
// (0, 1], as in the reference.
std::vector<Tap> axis_taps(const Plan& p, size_t d, int64_t in_len, int64_t out_len) {
    std::vector<Tap> taps(static_cast<size_t>(out_len));
    for (int64_t o = 0; o < out_len; ++o) {
        const double x = source_coordinate(p, d, o, in_len, out_len);
        const double left = std::ceil(x) - 1.0;
        const double ratio = x - left;
        double c[2];
        if (!p.linear) {
            bool right = true;
            if (ratio != 1.0) {
                switch (p.nearest) {
                    case Nearest::kRoundPreferFloor:
                        right = ratio > 0.5;
                        break;
                    case Nearest::kRoundPreferCeil:
                        right = ratio >= 0.5;
                        break;
                    case Nearest::kFloor:
                        right = false;
                        break;
                    case Nearest::kCeil:
                        right = true;
                        break;
                    case Nearest::kLegacy:
                        right = p.scales[d] < 1.0;
                        break;
                }
            }
            c[0] = right ? 0.0 : 1.0;
            c[1] = right ? 1.0 : 0.0;
        } else {
            c[0] = 1.0 - ratio;
            c[1] = ratio;
            if (p.exclude_outside) {
                double sum = 0.0;
                for (int i = 0; i < 2; ++i) {
                    const double idx = left + i;
                    if (idx < 0 || idx >= static_cast<double>(in_len)) c[i] = 0.0;
                    sum += c[i];
                }
                if (sum != 0.0) {
                    c[0] /= sum;
                    c[1] /= sum;
                }
            }
        }
        Tap t{0, 0, 0.0f, 0.0f};
        int used = 0;
        for (int i = 0; i < 2; ++i) {
            if (c[i] == 0.0) continue;
            const int64_t idx = std::clamp<int64_t>(static_cast<int64_t>(left) + i, 0, in_len - 1);
            if (used == 0) {
                t.i0 = t.i1 = static_cast<int32_t>(idx);
                t.w0 = static_cast<float>(c[i]);
            } else {
                t.i1 = static_cast<int32_t>(idx);
                t.w1 = static_cast<float>(c[i]);
            }
            ++used;
        }
        taps[static_cast<size_t>(o)] = t;
    }
    return taps;
}

bool is_identity(const std::vector<Tap>& taps, int64_t in_len) {
    if (static_cast<int64_t>(taps.size()) != in_len) return false;
    for (size_t o = 0; o < taps.size(); ++o) {
        const Tap& t = taps[o];
        const bool one = t.w0 == 1.0f && t.w1 == 0.0f && t.i0 == static_cast<int32_t>(o);
        if (!one) return false;
    }
    return true;
}

class ResizeOp final : public CudaOp {
public:
    ResizeOp(ResizeParams params, DeviceBuffer taps, bool linear, DataType dtype)
        : params_(params), taps_(std::move(taps)), linear_(linear), dtype_(dtype) {}

    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        ResizeParams p = params_;
        p.src = inputs[0].data;
        p.dst = outputs[0].data;
        const int64_t total = p.planes * p.out_h * p.out_w;
        if (total == 0) return Status();
        const unsigned int grid = static_cast<unsigned int>(std::min<int64_t>((total + 255) / 256, 4096));
        const int64_t in_numel = p.planes * p.in_h * p.in_w;
        constexpr int64_t kNarrowLimit = INT32_MAX / 4;
        if (total > kNarrowLimit || in_numel > kNarrowLimit) {
            launch_resize<int64_t>(p, linear_, dtype_, grid, libs.stream);
        } else {
            launch_resize<int32_t>(p, linear_, dtype_, grid, libs.stream);
        }
        RT_CUDA_CHECK_LAUNCH();
        return Status();
    }

private:
    ResizeParams params_;
    DeviceBuffer taps_;
    bool linear_;
    DataType dtype_;
};

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs&) {
    const ir::InputInfo& x = setup.inputs[0];
    const ir::Shape& in = x.shape;
    const size_t rank = in.size();
    if (rank < 2) return setup.unsupported("input of rank below 2");
    RT_ASSIGN_OR_RETURN(Plan p, make_plan(setup, in));
    if (p.linear && x.dtype != DataType::kFloat32 && x.dtype != DataType::kFloat16) {
        return setup.unsupported(std::string("linear mode on ") + data_type_name(x.dtype));
    }
    if (setup.outputs.empty() || setup.outputs[0].shape != p.out) {
        return setup_error(setup, "output shape differs from the resized " + ir::shape_str(p.out));
    }
    for (size_t d = 0; d + 2 < rank; ++d) {
        if (!is_identity(axis_taps(p, d, in[d], p.out[d]), in[d])) {
            return setup.unsupported("resizing a dim other than the last two");
        }
    }
    ResizeParams params{};
    params.in_h = in[rank - 2];
    params.in_w = in[rank - 1];
    params.out_h = p.out[rank - 2];
    params.out_w = p.out[rank - 1];
    params.planes = ir::shape_numel(p.out) / std::max<int64_t>(1, params.out_h * params.out_w);
    const int64_t out_numel = ir::shape_numel(p.out);
    if (out_numel > 0 && ir::shape_numel(in) == 0) return setup_error(setup, "cannot resize an empty input");
    if (params.in_h > INT32_MAX || params.in_w > INT32_MAX) return setup.unsupported("dims above 2^31");
    std::vector<Tap> taps = axis_taps(p, rank - 2, params.in_h, params.out_h);
    const std::vector<Tap> cols = axis_taps(p, rank - 1, params.in_w, params.out_w);
    taps.insert(taps.end(), cols.begin(), cols.end());
    RT_ASSIGN_OR_RETURN(DeviceBuffer buffer, DeviceBuffer::allocate(taps.size() * sizeof(Tap)));
    if (!taps.empty()) {
        RT_CUDA_CHECK(cudaMemcpy(buffer.get(), taps.data(), taps.size() * sizeof(Tap), cudaMemcpyHostToDevice));
    }
    params.rows = static_cast<const Tap*>(buffer.get());
    params.cols = params.rows + params.out_h;
    return std::unique_ptr<CudaOp>(new ResizeOp(params, std::move(buffer), p.linear, x.dtype));
}

}  // namespace

const CudaKernel kResizeCuda = {"Resize", "", create};
const CudaKernel kUpsampleCuda = {"Upsample", "", create};

}  // namespace rtinfer::cuda
