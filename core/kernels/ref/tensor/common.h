// Helpers shared by the tensor family's kernels: errors that name the node, reading shape-like inputs,
// element access by type for the few kernels that compute values.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/ir/op.h"

namespace rtinfer::ref::tensor_ops {

// "node 'n' (Op): message" with the given code.
Status node_error(const ir::Node& node, const std::string& message, StatusCode code = StatusCode::kInvalidModel);

// The integer values of a shape-like input (Reshape's shape, Slice's starts, ...); nullptr (an omitted input)
// is an error naming the input. Infer checks value_pending first.
Expected<std::vector<int64_t>> read_ints(const ir::Node& node, const ir::Tensor* value, const char* what);
// Same for float inputs (Resize scales, roi).
Expected<std::vector<double>> read_doubles(const ir::Node& node, const ir::Tensor* value, const char* what);

// Maps axis in [-rank, rank) to [0, rank); the error names the node.
Expected<int> node_axis(const ir::Node& node, int64_t axis, int rank);
// Normalizes a list of axes; fails on out-of-range or repeated axes.
Expected<std::vector<int>> node_axes(const ir::Node& node, const std::vector<int64_t>& axes, int rank);

// True if one of the inputs is present but its value is known only at run time (it comes from a graph input
// or from a computation too large to fold). The output's shape then depends on data: infer reports it unknown
// with set_output_unknown and the runtime computes it when the value is there.
bool value_pending(const ir::InferContext& ctx, std::initializer_list<size_t> inputs);

// The value of an input during infer (may be nullptr) or compute (nullptr when omitted).
inline const ir::Tensor* infer_value(const ir::InferContext& ctx, size_t i) {
    return ctx.input_value(i);
}
inline const ir::Tensor* compute_value(const ir::ComputeContext& ctx, size_t i) {
    return ctx.has_input(i) ? &ctx.input(i) : nullptr;
}

bool is_integer_type(ir::DType t);

// Element i of a tensor's buffer read as double / written from double (float16 included, bool as 0/1,
// integers rounded toward zero as C++ casts do).
double load_as_double(ir::DType t, const void* data, int64_t i);
void store_from_double(ir::DType t, void* data, int64_t i, double v);

// Fills n elements of elem_size bytes with one element's bytes.
void fill_elements(void* dst, int64_t n, const void* elem, size_t elem_size);

// A whole-buffer copy when source and destination differ (they are the same buffer when run in place).
void copy_bytes(const ir::Tensor& src, ir::Tensor& dst);

// An index into a dim of size n, negative ones counted from the end; false if out of range.
inline bool wrap_index(int64_t& idx, int64_t n) {
    if (idx < 0) idx += n;
    return idx >= 0 && idx < n;
}

// Integer (int32/int64) index tensors read as int64.
std::vector<int64_t> read_indices(const ir::Tensor& t);

}  // namespace rtinfer::ref::tensor_ops
