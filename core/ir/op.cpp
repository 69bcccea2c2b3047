#include "core/ir/op.h"

namespace rtinfer::ir {

std::string canonical_domain(const std::string& domain) { return domain == "ai.onnx" ? std::string() : domain; }

Status OpRegistry::add(const OpKernel& kernel) {
    auto key = std::make_pair(canonical_domain(kernel.domain), std::string(kernel.op_type));
    if (!kernel.infer || !kernel.compute) {
        return Status(StatusCode::kInternal, std::string("kernel for ") + kernel.op_type + " lacks infer or compute");
    }
    if (!kernels_.emplace(key, kernel).second) {
        return Status(StatusCode::kInternal, std::string("two kernels registered for op ") + kernel.op_type);
    }
    return Status();
}

const OpKernel* OpRegistry::find(const std::string& domain, const std::string& op_type) const {
    auto it = kernels_.find(std::make_pair(canonical_domain(domain), op_type));
    return it == kernels_.end() ? nullptr : &it->second;
}

std::vector<std::string> OpRegistry::op_types() const {
    std::vector<std::string> names;
    for (const auto& [key, kernel] : kernels_) names.push_back(key.first.empty() ? key.second : key.first + "::" + key.second);
    return names;
}

}  // namespace rtinfer::ir
