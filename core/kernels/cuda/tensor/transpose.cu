// Transpose: a batched swap of the last two (merged) dims runs the tiled shared-memory kernel, any other
// permutation of up to kMaxCopyDims merged dims the strided copy.
#include "core/kernels/cuda/tensor/copy_util.cuh"
#include "core/kernels/cuda/tensor/kernels.h"

namespace rtinfer::cuda {
namespace {

class TransposeOp final : public CudaOp {
public:
    explicit TransposeOp(TransposePlan plan) : plan_(std::move(plan)) {}
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        return plan_.launch(inputs[0].data, outputs[0].data, libs.stream);
    }

private:
    TransposePlan plan_;
};

Expected<std::vector<int64_t>> permutation(const OpSetup& setup, int rank) {
    std::vector<int64_t> perm(static_cast<size_t>(rank));
    if (!setup.node.has_attr("perm")) {
        for (int i = 0; i < rank; ++i) perm[static_cast<size_t>(i)] = rank - 1 - i;
        return perm;
    }
    perm = setup.node.attr_ints("perm");
    std::vector<bool> seen(static_cast<size_t>(rank), false);
    bool valid = perm.size() == static_cast<size_t>(rank);
    for (int64_t& p : perm) {
        if (!valid) break;
        if (p < 0) p += rank;
        valid = p >= 0 && p < rank && !seen[static_cast<size_t>(p)];
        if (valid) seen[static_cast<size_t>(p)] = true;
    }
    if (!valid) return setup_error(setup, "perm is not a permutation of " + std::to_string(rank) + " axes");
    return perm;
}

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs&) {
    const ir::InputInfo& x = setup.inputs[0];
    RT_ASSIGN_OR_RETURN(auto perm, permutation(setup, static_cast<int>(x.shape.size())));
    RT_ASSIGN_OR_RETURN(auto plan, named(setup, TransposePlan::make(x.shape, perm, data_type_size(x.dtype))));
    return std::unique_ptr<CudaOp>(new TransposeOp(std::move(plan)));
}

}  // namespace

const CudaKernel kTransposeCuda = {"Transpose", "", create};

}  // namespace rtinfer::cuda
