// ONNX models made in the plugin tests, and the paths of the test plugin libraries.
#pragma once

#include <string>
#include <vector>

#include "onnx/onnx.pb.h"
#include "rtinfer/builder.h"

namespace rtinfer::testing {

struct OnnxMaker {
    ::onnx::ModelProto model;
    OnnxMaker() {
        model.set_ir_version(8);
        auto* op = model.add_opset_import();
        op->set_domain("");
        op->set_version(17);
        model.mutable_graph()->set_name("g");
    }
    ::onnx::GraphProto& g() { return *model.mutable_graph(); }
    static void type(::onnx::ValueInfoProto* vi, const std::string& name, const std::vector<int64_t>& dims, int elem) {
        vi->set_name(name);
        auto* tt = vi->mutable_type()->mutable_tensor_type();
        tt->set_elem_type(elem);
        for (int64_t d : dims) {
            if (d < 0) {
                tt->mutable_shape()->add_dim()->set_dim_param("N");
            } else {
                tt->mutable_shape()->add_dim()->set_dim_value(d);
            }
        }
    }
    void input(const std::string& n, const std::vector<int64_t>& d, int elem = ::onnx::TensorProto::FLOAT) {
        type(g().add_input(), n, d, elem);
    }
    void output(const std::string& n, const std::vector<int64_t>& d, int elem = ::onnx::TensorProto::FLOAT) {
        type(g().add_output(), n, d, elem);
    }
    ::onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& in,
                            const std::vector<std::string>& out, const std::string& name,
                            const std::string& domain = "") {
        auto* n = g().add_node();
        n->set_op_type(op);
        n->set_name(name);
        n->set_domain(domain);
        for (auto& s : in) n->add_input(s);
        for (auto& s : out) n->add_output(s);
        return n;
    }
    static void attr_float(::onnx::NodeProto* n, const std::string& name, float v) {
        auto* a = n->add_attribute();
        a->set_name(name);
        a->set_type(::onnx::AttributeProto::FLOAT);
        a->set_f(v);
    }
    static void attr_int(::onnx::NodeProto* n, const std::string& name, int64_t v) {
        auto* a = n->add_attribute();
        a->set_name(name);
        a->set_type(::onnx::AttributeProto::INT);
        a->set_i(v);
    }
    static void attr_string(::onnx::NodeProto* n, const std::string& name, const std::string& v) {
        auto* a = n->add_attribute();
        a->set_name(name);
        a->set_type(::onnx::AttributeProto::STRING);
        a->set_s(v);
    }
    static void attr_ints(::onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v) {
        auto* a = n->add_attribute();
        a->set_name(name);
        a->set_type(::onnx::AttributeProto::INTS);
        for (int64_t x : v) a->add_ints(x);
    }
    static void attr_floats(::onnx::NodeProto* n, const std::string& name, const std::vector<float>& v) {
        auto* a = n->add_attribute();
        a->set_name(name);
        a->set_type(::onnx::AttributeProto::FLOATS);
        for (float x : v) a->add_floats(x);
    }
    std::string bytes() const { return model.SerializeAsString(); }

    Expected<std::unique_ptr<Engine>> build(BuilderConfig config = BuilderConfig()) const {
        const std::string b = bytes();
        return Builder().build_from_memory(b.data(), b.size(), config, "plugin_test.onnx");
    }
};

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace rtinfer::testing
