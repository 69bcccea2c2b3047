// AttributeProto -> ir::Attribute, subgraphs included.
#include <memory>

#include "core/onnx/import_internal.h"

namespace rtinfer::onnx::detail {

namespace {

using AttrProto = ::onnx::AttributeProto;

// IR versions 1 and 2 did not record the type; it follows from the field that is set.
AttrProto::AttributeType type_of(const AttrProto& p) {
    if (p.type() != AttrProto::UNDEFINED) return p.type();
    if (p.has_f()) return AttrProto::FLOAT;
    if (p.has_i()) return AttrProto::INT;
    if (p.has_s()) return AttrProto::STRING;
    if (p.has_t()) return AttrProto::TENSOR;
    if (p.has_g()) return AttrProto::GRAPH;
    if (p.floats_size() > 0) return AttrProto::FLOATS;
    if (p.ints_size() > 0) return AttrProto::INTS;
    if (p.strings_size() > 0) return AttrProto::STRINGS;
    return AttrProto::UNDEFINED;
}

}  // namespace

Expected<ir::Attribute> read_attribute(AttrProto& p, const ImportContext& ctx, std::set<std::string>& outer_names) {
    if (!p.ref_attr_name().empty()) {
        return Status(StatusCode::kInvalidModel,
                      "refers to function attribute '" + p.ref_attr_name() + "', but the node is not in a function");
    }
    ir::Attribute a;
    const AttrProto::AttributeType type = type_of(p);
    switch (type) {
        case AttrProto::FLOAT:
            a.kind = ir::Attribute::Kind::kFloat;
            a.f = p.f();
            break;
        case AttrProto::INT:
            a.kind = ir::Attribute::Kind::kInt;
            a.i = p.i();
            break;
        case AttrProto::STRING:
            a.kind = ir::Attribute::Kind::kString;
            a.s = p.s();
            break;
        case AttrProto::FLOATS:
            a.kind = ir::Attribute::Kind::kFloats;
            a.floats.assign(p.floats().begin(), p.floats().end());
            break;
        case AttrProto::INTS:
            a.kind = ir::Attribute::Kind::kInts;
            a.ints.assign(p.ints().begin(), p.ints().end());
            break;
        case AttrProto::STRINGS:
            a.kind = ir::Attribute::Kind::kStrings;
            a.strings.assign(p.strings().begin(), p.strings().end());
            break;
        case AttrProto::TENSOR: {
            if (!p.has_t()) return Status(StatusCode::kInvalidModel, "is a TENSOR attribute without a tensor");
            a.kind = ir::Attribute::Kind::kTensor;
            RT_ASSIGN_OR_RETURN(a.t, read_tensor(*p.mutable_t(), ctx.base_dir));
            break;
        }
        case AttrProto::GRAPH: {
            if (!p.has_g()) return Status(StatusCode::kInvalidModel, "is a GRAPH attribute without a graph");
            if (ctx.depth >= kMaxSubgraphDepth) {
                return Status(StatusCode::kUnsupported,
                              "subgraphs are nested more than " + std::to_string(kMaxSubgraphDepth) + " levels deep");
            }
            ImportContext inner = ctx;
            inner.depth = ctx.depth + 1;
            RT_ASSIGN_OR_RETURN(ImportedGraph sub, import_graph(*p.mutable_g(), inner, true));
            outer_names.insert(sub.outer_names.begin(), sub.outer_names.end());
            a.kind = ir::Attribute::Kind::kGraph;
            a.g = std::make_shared<ir::Graph>(std::move(sub.graph));
            break;
        }
        case AttrProto::TENSORS:
        case AttrProto::GRAPHS:
        case AttrProto::SPARSE_TENSOR:
        case AttrProto::SPARSE_TENSORS:
        case AttrProto::TYPE_PROTO:
        case AttrProto::TYPE_PROTOS:
            return Status(StatusCode::kUnsupported,
                          "attributes of type " + AttrProto::AttributeType_Name(type) + " are not supported");
        case AttrProto::UNDEFINED: return Status(StatusCode::kInvalidModel, "has no type and no value");
        default: return Status(StatusCode::kInvalidModel, "has unknown type " + std::to_string(static_cast<int>(type)));
    }
    return a;
}

}  // namespace rtinfer::onnx::detail
