#include "core/ir/tensor.h"

#include <cstdlib>
#include <cstring>

#include "core/ir/half.h"

namespace rtinfer::ir {

int64_t shape_numel(const Shape& shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

std::string shape_str(const Shape& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ",";
        s += shape[i] < 0 ? std::string("?") : std::to_string(shape[i]);
    }
    return s + "]";
}

std::vector<int64_t> shape_strides(const Shape& shape) {
    std::vector<int64_t> strides(shape.size(), 1);
    for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
    return strides;
}

namespace {
// 64-byte aligned so SIMD and BLAS get aligned rows; at least one byte so data() is never null.
std::shared_ptr<void> allocate_bytes(size_t bytes) {
    const size_t rounded = ((bytes == 0 ? 1 : bytes) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded);
    if (p) std::memset(p, 0, rounded);
    return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}
}  // namespace

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
    holder_ = allocate_bytes(nbytes());
    data_ = holder_.get();
}

Tensor Tensor::wrap(DType dtype, Shape shape, void* data, std::shared_ptr<void> keepalive) {
    Tensor t;
    t.dtype_ = dtype;
    t.shape_ = std::move(shape);
    t.holder_ = std::move(keepalive);
    t.data_ = data;
    return t;
}

Tensor Tensor::from_int64s(const std::vector<int64_t>& values, Shape shape) {
    Tensor t(DType::kInt64, std::move(shape));
    if (!values.empty()) std::memcpy(t.raw(), values.data(), values.size() * sizeof(int64_t));
    return t;
}

Tensor Tensor::from_floats(const std::vector<float>& values, Shape shape) {
    Tensor t(DType::kFloat32, std::move(shape));
    if (!values.empty()) std::memcpy(t.raw(), values.data(), values.size() * sizeof(float));
    return t;
}

Tensor Tensor::clone() const {
    Tensor t(dtype_, shape_);
    if (nbytes()) std::memcpy(t.raw(), data_, nbytes());
    return t;
}

Tensor Tensor::reshaped(Shape shape) const {
    Tensor t = *this;
    t.shape_ = std::move(shape);
    return t;
}

namespace {
template <class T>
void read_as(const Tensor& t, std::vector<double>& out) {
    const T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) out.push_back(static_cast<double>(p[i]));
}

template <class From, class To>
void convert(const From* src, To* dst, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        if constexpr (std::is_same_v<To, bool>) {
            dst[i] = src[i] != From(0);
        } else {
            dst[i] = static_cast<To>(src[i]);
        }
    }
}

template <class From>
Status cast_from(const From* src, Tensor& out) {
    const int64_t n = out.numel();
    switch (out.dtype()) {
        case DType::kFloat32: convert(src, out.data<float>(), n); break;
        case DType::kFloat64: convert(src, out.data<double>(), n); break;
        case DType::kInt8: convert(src, out.data<int8_t>(), n); break;
        case DType::kUInt8: convert(src, out.data<uint8_t>(), n); break;
        case DType::kInt32: convert(src, out.data<int32_t>(), n); break;
        case DType::kInt64: convert(src, out.data<int64_t>(), n); break;
        case DType::kBool: {
            uint8_t* d = out.data<uint8_t>();
            for (int64_t i = 0; i < n; ++i) d[i] = src[i] != From(0) ? 1 : 0;
            break;
        }
        case DType::kFloat16: {
            uint16_t* d = out.data<uint16_t>();
            for (int64_t i = 0; i < n; ++i) d[i] = float_to_half(static_cast<float>(src[i]));
            break;
        }
        default: return Status(StatusCode::kUnsupported, "cast to undefined type");
    }
    return Status();
}
}  // namespace

std::vector<int64_t> to_int64s(const Tensor& t) {
    if (t.dtype() == DType::kInt64) return std::vector<int64_t>(t.data<int64_t>(), t.data<int64_t>() + t.numel());
    std::vector<int64_t> out;
    out.reserve(static_cast<size_t>(t.numel()));
    for (double v : to_doubles(t)) out.push_back(static_cast<int64_t>(v));
    return out;
}

std::vector<double> to_doubles(const Tensor& t) {
    std::vector<double> out;
    out.reserve(static_cast<size_t>(t.numel()));
    switch (t.dtype()) {
        case DType::kFloat32: read_as<float>(t, out); break;
        case DType::kFloat64: read_as<double>(t, out); break;
        case DType::kInt8: read_as<int8_t>(t, out); break;
        case DType::kUInt8: read_as<uint8_t>(t, out); break;
        case DType::kBool: read_as<uint8_t>(t, out); break;
        case DType::kInt32: read_as<int32_t>(t, out); break;
        case DType::kInt64: read_as<int64_t>(t, out); break;
        case DType::kFloat16: {
            const uint16_t* p = t.data<uint16_t>();
            for (int64_t i = 0; i < t.numel(); ++i) out.push_back(half_to_float(p[i]));
            break;
        }
        case DType::kUndefined: break;
    }
    return out;
}

Expected<Tensor> cast_tensor(const Tensor& t, DType to) {
    if (t.dtype() == to) return t.clone();
    Tensor out(to, t.shape());
    Status s;
    switch (t.dtype()) {
        case DType::kFloat32: s = cast_from(t.data<float>(), out); break;
        case DType::kFloat64: s = cast_from(t.data<double>(), out); break;
        case DType::kInt8: s = cast_from(t.data<int8_t>(), out); break;
        case DType::kUInt8: s = cast_from(t.data<uint8_t>(), out); break;
        case DType::kBool: s = cast_from(t.data<uint8_t>(), out); break;
        case DType::kInt32: s = cast_from(t.data<int32_t>(), out); break;
        case DType::kInt64: s = cast_from(t.data<int64_t>(), out); break;
        case DType::kFloat16: {
            std::vector<float> tmp(static_cast<size_t>(t.numel()));
            const uint16_t* p = t.data<uint16_t>();
            for (size_t i = 0; i < tmp.size(); ++i) tmp[i] = half_to_float(p[i]);
            s = cast_from(tmp.data(), out);
            break;
        }
        case DType::kUndefined: s = Status(StatusCode::kUnsupported, "cast from undefined type"); break;
    }
    if (!s.is_ok()) return s;
    return out;
}

}  // namespace rtinfer::ir
