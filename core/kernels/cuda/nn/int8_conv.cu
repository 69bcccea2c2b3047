// The int8 implicit-GEMM convolution of int8_conv.h.
//
// A block computes a BM x BN tile of Y (BM output pixels, BN output channels). The reduction (kernel taps x
// input channels, in OHWI order so that it matches W's rows) advances BK = 64 or 128 bytes at a time through a
// cp.async pipeline of STAGES shared-memory stages: each thread copies 16-byte chunks of X rows (one pixel's channels
// at one tap, zero-filled outside the image) and of W rows. Warps read their fragments with ldmatrix (an int8
// 16x32 tile has the layout of a half 16x16 tile) from rows swizzled so that the eight rows of one ldmatrix
// fall in different banks, and multiply with mma.sync m16n8k32 (int8 in, int32 accumulate).
//
// The epilogue goes through shared memory: the int32 sums, rescaled (alpha) and biased, are written as floats,
// then each thread takes 8 neighbouring channels of one pixel, adds the residual, clamps and writes 8 values
// with one store, so that rows of Y are written whole.
#include "core/kernels/cuda/nn/int8_conv.h"

#include <cuda_fp16.h>

#include <algorithm>

#include "core/kernels/cuda/cuda_check.h"

namespace rtinfer::cuda::nn {
namespace {

#if __CUDA_ARCH__ >= 800
// Byte offset of 16-byte chunk `chunk` of row `row` in a [rows][BK] stage (BK 64 or 128 bytes). The XOR puts
// the eight rows one ldmatrix reads at one chunk column into eight different 16-byte bank groups.
template <int BK>
__device__ __forceinline__ uint32_t swizzle(int row, int chunk) {
    if constexpr (BK == 64) return static_cast<uint32_t>(row * BK + ((chunk ^ ((row >> 1) & 3)) << 4));
    return static_cast<uint32_t>(row * BK + ((chunk ^ (row & 7)) << 4));
}

__device__ __forceinline__ void cp_async_16(uint32_t dst, const void* src, bool valid) {
    const int bytes = valid ? 16 : 0;  // 0: the chunk is zero-filled, src is not read
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(bytes));
}
__device__ __forceinline__ void cp_async_commit() {
    asm volatile("cp.async.commit_group;\n" ::);
}
template <int N>
__device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}
__device__ __forceinline__ void mma_s8(int (&c)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
__device__ __forceinline__ float activate(float v, const Int8ConvParams& p) {
    switch (p.act) {
        case Int8Activation::kClamp:
            return fminf(fmaxf(v, p.lo), p.hi);
        case Int8Activation::kSigmoid:
            return 1.0f / (1.0f + expf(-v));
        case Int8Activation::kSilu:
            return v / (1.0f + expf(-v));
        case Int8Activation::kHardSwish:
            return v * fminf(fmaxf(v / 6.0f + 0.5f, 0.0f), 1.0f);
        case Int8Activation::kLeakyRelu:
            return v >= 0.0f ? v : v * p.act_alpha;
    }
    return v;
}
__device__ __forceinline__ int8_t requantize(float v, float inv_scale) {
    const int q = __float2int_rn(__fmul_rn(v, inv_scale));
    return static_cast<int8_t>(min(max(q, -128), 127));
}
#endif

template <int BM, int BN, int WM, int WN, int STAGES, int BK>
struct TileConfig {
    static_assert(BK == 64 || BK == 128, "64 or 128 reduction bytes per stage");
    static constexpr int kThreads = WM * WN * 32;
    static constexpr int kStageBytes = (BM + BN) * BK;
    static constexpr int kLd = BN + 8;  // floats per row of the epilogue tile (the pad spreads banks)
    static constexpr size_t kSmem = std::max<size_t>(size_t(STAGES) * kStageBytes, size_t(BM) * kLd * sizeof(float));
};

template <int BM, int BN, int WM, int WN, int STAGES, int BK>
__global__ void __launch_bounds__(WM * WN * 32) int8_conv_kernel(const Int8ConvParams p) {
#if __CUDA_ARCH__ >= 800
    using Cfg = TileConfig<BM, BN, WM, WN, STAGES, BK>;
    constexpr int kChunks = BK / 16;  // 16-byte chunks per row of a stage
    constexpr int kThreads = Cfg::kThreads;
    constexpr int TM = BM / WM, TN = BN / WN, MI = TM / 16, NI = TN / 8;
    static_assert(TM % 16 == 0 && TN % 16 == 0, "warp tiles are whole 16x16 blocks");
    constexpr int kRowsPerPass = kThreads / kChunks;  // one thread per chunk of a row
    static_assert(BM % kRowsPerPass == 0 && BN % kRowsPerPass == 0, "whole passes");
    constexpr int A_IT = BM / kRowsPerPass, B_IT = BN / kRowsPerPass;
    extern __shared__ __align__(16) uint8_t smem[];

    const int tid = static_cast<int>(threadIdx.x), lane = tid & 31, warp = tid >> 5;
    const int warp_m = warp / WN, warp_n = warp % WN;
    const int out_hw = p.out_h * p.out_w;
    const int M = p.batch * out_hw;
    const int K = p.kernel_h * p.kernel_w * p.in_c;
    const int m0 = static_cast<int>(blockIdx.x) * BM, n0 = static_cast<int>(blockIdx.y) * BN;
    const int chunk = tid % kChunks;

    // The X rows (output pixels) this thread copies: the image's offset and the top-left input position.
    int a_base[A_IT], a_ih[A_IT], a_iw[A_IT];
#pragma unroll
    for (int i = 0; i < A_IT; ++i) {
        const int m = m0 + tid / kChunks + i * kRowsPerPass;
        if (m < M) {
            const int n = m / out_hw, r = m - n * out_hw;
            const int oh = r / p.out_w, ow = r - oh * p.out_w;
            a_base[i] = n * p.in_h * p.in_w * p.in_c;
            a_ih[i] = oh * p.stride_h - p.pad_h;
            a_iw[i] = ow * p.stride_w - p.pad_w;
        } else {
            a_base[i] = 0;
            a_ih[i] = -(1 << 29);  // never inside the image
            a_iw[i] = 0;
        }
    }
    // Where this thread's chunk is in the reduction: channel c of tap (kh, kw); kb for W's rows.
    int c = chunk * 16, kh = 0, kw = 0, kb = chunk * 16;
    auto advance = [&](int bytes) {
        c += bytes;
        while (c >= p.in_c) {
            c -= p.in_c;
            if (++kw == p.kernel_w) {
                kw = 0;
                ++kh;
            }
        }
    };
    advance(0);

    const uint32_t smem_base = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
    auto load_stage = [&](int stage) {
        const uint32_t a_s = smem_base + stage * Cfg::kStageBytes;
        const uint32_t b_s = a_s + BM * BK;
        const bool k_ok = kh < p.kernel_h;
        const int dh = kh * p.dilation_h, dw = kw * p.dilation_w;
#pragma unroll
        for (int i = 0; i < A_IT; ++i) {
            const int row = tid / kChunks + i * kRowsPerPass;
            const int ih = a_ih[i] + dh, iw = a_iw[i] + dw;
            const bool valid = k_ok && ih >= 0 && ih < p.in_h && iw >= 0 && iw < p.in_w;
            const int8_t* src = valid ? p.x + a_base[i] + (ih * p.in_w + iw) * p.in_c + c : p.x;
            cp_async_16(a_s + swizzle<BK>(row, chunk), src, valid);
        }
#pragma unroll
        for (int i = 0; i < B_IT; ++i) {
            const int row = tid / kChunks + i * kRowsPerPass;
            const int n = n0 + row;
            const bool valid = n < p.out_c && kb < K;
            const int8_t* src = valid ? p.w + static_cast<size_t>(n) * K + kb : p.w;
            cp_async_16(b_s + swizzle<BK>(row, chunk), src, valid);
        }
        advance(BK);
        kb += BK;
    };

    int acc[MI][NI][4];
#pragma unroll
    for (int mi = 0; mi < MI; ++mi)
#pragma unroll
        for (int ni = 0; ni < NI; ++ni)
#pragma unroll
            for (int j = 0; j < 4; ++j) acc[mi][ni][j] = 0;

    const int num_kt = (K + BK - 1) / BK;
#pragma unroll
    for (int s = 0; s < STAGES - 1; ++s) {
        if (s < num_kt) load_stage(s);
        cp_async_commit();
    }
    for (int kt = 0; kt < num_kt; ++kt) {
        cp_async_wait<STAGES - 2>();
        __syncthreads();
        const int next = kt + STAGES - 1;
        if (next < num_kt) load_stage(next % STAGES);
        cp_async_commit();
        const uint32_t a_s = smem_base + (kt % STAGES) * Cfg::kStageBytes;
        const uint32_t b_s = a_s + BM * BK;
#pragma unroll
        for (int ks = 0; ks < BK / 32; ++ks) {
            uint32_t a[MI][4], b[NI][2];
#pragma unroll
            for (int mi = 0; mi < MI; ++mi) {
                const int row = warp_m * TM + mi * 16 + (lane & 15);
                ldmatrix_x4(a[mi], a_s + swizzle<BK>(row, ks * 2 + (lane >> 4)));
            }
#pragma unroll
            for (int nj = 0; nj < NI / 2; ++nj) {
                const int row = warp_n * TN + nj * 16 + (lane & 7) + ((lane >> 4) << 3);
                uint32_t r[4];
                ldmatrix_x4(r, b_s + swizzle<BK>(row, ks * 2 + ((lane >> 3) & 1)));
                b[2 * nj][0] = r[0];
                b[2 * nj][1] = r[1];
                b[2 * nj + 1][0] = r[2];
                b[2 * nj + 1][1] = r[3];
            }
#pragma unroll
            for (int mi = 0; mi < MI; ++mi)
#pragma unroll
                for (int ni = 0; ni < NI; ++ni) mma_s8(acc[mi][ni], a[mi], b[ni]);
        }
    }
    cp_async_wait<0>();
    __syncthreads();

    // Epilogue, part 1: alpha * sum + bias into the float tile.
    float* tile = reinterpret_cast<float*>(smem);
    const int g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int ni = 0; ni < NI; ++ni) {
        const int col = warp_n * TN + ni * 8 + t * 2;
        const int n = n0 + col;
        float al0 = 0.0f, al1 = 0.0f, b0 = 0.0f, b1 = 0.0f;
        if (n < p.out_c) {  // out_c is even: n + 1 is a channel too
            al0 = p.alpha[n];
            al1 = p.alpha[n + 1];
            if (p.bias) {
                b0 = p.bias[n];
                b1 = p.bias[n + 1];
            }
        }
#pragma unroll
        for (int mi = 0; mi < MI; ++mi) {
            const int row = warp_m * TM + mi * 16 + g;
            const int* s = acc[mi][ni];
            *reinterpret_cast<float2*>(&tile[row * Cfg::kLd + col]) =
                make_float2(__fadd_rn(__fmul_rn(static_cast<float>(s[0]), al0), b0),
                            __fadd_rn(__fmul_rn(static_cast<float>(s[1]), al1), b1));
            *reinterpret_cast<float2*>(&tile[(row + 8) * Cfg::kLd + col]) =
                make_float2(__fadd_rn(__fmul_rn(static_cast<float>(s[2]), al0), b0),
                            __fadd_rn(__fmul_rn(static_cast<float>(s[3]), al1), b1));
        }
    }
    __syncthreads();

    // Part 2: 8 channels of one pixel per thread and step: residual, clamp, one store.
    constexpr int kGroupsPerRow = BN / 8;
    for (int gi = tid; gi < BM * kGroupsPerRow; gi += kThreads) {
        const int row = gi / kGroupsPerRow, col = (gi % kGroupsPerRow) * 8;
        const int m = m0 + row, n = n0 + col;
        if (m >= M || n >= p.out_c) continue;
        float v[8];
        const float4 lo4 = *reinterpret_cast<const float4*>(&tile[row * Cfg::kLd + col]);
        const float4 hi4 = *reinterpret_cast<const float4*>(&tile[row * Cfg::kLd + col + 4]);
        v[0] = lo4.x, v[1] = lo4.y, v[2] = lo4.z, v[3] = lo4.w, v[4] = hi4.x, v[5] = hi4.y, v[6] = hi4.z, v[7] = hi4.w;
        const size_t off = static_cast<size_t>(m) * p.out_c + n;
        if (p.z_kind == Int8Residual::kInt8) {
            const uint2 raw = *reinterpret_cast<const uint2*>(static_cast<const int8_t*>(p.z) + off);
            const int8_t* zs = reinterpret_cast<const int8_t*>(&raw);
#pragma unroll
            for (int j = 0; j < 8; ++j) v[j] = __fadd_rn(v[j], __fmul_rn(static_cast<float>(zs[j]), p.z_scale));
        } else if (p.z_kind == Int8Residual::kHalf) {
            const uint4 raw = *reinterpret_cast<const uint4*>(static_cast<const __half*>(p.z) + off);
            const __half* zs = reinterpret_cast<const __half*>(&raw);
#pragma unroll
            for (int j = 0; j < 8; ++j) v[j] = __fadd_rn(v[j], __half2float(zs[j]));
        } else if (p.z_kind == Int8Residual::kFloat) {
            const float* zs = static_cast<const float*>(p.z) + off;
#pragma unroll
            for (int j = 0; j < 8; ++j) v[j] = __fadd_rn(v[j], zs[j]);
        }
#pragma unroll
        for (int j = 0; j < 8; ++j) v[j] = activate(v[j], p);
        if (p.store == Int8Store::kInt8) {
            const float inv_scale = 1.0f / p.out_scale;
            uint2 out;
            int8_t* q = reinterpret_cast<int8_t*>(&out);
#pragma unroll
            for (int j = 0; j < 8; ++j) q[j] = requantize(v[j], inv_scale);
            *reinterpret_cast<uint2*>(static_cast<int8_t*>(p.y) + off) = out;
        } else if (p.store == Int8Store::kHalf) {
            uint4 out;
            __half* h = reinterpret_cast<__half*>(&out);
#pragma unroll
            for (int j = 0; j < 8; ++j) h[j] = __float2half_rn(v[j]);
            *reinterpret_cast<uint4*>(static_cast<__half*>(p.y) + off) = out;
        } else {
            float* y = static_cast<float*>(p.y) + off;
            *reinterpret_cast<float4*>(y) = make_float4(v[0], v[1], v[2], v[3]);
            *reinterpret_cast<float4*>(y + 4) = make_float4(v[4], v[5], v[6], v[7]);
        }
    }
#else
    (void)p;
    __trap();  // int8_conv_supported() keeps launches off older devices
#endif
}

struct TileEntry {
    const char* name;
    void (*kernel)(const Int8ConvParams);
    int bm, bn, threads;
    size_t smem;
};

template <int BM, int BN, int WM, int WN, int STAGES, int BK = 64>
TileEntry entry(const char* name) {
    using Cfg = TileConfig<BM, BN, WM, WN, STAGES, BK>;
    return {name, int8_conv_kernel<BM, BN, WM, WN, STAGES, BK>, BM, BN, Cfg::kThreads, Cfg::kSmem};
}

const TileEntry* tiles() {
    static const TileEntry table[] = {
        // name: block tile (pixels x channels) / warp tile
        entry<128, 128, 2, 4, 4>("128x128/64x32"),
        entry<128, 64, 4, 2, 4>("128x64/32x32"),
        entry<64, 128, 2, 4, 4>("64x128/32x32"),
        entry<64, 64, 2, 2, 4>("64x64/32x32"),
        entry<128, 64, 2, 2, 4>("128x64/64x32"),
        entry<256, 64, 4, 2, 3>("256x64/64x32"),
        entry<128, 128, 2, 2, 4>("128x128/64x64"),
        entry<256, 128, 4, 2, 3>("256x128/64x64"),
        // 128 reduction bytes per stage: half the barriers per multiply for the deep layers
        entry<128, 128, 2, 4, 3, 128>("128x128/64x32/k128"),
        entry<128, 64, 2, 2, 4, 128>("128x64/64x32/k128"),
        entry<64, 64, 2, 2, 4, 128>("64x64/32x32/k128"),
        entry<256, 128, 4, 2, 3, 128>("256x128/64x64/k128"),
    };
    return table;
}
constexpr int kTileCount = 12;

}  // namespace

int int8_conv_tile_count() {
    return kTileCount;
}

const char* int8_conv_tile_name(int tile) {
    return tile >= 0 && tile < kTileCount ? tiles()[tile].name : "?";
}

bool int8_conv_supported() {
    int device = 0, major = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess) {
        cudaGetLastError();
        return false;
    }
    return major >= 8;
}

bool int8_conv_shape_supported(int in_c, int out_c) {
    return in_c > 0 && in_c % 16 == 0 && out_c > 0 && out_c % 8 == 0;
}

Status int8_conv_prepare() {
    // Above 48 KiB of dynamic shared memory a kernel must opt in.
    for (int i = 0; i < kTileCount; ++i) {
        const TileEntry& e = tiles()[i];
        RT_CUDA_CHECK(cudaFuncSetAttribute(e.kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(e.smem)));
    }
    return Status();
}

Status launch_int8_conv(const Int8ConvParams& p, int tile, cudaStream_t stream) {
    if (tile < 0 || tile >= kTileCount) return Status(StatusCode::kInvalidArgument, "int8 conv: no tile " + std::to_string(tile));
    if (!int8_conv_shape_supported(p.in_c, p.out_c)) {
        return Status(StatusCode::kInvalidArgument, "int8 conv: input channels must be a multiple of 16, outputs of 8");
    }
    const TileEntry& e = tiles()[tile];
    const int64_t rows = int64_t(p.batch) * p.out_h * p.out_w;
    const dim3 grid(static_cast<unsigned>((rows + e.bm - 1) / e.bm), static_cast<unsigned>((p.out_c + e.bn - 1) / e.bn));
    e.kernel<<<grid, e.threads, e.smem, stream>>>(p);
    RT_CUDA_CHECK_LAUNCH();
    return Status();
}

}  // namespace rtinfer::cuda::nn
