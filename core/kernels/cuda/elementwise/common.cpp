#include "core/kernels/cuda/elementwise/common.h"

namespace rtinfer::cuda::ew {

Expected<Coalesced> coalesce(const OpSetup& setup, const ir::Shape& out, const std::vector<ir::Shape>& ins) {
    const size_t n_in = ins.size();
    std::vector<std::vector<int64_t>> full(n_in);
    for (size_t k = 0; k < n_in; ++k) {
        const ir::Shape& in = ins[k];
        bool ok = in.size() <= out.size();
        for (size_t d = 0; ok && d < in.size(); ++d) {
            const int64_t o = out[d + out.size() - in.size()];
            ok = in[d] == o || in[d] == 1;
        }
        if (!ok) {
            return Status(StatusCode::kInvalidModel, setup.node.describe() + ": input shape " + ir::shape_str(in) +
                                                         " does not broadcast to the output shape " +
                                                         ir::shape_str(out));
        }
        full[k] = ir::broadcast_strides(in, out);
    }
    // Outermost first. A dim merges into the one before it when, in every operand, stepping the outer dim
    // is the same as stepping the inner one out[d] times (contiguous, or broadcast in both).
    Coalesced c;
    c.strides.resize(n_in);
    for (size_t d = 0; d < out.size(); ++d) {
        if (out[d] == 1) continue;
        bool merge = !c.dims.empty();
        for (size_t k = 0; k < n_in && merge; ++k) merge = c.strides[k].back() == full[k][d] * out[d];
        if (merge) {
            c.dims.back() *= out[d];
            for (size_t k = 0; k < n_in; ++k) c.strides[k].back() = full[k][d];
        } else {
            c.dims.push_back(out[d]);
            for (size_t k = 0; k < n_in; ++k) c.strides[k].push_back(full[k][d]);
        }
    }
    return c;
}

Elem elem_of(DataType t) {
    switch (t) {
        case DataType::kFloat16:
            return Elem::kF16;
        case DataType::kInt8:
            return Elem::kI8;
        case DataType::kUInt8:
            return Elem::kU8;
        case DataType::kInt32:
            return Elem::kI32;
        case DataType::kInt64:
            return Elem::kI64;
        case DataType::kBool:
            return Elem::kBool;
        default:
            return Elem::kF32;
    }
}

Status check_input(const OpSetup& setup, size_t i, uint32_t mask) {
    if (!setup.has_input(i) || i >= setup.inputs.size()) {
        return setup.unsupported("input " + std::to_string(i) + " is missing");
    }
    const DataType t = setup.inputs[i].dtype;
    if (!type_in(t, mask)) {
        return setup.unsupported("input " + std::to_string(i) + " of type " + data_type_name(t) +
                                 " has no CUDA kernel");
    }
    return Status();
}

Status check_same_type(const OpSetup& setup, size_t i, size_t j) {
    if (setup.inputs[i].dtype != setup.inputs[j].dtype) {
        return setup.unsupported("inputs " + std::to_string(i) + " and " + std::to_string(j) + " have different types");
    }
    return Status();
}

Status check_output(const OpSetup& setup) {
    if (setup.outputs.empty() || setup.node.outputs.empty() || setup.node.outputs[0].empty()) {
        return Status(StatusCode::kInvalidModel, setup.node.describe() + ": output 0 is missing");
    }
    if (!setup.outputs[0].shape_known) return setup.unsupported("the output shape is not known");
    return Status();
}

std::vector<ir::Shape> input_shapes(const OpSetup& setup, size_t first, size_t count) {
    std::vector<ir::Shape> shapes;
    for (size_t i = first; i < first + count; ++i) shapes.push_back(setup.inputs[i].shape);
    return shapes;
}

bool constant_scalar(const OpSetup& setup, size_t i, double* value) {
    if (!setup.has_input(i) || i >= setup.inputs.size()) return false;
    const ir::Tensor* t = setup.inputs[i].value;
    if (!t || t->numel() != 1) return false;
    *value = ir::to_doubles(*t)[0];
    return true;
}

bool constant_has_zero(const OpSetup& setup, size_t i) {
    const ir::Tensor* t = setup.inputs[i].value;
    if (!t) return false;
    for (int64_t v : ir::to_int64s(*t)) {
        if (v == 0) return true;
    }
    return false;
}

}  // namespace rtinfer::cuda::ew
