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

Status OpRegistry::add_domain(const std::string& domain, const OpKernel& kernel) {
    if (!kernel.infer || !kernel.compute) return Status(StatusCode::kInternal, "kernel for domain " + domain + " lacks infer or compute");
    if (!domain_kernels_.emplace(canonical_domain(domain), kernel).second) {
        return Status(StatusCode::kInternal, "two kernels registered for domain " + domain);
    }
    return Status();
}

const OpKernel* OpRegistry::find(const std::string& domain, const std::string& op_type) const {
    auto it = kernels_.find(std::make_pair(canonical_domain(domain), op_type));
    if (it != kernels_.end()) return &it->second;
    auto d = domain_kernels_.find(canonical_domain(domain));
    return d == domain_kernels_.end() ? nullptr : &d->second;
}

std::vector<std::string> OpRegistry::op_types() const {
    std::vector<std::string> names;
    for (const auto& [key, kernel] : kernels_) names.push_back(key.first.empty() ? key.second : key.first + "::" + key.second);
    return names;
}

}  // namespace rtinfer::ir
