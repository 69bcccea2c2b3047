// Host tensors: constants, initializers and the buffers of the CPU reference backend.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rtinfer/status.h"
#include "rtinfer/types.h"

namespace rtinfer::ir {

using DType = DataType;
using Shape = std::vector<int64_t>;

// Product of the dims; 1 for a scalar.
int64_t shape_numel(const Shape& shape);
// "[1,3,224,224]"
std::string shape_str(const Shape& shape);
// Row-major element strides of a shape.
std::vector<int64_t> shape_strides(const Shape& shape);

// A dense row-major host tensor. Copies share the buffer (like a shared_ptr); clone() copies the data.
// bool is stored as one byte (0/1), float16 as uint16_t bits.
class Tensor {
public:
    Tensor() = default;
    // Allocates a zero-filled buffer.
    Tensor(DType dtype, Shape shape);
    // A view of memory owned elsewhere; keepalive (may be empty) is held as long as the view lives.
    static Tensor wrap(DType dtype, Shape shape, void* data, std::shared_ptr<void> keepalive = {});
    // A scalar or 1-D tensor from values.
    static Tensor from_int64s(const std::vector<int64_t>& values, Shape shape);
    static Tensor from_floats(const std::vector<float>& values, Shape shape);

    bool defined() const { return dtype_ != DType::kUndefined; }
    DType dtype() const { return dtype_; }
    const Shape& shape() const { return shape_; }
    int rank() const { return static_cast<int>(shape_.size()); }
    int64_t dim(int i) const { return shape_[static_cast<size_t>(i)]; }
    int64_t numel() const { return shape_numel(shape_); }
    size_t nbytes() const { return static_cast<size_t>(numel()) * data_type_size(dtype_); }

    void* raw() { return data_; }
    const void* raw() const { return data_; }
    template <class T>
    T* data() {
        return static_cast<T*>(data_);
    }
    template <class T>
    const T* data() const {
        return static_cast<const T*>(data_);
    }

    Tensor clone() const;
    // Same buffer, new shape with the same element count.
    Tensor reshaped(Shape shape) const;

private:
    DType dtype_ = DType::kUndefined;
    Shape shape_;
    std::shared_ptr<void> holder_;
    void* data_ = nullptr;
};

// Reads an integer tensor (int32/int64/int8/uint8/bool) as int64 values.
std::vector<int64_t> to_int64s(const Tensor& t);
// Reads any numeric tensor (float16 included) as doubles.
std::vector<double> to_doubles(const Tensor& t);
// Converts between element types with C++ casts (float16 through float; bool is x != 0).
Expected<Tensor> cast_tensor(const Tensor& t, DType to);

}  // namespace rtinfer::ir
