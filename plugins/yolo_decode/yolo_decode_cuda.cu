// YoloDecode on the GPU: one thread per candidate decodes its box; the scores are written by a second
// kernel, one thread per output element (anchor-based: the row's objectness times its class), or for the
// anchor-free [C, A] -> [A, C] layout change a tiled transpose through shared memory, so that both reads
// and writes are coalesced.
#include <cuda_runtime.h>

#include <algorithm>

#include "yolo_decode_cuda.h"
#include "yolo_decode_math.h"

namespace rtinfer_yolo {

namespace {

constexpr int kThreads = 256;
constexpr int kTile = 32;
constexpr int kTileRows = 8;
constexpr int64_t kMaxBlocks = 65535;

int blocks_for(int64_t items) {
    return static_cast<int>(std::min<int64_t>((items + kThreads - 1) / kThreads, kMaxBlocks));
}

__global__ void anchor_free_boxes(YoloDecodeParams p, YoloLevels levels, YoloDecodeShape shape, const float* head,
                                  float* boxes) {
    const int64_t A = shape.num_candidates, total = shape.batch * A;
    const int64_t image = (4 * p.reg_max + shape.num_classes) * A;
    for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total; e += gridDim.x * int64_t{blockDim.x}) {
        const int64_t n = e / A, a = e - n * A;
        decode_anchor_free(p, levels, head + n * image, A, a, boxes + e * 4);
    }
}

// scores[n, a, c] = activate(head[n, 4 * reg_max + c, a]), a 32 x 32 tile of (c, a) per block.
__global__ void anchor_free_scores(YoloDecodeParams p, YoloDecodeShape shape, const float* head, float* scores) {
    __shared__ float tile[kTile][kTile + 1];
    const int64_t A = shape.num_candidates, C = shape.num_classes;
    const int64_t n = blockIdx.z;
    const int64_t a0 = blockIdx.x * int64_t{kTile}, c0 = blockIdx.y * int64_t{kTile};
    const float* logits = head + n * (4 * p.reg_max + C) * A + 4 * p.reg_max * A;
    for (int r = threadIdx.y; r < kTile; r += kTileRows) {
        const int64_t c = c0 + r, a = a0 + threadIdx.x;
        if (c < C && a < A) tile[r][threadIdx.x] = activate(logits[c * A + a], p.apply_sigmoid);
    }
    __syncthreads();
    for (int r = threadIdx.y; r < kTile; r += kTileRows) {
        const int64_t a = a0 + r, c = c0 + threadIdx.x;
        if (c < C && a < A) scores[(n * A + a) * C + c] = tile[threadIdx.x][r];
    }
}

__global__ void anchor_based_boxes(YoloDecodeParams p, YoloLevels levels, YoloDecodeShape shape, const float* head,
                                   float* boxes) {
    const int64_t A = shape.num_candidates, total = shape.batch * A, width = 5 + shape.num_classes;
    for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total; e += gridDim.x * int64_t{blockDim.x}) {
        decode_anchor_based(p, levels, head + e * width, e % A, boxes + e * 4);
    }
}

__global__ void anchor_based_scores(YoloDecodeParams p, YoloDecodeShape shape, const float* head, float* scores) {
    const int64_t C = shape.num_classes, total = shape.batch * shape.num_candidates * C;
    for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total; e += gridDim.x * int64_t{blockDim.x}) {
        const int64_t row = e / C;
        scores[e] = anchor_based_score(p, head + row * (5 + C), e - row * C);
    }
}

}  // namespace

const char* yolo_decode_cuda(const YoloDecodeParams& p, const YoloDecodeShape& shape, const YoloDecodeBuffers& io,
                             void* stream) {
    const int64_t rows = shape.batch * shape.num_candidates;
    if (rows == 0) return "";
    if (shape.batch > 65535) return "batch above 65535 is not supported on the GPU";
    const cudaStream_t st = static_cast<cudaStream_t>(stream);
    const YoloLevels levels = yolo_levels(p);
    if (p.style == YoloStyle::kAnchorFree) {
        anchor_free_boxes<<<blocks_for(rows), kThreads, 0, st>>>(p, levels, shape, io.head, io.boxes);
        if (shape.num_classes > 0) {
            const int64_t a_tiles = (shape.num_candidates + kTile - 1) / kTile;
            const int64_t c_tiles = (shape.num_classes + kTile - 1) / kTile;
            if (a_tiles > INT32_MAX || c_tiles > 65535) return "too many candidates or classes for the GPU";
            const dim3 grid(static_cast<unsigned>(a_tiles), static_cast<unsigned>(c_tiles),
                            static_cast<unsigned>(shape.batch));
            anchor_free_scores<<<grid, dim3(kTile, kTileRows), 0, st>>>(p, shape, io.head, io.scores);
        }
    } else {
        anchor_based_boxes<<<blocks_for(rows), kThreads, 0, st>>>(p, levels, shape, io.head, io.boxes);
        if (shape.num_classes > 0) {
            anchor_based_scores<<<blocks_for(rows * shape.num_classes), kThreads, 0, st>>>(p, shape, io.head,
                                                                                           io.scores);
        }
    }
    const cudaError_t err = cudaGetLastError();
    return err == cudaSuccess ? "" : cudaGetErrorString(err);
}

}  // namespace rtinfer_yolo
