// rtinfer.Attention: Y = softmax(Q K^T * scale) V in one kernel, flash-attention style. A block takes a tile of
// queries of one (batch, head) and walks K and V in tiles through shared memory, keeping per query row a running
// max and sum (online softmax, in float) and the output in float; Y is written once and no Sq x Sk matrix exists.
// Leading dims are flattened into the batch; any Sq and Sk (the tails are masked); head dims up to 128.
//
// float16 runs on tensor cores through the portable WMMA API (16x16x16 half fragments with float accumulators,
// sm_70 and newer): each of 4 warps owns 16 query rows, computes their scores for a tile of keys (Q K^T), takes
// the softmax step on them in shared memory and adds P V into output fragments. Which accumulator element holds
// which row is unspecified by WMMA, so the kernel learns it once by loading a matrix whose entries are their own
// row numbers; the output can then stay in fragments and be rescaled row by row as the running max grows.
// Head dims are zero-padded to a multiple of 16 (64 or 128 in the kernel's tiles). K and V tiles for the next
// step are loaded into registers while the current one is computed.
//
// float32 runs on a plain SIMT path: 128 threads, 32 queries x 32 keys per step, each thread 4 rows x 2 keys of
// scores and 4 rows x Dv / 16 columns of the output.
#include <cuda_fp16.h>
#include <mma.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/ir/shape_util.h"
#include "core/kernels/cuda/nn/kernels.h"
#include "core/kernels/cuda/nn/nn_cuda_util.h"

namespace rtinfer::cuda {
namespace nn {

// Q [batch, sq, d], K [batch, sk, d], V [batch, sk, dv], Y [batch, sq, dv], dense, all float32 or all float16.
struct AttentionParams {
    const void* q = nullptr;
    const void* k = nullptr;
    const void* v = nullptr;
    void* y = nullptr;
    bool half = false;
    int64_t batch = 0;
    int sq = 0, sk = 0, d = 0, dv = 0;
    float scale = 1.0f;
};

constexpr int kAttentionMaxHead = 128;

namespace {

namespace wmma = nvcuda::wmma;

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr float kLog2e = 1.4426950408889634f;

// ---- float16, WMMA ----

constexpr int kHalfRows = 16 * kWarps;  // queries per block

template <int kHead>
struct HalfTiles {
    static constexpr int kKeys = kHead <= 64 ? 64 : 32;  // keys per step: shared memory stays under 48 KB
    static constexpr int kLdh = kHead + 8;               // halves per row of Q, K and V (16-byte rows, no conflicts)
    static constexpr int kLds = kKeys + 4;               // floats per row of a warp's scores
    static constexpr int kLdp = kKeys + 8;               // halves per row of a warp's probabilities
    static constexpr int kPieces = kHead / 8;            // 16-byte pieces per row
    static constexpr int kLoads = kKeys * kPieces / kThreads;  // pieces of K (and of V) per thread per step
    static_assert(kKeys * kPieces % kThreads == 0, "K and V tiles split evenly over the threads");
    static_assert(kHalfRows <= 2 * kKeys, "the Q tile is staged where K and V go");
};

using AccFragment = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;
using RowFragment = wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major>;

// 8 halves of `row` from column `col` of `len` (zeros past the end; all zeros for a null row). vec: len % 8 == 0
// and the row 16-byte aligned.
__device__ __forceinline__ uint4 load8(const __half* row, int col, int len, bool vec) {
    uint4 out = make_uint4(0u, 0u, 0u, 0u);
    if (!row || col >= len) return out;
    if (vec) return *reinterpret_cast<const uint4*>(row + col);
    __half h[8];
#pragma unroll
    for (int i = 0; i < 8; ++i) h[i] = col + i < len ? row[col + i] : __float2half_rn(0.0f);
    memcpy(&out, h, sizeof(out));
    return out;
}

// Multiplies row r of the first `chunks` output fragments by factor[r]; row_of: each element's row.
template <int kChunks>
__device__ __forceinline__ void scale_rows(AccFragment (&o)[kChunks], const float* factor,
                                           const int (&row_of)[AccFragment::num_elements], int chunks) {
    float f[AccFragment::num_elements];
#pragma unroll
    for (int i = 0; i < AccFragment::num_elements; ++i) f[i] = factor[row_of[i]];
#pragma unroll
    for (int c = 0; c < kChunks; ++c) {
        if (c >= chunks) break;
#pragma unroll
        for (int i = 0; i < AccFragment::num_elements; ++i) o[c].x[i] *= f[i];
    }
}

template <int kHead>
__global__ void __launch_bounds__(kThreads)
    attention_half_kernel(const __half* __restrict__ q, const __half* __restrict__ k, const __half* __restrict__ v,
                          __half* __restrict__ y, AttentionParams p, int q_tiles, bool vec_qk, bool vec_v,
                          bool vec_y) {
    using T = HalfTiles<kHead>;
    constexpr int kChunks = kHead / 16;
    constexpr int kKeyChunks = T::kKeys / 16;
    constexpr int kElems = AccFragment::num_elements;
    __shared__ __align__(128) __half kv[2 * T::kKeys * T::kLdh];
    __shared__ __align__(128) float scores[kWarps][16 * T::kLds];
    __shared__ __align__(128) __half probs[kWarps][16 * T::kLdp];
    __shared__ float row_factor[kWarps][16];

    __half* const ks = kv;
    __half* const vs = kv + T::kKeys * T::kLdh;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int64_t bh = blockIdx.x / q_tiles;
    const int q0 = static_cast<int>(blockIdx.x % q_tiles) * kHalfRows;
    const int d_chunks = (p.d + 15) / 16, dv_chunks = (p.dv + 15) / 16;
    const __half* const qb = q + bh * p.sq * p.d;
    const __half* const kb = k + bh * p.sk * p.d;
    const __half* const vb = v + bh * p.sk * p.dv;
    float* const s_w = scores[warp];
    __half* const p_w = probs[warp];

    // The Q tile goes through shared memory (zero rows past Sq, zero columns past D) into fragments.
    for (int i = threadIdx.x; i < kHalfRows * T::kPieces; i += kThreads) {
        const int r = i / T::kPieces, c = (i % T::kPieces) * 8, row = q0 + r;
        *reinterpret_cast<uint4*>(kv + r * T::kLdh + c) =
            load8(row < p.sq ? qb + static_cast<int64_t>(row) * p.d : nullptr, c, p.d, vec_qk);
    }
    // Meanwhile each warp learns the row of every accumulator element it holds.
    for (int i = lane; i < 256; i += 32) s_w[(i >> 4) * T::kLds + (i & 15)] = static_cast<float>(i >> 4);
    __syncthreads();
    RowFragment qf[kChunks];
#pragma unroll
    for (int c = 0; c < kChunks; ++c) {
        if (c < d_chunks) wmma::load_matrix_sync(qf[c], kv + warp * 16 * T::kLdh + c * 16, T::kLdh);
    }
    AccFragment acc;
    wmma::load_matrix_sync(acc, s_w, T::kLds, wmma::mem_row_major);
    int row_of[kElems];
#pragma unroll
    for (int i = 0; i < kElems; ++i) row_of[i] = static_cast<int>(acc.x[i]);
    AccFragment o[kChunks];
#pragma unroll
    for (int c = 0; c < kChunks; ++c) wmma::fill_fragment(o[c], 0.0f);

    uint4 k_next[T::kLoads], v_next[T::kLoads];
    auto fetch = [&](int tile) {
#pragma unroll
        for (int i = 0; i < T::kLoads; ++i) {
            const int idx = threadIdx.x + i * kThreads;
            const int r = idx / T::kPieces, c = (idx % T::kPieces) * 8, key = tile * T::kKeys + r;
            const bool in = key < p.sk;
            k_next[i] = load8(in ? kb + static_cast<int64_t>(key) * p.d : nullptr, c, p.d, vec_qk);
            v_next[i] = load8(in ? vb + static_cast<int64_t>(key) * p.dv : nullptr, c, p.dv, vec_v);
        }
    };
    const int tiles = (p.sk + T::kKeys - 1) / T::kKeys;
    fetch(0);
    __syncthreads();  // every warp holds its Q fragments and row map: kv and the scores may be overwritten

    // Row r = lane / 2 of the warp's 16 belongs to lanes 2r and 2r + 1, which take its columns 4j + sel + {0, 1}.
    const int r = lane >> 1, sel = (lane & 1) * 2;
    const bool active = q0 + warp * 16 < p.sq;
    const float scale_log2 = p.scale * kLog2e;
    float m = -INFINITY;  // running max of the row's scaled scores, in log2 units
    float l = 0.0f;       // this lane's part of the row's running sum
    for (int t = 0; t < tiles; ++t) {
#pragma unroll
        for (int i = 0; i < T::kLoads; ++i) {
            const int idx = threadIdx.x + i * kThreads;
            const int at = (idx / T::kPieces) * T::kLdh + (idx % T::kPieces) * 8;
            *reinterpret_cast<uint4*>(ks + at) = k_next[i];
            *reinterpret_cast<uint4*>(vs + at) = v_next[i];
        }
        __syncthreads();
        if (t + 1 < tiles) fetch(t + 1);
        const int valid = min(T::kKeys, p.sk - t * T::kKeys);
        // Warps whose 16 rows all lie past Sq (the last query tile) only help load K and V.
        if (active) {
            // S = Q K^T for the warp's 16 rows; key chunks wholly past Sk are skipped (and masked below).
#pragma unroll
            for (int n = 0; n < kKeyChunks; ++n) {
                if (n * 16 >= valid) break;
                wmma::fill_fragment(acc, 0.0f);
#pragma unroll
                for (int c = 0; c < kChunks; ++c) {
                    if (c >= d_chunks) break;
                    wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> kf;
                    wmma::load_matrix_sync(kf, ks + n * 16 * T::kLdh + c * 16, T::kLdh);
                    wmma::mma_sync(acc, qf[c], kf, acc);
                }
                wmma::store_matrix_sync(s_w + n * 16, acc, T::kLds, wmma::mem_row_major);
            }
            __syncwarp();

            // The online softmax step for row r: new max, the factor for what was summed so far, probabilities.
            float mx = -INFINITY;
#pragma unroll
            for (int j = 0; j < T::kKeys / 4; ++j) {
                const int col = 4 * j + sel;
                const float2 s = *reinterpret_cast<const float2*>(s_w + r * T::kLds + col);
                if (col < valid) mx = fmaxf(mx, s.x * scale_log2);
                if (col + 1 < valid) mx = fmaxf(mx, s.y * scale_log2);
            }
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            const float m_new = fmaxf(m, mx);  // finite: every step has a valid key
            const float alpha = exp2f(m - m_new);
            m = m_new;
            float sum = 0.0f;
#pragma unroll
            for (int j = 0; j < T::kKeys / 4; ++j) {
                const int col = 4 * j + sel;
                const float2 s = *reinterpret_cast<const float2*>(s_w + r * T::kLds + col);
                const float p0 = col < valid ? exp2f(s.x * scale_log2 - m_new) : 0.0f;
                const float p1 = col + 1 < valid ? exp2f(s.y * scale_log2 - m_new) : 0.0f;
                const __half2 h = __floats2half2_rn(p0, p1);
                // The sum takes the rounded values that P V multiplies.
                const float2 back = __half22float2(h);
                sum += back.x + back.y;
                *reinterpret_cast<__half2*>(p_w + r * T::kLdp + col) = h;
            }
            l = l * alpha + sum;
            if (sel == 0) row_factor[warp][r] = alpha;
            __syncwarp();

            // O = O * alpha (per row) + P V.
            scale_rows(o, row_factor[warp], row_of, dv_chunks);
#pragma unroll
            for (int n = 0; n < kKeyChunks; ++n) {
                if (n * 16 >= valid) break;
                RowFragment pf;
                wmma::load_matrix_sync(pf, p_w + n * 16, T::kLdp);
#pragma unroll
                for (int c = 0; c < kChunks; ++c) {
                    if (c >= dv_chunks) break;
                    wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> vf;
                    wmma::load_matrix_sync(vf, vs + n * 16 * T::kLdh + c * 16, T::kLdh);
                    wmma::mma_sync(o[c], pf, vf, o[c]);
                }
            }
        }
        __syncthreads();  // K, V, the scores, probabilities and row factors are rewritten by the next step
    }

    // Divide each row by its sum, then write 16 columns at a time through the warp's score space: lane pair
    // (2r, 2r + 1) stores row r's 16 columns as two 16-byte pieces.
    if (!active) return;
    const float total = l + __shfl_xor_sync(0xffffffffu, l, 1);
    if (sel == 0) row_factor[warp][r] = 1.0f / total;
    __syncwarp();
    __half* const yb = y + bh * p.sq * p.dv;
    const int row = q0 + warp * 16 + r;
    const int part = (lane & 1) * 8;
    scale_rows(o, row_factor[warp], row_of, dv_chunks);
#pragma unroll
    for (int c = 0; c < kChunks; ++c) {
        if (c >= dv_chunks) break;
        wmma::store_matrix_sync(s_w, o[c], T::kLds, wmma::mem_row_major);
        __syncwarp();
        const int col = c * 16 + part;
        if (row < p.sq && col < p.dv) {
            const float* src = s_w + r * T::kLds + part;
            __half* dst = yb + static_cast<int64_t>(row) * p.dv + col;
            if (vec_y) {
                __half2 h[4];
#pragma unroll
                for (int i = 0; i < 4; ++i) h[i] = __floats2half2_rn(src[2 * i], src[2 * i + 1]);
                uint4 out;
                memcpy(&out, h, sizeof(out));
                *reinterpret_cast<uint4*>(dst) = out;
            } else {
                for (int i = 0; i < 8 && col + i < p.dv; ++i) dst[i] = __float2half_rn(src[i]);
            }
        }
        __syncwarp();
    }
}

// ---- float32, SIMT ----

constexpr int kFloatRows = 32, kFloatKeys = 32;
constexpr int kFloatChunks = kAttentionMaxHead / 16;  // output columns tx + 16c per thread
constexpr int kFloatLdp = kFloatKeys + 1;

// Q and K tiles [32][d + 1] (odd rows: the 16 keys a warp reads per step sit in distinct banks), V [32][dv],
// probabilities [32][33].
size_t float_smem_bytes(const AttentionParams& p) {
    return sizeof(float) * static_cast<size_t>((kFloatRows + kFloatKeys) * (p.d + 1) + kFloatKeys * p.dv +
                                               kFloatRows * kFloatLdp);
}

__device__ __forceinline__ float group16_max(float x) {
    for (int o = 8; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
    return x;
}
__device__ __forceinline__ float group16_sum(float x) {
    for (int o = 8; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}

__global__ void __launch_bounds__(kThreads)
    attention_float_kernel(const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
                           float* __restrict__ y, AttentionParams p, int q_tiles) {
    extern __shared__ float smem[];
    const int ldq = p.d + 1;
    float* const qs = smem;
    float* const ks = qs + kFloatRows * ldq;
    float* const vs = ks + kFloatKeys * ldq;
    float* const ps = vs + kFloatKeys * p.dv;
    // Thread (ty, tx): rows ty + 8i, keys tx + 16j, output columns tx + 16c. The 16 threads of a row group are
    // half a warp.
    const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    const int64_t bh = blockIdx.x / q_tiles;
    const int q0 = static_cast<int>(blockIdx.x % q_tiles) * kFloatRows;
    const int dv_chunks = (p.dv + 15) / 16;
    const float* const qb = q + bh * p.sq * p.d;
    const float* const kb = k + bh * p.sk * p.d;
    const float* const vb = v + bh * p.sk * p.dv;
    const float scale_log2 = p.scale * kLog2e;

    for (int i = threadIdx.x; i < kFloatRows * p.d; i += kThreads) {
        const int r = i / p.d, c = i % p.d;
        qs[r * ldq + c] = q0 + r < p.sq ? qb[static_cast<int64_t>(q0 + r) * p.d + c] : 0.0f;
    }
    float m[4], l[4], o[4][kFloatChunks];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        m[i] = -INFINITY;
        l[i] = 0.0f;
#pragma unroll
        for (int c = 0; c < kFloatChunks; ++c) o[i][c] = 0.0f;
    }
    const int tiles = (p.sk + kFloatKeys - 1) / kFloatKeys;
    for (int t = 0; t < tiles; ++t) {
        const int k0 = t * kFloatKeys, valid = min(kFloatKeys, p.sk - k0);
        __syncthreads();  // the previous step is done with K, V and P
        for (int i = threadIdx.x; i < kFloatKeys * p.d; i += kThreads) {
            const int r = i / p.d, c = i % p.d;
            ks[r * ldq + c] = r < valid ? kb[static_cast<int64_t>(k0 + r) * p.d + c] : 0.0f;
        }
        for (int i = threadIdx.x; i < kFloatKeys * p.dv; i += kThreads) {
            const int r = i / p.dv;
            vs[i] = r < valid ? vb[static_cast<int64_t>(k0 + r) * p.dv + i % p.dv] : 0.0f;
        }
        __syncthreads();

        float s[4][2] = {};
        for (int d = 0; d < p.d; ++d) {
            float a[4], b[2];
#pragma unroll
            for (int i = 0; i < 4; ++i) a[i] = qs[(ty + 8 * i) * ldq + d];
#pragma unroll
            for (int j = 0; j < 2; ++j) b[j] = ks[(tx + 16 * j) * ldq + d];
#pragma unroll
            for (int i = 0; i < 4; ++i) {
#pragma unroll
                for (int j = 0; j < 2; ++j) s[i][j] = fmaf(a[i], b[j], s[i][j]);
            }
        }
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            float mx = -INFINITY;
#pragma unroll
            for (int j = 0; j < 2; ++j) {
                s[i][j] = tx + 16 * j < valid ? s[i][j] * scale_log2 : -INFINITY;
                mx = fmaxf(mx, s[i][j]);
            }
            const float m_new = fmaxf(m[i], group16_max(mx));
            const float alpha = exp2f(m[i] - m_new);
            m[i] = m_new;
            const float p0 = exp2f(s[i][0] - m_new), p1 = exp2f(s[i][1] - m_new);
            l[i] = l[i] * alpha + p0 + p1;
            ps[(ty + 8 * i) * kFloatLdp + tx] = p0;
            ps[(ty + 8 * i) * kFloatLdp + tx + 16] = p1;
#pragma unroll
            for (int c = 0; c < kFloatChunks; ++c) o[i][c] *= alpha;
        }
        __syncwarp();  // a row's probabilities are written and read by the same half warp
        for (int n = 0; n < valid; ++n) {
            float pn[4];
#pragma unroll
            for (int i = 0; i < 4; ++i) pn[i] = ps[(ty + 8 * i) * kFloatLdp + n];
#pragma unroll
            for (int c = 0; c < kFloatChunks; ++c) {
                const int col = tx + 16 * c;
                if (c >= dv_chunks) break;
                const float vn = col < p.dv ? vs[n * p.dv + col] : 0.0f;
#pragma unroll
                for (int i = 0; i < 4; ++i) o[i][c] = fmaf(pn[i], vn, o[i][c]);
            }
        }
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const float inv = 1.0f / group16_sum(l[i]);
        const int row = q0 + ty + 8 * i;
        if (row >= p.sq) continue;
        float* const yr = y + (bh * p.sq + row) * p.dv;
#pragma unroll
        for (int c = 0; c < kFloatChunks; ++c) {
            const int col = tx + 16 * c;
            if (c < dv_chunks && col < p.dv) yr[col] = o[i][c] * inv;
        }
    }
}

bool aligned16(const void* ptr) {
    return reinterpret_cast<uintptr_t>(ptr) % 16 == 0;
}

}  // namespace

// Raises the float32 kernel's shared memory limit where long head dims need more than the default 48 KB: to what
// the longest take, so that no op lowers it under another's need.
Status prepare_attention(const AttentionParams& p) {
    if (p.half || float_smem_bytes(p) <= 48 * 1024) return Status();
    AttentionParams longest = p;
    longest.d = longest.dv = kAttentionMaxHead;
    RT_CUDA_CHECK(cudaFuncSetAttribute(attention_float_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(float_smem_bytes(longest))));
    return Status();
}

Status launch_attention(const AttentionParams& p, cudaStream_t stream) {
    if (p.half) {
        const int q_tiles = (p.sq + kHalfRows - 1) / kHalfRows;
        const unsigned blocks = static_cast<unsigned>(p.batch * q_tiles);
        const bool vec_qk = p.d % 8 == 0 && aligned16(p.q) && aligned16(p.k);
        const bool vec_v = p.dv % 8 == 0 && aligned16(p.v);
        const bool vec_y = p.dv % 8 == 0 && aligned16(p.y);
        const auto* q = static_cast<const __half*>(p.q);
        const auto* k = static_cast<const __half*>(p.k);
        const auto* v = static_cast<const __half*>(p.v);
        auto* y = static_cast<__half*>(p.y);
        if (std::max(p.d, p.dv) <= 64) {
            attention_half_kernel<64><<<blocks, kThreads, 0, stream>>>(q, k, v, y, p, q_tiles, vec_qk, vec_v, vec_y);
        } else {
            attention_half_kernel<128><<<blocks, kThreads, 0, stream>>>(q, k, v, y, p, q_tiles, vec_qk, vec_v, vec_y);
        }
    } else {
        const int q_tiles = (p.sq + kFloatRows - 1) / kFloatRows;
        const unsigned blocks = static_cast<unsigned>(p.batch * q_tiles);
        attention_float_kernel<<<blocks, kThreads, float_smem_bytes(p), stream>>>(
            static_cast<const float*>(p.q), static_cast<const float*>(p.k), static_cast<const float*>(p.v),
            static_cast<float*>(p.y), p, q_tiles);
    }
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

}  // namespace nn

namespace {

class AttentionOp : public CudaOp {
public:
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        nn::AttentionParams p = p_;
        p.q = inputs[0].data;
        p.k = inputs[1].data;
        p.v = inputs[2].data;
        p.y = outputs[0].data;
        return nn::launch_attention(p, libs.stream);
    }

    nn::AttentionParams p_;
};

Expected<std::unique_ptr<CudaOp>> create_attention(const OpSetup& setup, const CudaLibs&) {
    if (setup.inputs.size() != 3 || setup.outputs.size() != 1) return setup.unsupported("expected Q, K, V and Y");
    const DataType dtype = setup.inputs[0].dtype;
    for (const ir::InputInfo& in : setup.inputs) {
        if (!nn::is_float_or_half(in.dtype) || in.dtype != dtype) {
            return setup.unsupported(std::string("inputs of type ") + data_type_name(in.dtype) + " with " +
                                     data_type_name(dtype) + " are not supported on CUDA");
        }
    }
    if (setup.outputs[0].dtype != dtype) return setup.unsupported("Y's type differs from Q's");
    if (!setup.node.has_attr("scale")) return setup.unsupported("attribute 'scale' is missing");
    if (nn::has_empty_tensor(setup)) return setup.unsupported("empty tensors run on the reference");
    const ir::Shape& q = setup.inputs[0].shape;
    const ir::Shape& k = setup.inputs[1].shape;
    const ir::Shape& v = setup.inputs[2].shape;
    const size_t r = q.size();
    if (r < 2 || k.size() != r || v.size() != r || k[r - 1] != q[r - 1] || v[r - 2] != k[r - 2] ||
        !std::equal(q.begin(), q.end() - 2, k.begin()) || !std::equal(q.begin(), q.end() - 2, v.begin())) {
        return setup.unsupported("Q " + ir::shape_str(q) + ", K " + ir::shape_str(k) + " and V " + ir::shape_str(v) +
                                 " are not [..., Sq, D], [..., Sk, D], [..., Sk, Dv] with equal leading dims");
    }
    if (q[r - 1] > nn::kAttentionMaxHead || v[r - 1] > nn::kAttentionMaxHead) {
        return setup.unsupported("head dims above " + std::to_string(nn::kAttentionMaxHead) + " (D " +
                                 std::to_string(q[r - 1]) + ", Dv " + std::to_string(v[r - 1]) +
                                 ") run on the reference");
    }
    auto op = std::make_unique<AttentionOp>();
    nn::AttentionParams& p = op->p_;
    p.half = dtype == DataType::kFloat16;
    p.batch = ir::shape_numel(ir::Shape(q.begin(), q.end() - 2));
    if (q[r - 2] > INT_MAX / 2 || k[r - 2] > INT_MAX / 2) return setup.unsupported("sequences too long");
    p.sq = static_cast<int>(q[r - 2]);
    p.sk = static_cast<int>(k[r - 2]);
    p.d = static_cast<int>(q[r - 1]);
    p.dv = static_cast<int>(v[r - 1]);
    // One block per 32 (float32) or 64 (float16) queries of each batch entry, in a one-dimensional grid.
    if (p.batch > INT_MAX / ((p.sq + 31) / 32)) return setup.unsupported("too many queries for one grid");
    p.scale = setup.node.attr_float("scale", 1.0f);
    RT_RETURN_IF_ERROR(nn::prepare_attention(p));
    return std::unique_ptr<CudaOp>(std::move(op));
}

}  // namespace

const CudaKernel kAttentionCuda = {"Attention", ir::kRtinferDomain, create_attention};

}  // namespace rtinfer::cuda
