// Small helpers shared by the misc family's kernels.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/ir/half.h"
#include "core/ir/op.h"

namespace rtinfer::ref::misc {

inline bool is_float_type(ir::DType t) {
    return t == ir::DType::kFloat32 || t == ir::DType::kFloat64 || t == ir::DType::kFloat16;
}

inline std::string type_name(ir::DType t) {
    return data_type_name(t);
}

// The first element of a numeric tensor (a scalar input given as [] or [1]).
inline double first_value(const ir::Tensor& t) {
    const std::vector<double> v = ir::to_doubles(t);
    return v.empty() ? 0.0 : v[0];
}

// Maps an ONNX TensorProto element type to ours; kUndefined for types rtinfer does not hold.
inline ir::DType dtype_from_onnx(int64_t onnx_type) {
    switch (onnx_type) {
        case 1:
            return ir::DType::kFloat32;
        case 2:
            return ir::DType::kUInt8;
        case 3:
            return ir::DType::kInt8;
        case 6:
            return ir::DType::kInt32;
        case 7:
            return ir::DType::kInt64;
        case 9:
            return ir::DType::kBool;
        case 10:
            return ir::DType::kFloat16;
        case 11:
            return ir::DType::kFloat64;
        default:
            return ir::DType::kUndefined;
    }
}

// Writes a double into element i of a tensor of any numeric type.
inline void store_value(ir::Tensor& t, int64_t i, double v) {
    switch (t.dtype()) {
        case ir::DType::kFloat32:
            t.data<float>()[i] = static_cast<float>(v);
            break;
        case ir::DType::kFloat64:
            t.data<double>()[i] = v;
            break;
        case ir::DType::kFloat16:
            t.data<uint16_t>()[i] = ir::float_to_half(static_cast<float>(v));
            break;
        case ir::DType::kInt8:
            t.data<int8_t>()[i] = static_cast<int8_t>(v);
            break;
        case ir::DType::kUInt8:
            t.data<uint8_t>()[i] = static_cast<uint8_t>(v);
            break;
        case ir::DType::kInt32:
            t.data<int32_t>()[i] = static_cast<int32_t>(v);
            break;
        case ir::DType::kInt64:
            t.data<int64_t>()[i] = static_cast<int64_t>(v);
            break;
        case ir::DType::kBool:
            t.data<uint8_t>()[i] = v != 0.0 ? 1 : 0;
            break;
        default:
            break;
    }
}

}  // namespace rtinfer::ref::misc
