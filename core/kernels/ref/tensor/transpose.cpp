// Transpose: one strided copy (tiled when the permutation moves the innermost dim).
#include <numeric>

#include "core/kernels/ref/tensor/common.h"
#include "core/kernels/ref/tensor/kernels.h"
#include "core/kernels/ref/tensor/strided_copy.h"

namespace rtinfer::ref {
namespace {

using namespace tensor_ops;

Expected<std::vector<int64_t>> permutation(const ir::Node& node, int rank) {
    std::vector<int64_t> perm(static_cast<size_t>(rank));
    if (!node.has_attr("perm")) {
        for (int i = 0; i < rank; ++i) perm[static_cast<size_t>(i)] = rank - 1 - i;
        return perm;
    }
    perm = node.attr_ints("perm");
    std::vector<bool> seen(static_cast<size_t>(rank), false);
    bool valid = perm.size() == static_cast<size_t>(rank);
    for (int64_t& p : perm) {
        if (!valid) break;
        if (p < 0) p += rank;
        valid = p >= 0 && p < rank && !seen[static_cast<size_t>(p)];
        if (valid) seen[static_cast<size_t>(p)] = true;
    }
    if (!valid) {
        return node_error(node, "perm " + ir::shape_str(node.attr_ints("perm")) + " is not a permutation of " +
                                    std::to_string(rank) + " axes");
    }
    return perm;
}

Status infer(ir::InferContext& ctx) {
    RT_ASSIGN_OR_RETURN(auto perm, permutation(ctx.node(), ctx.input_rank(0)));
    ir::Shape out(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) out[i] = ctx.input_shape(0)[static_cast<size_t>(perm[i])];
    ctx.set_output(0, ctx.input_dtype(0), out);
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    RT_ASSIGN_OR_RETURN(auto perm, permutation(ctx.node(), x.rank()));
    transpose_copy(x.raw(), x.shape(), perm, data_type_size(x.dtype()), ctx.output(0).raw());
    return Status();
}

}  // namespace

const ir::OpKernel kTransposeKernel = {"Transpose", "", infer, compute, ir::kOpNativeHalf};

}  // namespace rtinfer::ref
