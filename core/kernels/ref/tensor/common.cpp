#include "core/kernels/ref/tensor/common.h"

#include <cstring>
#include <unordered_set>

#include "core/ir/half.h"
#include "core/ir/shape_util.h"

namespace rtinfer::ref::tensor_ops {

Status node_error(const ir::Node& node, const std::string& message, StatusCode code) {
    return Status(code, node.describe() + ": " + message);
}

namespace {
Status missing(const ir::Node& node, const char* what) {
    return node_error(node, std::string("input '") + what + "' is missing");
}
}  // namespace

Expected<std::vector<int64_t>> read_ints(const ir::Node& node, const ir::Tensor* value, const char* what) {
    if (!value) return missing(node, what);
    if (!is_integer_type(value->dtype())) {
        return node_error(
            node, std::string("input '") + what + "' must be an integer tensor, not " + data_type_name(value->dtype()));
    }
    return ir::to_int64s(*value);
}

Expected<std::vector<double>> read_doubles(const ir::Node& node, const ir::Tensor* value, const char* what) {
    if (!value) return missing(node, what);
    return ir::to_doubles(*value);
}

bool value_pending(const ir::InferContext& ctx, std::initializer_list<size_t> inputs) {
    for (size_t i : inputs) {
        if (ctx.has_input(i) && !ctx.input_value(i)) return true;
    }
    return false;
}

Expected<int> node_axis(const ir::Node& node, int64_t axis, int rank) {
    auto a = ir::normalize_axis(axis, rank);
    if (!a) return a.status().with_context(node.describe());
    return a;
}

Expected<std::vector<int>> node_axes(const ir::Node& node, const std::vector<int64_t>& axes, int rank) {
    std::vector<int> out;
    std::unordered_set<int> seen;
    for (int64_t axis : axes) {
        RT_ASSIGN_OR_RETURN(int a, node_axis(node, axis, rank));
        if (!seen.insert(a).second) return node_error(node, "axis " + std::to_string(axis) + " is repeated");
        out.push_back(a);
    }
    return out;
}

bool is_integer_type(ir::DType t) {
    return t == ir::DType::kInt8 || t == ir::DType::kUInt8 || t == ir::DType::kInt32 || t == ir::DType::kInt64 ||
           t == ir::DType::kBool;
}

double load_as_double(ir::DType t, const void* data, int64_t i) {
    switch (t) {
        case ir::DType::kFloat32: return static_cast<const float*>(data)[i];
        case ir::DType::kFloat64: return static_cast<const double*>(data)[i];
        case ir::DType::kFloat16: return ir::half_to_float(static_cast<const uint16_t*>(data)[i]);
        case ir::DType::kInt8: return static_cast<const int8_t*>(data)[i];
        case ir::DType::kUInt8: return static_cast<const uint8_t*>(data)[i];
        case ir::DType::kBool: return static_cast<const uint8_t*>(data)[i] != 0 ? 1.0 : 0.0;
        case ir::DType::kInt32: return static_cast<const int32_t*>(data)[i];
        case ir::DType::kInt64: return static_cast<double>(static_cast<const int64_t*>(data)[i]);
        case ir::DType::kUndefined: break;
    }
    return 0.0;
}

void store_from_double(ir::DType t, void* data, int64_t i, double v) {
    switch (t) {
        case ir::DType::kFloat32: static_cast<float*>(data)[i] = static_cast<float>(v); break;
        case ir::DType::kFloat64: static_cast<double*>(data)[i] = v; break;
        case ir::DType::kFloat16: static_cast<uint16_t*>(data)[i] = ir::float_to_half(static_cast<float>(v)); break;
        case ir::DType::kInt8: static_cast<int8_t*>(data)[i] = static_cast<int8_t>(v); break;
        case ir::DType::kUInt8: static_cast<uint8_t*>(data)[i] = static_cast<uint8_t>(v); break;
        case ir::DType::kBool: static_cast<uint8_t*>(data)[i] = v != 0.0 ? 1 : 0; break;
        case ir::DType::kInt32: static_cast<int32_t*>(data)[i] = static_cast<int32_t>(v); break;
        case ir::DType::kInt64: static_cast<int64_t*>(data)[i] = static_cast<int64_t>(v); break;
        case ir::DType::kUndefined: break;
    }
}

void fill_elements(void* dst, int64_t n, const void* elem, size_t elem_size) {
    char* d = static_cast<char*>(dst);
    bool all_zero = true;
    for (size_t b = 0; b < elem_size; ++b) all_zero = all_zero && static_cast<const char*>(elem)[b] == 0;
    if (all_zero || elem_size == 1) {
        std::memset(d, all_zero ? 0 : *static_cast<const unsigned char*>(elem), static_cast<size_t>(n) * elem_size);
        return;
    }
    for (int64_t i = 0; i < n; ++i) std::memcpy(d + static_cast<size_t>(i) * elem_size, elem, elem_size);
}

void copy_bytes(const ir::Tensor& src, ir::Tensor& dst) {
    if (src.raw() != dst.raw() && src.nbytes()) std::memcpy(dst.raw(), src.raw(), src.nbytes());
}

std::vector<int64_t> read_indices(const ir::Tensor& t) {
    if (t.dtype() == ir::DType::kInt32) {
        const int32_t* p = t.data<int32_t>();
        return std::vector<int64_t>(p, p + t.numel());
    }
    return ir::to_int64s(t);
}

}  // namespace rtinfer::ref::tensor_ops
