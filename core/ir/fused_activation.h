// An activation folded into the op before it (Conv + Relu -> Conv with an epilogue). Stored as node
// attributes so engines keep it: rt_fused_activation (the code below), rt_alpha, rt_clip_min, rt_clip_max.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>

#include "core/ir/graph.h"

namespace rtinfer::ir {

// kGelu: the exact (erf) form; kGeluTanh: the tanh approximation (Gelu with approximate="tanh").
enum class FusedActivation : int {
    kNone = 0,
    kRelu = 1,
    kClip = 2,
    kSigmoid = 3,
    kSilu = 4,
    kHardSwish = 5,
    kLeakyRelu = 6,
    kGelu = 7,
    kGeluTanh = 8,
};

struct FusedActivationParams {
    FusedActivation act = FusedActivation::kNone;
    float alpha = 0.0f;     // LeakyRelu slope
    float clip_min = 0.0f;  // Clip
    float clip_max = 0.0f;
};

// The activation stored under `code` with its parameters under `prefix` + alpha / clip_min / clip_max.
inline FusedActivationParams read_activation(const Node& node, const std::string& code, const std::string& prefix) {
    FusedActivationParams p;
    p.act = static_cast<FusedActivation>(node.attr_int(code, 0));
    p.alpha = node.attr_float(prefix + "alpha", 0.01f);
    p.clip_min = node.attr_float(prefix + "clip_min", 0.0f);
    p.clip_max = node.attr_float(prefix + "clip_max", 0.0f);
    return p;
}

inline FusedActivationParams fused_activation(const Node& node) {
    return read_activation(node, "rt_fused_activation", "rt_");
}

// a: LeakyRelu alpha or Clip min; b: Clip max.
inline void set_fused_activation(Node& node, FusedActivation act, float a, float b) {
    Attribute code;
    code.kind = Attribute::Kind::kInt;
    code.i = static_cast<int64_t>(act);
    node.attrs["rt_fused_activation"] = code;
    Attribute f;
    f.kind = Attribute::Kind::kFloat;
    if (act == FusedActivation::kLeakyRelu) {
        f.f = a;
        node.attrs["rt_alpha"] = f;
    } else if (act == FusedActivation::kClip) {
        f.f = a;
        node.attrs["rt_clip_min"] = f;
        f.f = b;
        node.attrs["rt_clip_max"] = f;
    }
}

// An activation a consumer applies to its input X as it reads it (rt_input_activation, rt_input_alpha,
// rt_input_clip_min, rt_input_clip_max): see passes::fuse_input_activation.
inline FusedActivationParams input_activation(const Node& node) {
    return read_activation(node, "rt_input_activation", "rt_input_");
}

// Moves node `from`'s fused activation to node `to` as its input activation.
inline void move_activation_to_input(Node& from, Node& to) {
    for (const char* name : {"rt_fused_activation", "rt_alpha", "rt_clip_min", "rt_clip_max"}) {
        auto it = from.attrs.find(name);
        if (it == from.attrs.end()) continue;
        const std::string key = std::string(name) == "rt_fused_activation" ? "rt_input_activation"
                                                                            : "rt_input_" + std::string(name).substr(3);
        to.attrs[key] = it->second;
        from.attrs.erase(it);
    }
}

// The activation on one value; the same formula every backend uses.
inline float apply_fused_activation(const FusedActivationParams& p, float x) {
    switch (p.act) {
        case FusedActivation::kNone: return x;
        case FusedActivation::kRelu: return x > 0.0f ? x : 0.0f;
        case FusedActivation::kClip: return std::min(std::max(x, p.clip_min), p.clip_max);
        case FusedActivation::kSigmoid: return 1.0f / (1.0f + std::exp(-x));
        case FusedActivation::kSilu: return x / (1.0f + std::exp(-x));
        case FusedActivation::kHardSwish: return x * std::min(std::max(x / 6.0f + 0.5f, 0.0f), 1.0f);
        case FusedActivation::kLeakyRelu: return x >= 0.0f ? x : x * p.alpha;
        case FusedActivation::kGelu: return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
        case FusedActivation::kGeluTanh:
            return 0.5f * x * (1.0f + std::tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
    }
    return x;
}

}  // namespace rtinfer::ir
