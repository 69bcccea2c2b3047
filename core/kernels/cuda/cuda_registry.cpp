#include <cstdio>
#include <cstdlib>

#include "core/kernels/cuda/cuda_op.h"

namespace rtinfer::cuda {

Status CudaRegistry::add(const CudaKernel& kernel) {
    auto key = std::make_pair(ir::canonical_domain(kernel.domain), std::string(kernel.op_type));
    if (!kernel.create) return Status(StatusCode::kInternal, std::string("CUDA kernel for ") + kernel.op_type + " has no create");
    if (!kernels_.emplace(key, kernel).second) {
        return Status(StatusCode::kInternal, std::string("two CUDA kernels registered for op ") + kernel.op_type);
    }
    return Status();
}

const CudaKernel* CudaRegistry::find(const std::string& domain, const std::string& op_type) const {
    auto it = kernels_.find(std::make_pair(ir::canonical_domain(domain), op_type));
    return it == kernels_.end() ? nullptr : &it->second;
}

const CudaRegistry& cuda_registry() {
    static const CudaRegistry registry = [] {
        CudaRegistry r;
        Status (*const families[])(CudaRegistry&) = {register_cuda_elementwise_kernels, register_cuda_nn_kernels,
                                                    register_cuda_tensor_kernels, register_cuda_reduce_kernels,
                                                    register_cuda_misc_kernels};
        for (auto family : families) {
            Status s = family(r);
            if (!s.is_ok()) {
                std::fprintf(stderr, "rtinfer: %s\n", s.to_string().c_str());
                std::abort();
            }
        }
        return r;
    }();
    return registry;
}

}  // namespace rtinfer::cuda
