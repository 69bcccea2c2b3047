// NonMaxSuppression (opset 10, 11) with exactly the reference kernel's rows, in its order
// (core/kernels/ref/misc/non_max_suppression.cpp). The number of rows depends on the data: create() answers
// a bound (every segment keeping its maximum), enqueue() writes rows [0, n) and n to a counter of its own,
// and read_shapes() brings n to the host. A segment is one (batch, class) pair. Five steps on the stream,
// none of which needs the host to see a device value, so a run can be captured into a CUDA graph:
//
// 1. select_candidates: one block per segment compacts the candidates that pass score_threshold, in box
//    order, into (sort key, box index) pairs at segment * boxes. The key orders scores descending with
//    -0 equal to +0, as the reference's comparison does.
// 2. cub::DeviceSegmentedRadixSort sorts each segment by key. A radix sort is stable, so equal scores keep
//    the lower box index first, as the reference's stable_sort does.
// 3. suppress: one block per segment walks its sorted candidates in chunks of kChunk. A candidate dies if a
//    box kept in an earlier chunk suppresses it; each survivor computes which later survivors of the chunk
//    it suppresses (a bitmask row); one warp then takes the survivors in order, each removing what its row
//    says, until max_output_boxes_per_class. Kept box indices overwrite the head of the segment's sorted
//    indices (a chunk is read before anything is written there), their boxes are cached in shared memory.
// 4. cub::DeviceScan turns the kept counts into each segment's first output row.
// 5. emit_rows writes [batch, class, box] rows and n.
//
// The IoU is the reference's formula in the same operation order, with explicitly rounded operations so
// that no multiply-add is fused: both sides then take the same decisions bit for bit.
#include <cuda_fp16.h>
#include <cub/device/device_scan.cuh>
#include <cub/device/device_segmented_radix_sort.cuh>

#include <algorithm>
#include <climits>
#include <memory>

#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/misc/kernels.h"

namespace rtinfer::cuda {
namespace {

constexpr int kSelectThreads = 512;
constexpr int kChunk = 256;  // threads of the suppress kernel, and the candidates of one chunk
constexpr int kRowWords = kChunk / 32;
static_assert(kRowWords <= 32, "take_survivors holds a chunk's words in the lanes of one warp");
constexpr int kKeptCache = 1024;  // kept boxes of a segment held in shared memory; later ones are re-read
constexpr int kEmitThreads = 256;
constexpr size_t kAlign = 256;

// Corners as the reference makes them: min corner, max corner.
struct __align__(16) Corners {
    float y1, x1, y2, x2;
};

// std::min / std::max as the reference calls them, so that NaN and equal operands pick the same side.
__device__ __forceinline__ float min_as_std(float a, float b) {
    return b < a ? b : a;
}
__device__ __forceinline__ float max_as_std(float a, float b) {
    return a < b ? b : a;
}

template <class T>
__device__ __forceinline__ Corners load_box(const T* b, bool center) {
    const float b0 = static_cast<float>(b[0]), b1 = static_cast<float>(b[1]);
    const float b2 = static_cast<float>(b[2]), b3 = static_cast<float>(b[3]);
    if (center) {  // [x_center, y_center, width, height]
        const float hw = __fdiv_rn(b2, 2.0f), hh = __fdiv_rn(b3, 2.0f);
        return {__fsub_rn(b1, hh), __fsub_rn(b0, hw), __fadd_rn(b1, hh), __fadd_rn(b0, hw)};
    }
    return {min_as_std(b0, b2), min_as_std(b1, b3), max_as_std(b0, b2), max_as_std(b1, b3)};
}

__device__ __forceinline__ float box_area(const Corners& b) {
    return __fmul_rn(__fsub_rn(b.y2, b.y1), __fsub_rn(b.x2, b.x1));
}

// Whether kept box `a` suppresses candidate `b` (the reference's suppresses(), areas precomputed).
__device__ __forceinline__ bool suppresses(const Corners& a, float area_a, const Corners& b, float area_b,
                                           float iou_threshold) {
    const float ih = __fsub_rn(min_as_std(a.y2, b.y2), max_as_std(a.y1, b.y1));
    const float iw = __fsub_rn(min_as_std(a.x2, b.x2), max_as_std(a.x1, b.x1));
    const float inter = __fmul_rn(max_as_std(0.0f, ih), max_as_std(0.0f, iw));
    if (inter <= 0.0f) return false;
    const float uni = __fsub_rn(__fadd_rn(area_a, area_b), inter);
    if (area_a <= 0.0f || area_b <= 0.0f || uni <= 0.0f) return false;
    return __fdiv_rn(inter, uni) > iou_threshold;
}

// An unsigned key that sorts ascending where the score sorts descending; -0 and +0 get the same key.
__device__ __forceinline__ uint32_t score_key(float score) {
    const uint32_t bits = score == 0.0f ? 0u : __float_as_uint(score);
    return (bits & 0x80000000u) ? bits : ~bits & 0x7fffffffu;
}

// The problem, fixed at create().
struct NmsParams {
    int num_segments = 0;  // batch * classes
    int num_classes = 0;
    int num_boxes = 0;
    int max_keep = 0;  // min(max_output_boxes_per_class, num_boxes), > 0 when anything runs
    bool has_score_threshold = false;
    float score_threshold = 0.0f;
    float iou_threshold = 0.0f;
    bool center = false;
    bool half = false;
};

// Workspace byte offsets, each piece 256-byte aligned.
struct NmsLayout {
    size_t segment_begin = 0;  // int [segments]
    size_t segment_end = 0;    // int [segments]
    size_t keys[2] = {0, 0};   // uint32 [segments * boxes], the sort's double buffer
    size_t order[2] = {0, 0};  // int32 [segments * boxes]: box indices, sorted with the keys
    size_t kept = 0;           // int [segments + 1]: kept per segment, then a 0 for the scan's total
    size_t first_row = 0;      // int [segments + 1]
    size_t sort_temp = 0;
    size_t sort_temp_bytes = 0;
    size_t scan_temp = 0;
    size_t scan_temp_bytes = 0;
    size_t total = 0;
};

// Device pointers of one run.
struct NmsBuffers {
    const void* boxes;
    const void* scores;
    int64_t* rows;
    int64_t* count;
    int* segment_begin;
    int* segment_end;
    uint32_t* keys;
    int32_t* order;
    int* kept;
    int* first_row;
};

template <class T>
__global__ void __launch_bounds__(kSelectThreads) select_candidates(NmsParams p, NmsBuffers io) {
    __shared__ int warp_passes[kSelectThreads / 32];
    const int seg = blockIdx.x;
    const int n = p.num_boxes;
    const int64_t at = int64_t{seg} * n;
    const T* scores = static_cast<const T*>(io.scores) + at;
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    int written = 0;  // the same in every thread
    for (int start = 0; start < n; start += kSelectThreads) {
        const int i = start + static_cast<int>(threadIdx.x);
        float score = 0.0f;
        bool pass = false;
        if (i < n) {
            score = static_cast<float>(scores[i]);
            pass = !p.has_score_threshold || score > p.score_threshold;
        }
        const unsigned vote = __ballot_sync(0xffffffffu, pass);
        if (lane == 0) warp_passes[warp] = __popc(vote);
        __syncthreads();
        int slot = written + __popc(vote & ((1u << lane) - 1u));
        for (int w = 0; w < kSelectThreads / 32; ++w) {
            if (w < warp) slot += warp_passes[w];
            written += warp_passes[w];
        }
        if (pass) {
            io.keys[at + slot] = score_key(score);
            io.order[at + slot] = i;
        }
        __syncthreads();  // warp_passes is rewritten by the next tile
    }
    if (threadIdx.x == 0) {
        io.segment_begin[seg] = static_cast<int>(at);
        io.segment_end[seg] = static_cast<int>(at) + written;
    }
}

// Warp 0 takes the chunk's survivors in score order: the first one not removed is kept and removes the
// later ones its row marks. Lane w holds word w of the removed set. Every lane returns the number taken.
__device__ int take_survivors(const uint32_t* alive, const uint32_t (*rows)[kRowWords], int room, int16_t* taken) {
    const int lane = threadIdx.x & 31;
    uint32_t removed = lane < kRowWords ? ~alive[lane] : ~0u;
    int count = 0;
    while (count < room) {
        const unsigned open_words = __ballot_sync(0xffffffffu, removed != ~0u);
        if (!open_words) break;
        const int w = __ffs(open_words) - 1;
        const int c = w * 32 + __ffs(~__shfl_sync(0xffffffffu, removed, w)) - 1;
        if (lane == 0) taken[count] = static_cast<int16_t>(c);
        ++count;
        if (lane == w) removed |= 1u << (c & 31);
        if (lane < kRowWords) removed |= rows[c][lane];
    }
    return count;
}

// What a block of suppress holds in shared memory: the chunk of candidates and the first kept boxes.
struct SuppressShared {
    Corners kept_box[kKeptCache];
    Corners box[kChunk];
    float area[kChunk];
    int32_t index[kChunk];
    uint32_t later[kChunk][kRowWords];  // row t: the later survivors candidate t suppresses
    uint32_t alive[kRowWords];
    int16_t taken[kChunk];
    int taken_count;
};

template <class T>
__global__ void __launch_bounds__(kChunk) suppress(NmsParams p, NmsBuffers io) {
    __shared__ SuppressShared sh;
    const int seg = blockIdx.x;
    const int tid = threadIdx.x;
    const int lane = tid & 31;
    const T* boxes = static_cast<const T*>(io.boxes) + int64_t{seg / p.num_classes} * p.num_boxes * 4;
    const int begin = io.segment_begin[seg];
    const int count = io.segment_end[seg] - begin;
    int32_t* order = io.order + begin;
    int kept = 0;  // the same in every thread

    for (int base = 0; base < count && kept < p.max_keep; base += kChunk) {
        const int i = base + tid;
        bool alive = i < count;
        Corners box{0.0f, 0.0f, 0.0f, 0.0f};
        float area = 0.0f;
        int32_t index = -1;
        if (alive) {
            index = order[i];
            box = load_box(boxes + int64_t{index} * 4, p.center);
            area = box_area(box);
            for (int k = 0; k < kept && alive; ++k) {
                const Corners kb = k < kKeptCache ? sh.kept_box[k] : load_box(boxes + int64_t{order[k]} * 4, p.center);
                alive = !suppresses(kb, box_area(kb), box, area, p.iou_threshold);
            }
        }
        sh.box[tid] = box;
        sh.area[tid] = area;
        sh.index[tid] = index;
        const unsigned vote = __ballot_sync(0xffffffffu, alive);
        if (lane == 0) sh.alive[tid >> 5] = vote;
        __syncthreads();

        // Each thread fills only its own row; it visits the set bits of the later survivors.
        for (int w = 0; w < kRowWords; ++w) {
            uint32_t candidates = 0;
            if (alive && w >= (tid >> 5)) {
                candidates = sh.alive[w];
                if (w == (tid >> 5)) candidates &= lane == 31 ? 0u : ~0u << (lane + 1);
            }
            uint32_t hits = 0;
            while (candidates) {
                const int bit = __ffs(candidates) - 1;
                candidates &= candidates - 1;
                const int j = w * 32 + bit;
                if (suppresses(box, area, sh.box[j], sh.area[j], p.iou_threshold)) hits |= 1u << bit;
            }
            sh.later[tid][w] = hits;
        }
        __syncthreads();

        if (tid < 32) {
            const int n = take_survivors(sh.alive, sh.later, p.max_keep - kept, sh.taken);
            if (tid == 0) sh.taken_count = n;
        }
        __syncthreads();

        const int n = sh.taken_count;
        if (tid < n) {
            const int c = sh.taken[tid];
            const int r = kept + tid;
            order[r] = sh.index[c];
            if (r < kKeptCache) sh.kept_box[r] = sh.box[c];
        }
        kept += n;
        __syncthreads();  // the kept boxes are visible to the next chunk, and the chunk arrays free
    }
    if (tid == 0) {
        io.kept[seg] = kept;
        if (seg == 0) io.kept[p.num_segments] = 0;  // the scan's last element: its result is the total
    }
}

__global__ void __launch_bounds__(kEmitThreads) emit_rows(NmsParams p, NmsBuffers io) {
    const int seg = blockIdx.x;
    const int64_t batch = seg / p.num_classes;
    const int64_t cls = seg % p.num_classes;
    const int32_t* order = io.order + int64_t{seg} * p.num_boxes;
    int64_t* out = io.rows + int64_t{io.first_row[seg]} * 3;
    const int values = io.kept[seg] * 3;
    for (int e = threadIdx.x; e < values; e += kEmitThreads) {  // element by element, so stores coalesce
        const int r = e / 3;
        const int col = e - r * 3;
        out[e] = col == 0 ? batch : col == 1 ? cls : int64_t{order[r]};
    }
    if (seg == 0 && threadIdx.x == 0) *io.count = io.first_row[p.num_segments];
}

size_t align_up(size_t v) {
    return (v + kAlign - 1) / kAlign * kAlign;
}

// Sizes the workspace; asks cub for its scratch sizes (no launch, no allocation).
Expected<NmsLayout> make_layout(const NmsParams& p) {
    NmsLayout l;
    const size_t segs = static_cast<size_t>(p.num_segments);
    const size_t items = segs * static_cast<size_t>(p.num_boxes);
    cub::DoubleBuffer<uint32_t> keys(nullptr, nullptr);
    cub::DoubleBuffer<int32_t> order(nullptr, nullptr);
    RT_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortPairs(nullptr, l.sort_temp_bytes, keys, order,
                                                           static_cast<int>(items), p.num_segments,
                                                           static_cast<int*>(nullptr), static_cast<int*>(nullptr)));
    RT_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(nullptr, l.scan_temp_bytes, static_cast<int*>(nullptr),
                                                static_cast<int*>(nullptr), p.num_segments + 1));
    size_t at = 0;
    auto piece = [&at](size_t bytes) {
        const size_t offset = at;
        at += align_up(bytes);
        return offset;
    };
    l.segment_begin = piece(segs * sizeof(int));
    l.segment_end = piece(segs * sizeof(int));
    for (int b = 0; b < 2; ++b) {
        l.keys[b] = piece(items * sizeof(uint32_t));
        l.order[b] = piece(items * sizeof(int32_t));
    }
    l.kept = piece((segs + 1) * sizeof(int));
    l.first_row = piece((segs + 1) * sizeof(int));
    l.sort_temp = piece(l.sort_temp_bytes);
    l.scan_temp = piece(l.scan_temp_bytes);
    l.total = at;
    return l;
}

// The launcher: all five steps on `stream`. `rows` holds the bound's rows, `count` one int64.
Status launch_non_max_suppression(const NmsParams& p, const NmsLayout& l, const void* boxes, const void* scores,
                                  int64_t* rows, int64_t* count, void* workspace, cudaStream_t stream) {
    if (p.num_segments == 0 || p.num_boxes == 0 || p.max_keep == 0) {
        RT_CUDA_CHECK(cudaMemsetAsync(count, 0, sizeof(int64_t), stream));
        return Status();
    }
    char* ws = static_cast<char*>(workspace);
    NmsBuffers io{boxes,
                  scores,
                  rows,
                  count,
                  reinterpret_cast<int*>(ws + l.segment_begin),
                  reinterpret_cast<int*>(ws + l.segment_end),
                  reinterpret_cast<uint32_t*>(ws + l.keys[0]),
                  reinterpret_cast<int32_t*>(ws + l.order[0]),
                  reinterpret_cast<int*>(ws + l.kept),
                  reinterpret_cast<int*>(ws + l.first_row)};
    const unsigned grid = static_cast<unsigned>(p.num_segments);
    if (p.half) {
        select_candidates<__half><<<grid, kSelectThreads, 0, stream>>>(p, io);
    } else {
        select_candidates<float><<<grid, kSelectThreads, 0, stream>>>(p, io);
    }
    RT_CUDA_CHECK_LAUNCH();

    cub::DoubleBuffer<uint32_t> keys(io.keys, reinterpret_cast<uint32_t*>(ws + l.keys[1]));
    cub::DoubleBuffer<int32_t> order(io.order, reinterpret_cast<int32_t*>(ws + l.order[1]));
    size_t sort_bytes = l.sort_temp_bytes;
    const int items = p.num_segments * p.num_boxes;
    RT_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortPairs(ws + l.sort_temp, sort_bytes, keys, order, items,
                                                           p.num_segments, io.segment_begin, io.segment_end, 0, 32,
                                                           stream));
    io.order = order.Current();  // which buffer holds the result follows from the pass count alone

    if (p.half) {
        suppress<__half><<<grid, kChunk, 0, stream>>>(p, io);
    } else {
        suppress<float><<<grid, kChunk, 0, stream>>>(p, io);
    }
    RT_CUDA_CHECK_LAUNCH();
    size_t scan_bytes = l.scan_temp_bytes;
    RT_CUDA_CHECK(
        cub::DeviceScan::ExclusiveSum(ws + l.scan_temp, scan_bytes, io.kept, io.first_row, p.num_segments + 1, stream));
    emit_rows<<<grid, kEmitThreads, 0, stream>>>(p, io);
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

struct PinnedFree {
    void operator()(int64_t* p) const { cudaFreeHost(p); }
};

class NonMaxSuppressionOp final : public CudaOp {
public:
    NonMaxSuppressionOp(const NmsParams& params, const NmsLayout& layout, DeviceBuffer count,
                        std::unique_ptr<int64_t, PinnedFree> host_count)
        : params_(params), layout_(layout), count_(std::move(count)), host_count_(std::move(host_count)) {}

    size_t workspace_bytes() const override { return layout_.total; }

    std::vector<ir::Shape> bound_shapes() const override {
        return {{int64_t{params_.num_segments} * params_.max_keep, 3}};
    }

    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void* workspace,
                   const CudaLibs& libs) override {
        return launch_non_max_suppression(params_, layout_, inputs[0].data, inputs[1].data,
                                          static_cast<int64_t*>(outputs[0].data), static_cast<int64_t*>(count_.get()),
                                          workspace, libs.stream);
    }

    Expected<std::vector<ir::Shape>> read_shapes(cudaStream_t stream) override {
        RT_CUDA_CHECK(
            cudaMemcpyAsync(host_count_.get(), count_.get(), sizeof(int64_t), cudaMemcpyDeviceToHost, stream));
        RT_CUDA_CHECK(cudaStreamSynchronize(stream));
        return std::vector<ir::Shape>{{*host_count_, 3}};
    }

private:
    NmsParams params_;
    NmsLayout layout_;
    DeviceBuffer count_;
    std::unique_ptr<int64_t, PinnedFree> host_count_;
};

Status invalid(const OpSetup& setup, const std::string& why) {
    return Status(StatusCode::kInvalidModel, setup.node.describe() + ": " + why);
}

// The value of constant input i; null when the input is omitted or empty (its default applies).
Expected<const ir::Tensor*> constant_input(const OpSetup& setup, size_t i, const char* name) {
    if (!setup.has_input(i)) return static_cast<const ir::Tensor*>(nullptr);
    if (i >= setup.inputs.size() || !setup.inputs[i].value) {
        return setup.unsupported(std::string(name) + " is not a constant");
    }
    const ir::Tensor* t = setup.inputs[i].value;
    return t->numel() > 0 ? t : nullptr;
}

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs&) {
    if (!setup.has_input(0) || !setup.has_input(1) || setup.inputs.size() < 2) {
        return invalid(setup, "needs boxes and scores");
    }
    const ir::InputInfo& boxes = setup.inputs[0];
    const ir::InputInfo& scores = setup.inputs[1];
    if (boxes.dtype != scores.dtype || (boxes.dtype != DataType::kFloat32 && boxes.dtype != DataType::kFloat16)) {
        return setup.unsupported(std::string("boxes ") + data_type_name(boxes.dtype) + " and scores " +
                                 data_type_name(scores.dtype) + " (float32 or float16, both the same)");
    }
    if (boxes.shape.size() != 3 || boxes.shape[2] != 4 || scores.shape.size() != 3 ||
        boxes.shape[0] != scores.shape[0] || boxes.shape[1] != scores.shape[2]) {
        return invalid(setup, "boxes " + ir::shape_str(boxes.shape) + " and scores " + ir::shape_str(scores.shape) +
                                  " are not [batch, spatial, 4] and [batch, classes, spatial]");
    }
    const int64_t center = setup.node.attr_int("center_point_box", 0);
    if (center != 0 && center != 1) return invalid(setup, "center_point_box must be 0 or 1");

    RT_ASSIGN_OR_RETURN(const ir::Tensor* max_out_t, constant_input(setup, 2, "max_output_boxes_per_class"));
    RT_ASSIGN_OR_RETURN(const ir::Tensor* iou_t, constant_input(setup, 3, "iou_threshold"));
    RT_ASSIGN_OR_RETURN(const ir::Tensor* score_t, constant_input(setup, 4, "score_threshold"));
    const int64_t max_out = max_out_t ? ir::to_int64s(*max_out_t)[0] : 0;
    NmsParams p;
    p.iou_threshold = iou_t ? static_cast<float>(ir::to_doubles(*iou_t)[0]) : 0.0f;
    if (p.iou_threshold < 0.0f || p.iou_threshold > 1.0f) return invalid(setup, "iou_threshold must be in [0, 1]");
    p.has_score_threshold = score_t != nullptr;
    p.score_threshold = score_t ? static_cast<float>(ir::to_doubles(*score_t)[0]) : 0.0f;
    p.center = center == 1;
    p.half = boxes.dtype == DataType::kFloat16;

    const int64_t batch = boxes.shape[0], classes = scores.shape[1], spatial = boxes.shape[1];
    if (batch * classes >= INT_MAX || batch * classes * spatial > INT_MAX) {
        return setup.unsupported("more than 2^31-1 scores");
    }
    p.num_segments = static_cast<int>(batch * classes);
    p.num_classes = static_cast<int>(classes);
    p.num_boxes = static_cast<int>(spatial);
    p.max_keep = static_cast<int>(std::clamp<int64_t>(max_out, 0, spatial));

    NmsLayout layout;
    if (p.num_segments > 0 && p.num_boxes > 0 && p.max_keep > 0) {
        RT_ASSIGN_OR_RETURN(layout, make_layout(p));
    }
    RT_ASSIGN_OR_RETURN(DeviceBuffer count, DeviceBuffer::allocate(sizeof(int64_t)));
    void* host = nullptr;
    RT_CUDA_CHECK(cudaHostAlloc(&host, sizeof(int64_t), cudaHostAllocDefault));
    std::unique_ptr<int64_t, PinnedFree> host_count(static_cast<int64_t*>(host));
    return std::unique_ptr<CudaOp>(new NonMaxSuppressionOp(p, layout, std::move(count), std::move(host_count)));
}

}  // namespace

const CudaKernel kNonMaxSuppressionCuda = {"NonMaxSuppression", "", create, /*bounded_outputs=*/true};

}  // namespace rtinfer::cuda
