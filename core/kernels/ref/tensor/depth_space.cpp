// DepthToSpace (DCR and CRD modes) and SpaceToDepth: a reshape to 6-D, a transpose, a reshape back; the
// transpose is the shared strided copy.
#include "core/kernels/ref/tensor/common.h"
#include "core/kernels/ref/tensor/kernels.h"
#include "core/kernels/ref/tensor/strided_copy.h"

namespace rtinfer::ref {
namespace {

using namespace tensor_ops;

// The 6-D view of the input and the permutation that turns it into the output.
struct Rearrange {
    ir::Shape view;
    std::vector<int64_t> perm;
    ir::Shape out;
};

Expected<Rearrange> plan(const ir::Node& node, int64_t opset, const ir::Shape& in) {
    if (in.size() != 4) return node_error(node, "input " + ir::shape_str(in) + " must be 4-D");
    const int64_t b = node.attr_int("blocksize", 0);
    if (b <= 0) return node_error(node, "blocksize must be positive");
    const int64_t n = in[0];
    const int64_t c = in[1];
    const int64_t h = in[2];
    const int64_t w = in[3];
    Rearrange r;
    if (node.op_type == "DepthToSpace") {
        if (c % (b * b) != 0) {
            return node_error(node, "channels " + std::to_string(c) + " are not a multiple of blocksize^2");
        }
        const int64_t oc = c / (b * b);
        const std::string mode = opset >= 11 ? node.attr_string("mode", "DCR") : "DCR";
        if (mode == "DCR") {
            r.view = {n, b, b, oc, h, w};
            r.perm = {0, 3, 4, 1, 5, 2};
        } else if (mode == "CRD") {
            r.view = {n, oc, b, b, h, w};
            r.perm = {0, 1, 4, 2, 5, 3};
        } else {
            return node_error(node, "mode '" + mode + "' is not supported", StatusCode::kUnsupported);
        }
        r.out = {n, oc, h * b, w * b};
    } else {
        if (h % b != 0 || w % b != 0) {
            return node_error(node, "spatial dims of " + ir::shape_str(in) + " are not multiples of blocksize");
        }
        r.view = {n, c, h / b, b, w / b, b};
        r.perm = {0, 3, 5, 1, 2, 4};
        r.out = {n, c * b * b, h / b, w / b};
    }
    return r;
}

Status infer(ir::InferContext& ctx) {
    RT_ASSIGN_OR_RETURN(auto r, plan(ctx.node(), ctx.opset(), ctx.input_shape(0)));
    ctx.set_output(0, ctx.input_dtype(0), r.out);
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    RT_ASSIGN_OR_RETURN(auto r, plan(ctx.node(), ctx.opset(), x.shape()));
    transpose_copy(x.raw(), r.view, r.perm, data_type_size(x.dtype()), ctx.output(0).raw());
    return Status();
}

}  // namespace

const ir::OpKernel kDepthToSpaceKernel = {"DepthToSpace", "", infer, compute, ir::kOpNativeHalf};
const ir::OpKernel kSpaceToDepthKernel = {"SpaceToDepth", "", infer, compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
