// EfficientNMS on the GPU, giving exactly efficient_nms_cpu's results (same candidates, order and
// decisions; nms_math.h holds the shared arithmetic). Four launches on the caller's stream, none of which
// needs the host to see a device value, so a run can be captured into a CUDA graph:
//
// 1. init_segments: each image's candidate segment starts at image * boxes * classes.
// 2. select_candidates: one thread per (image, box, class) applies the background class, the sigmoid and
//    score_threshold; a passing candidate appends its sort key to its image's segment (warp-aggregated
//    atomics). The key is descending_score_bits(score) above the flat index box * classes + class, so an
//    ascending sort gives the CPU order: score descending, then box, then class (ties are deterministic
//    although the append order is not).
// 3. cub::DeviceSegmentedRadixSort sorts each image's segment (only the key bits in use).
// 4. nms_per_image: one block per image walks its sorted candidates in chunks of kThreads. Each thread
//    drops its candidate if a box already kept suppresses it (same class unless class-agnostic); the
//    survivors of the chunk compute a bitmask of which later survivors they overlap (64-bit words); one
//    thread then reduces the chunk serially (keep the first survivor not removed, remove what its mask
//    says), stopping at max_output_boxes, and the block writes the kept rows. Kept boxes go straight to
//    the outputs, which the next chunk reads back. Rows past num_detections are zeroed.
//
// This is greedy NMS over every candidate, like the CPU (no top-k cap as TensorRT's 4096): memory grows
// with batch * boxes * classes (16 bytes each), and time with the number of candidates above the threshold.
#include <cuda_runtime.h>
#include <cub/device/device_segmented_radix_sort.cuh>

#include <algorithm>
#include <climits>
#include <cstdio>

#include "efficient_nms_cuda.h"
#include "nms_math.h"

namespace rtinfer_nms {

namespace {

constexpr int kThreads = 256;          // threads of every block; also the candidates of one NMS chunk
constexpr int kWords = kThreads / 64;  // 64-bit mask words per chunk row
constexpr size_t kAlign = 256;
constexpr size_t kSortTempBytes = 16384;  // DoubleBuffer sorts need only alignment padding; checked per run
constexpr int kSelectBlocksMax = 4096;

size_t align_up(size_t v) {
    return (v + kAlign - 1) / kAlign * kAlign;
}

// Bits needed for a flat index below `count`.
int index_bits(int64_t count) {
    int bits = 0;
    while (bits < 63 && (int64_t{1} << bits) < count) ++bits;
    return bits;
}

// What the kernels read, by value.
struct Problem {
    const float* boxes;
    const float* scores;
    int64_t batch;
    int64_t num_boxes;
    int64_t num_classes;
    int64_t per_image;  // num_boxes * num_classes: candidates (and scores) per image
    int64_t box_rows;   // rows of 4 floats per image in `boxes`
    bool boxes_per_class;
    float score_threshold;
    float iou_threshold;
    int32_t max_output_boxes;
    int32_t background_class;
    bool score_activation;
    bool class_agnostic;
    BoxCoding box_coding;
    int idx_bits;
};

struct Outputs {
    int32_t* num_detections;
    float* boxes;
    float* scores;
    int32_t* classes;
};

__global__ void init_segments(int64_t batch, int64_t per_image, int* begin, int* end) {
    for (int64_t n = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; n < batch; n += gridDim.x * int64_t{blockDim.x}) {
        begin[n] = static_cast<int>(n * per_image);
        end[n] = static_cast<int>(n * per_image);
    }
}

__global__ void select_candidates(Problem p, int* segment_end, uint64_t* keys) {
    const unsigned lane = threadIdx.x & 31u;
    const int64_t total = p.batch * p.per_image;
    const int64_t stride = gridDim.x * int64_t{blockDim.x};
    // The loop runs the same number of times in every lane of a warp, for the warp-wide votes below.
    for (int64_t base = blockIdx.x * int64_t{blockDim.x} + (threadIdx.x & ~31u); base < total; base += stride) {
        const int64_t e = base + lane;
        bool pass = false;
        float score = 0.0f;
        int64_t n = 0;
        int64_t idx = 0;
        if (e < total) {
            n = e / p.per_image;
            idx = e - n * p.per_image;
            const int64_t cls = idx % p.num_classes;
            pass = cls != p.background_class &&
                   passes_threshold(p.scores[e], p.score_activation, p.score_threshold, &score);
        }
        if (!__ballot_sync(0xffffffffu, pass)) continue;
        // Lanes of one image take consecutive slots with one atomic per image present in the warp.
        const unsigned peers = __match_any_sync(0xffffffffu, pass ? static_cast<unsigned long long>(n) : ~0ull);
        const int leader = __ffs(peers) - 1;
        int slot = 0;
        if (pass && lane == static_cast<unsigned>(leader)) slot = atomicAdd(&segment_end[n], __popc(peers));
        slot = __shfl_sync(0xffffffffu, slot, leader);
        if (pass) {
            const uint64_t key =
                (static_cast<uint64_t>(descending_score_bits(score)) << p.idx_bits) | static_cast<uint64_t>(idx);
            keys[slot + __popc(peers & ((1u << lane) - 1u))] = key;
        }
    }
}

__device__ Corners load_box(const Problem& p, int64_t n, int64_t idx) {
    const int64_t row = p.boxes_per_class ? idx : idx / p.num_classes;
    return decode_box(p.boxes + (n * p.box_rows + row) * 4, p.box_coding);
}

__device__ Corners load_kept(const float* out_boxes, int k) {
    const float* b = out_boxes + int64_t{k} * 4;
    return {b[0], b[1], b[2], b[3]};
}

__global__ void __launch_bounds__(kThreads)
    nms_per_image(Problem p, const uint64_t* sorted, const int* segment_begin, const int* segment_end, Outputs out) {
    __shared__ Corners chunk_box[kThreads];
    __shared__ int32_t chunk_cls[kThreads];
    __shared__ int64_t chunk_idx[kThreads];
    __shared__ uint64_t overlaps[kThreads][kWords];  // row i: the later survivors box i suppresses
    __shared__ uint64_t survivors[kWords];
    __shared__ int16_t keep_list[kThreads];
    __shared__ int keep_count;

    const int64_t n = blockIdx.x;
    const int tid = threadIdx.x;
    const int K = p.max_output_boxes;
    const int begin = segment_begin[n];
    const int count = segment_end[n] - begin;
    const uint64_t idx_mask = p.idx_bits == 0 ? 0 : (~0ull >> (64 - p.idx_bits));
    float* kept_boxes = out.boxes + n * K * 4;
    float* kept_scores = out.scores + n * K;
    int32_t* kept_classes = out.classes + n * K;
    int kept = 0;  // the same in every thread

    for (int base = 0; base < count && kept < K; base += kThreads) {
        const int i = base + tid;
        bool alive = i < count;
        Corners box{0.0f, 0.0f, 0.0f, 0.0f};
        int32_t cls = -1;
        int64_t idx = 0;
        if (alive) {
            idx = static_cast<int64_t>(sorted[begin + i] & idx_mask);
            cls = static_cast<int32_t>(idx % p.num_classes);
            box = load_box(p, n, idx);
            for (int k = 0; k < kept; ++k) {
                if (!p.class_agnostic && kept_classes[k] != cls) continue;
                if (box_iou(load_kept(kept_boxes, k), box) > p.iou_threshold) {
                    alive = false;
                    break;
                }
            }
        }
        chunk_box[tid] = box;
        chunk_cls[tid] = cls;
        chunk_idx[tid] = idx;
        const unsigned vote = __ballot_sync(0xffffffffu, alive);
        if ((tid & 31) == 0) reinterpret_cast<unsigned*>(survivors)[tid / 32] = vote;  // little-endian words
        __syncthreads();

        // Row tid of the chunk's overlap matrix, over the later survivors (a thread writes only its row).
        for (int w = 0; w < kWords; ++w) overlaps[tid][w] = 0;
        if (alive) {
            for (int j = tid + 1; j < kThreads; ++j) {
                if (!((survivors[j / 64] >> (j % 64)) & 1ull)) continue;
                if (!p.class_agnostic && chunk_cls[j] != cls) continue;
                if (box_iou(box, chunk_box[j]) > p.iou_threshold) overlaps[tid][j / 64] |= 1ull << (j % 64);
            }
        }
        __syncthreads();

        // The serial part: in score order, a survivor not yet removed is kept and removes what it overlaps.
        if (tid == 0) {
            uint64_t removed[kWords];
            for (int w = 0; w < kWords; ++w) removed[w] = ~survivors[w];
            int taken = 0;
            for (int w = 0; w < kWords && kept + taken < K; ++w) {
                while (~removed[w] && kept + taken < K) {
                    const int bit = __ffsll(static_cast<long long>(~removed[w])) - 1;
                    const int c = w * 64 + bit;
                    keep_list[taken++] = static_cast<int16_t>(c);
                    removed[w] |= 1ull << bit;
                    for (int v = w; v < kWords; ++v) removed[v] |= overlaps[c][v];
                }
            }
            keep_count = taken;
        }
        __syncthreads();

        const int taken = keep_count;
        if (tid < taken) {
            const int c = keep_list[tid];
            const int r = kept + tid;
            const Corners b = chunk_box[c];
            kept_boxes[r * 4 + 0] = b.x1;
            kept_boxes[r * 4 + 1] = b.y1;
            kept_boxes[r * 4 + 2] = b.x2;
            kept_boxes[r * 4 + 3] = b.y2;
            kept_scores[r] = activated_score(p.scores[n * p.per_image + chunk_idx[c]], p.score_activation);
            kept_classes[r] = chunk_cls[c];
        }
        kept += taken;
        __syncthreads();  // the kept rows are visible to the next chunk, and the shared arrays free
    }

    for (int r = kept + tid; r < K; r += kThreads) {
        kept_boxes[r * 4 + 0] = 0.0f;
        kept_boxes[r * 4 + 1] = 0.0f;
        kept_boxes[r * 4 + 2] = 0.0f;
        kept_boxes[r * 4 + 3] = 0.0f;
        kept_scores[r] = 0.0f;
        kept_classes[r] = 0;
    }
    if (tid == 0) out.num_detections[n] = kept;
}

NmsCudaResult failure(NmsCudaResult::Code code, const char* what, cudaError_t err = cudaSuccess) {
    NmsCudaResult r;
    r.code = code;
    if (err != cudaSuccess) {
        std::snprintf(r.message, sizeof(r.message), "%s: %s", what, cudaGetErrorString(err));
    } else {
        std::snprintf(r.message, sizeof(r.message), "%s", what);
    }
    return r;
}

}  // namespace

NmsCudaLayout efficient_nms_cuda_layout(const EfficientNmsParams&, const EfficientNmsShape& shape) {
    NmsCudaLayout l;
    const size_t batch = static_cast<size_t>(shape.batch);
    const size_t keys = batch * static_cast<size_t>(shape.num_boxes) * static_cast<size_t>(shape.num_classes);
    size_t at = 0;
    l.segment_begin = at;
    at += align_up(batch * sizeof(int));
    l.segment_end = at;
    at += align_up(batch * sizeof(int));
    l.keys = at;
    at += align_up(keys * sizeof(uint64_t));
    l.keys_alt = at;
    at += align_up(keys * sizeof(uint64_t));
    l.sort_temp = at;
    l.sort_temp_bytes = kSortTempBytes;
    at += kSortTempBytes;
    l.total = at;
    return l;
}

NmsCudaResult efficient_nms_cuda(const EfficientNmsParams& params, const EfficientNmsShape& shape,
                                 const EfficientNmsBuffers& io, void* workspace, size_t workspace_size, void* stream) {
    if (shape.batch == 0) return NmsCudaResult();
    const int64_t per_image = shape.num_boxes * shape.num_classes;
    const int64_t total = shape.batch * per_image;
    if (total > INT_MAX || shape.batch > INT_MAX) {
        return failure(NmsCudaResult::kUnsupported, "more than 2^31-1 candidates (batch * boxes * classes) in one run");
    }
    const NmsCudaLayout layout = efficient_nms_cuda_layout(params, shape);
    if (!workspace || workspace_size < layout.total) return failure(NmsCudaResult::kError, "workspace too small");
    auto* ws = static_cast<char*>(workspace);
    int* begin = reinterpret_cast<int*>(ws + layout.segment_begin);
    int* end = reinterpret_cast<int*>(ws + layout.segment_end);
    const cudaStream_t st = static_cast<cudaStream_t>(stream);

    Problem p;
    p.boxes = io.boxes;
    p.scores = io.scores;
    p.batch = shape.batch;
    p.num_boxes = shape.num_boxes;
    p.num_classes = shape.num_classes;
    p.per_image = per_image;
    p.box_rows = shape.num_boxes * (shape.boxes_per_class ? shape.num_classes : 1);
    p.boxes_per_class = shape.boxes_per_class;
    p.score_threshold = params.score_threshold;
    p.iou_threshold = params.iou_threshold;
    p.max_output_boxes = params.max_output_boxes;
    p.background_class = params.background_class;
    p.score_activation = params.score_activation;
    p.class_agnostic = params.class_agnostic;
    p.box_coding = params.box_coding;
    p.idx_bits = index_bits(per_image);

    const int batch = static_cast<int>(shape.batch);
    init_segments<<<(batch + kThreads - 1) / kThreads, kThreads, 0, st>>>(shape.batch, per_image, begin, end);
    const uint64_t* sorted = nullptr;
    if (total > 0) {
        auto* keys = reinterpret_cast<uint64_t*>(ws + layout.keys);
        auto* keys_alt = reinterpret_cast<uint64_t*>(ws + layout.keys_alt);
        const int64_t blocks = std::min<int64_t>((total + kThreads - 1) / kThreads, kSelectBlocksMax);
        select_candidates<<<static_cast<int>(blocks), kThreads, 0, st>>>(p, end, keys);
        cub::DoubleBuffer<uint64_t> buffers(keys, keys_alt);
        const int end_bit = 32 + p.idx_bits;
        size_t temp_bytes = 0;
        cudaError_t err = cub::DeviceSegmentedRadixSort::SortKeys(nullptr, temp_bytes, buffers, static_cast<int>(total),
                                                                  batch, begin, end, 0, end_bit, st);
        if (err != cudaSuccess) return failure(NmsCudaResult::kError, "sizing the candidate sort", err);
        if (temp_bytes > layout.sort_temp_bytes) {
            return failure(NmsCudaResult::kError, "the candidate sort needs more scratch memory than reserved");
        }
        err = cub::DeviceSegmentedRadixSort::SortKeys(ws + layout.sort_temp, temp_bytes, buffers,
                                                      static_cast<int>(total), batch, begin, end, 0, end_bit, st);
        if (err != cudaSuccess) return failure(NmsCudaResult::kError, "sorting the candidates", err);
        sorted = buffers.Current();
    }
    nms_per_image<<<batch, kThreads, 0, st>>>(
        p, sorted, begin, end,
        Outputs{io.num_detections, io.detection_boxes, io.detection_scores, io.detection_classes});
    const cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) return failure(NmsCudaResult::kError, "launching the NMS kernels", err);
    return NmsCudaResult();
}

}  // namespace rtinfer_nms
