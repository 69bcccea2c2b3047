#include "core/kernels/ref/tensor/strided_copy.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace rtinfer::ref::tensor_ops {
namespace {

// Tiles of this many elements per side keep both the read and the write side of a transpose in cache.
constexpr int64_t kTile = 32;

// Strides here are in bytes.
struct ByteDim {
    int64_t size;
    int64_t src;
    int64_t dst;
};

// Calls fn(src, dst) for the start of every position of the outer dims (odometer order, last fastest).
template <class Fn>
void for_each_outer(const std::vector<ByteDim>& outer, const char* src, char* dst, Fn&& fn) {
    const size_t rank = outer.size();
    std::vector<int64_t> idx(rank, 0);
    while (true) {
        fn(src, dst);
        size_t d = rank;
        while (d > 0) {
            --d;
            src += outer[d].src;
            dst += outer[d].dst;
            if (++idx[d] < outer[d].size) break;
            src -= outer[d].src * outer[d].size;
            dst -= outer[d].dst * outer[d].size;
            idx[d] = 0;
            if (d == 0) return;
        }
        if (rank == 0) return;
    }
}

template <size_t ES>
void copy_line(const char* src, int64_t ss, char* dst, int64_t ds, int64_t n) {
    for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * ds, src + i * ss, ES);
}

template <size_t ES>
void copy_tiled(const char* src, char* dst, const ByteDim& outer, const ByteDim& inner) {
    for (int64_t i0 = 0; i0 < outer.size; i0 += kTile) {
        const int64_t i1 = std::min(outer.size, i0 + kTile);
        for (int64_t j0 = 0; j0 < inner.size; j0 += kTile) {
            const int64_t j1 = std::min(inner.size, j0 + kTile);
            for (int64_t i = i0; i < i1; ++i) {
                const char* s = src + i * outer.src + j0 * inner.src;
                char* d = dst + i * outer.dst + j0 * inner.dst;
                copy_line<ES>(s, inner.src, d, inner.dst, j1 - j0);
            }
        }
    }
}

void copy_line_any(size_t es, const char* src, int64_t ss, char* dst, int64_t ds, int64_t n) {
    switch (es) {
        case 1: copy_line<1>(src, ss, dst, ds, n); break;
        case 2: copy_line<2>(src, ss, dst, ds, n); break;
        case 4: copy_line<4>(src, ss, dst, ds, n); break;
        case 8: copy_line<8>(src, ss, dst, ds, n); break;
        default:
            for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * ds, src + i * ss, es);
            break;
    }
}

void copy_tiled_any(size_t es, const char* src, char* dst, const ByteDim& outer, const ByteDim& inner) {
    switch (es) {
        case 1: copy_tiled<1>(src, dst, outer, inner); break;
        case 2: copy_tiled<2>(src, dst, outer, inner); break;
        case 4: copy_tiled<4>(src, dst, outer, inner); break;
        case 8: copy_tiled<8>(src, dst, outer, inner); break;
        default:
            for (int64_t i = 0; i < outer.size; ++i) {
                copy_line_any(es, src + i * outer.src, inner.src, dst + i * outer.dst, inner.dst, inner.size);
            }
            break;
    }
}

int64_t abs64(int64_t v) {
    return v < 0 ? -v : v;
}

// Index of the dim with the smallest nonzero |stride| picked by get; -1 if every stride is 0.
template <class Get>
int smallest_stride(const std::vector<ByteDim>& dims, Get get) {
    int best = -1;
    for (size_t i = 0; i < dims.size(); ++i) {
        const int64_t s = abs64(get(dims[i]));
        if (s == 0) continue;
        if (best < 0 || s < abs64(get(dims[static_cast<size_t>(best)]))) best = static_cast<int>(i);
    }
    return best;
}

}  // namespace

void strided_copy(std::vector<CopyDim> dims, size_t elem_size, const void* src_ptr, void* dst_ptr) {
    const int64_t es = static_cast<int64_t>(elem_size);
    std::vector<ByteDim> merged;
    for (const CopyDim& d : dims) {
        if (d.size == 0) return;
        if (d.size == 1) continue;
        ByteDim b{d.size, d.src_stride * es, d.dst_stride * es};
        if (!merged.empty()) {
            ByteDim& o = merged.back();
            if (o.src == b.src * b.size && o.dst == b.dst * b.size) {
                o = ByteDim{o.size * b.size, b.src, b.dst};
                continue;
            }
        }
        merged.push_back(b);
    }
    const char* src = static_cast<const char*>(src_ptr);
    char* dst = static_cast<char*>(dst_ptr);
    if (merged.empty()) {
        std::memcpy(dst, src, elem_size);
        return;
    }

    const ByteDim last = merged.back();
    if (last.src == es && last.dst == es) {
        merged.pop_back();
        const size_t row = static_cast<size_t>(last.size * es);
        for_each_outer(merged, src, dst, [row](const char* s, char* d) { std::memcpy(d, s, row); });
        return;
    }

    // Writes go along the dim with the smallest destination stride; if reads are contiguous along another
    // dim, walk that pair in tiles so neither side thrashes the cache.
    const int inner = smallest_stride(merged, [](const ByteDim& d) { return d.dst; });
    const int read_dim = smallest_stride(merged, [](const ByteDim& d) { return d.src; });
    const int in = inner < 0 ? static_cast<int>(merged.size()) - 1 : inner;
    const ByteDim inner_dim = merged[static_cast<size_t>(in)];
    const bool tiled =
        read_dim >= 0 && read_dim != in && merged[static_cast<size_t>(read_dim)].size >= 4 && inner_dim.size >= 4;
    if (tiled) {
        const ByteDim read = merged[static_cast<size_t>(read_dim)];
        std::vector<ByteDim> outer;
        for (size_t i = 0; i < merged.size(); ++i) {
            if (static_cast<int>(i) != in && static_cast<int>(i) != read_dim) outer.push_back(merged[i]);
        }
        for_each_outer(outer, src, dst,
                       [&](const char* s, char* d) { copy_tiled_any(elem_size, s, d, read, inner_dim); });
        return;
    }
    std::vector<ByteDim> outer;
    for (size_t i = 0; i < merged.size(); ++i) {
        if (static_cast<int>(i) != in) outer.push_back(merged[i]);
    }
    for_each_outer(outer, src, dst, [&](const char* s, char* d) {
        copy_line_any(elem_size, s, inner_dim.src, d, inner_dim.dst, inner_dim.size);
    });
}

std::vector<CopyDim> dims_into_contiguous(const ir::Shape& shape, const std::vector<int64_t>& src_strides) {
    const auto dst_strides = ir::shape_strides(shape);
    std::vector<CopyDim> dims(shape.size());
    for (size_t i = 0; i < shape.size(); ++i) dims[i] = CopyDim{shape[i], src_strides[i], dst_strides[i]};
    return dims;
}

void transpose_copy(const void* src, const ir::Shape& in_shape, const std::vector<int64_t>& perm, size_t elem_size,
                    void* dst) {
    const auto in_strides = ir::shape_strides(in_shape);
    ir::Shape out_shape(perm.size());
    std::vector<int64_t> strides(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) {
        out_shape[i] = in_shape[static_cast<size_t>(perm[i])];
        strides[i] = in_strides[static_cast<size_t>(perm[i])];
    }
    strided_copy(dims_into_contiguous(out_shape, strides), elem_size, src, dst);
}

}  // namespace rtinfer::ref::tensor_ops
