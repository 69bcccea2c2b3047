// Checking one CUDA op against its reference kernel on random non-zero data: the node runs on the reference and
// twice on CUDA (output and workspace poisoned with NaN bytes before each run); max |cuda - ref| over max |ref| must
// stay within 1e-5 in float32 (TF32 off) and 5e-3 in float16. Constant inputs reach the CUDA op as float32 (as in
// an fp16 engine) and the reference in the run's type.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/ir/half.h"
#include "core/ir/op.h"
#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/cuda_op.h"
#include "core/kernels/ref/ref_backend.h"
#include "tests/gpu/cuda_libs.h"

namespace rtinfer::testing {

using rtinfer::Status;
using rtinfer::cuda::CudaLibs;
using rtinfer::cuda::DeviceBuffer;
using rtinfer::cuda::DeviceTensor;
using rtinfer::ir::DType;
using rtinfer::ir::Node;
using rtinfer::ir::Shape;
using rtinfer::ir::Tensor;

struct Rng {
    uint64_t state = 0x9e3779b97f4a7c15ull;
    double uniform() {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<double>(state >> 11) / 9007199254740992.0;
    }
    double nonzero() { return (uniform() < 0.5 ? -1.0 : 1.0) * (0.1 + 0.9 * uniform()); }
};

inline Tensor random_tensor(const Shape& shape, Rng& rng) {
    Tensor t(DType::kFloat32, shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(rng.nonzero());
    return t;
}

inline Tensor to_half(const Tensor& t) {
    Tensor h(DType::kFloat16, t.shape());
    for (int64_t i = 0; i < t.numel(); ++i) h.data<uint16_t>()[i] = rtinfer::ir::float_to_half(t.data<float>()[i]);
    return h;
}

struct Input {
    Tensor value;  // float32
    bool constant = false;
};

// Runs the node on the reference and twice on CUDA and compares (see the top of the file).
inline void check(const Node& node, const std::vector<Input>& inputs, DType dtype, const std::string& what) {
    SCOPED_TRACE(what + (dtype == DType::kFloat16 ? " fp16" : " fp32"));
    const bool half = dtype == DType::kFloat16;
    std::vector<Tensor> ref_inputs;
    for (const Input& in : inputs) ref_inputs.push_back(half ? to_half(in.value) : in.value);
    std::vector<const Tensor*> ref_ptrs;
    for (const Tensor& t : ref_inputs) ref_ptrs.push_back(&t);
    const rtinfer::ir::OpKernel* kernel = rtinfer::ref::reference_registry().find(node.domain, node.op_type);
    ASSERT_NE(kernel, nullptr);
    std::vector<Tensor> expected;
    Status s = rtinfer::ref::evaluate_node(*kernel, node, 17, ref_ptrs, expected);
    ASSERT_TRUE(s.is_ok()) << s.to_string();

    std::vector<rtinfer::ir::InputInfo> infos;
    for (const Input& in : inputs) {
        rtinfer::ir::InputInfo info;
        info.shape = in.value.shape();
        info.dtype = in.constant ? DType::kFloat32 : dtype;
        info.value = in.constant ? &in.value : nullptr;
        infos.push_back(info);
    }
    std::vector<rtinfer::ir::OutputInfo> outs = {{expected[0].dtype(), expected[0].shape(), true}};
    const rtinfer::cuda::CudaKernel* ck = rtinfer::cuda::cuda_registry().find(node.domain, node.op_type);
    ASSERT_NE(ck, nullptr) << node.op_type;
    rtinfer::cuda::OpSetup setup{node, 17, infos, outs};
    const CudaLibs& libs = rtinfer::testing::test_cuda_libs();
    auto op = ck->create(setup, libs);
    ASSERT_TRUE(op.has_value()) << op.status().to_string();

    std::vector<DeviceBuffer> buffers;
    std::vector<DeviceTensor> d_in;
    for (size_t i = 0; i < inputs.size(); ++i) {
        DeviceTensor d;
        d.dtype = dtype;
        d.shape = inputs[i].value.shape();
        if (!inputs[i].constant) {
            auto b = DeviceBuffer::allocate(ref_inputs[i].nbytes());
            ASSERT_TRUE(b.has_value());
            ASSERT_EQ(cudaMemcpy(b->get(), ref_inputs[i].raw(), ref_inputs[i].nbytes(), cudaMemcpyHostToDevice),
                      cudaSuccess);
            d.data = b->get();
            buffers.push_back(std::move(*b));
        }
        d_in.push_back(d);
    }
    DeviceTensor y;
    y.dtype = expected[0].dtype();
    y.shape = expected[0].shape();
    auto yb = DeviceBuffer::allocate(expected[0].nbytes());
    ASSERT_TRUE(yb.has_value());
    y.data = yb->get();
    auto ws = DeviceBuffer::allocate((*op)->workspace_bytes());
    ASSERT_TRUE(ws.has_value());
    const std::vector<double> e = rtinfer::ir::to_doubles(expected[0]);
    double scale = 0;
    for (double v : e) scale = std::max(scale, std::fabs(v));
    ASSERT_GT(scale, 0.1);
    for (int run = 0; run < 2; ++run) {
        cudaMemset(y.data, 0xFF, y.nbytes());
        if (ws->get()) cudaMemset(ws->get(), 0xFF, ws->bytes());
        Status r = (*op)->enqueue(d_in, {y}, ws->get(), libs);
        ASSERT_TRUE(r.is_ok()) << r.to_string();
        ASSERT_EQ(cudaStreamSynchronize(libs.stream), cudaSuccess);
        Tensor got(expected[0].dtype(), expected[0].shape());
        ASSERT_EQ(cudaMemcpy(got.raw(), y.data, got.nbytes(), cudaMemcpyDeviceToHost), cudaSuccess);
        const std::vector<double> a = rtinfer::ir::to_doubles(got);
        double err = 0;
        size_t worst = 0;
        for (size_t j = 0; j < e.size(); ++j) {
            const double d = std::fabs(a[j] - e[j]);
            if (!(d <= err)) {
                err = std::isnan(d) ? INFINITY : d;
                worst = j;
            }
        }
        EXPECT_LE(err / scale, half ? 5e-3 : 1e-5)
            << "run " << run << " element " << worst << " got " << a[worst] << " expected " << e[worst];
    }
}

}  // namespace rtinfer::testing
