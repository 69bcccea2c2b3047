// Gemm on cuBLASLt: Y = alpha * op(A) op(B) + beta * C with transA/transB. A constant C that varies along
// columns only ([N] or [1, N]) with beta = 1 becomes cuBLASLt's bias epilogue; a full [M, N] C is read in
// place; any other broadcast C is first expanded into Y, which the product then accumulates onto. A fused ReLU
// or tanh-form GELU (the erf form in float16 only) runs in cuBLASLt's epilogue when C is absent or the bias;
// others in a pass after.
#include <string>
#include <vector>

#include "core/ir/shape_util.h"
#include "core/kernels/cuda/nn/kernels.h"
#include "core/kernels/cuda/nn/lt_matmul.h"
#include "core/kernels/cuda/nn/nn_cuda_util.h"

namespace rtinfer::cuda {
namespace {

enum class CMode { kNone, kBias, kFull, kBroadcast };

class GemmOp : public CudaOp {
public:
    size_t workspace_bytes() const override { return mm_.workspace_bytes(); }

    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void* workspace,
                   const CudaLibs& libs) override {
        void* y = outputs[0].data;
        const void* c = nullptr;
        if (c_mode_ == CMode::kFull) c = c_.get(inputs);
        if (c_mode_ == CMode::kBroadcast) {
            nn::BroadcastParams p = broadcast_;
            p.src = c_.get(inputs);
            p.dst = y;
            RT_RETURN_IF_ERROR(nn::launch_broadcast_matrix(p, libs.stream));
            c = y;
        }
        const float beta = c ? beta_ : 0.0f;
        RT_RETURN_IF_ERROR(
            mm_.run(libs.cublaslt, libs.stream, a_.get(inputs), b_.get(inputs), c, y, alpha_, beta, workspace));
        if (act_.act.kind != nn::kActNone) {
            nn::BiasActParams p = act_;
            p.y = y;
            RT_RETURN_IF_ERROR(nn::launch_bias_activation(p, libs.stream));
        }
        return Status();
    }

    nn::Operand a_, b_, c_;
    CMode c_mode_ = CMode::kNone;
    nn::BroadcastParams broadcast_;
    nn::LtMatmul mm_;
    float alpha_ = 1.0f, beta_ = 1.0f;
    nn::BiasActParams act_;
};

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs& libs) {
    const ir::Node& node = setup.node;
    const DataType dtype = setup.inputs[0].dtype;
    if (!nn::is_float_or_half(dtype) || setup.outputs[0].dtype != dtype) {
        return setup.unsupported(std::string("type ") + data_type_name(dtype) + " is not supported on CUDA");
    }
    if (nn::has_empty_tensor(setup)) return setup.unsupported("empty tensors run on the reference");
    const ir::Shape& a = setup.inputs[0].shape;
    const ir::Shape& b = setup.inputs[1].shape;
    if (a.size() != 2 || b.size() != 2) return setup.unsupported("A and B must be matrices");
    const bool ta = node.attr_int("transA", 0) != 0, tb = node.attr_int("transB", 0) != 0;
    nn::MatmulShape s;
    s.dtype = dtype;
    s.trans_a = ta;
    s.trans_b = tb;
    s.m = ta ? a[1] : a[0];
    s.k = ta ? a[0] : a[1];
    s.n = tb ? b[0] : b[1];
    if ((tb ? b[1] : b[0]) != s.k) return setup.unsupported("inner dimensions differ");
    s.lda = a[1];
    s.ldb = b[1];
    s.ldc = s.n;

    auto op = std::make_unique<GemmOp>();
    op->alpha_ = node.attr_float("alpha", 1.0f);
    op->beta_ = node.attr_float("beta", 1.0f);
    RT_ASSIGN_OR_RETURN(op->a_, nn::Operand::make(setup, 0, dtype));
    RT_ASSIGN_OR_RETURN(op->b_, nn::Operand::make(setup, 1, dtype));
    if (setup.has_input(2) && op->beta_ != 0.0f) {
        const ir::Shape& c = setup.inputs[2].shape;
        if (c.size() > 2) return setup.unsupported("C must have rank <= 2");
        const std::vector<int64_t> strides = ir::broadcast_strides(c, {s.m, s.n});
        RT_ASSIGN_OR_RETURN(op->c_, nn::Operand::make(setup, 2, dtype));
        const bool per_column = strides[0] == 0 && (strides[1] == 1 || s.n == 1);
        if (per_column && op->beta_ == 1.0f && op->c_.constant()) {
            op->c_mode_ = CMode::kBias;
            s.bias = op->c_.constant();
        } else if (ir::shape_numel(c) == s.m * s.n && c.size() == 2) {
            op->c_mode_ = CMode::kFull;
        } else {
            op->c_mode_ = CMode::kBroadcast;
            op->broadcast_.half = dtype == DataType::kFloat16;
            op->broadcast_.rows = s.m;
            op->broadcast_.cols = s.n;
            op->broadcast_.row_stride = strides[0];
            op->broadcast_.col_stride = strides[1];
        }
    }
    RT_ASSIGN_OR_RETURN(nn::Activation act, nn::fused_activation(setup));
    op->act_.half = dtype == DataType::kFloat16;
    op->act_.count = s.m * s.n;
    op->act_.act = act;

    // The activation joins the epilogue only where C is absent or is the bias: then the epilogue surely sees the
    // whole sum.
    const bool whole_sum = op->c_mode_ == CMode::kNone || op->c_mode_ == CMode::kBias;
    const nn::Activation epilogue_act = whole_sum ? act : nn::Activation{};
    bool in_epilogue = false;
    auto mm = nn::create_lt_matmul(libs, s, epilogue_act, &in_epilogue);
    if (in_epilogue) op->act_.act = nn::Activation{};
    if (!mm) {
        if (mm.status().code() == StatusCode::kUnsupported) return setup.unsupported(mm.status().message());
        return mm.status();
    }
    op->mm_ = std::move(*mm);
    return std::unique_ptr<CudaOp>(std::move(op));
}

}  // namespace

const CudaKernel kGemmCuda = {"Gemm", "", create};

}  // namespace rtinfer::cuda
