// DepthToSpace (DCR and CRD) and SpaceToDepth: a transpose of a 6-D view of the 4-D input.
#include "core/kernels/cuda/tensor/copy_util.cuh"
#include "core/kernels/cuda/tensor/kernels.h"

namespace rtinfer::cuda {
namespace {

class RearrangeOp final : public CudaOp {
public:
    explicit RearrangeOp(TransposePlan plan) : plan_(std::move(plan)) {}
    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void*,
                   const CudaLibs& libs) override {
        return plan_.launch(inputs[0].data, outputs[0].data, libs.stream);
    }

private:
    TransposePlan plan_;
};

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs&) {
    const ir::InputInfo& x = setup.inputs[0];
    const ir::Shape& in = x.shape;
    if (in.size() != 4) return setup_error(setup, "input " + ir::shape_str(in) + " must be 4-D");
    const int64_t b = setup.node.attr_int("blocksize", 0);
    if (b <= 0) return setup_error(setup, "blocksize must be positive");
    const int64_t n = in[0], c = in[1], h = in[2], w = in[3];
    ir::Shape view;
    std::vector<int64_t> perm;
    if (setup.node.op_type == "DepthToSpace") {
        if (c % (b * b) != 0) return setup_error(setup, "channels are not a multiple of blocksize^2");
        const std::string mode = setup.opset >= 11 ? setup.node.attr_string("mode", "DCR") : "DCR";
        if (mode == "DCR") {
            view = {n, b, b, c / (b * b), h, w};
            perm = {0, 3, 4, 1, 5, 2};
        } else if (mode == "CRD") {
            view = {n, c / (b * b), b, b, h, w};
            perm = {0, 1, 4, 2, 5, 3};
        } else {
            return setup.unsupported("mode '" + mode + "'");
        }
    } else {
        if (h % b != 0 || w % b != 0) return setup_error(setup, "spatial dims are not multiples of blocksize");
        view = {n, c, h / b, b, w / b, b};
        perm = {0, 3, 5, 1, 2, 4};
    }
    RT_ASSIGN_OR_RETURN(auto plan, named(setup, TransposePlan::make(view, perm, data_type_size(x.dtype))));
    return std::unique_ptr<CudaOp>(new RearrangeOp(std::move(plan)));
}

}  // namespace

const CudaKernel kDepthToSpaceCuda = {"DepthToSpace", "", create};
const CudaKernel kSpaceToDepthCuda = {"SpaceToDepth", "", create};

}  // namespace rtinfer::cuda
