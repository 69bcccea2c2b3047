// An activation folded into the op before it (Conv + Relu -> Conv with an epilogue). Stored as node
// attributes so engines keep it: rt_fused_activation (the code below), rt_alpha, rt_clip_min, rt_clip_max.
#pragma once

#include <algorithm>
#include <cmath>

#include "core/ir/graph.h"

namespace rtinfer::ir {

enum class FusedActivation : int { kNone = 0, kRelu = 1, kClip = 2, kSigmoid = 3, kSilu = 4, kHardSwish = 5, kLeakyRelu = 6 };

struct FusedActivationParams {
    FusedActivation act = FusedActivation::kNone;
    float alpha = 0.0f;     // LeakyRelu slope
    float clip_min = 0.0f;  // Clip
    float clip_max = 0.0f;
};

inline FusedActivationParams fused_activation(const Node& node) {
    FusedActivationParams p;
    p.act = static_cast<FusedActivation>(node.attr_int("rt_fused_activation", 0));
    p.alpha = node.attr_float("rt_alpha", 0.01f);
    p.clip_min = node.attr_float("rt_clip_min", 0.0f);
    p.clip_max = node.attr_float("rt_clip_max", 0.0f);
    return p;
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
    }
    return x;
}

}  // namespace rtinfer::ir
