// MatMul on cuBLASLt with numpy semantics (the reference's plan: 1-D operands, broadcast batch dims). When B is
// one matrix the batches fold into M (one product); batch offsets that step evenly (a single A matrix shared
// by all batches included, with stride 0) make one strided-batched product; other broadcasts run one product
// per output matrix. rtinfer.MatMulBias(X, W, bias) is the same product with a bias [N] (made by
// passes::fuse_matmul_bias_activation): in cuBLASLt's epilogue when the product is one (folded) matrix, with a
// fused ReLU or tanh-form GELU (the erf form in float16 only, see create_lt_matmul) there too; otherwise bias
// and activation run in one pass after the product.
// A MatMul's rt_trans_a / rt_trans_b (passes::fold_reshape_transpose) read that operand with its last two axes
// swapped: cuBLASLt's transposed operand, with the same batch strides (a transposed A never folds into M).
#include <string>
#include <vector>

#include "core/kernels/cuda/nn/kernels.h"
#include "core/kernels/cuda/nn/lt_matmul.h"
#include "core/kernels/cuda/nn/nn_cuda_util.h"
#include "core/kernels/ref/nn/nn_common.h"

namespace rtinfer::cuda {
namespace {

namespace refnn = rtinfer::ref::nn;

class MatMulOp : public CudaOp {
public:
    size_t workspace_bytes() const override { return mm_.workspace_bytes(); }

    Status enqueue(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs, void* workspace,
                   const CudaLibs& libs) override {
        const char* a = static_cast<const char*>(a_.get(inputs));
        const char* b = static_cast<const char*>(b_.get(inputs));
        char* y = static_cast<char*>(outputs[0].data);
        if (a_offsets_.empty()) {
            RT_RETURN_IF_ERROR(mm_.run(libs.cublaslt, libs.stream, a, b, nullptr, y, 1.0f, 0.0f, workspace));
        } else {
            for (size_t i = 0; i < a_offsets_.size(); ++i) {
                RT_RETURN_IF_ERROR(mm_.run(libs.cublaslt, libs.stream, a + a_offsets_[i] * elem_,
                                           b + b_offsets_[i] * elem_, nullptr, y + i * out_matrix_ * elem_, 1.0f, 0.0f,
                                           workspace));
            }
        }
        if (act_.act.kind != nn::kActNone || separate_bias_) {
            nn::BiasActParams p = act_;
            p.y = outputs[0].data;
            if (separate_bias_) p.bias = bias_.get(inputs);
            RT_RETURN_IF_ERROR(nn::launch_bias_activation(p, libs.stream));
        }
        return Status();
    }

    nn::Operand a_, b_, bias_;
    bool separate_bias_ = false;  // the bias is added by the pass after the product, not in its epilogue
    nn::LtMatmul mm_;
    // Per output matrix when the batches follow no single stride; empty otherwise.
    std::vector<int64_t> a_offsets_, b_offsets_;
    int64_t out_matrix_ = 0;
    int64_t elem_ = 4;
    nn::BiasActParams act_;
};

// The stride s with offsets[i] == i * s for all i, or -1.
int64_t even_stride(const std::vector<int64_t>& offsets) {
    if (offsets.empty() || offsets[0] != 0) return -1;
    const int64_t s = offsets.size() > 1 ? offsets[1] : 0;
    for (size_t i = 0; i < offsets.size(); ++i) {
        if (offsets[i] != static_cast<int64_t>(i) * s) return -1;
    }
    return s;
}

Expected<std::unique_ptr<CudaOp>> create(const OpSetup& setup, const CudaLibs& libs, bool with_bias) {
    const DataType dtype = setup.inputs[0].dtype;
    if (!nn::is_float_or_half(dtype) || setup.outputs[0].dtype != dtype) {
        return setup.unsupported(std::string("type ") + data_type_name(dtype) + " is not supported on CUDA");
    }
    if (nn::has_empty_tensor(setup)) return setup.unsupported("empty tensors run on the reference");
    // MatMulBias has no transposed operands: its W is a constant [K, N].
    const bool trans_a = !with_bias && refnn::matmul_transposed(setup.node, 0);
    const bool trans_b = !with_bias && refnn::matmul_transposed(setup.node, 1);
    RT_ASSIGN_OR_RETURN(refnn::MatMulPlan plan, refnn::matmul_plan(setup.node, setup.inputs[0].shape,
                                                                   setup.inputs[1].shape, trans_a, trans_b));
    const int64_t batches = static_cast<int64_t>(plan.a_offsets.size());
    if (batches > 0x7fffffff) return setup.unsupported("more batches than cuBLASLt takes");

    auto op = std::make_unique<MatMulOp>();
    nn::MatmulShape s;
    s.dtype = dtype;
    s.m = plan.m;
    s.n = plan.n;
    s.k = plan.k;
    s.trans_a = plan.trans_a;
    s.trans_b = plan.trans_b;
    s.lda = plan.trans_a ? plan.m : plan.k;
    s.ldb = plan.trans_b ? plan.k : plan.n;
    s.ldc = plan.n;
    const int64_t stride_a = even_stride(plan.a_offsets), stride_b = even_stride(plan.b_offsets);
    if (plan.fold_batches) {
        s.m = batches * plan.m;
    } else if (stride_a >= 0 && stride_b >= 0) {
        s.batch = batches;
        s.stride_a = stride_a;
        s.stride_b = stride_b;
        s.stride_c = plan.m * plan.n;
    } else {
        op->a_offsets_ = plan.a_offsets;
        op->b_offsets_ = plan.b_offsets;
        op->out_matrix_ = plan.m * plan.n;
    }
    op->elem_ = static_cast<int64_t>(data_type_size(dtype));
    RT_ASSIGN_OR_RETURN(op->a_, nn::Operand::make(setup, 0, dtype));
    RT_ASSIGN_OR_RETURN(op->b_, nn::Operand::make(setup, 1, dtype));
    RT_ASSIGN_OR_RETURN(nn::Activation act, nn::fused_activation(setup));
    op->act_.half = dtype == DataType::kFloat16;
    op->act_.count = ir::shape_numel(setup.outputs[0].shape);
    op->act_.act = act;
    const bool one_product = op->a_offsets_.empty() && s.batch == 1;
    if (with_bias) {
        const ir::Shape& bias = setup.inputs[2].shape;
        if (bias.size() != 1 || bias[0] != plan.n) return setup.unsupported("the bias must be [N]");
        RT_ASSIGN_OR_RETURN(op->bias_, nn::Operand::make(setup, 2, dtype));
        if (one_product && op->bias_.constant()) {
            s.bias = op->bias_.constant();
        } else {
            op->separate_bias_ = true;
            op->act_.inner = 1;
            op->act_.channels = plan.n;
            op->act_.bias_half = dtype == DataType::kFloat16;
        }
    }
    const nn::Activation epilogue_act = one_product && !op->separate_bias_ ? act : nn::Activation{};
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

Expected<std::unique_ptr<CudaOp>> create_matmul(const OpSetup& setup, const CudaLibs& libs) {
    return create(setup, libs, false);
}

Expected<std::unique_ptr<CudaOp>> create_matmul_bias(const OpSetup& setup, const CudaLibs& libs) {
    if (setup.inputs.size() != 3 || !setup.has_input(2) || setup.inputs[0].shape.empty() ||
        setup.inputs[1].shape.size() != 2) {
        return setup.unsupported("expected X of rank >= 1, a matrix W and a bias");
    }
    return create(setup, libs, true);
}

}  // namespace

const CudaKernel kMatMulCuda = {"MatMul", "", create_matmul};
const CudaKernel kMatMulBiasCuda = {"MatMulBias", ir::kRtinferDomain, create_matmul_bias};

}  // namespace rtinfer::cuda
