// Constant (every value_* attribute but strings and sparse tensors) and ConstantOfShape.
#include <cstring>

#include "core/kernels/ref/tensor/common.h"
#include "core/kernels/ref/tensor/kernels.h"

namespace rtinfer::ref {
namespace {

using namespace tensor_ops;

// The tensor a Constant node holds, built from whichever value attribute it carries.
Expected<ir::Tensor> constant_value(const ir::Node& node) {
    for (const char* key : {"value_string", "value_strings"}) {
        if (node.has_attr(key))
            return node_error(node, std::string(key) + " is not supported", StatusCode::kUnsupported);
    }
    if (node.has_attr("sparse_value")) {
        return node_error(node, "sparse_value is not supported", StatusCode::kUnsupported);
    }
    if (const ir::Attribute* a = node.attr("value")) {
        if (!a->t.defined()) return node_error(node, "attribute 'value' holds no tensor");
        return a->t;
    }
    if (const ir::Attribute* a = node.attr("value_float")) return ir::Tensor::from_floats({a->f}, {});
    if (const ir::Attribute* a = node.attr("value_floats")) {
        return ir::Tensor::from_floats(a->floats, {static_cast<int64_t>(a->floats.size())});
    }
    if (const ir::Attribute* a = node.attr("value_int")) return ir::Tensor::from_int64s({a->i}, {});
    if (const ir::Attribute* a = node.attr("value_ints")) {
        return ir::Tensor::from_int64s(a->ints, {static_cast<int64_t>(a->ints.size())});
    }
    return node_error(node, "has none of the value attributes");
}

Status constant_infer(ir::InferContext& ctx) {
    RT_ASSIGN_OR_RETURN(ir::Tensor t, constant_value(ctx.node()));
    ctx.set_output(0, t.dtype(), t.shape());
    return Status();
}

Status constant_compute(ir::ComputeContext& ctx) {
    RT_ASSIGN_OR_RETURN(ir::Tensor t, constant_value(ctx.node()));
    copy_bytes(t, ctx.output(0));
    return Status();
}

// The fill value: a one-element tensor attribute, float32 0 when absent.
Expected<ir::Tensor> fill_value(const ir::Node& node) {
    const ir::Attribute* a = node.attr("value");
    if (!a) return ir::Tensor::from_floats({0.0f}, {1});
    if (!a->t.defined() || a->t.numel() != 1) return node_error(node, "attribute 'value' must hold one element");
    return a->t;
}

Expected<ir::Shape> constant_of_shape_dims(const ir::Node& node, const ir::Tensor* shape) {
    RT_ASSIGN_OR_RETURN(auto dims, read_ints(node, shape, "input"));
    for (int64_t d : dims) {
        if (d < 0) return node_error(node, "shape " + ir::shape_str(dims) + " has a negative dim");
    }
    return dims;
}

Status constant_of_shape_infer(ir::InferContext& ctx) {
    RT_ASSIGN_OR_RETURN(ir::Tensor value, fill_value(ctx.node()));
    if (value_pending(ctx, {0})) {
        const ir::Shape& s = ctx.input_shape(0);
        ctx.set_output_unknown(0, value.dtype(), s.empty() ? 0 : static_cast<int>(s[0]));
        return Status();
    }
    RT_ASSIGN_OR_RETURN(ir::Shape dims, constant_of_shape_dims(ctx.node(), infer_value(ctx, 0)));
    ctx.set_output(0, value.dtype(), dims);
    return Status();
}

Status constant_of_shape_compute(ir::ComputeContext& ctx) {
    RT_ASSIGN_OR_RETURN(ir::Tensor value, fill_value(ctx.node()));
    ir::Tensor& out = ctx.output(0);
    fill_elements(out.raw(), out.numel(), value.raw(), data_type_size(value.dtype()));
    return Status();
}

}  // namespace

const ir::OpKernel kConstantKernel = {"Constant", "", constant_infer, constant_compute, ir::kOpNativeHalf};
const ir::OpKernel kConstantOfShapeKernel = {"ConstantOfShape", "", constant_of_shape_infer, constant_of_shape_compute,
                                             ir::kOpNativeHalf};

}  // namespace rtinfer::ref
