// Running one node on the CUDA backend and on the CPU reference and comparing: typed inputs (run-time data,
// constants create() sees, or omitted), two enqueues into poisoned outputs (NaN / 0xA5 bytes) so that
// elements a kernel leaves unwritten fail, integer and bool outputs compared exactly, floats within
// float32 1e-5 * |ref| + 1e-6 * max|ref| and float16 5e-3 * |ref| + 5e-4 * max|ref|.
#pragma once

#include <gtest/gtest.h>

#include <cuda_runtime.h>

#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/ir/half.h"
#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/cuda_op.h"
#include "core/kernels/ref/ref_backend.h"

namespace rtinfer::testing::cases {

namespace cu = rtinfer::cuda;

using Attrs = std::map<std::string, ir::Attribute>;

inline ir::Attribute attr_f(float v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kFloat;
    a.f = v;
    return a;
}
inline ir::Attribute attr_i(int64_t v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInt;
    a.i = v;
    return a;
}
inline ir::Attribute attr_s(const std::string& v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kString;
    a.s = v;
    return a;
}

// ---- data --------------------------------------------------------------------------------------------

inline bool is_float(DataType t) {
    return t == DataType::kFloat32 || t == DataType::kFloat16;
}

// Uniform in [lo, hi]: floats never within 0.05 of zero, integers never zero; bool is 0/1 at random.
inline ir::Tensor random_tensor(DataType dtype, const ir::Shape& shape, double lo, double hi, uint32_t seed) {
    std::mt19937 gen(seed);
    ir::Tensor t(dtype, shape);
    const int64_t n = t.numel();
    if (is_float(dtype)) {
        std::uniform_real_distribution<double> dist(lo, hi);
        for (int64_t i = 0; i < n; ++i) {
            double v = dist(gen);
            while (std::fabs(v) < 0.05) v = dist(gen);
            if (dtype == DataType::kFloat32) {
                t.data<float>()[i] = static_cast<float>(v);
            } else {
                t.data<uint16_t>()[i] = ir::float_to_half(static_cast<float>(v));
            }
        }
        return t;
    }
    if (dtype == DataType::kBool) {
        std::uniform_int_distribution<int> dist(0, 1);
        for (int64_t i = 0; i < n; ++i) t.data<uint8_t>()[i] = static_cast<uint8_t>(dist(gen));
        return t;
    }
    std::uniform_int_distribution<int64_t> dist(static_cast<int64_t>(lo), static_cast<int64_t>(hi));
    for (int64_t i = 0; i < n; ++i) {
        int64_t v = dist(gen);
        while (v == 0) v = dist(gen);
        switch (dtype) {
            case DataType::kInt8:
                t.data<int8_t>()[i] = static_cast<int8_t>(v);
                break;
            case DataType::kUInt8:
                t.data<uint8_t>()[i] = static_cast<uint8_t>(v);
                break;
            case DataType::kInt32:
                t.data<int32_t>()[i] = static_cast<int32_t>(v);
                break;
            default:
                t.data<int64_t>()[i] = v;
                break;
        }
    }
    return t;
}

inline ir::Tensor float_values(DataType dtype, const ir::Shape& shape, const std::vector<float>& v) {
    ir::Tensor t(dtype, shape);
    for (size_t i = 0; i < v.size(); ++i) {
        if (dtype == DataType::kFloat32) {
            t.data<float>()[i] = v[i];
        } else {
            t.data<uint16_t>()[i] = ir::float_to_half(v[i]);
        }
    }
    return t;
}

template <class T>
inline ir::Tensor int_values(DataType dtype, const ir::Shape& shape, const std::vector<T>& v) {
    ir::Tensor t(dtype, shape);
    std::memcpy(t.raw(), v.data(), v.size() * sizeof(T));
    return t;
}

// ---- running one node on both backends ---------------------------------------------------------------

// An input of a case: absent (an omitted optional input), or a host tensor that create() sees as a constant
// (InputInfo::value set) or as run-time data.
struct In {
    ir::Tensor t;
    bool constant = false;
    bool present = true;
};
inline In data(ir::Tensor t) {
    return In{std::move(t), false, true};
}
inline In constant(ir::Tensor t) {
    return In{std::move(t), true, true};
}
inline In absent() {
    return In{ir::Tensor(), false, false};
}

struct Case {
    Case(std::string op_type, std::vector<In> ins = {}, Attrs attributes = {}, int64_t op_set = 20)
        : op(std::move(op_type)), inputs(std::move(ins)), attrs(std::move(attributes)), opset(op_set) {}
    std::string op;
    std::vector<In> inputs;
    Attrs attrs;
    int64_t opset;
    int alias_output_to = -1;  // run with the output in this input's buffer (in-place)
    std::string domain;        // "" (ONNX) or ir::kRtinferDomain for the SDK's own ops
};

inline std::string describe(const Case& c) {
    std::ostringstream s;
    s << c.op << " opset " << c.opset << " inputs";
    for (const In& in : c.inputs) {
        if (!in.present) {
            s << " (none)";
            continue;
        }
        s << " " << rtinfer::data_type_name(in.t.dtype()) << ir::shape_str(in.t.shape()) << (in.constant ? "c" : "");
    }
    return s.str();
}

inline ir::Node make_node(const Case& c) {
    ir::Node node;
    node.name = "cuda_" + c.op;
    node.op_type = c.op;
    node.domain = c.domain;
    for (size_t i = 0; i < c.inputs.size(); ++i)
        node.inputs.push_back(c.inputs[i].present ? "in" + std::to_string(i) : "");
    node.outputs = {"out"};
    node.attrs = c.attrs;
    return node;
}

inline Expected<ir::Tensor> run_reference(const Case& c, const ir::Node& node) {
    const ir::OpKernel* kernel = rtinfer::ref::reference_registry().find(c.domain, c.op);
    if (!kernel) return Status(StatusCode::kNotFound, "no reference kernel for " + c.op);
    std::vector<const ir::Tensor*> inputs;
    for (const In& in : c.inputs) inputs.push_back(in.present ? &in.t : nullptr);
    std::vector<ir::Tensor> outputs;
    RT_RETURN_IF_ERROR(rtinfer::ref::evaluate_node(*kernel, node, c.opset, inputs, outputs));
    return outputs[0];
}

struct StreamDeleter {
    void operator()(CUstream_st* s) const { cudaStreamDestroy(s); }
};

inline uint8_t poison_byte(DataType t) {
    return is_float(t) ? 0xFF : 0xA5;  // NaN for floats; not 0/1 for bool, no small integer
}

inline Expected<cu::DeviceBuffer> upload(const ir::Tensor& t) {
    RT_ASSIGN_OR_RETURN(cu::DeviceBuffer buf, cu::DeviceBuffer::allocate(t.nbytes()));
    if (t.nbytes()) RT_CUDA_CHECK(cudaMemcpy(buf.get(), t.raw(), t.nbytes(), cudaMemcpyHostToDevice));
    return buf;
}

// create() on the CUDA kernel, then two poisoned enqueues; returns the create Status as is (kUnsupported
// included) and the output of the second run.
inline Expected<ir::Tensor> run_cuda(const Case& c, const ir::Node& node, DataType out_dtype,
                                     const ir::Shape& out_shape) {
    const cu::CudaKernel* kernel = cu::cuda_registry().find(c.domain, c.op);
    if (!kernel) return Status(StatusCode::kNotFound, "no CUDA kernel for " + c.op);
    std::vector<ir::InputInfo> infos;
    for (const In& in : c.inputs) {
        ir::InputInfo info;
        if (in.present) {
            info.dtype = in.t.dtype();
            info.shape = in.t.shape();
            info.value = in.constant ? &in.t : nullptr;
        }
        infos.push_back(info);
    }
    std::vector<ir::OutputInfo> outs = {ir::OutputInfo{out_dtype, out_shape, true}};
    const cu::OpSetup setup{node, c.opset, infos, outs};

    // create() makes no CUDA calls, so the decline tests run without a GPU.
    cu::CudaLibs libs;
    RT_ASSIGN_OR_RETURN(std::unique_ptr<cu::CudaOp> op, kernel->create(setup, libs));
    cudaStream_t raw_stream = nullptr;
    RT_CUDA_CHECK(cudaStreamCreate(&raw_stream));
    std::unique_ptr<CUstream_st, StreamDeleter> stream(raw_stream);
    libs.stream = stream.get();

    std::vector<cu::DeviceBuffer> buffers;
    std::vector<cu::DeviceTensor> inputs;
    for (const In& in : c.inputs) {
        cu::DeviceTensor d;
        if (in.present) {
            RT_ASSIGN_OR_RETURN(cu::DeviceBuffer buf, upload(in.t));
            d = cu::DeviceTensor{buf.get(), in.t.dtype(), in.t.shape()};
            buffers.push_back(std::move(buf));
        }
        inputs.push_back(d);
    }
    ir::Tensor result(out_dtype, out_shape);
    cu::DeviceBuffer out_buf;
    cu::DeviceTensor out{nullptr, out_dtype, out_shape};
    if (c.alias_output_to >= 0) {
        const cu::DeviceTensor& in = inputs[static_cast<size_t>(c.alias_output_to)];
        if (in.nbytes() != result.nbytes())
            return Status(StatusCode::kInvalidArgument, "aliased input has another size");
        out.data = in.data;
    } else {
        RT_ASSIGN_OR_RETURN(out_buf, cu::DeviceBuffer::allocate(result.nbytes()));
        out.data = out_buf.get();
    }
    RT_ASSIGN_OR_RETURN(cu::DeviceBuffer workspace, cu::DeviceBuffer::allocate(op->workspace_bytes()));
    // In place, the input is the output: one run only, since it overwrites its own input.
    const int runs = c.alias_output_to >= 0 ? 1 : 2;
    for (int run = 0; run < runs; ++run) {
        if (c.alias_output_to < 0 && result.nbytes()) {
            RT_CUDA_CHECK(cudaMemset(out.data, poison_byte(out_dtype), result.nbytes()));
        }
        RT_RETURN_IF_ERROR(op->enqueue(inputs, {out}, workspace.get(), libs));
        RT_CUDA_CHECK(cudaStreamSynchronize(stream.get()));
    }
    if (result.nbytes()) RT_CUDA_CHECK(cudaMemcpy(result.raw(), out.data, result.nbytes(), cudaMemcpyDeviceToHost));
    return result;
}

// ---- comparison --------------------------------------------------------------------------------------

inline ::testing::AssertionResult close(const ir::Tensor& got, const ir::Tensor& want) {
    if (got.dtype() != want.dtype() || got.shape() != want.shape()) {
        return ::testing::AssertionFailure()
               << "got " << rtinfer::data_type_name(got.dtype()) << ir::shape_str(got.shape()) << ", want "
               << rtinfer::data_type_name(want.dtype()) << ir::shape_str(want.shape());
    }
    if (!is_float(want.dtype())) {
        if (std::memcmp(got.raw(), want.raw(), want.nbytes()) == 0) return ::testing::AssertionSuccess();
        const size_t size = rtinfer::data_type_size(want.dtype());
        const auto* g = static_cast<const uint8_t*>(got.raw());
        const auto* w = static_cast<const uint8_t*>(want.raw());
        int64_t first = 0;
        while (std::memcmp(g + first * size, w + first * size, size) == 0) ++first;
        const std::vector<int64_t> gv = ir::to_int64s(got);
        const std::vector<int64_t> wv = ir::to_int64s(want);
        return ::testing::AssertionFailure()
               << "first difference at element " << first << ": got " << gv[first] << ", want " << wv[first];
    }
    const bool half = want.dtype() == DataType::kFloat16;
    const double rtol = half ? 5e-3 : 1e-5;
    const double atol_frac = half ? 5e-4 : 1e-6;
    const std::vector<double> g = ir::to_doubles(got);
    const std::vector<double> w = ir::to_doubles(want);
    double max_ref = 0.0;
    for (double v : w) {
        if (std::isfinite(v)) max_ref = std::max(max_ref, std::fabs(v));
    }
    const double atol = atol_frac * max_ref;
    int bad = 0;
    std::ostringstream msg;
    for (size_t i = 0; i < w.size(); ++i) {
        bool ok;
        if (std::isnan(w[i])) {
            ok = std::isnan(g[i]);
        } else if (std::isinf(w[i])) {
            ok = g[i] == w[i];
        } else {
            ok = !std::isnan(g[i]) && std::fabs(g[i] - w[i]) <= rtol * std::fabs(w[i]) + atol;
        }
        if (!ok && bad++ < 5) msg << " [" << i << "] got " << g[i] << " want " << w[i] << ";";
    }
    if (bad == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << bad << " of " << w.size() << " elements differ:" << msg.str();
}

// Runs the case on both backends and compares.
inline void check(const Case& c) {
    SCOPED_TRACE(describe(c));
    const ir::Node node = make_node(c);
    Expected<ir::Tensor> want = run_reference(c, node);
    ASSERT_TRUE(want.has_value()) << want.status().to_string();
    Expected<ir::Tensor> got = run_cuda(c, node, want->dtype(), want->shape());
    ASSERT_TRUE(got.has_value()) << got.status().to_string();
    EXPECT_TRUE(close(*got, *want));
}

// create() must decline (the node then runs on the CPU reference).
inline void check_unsupported(const Case& c) {
    SCOPED_TRACE(describe(c));
    const ir::Node node = make_node(c);
    Expected<ir::Tensor> want = run_reference(c, node);
    const DataType dtype = want.has_value() ? want->dtype() : c.inputs[0].t.dtype();
    const ir::Shape shape = want.has_value() ? want->shape() : c.inputs[0].t.shape();
    Expected<ir::Tensor> got = run_cuda(c, node, dtype, shape);
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.status().code(), StatusCode::kUnsupported) << got.status().to_string();
}

}  // namespace rtinfer::testing::cases
