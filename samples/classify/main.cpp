// classify: build (or load) an engine from an ONNX classifier and print the top-5 classes for one
// random input. The smallest complete use of the public C++ API; it builds against the installed SDK.
//   classify model.onnx [model.engine]
#include <rtinfer/builder.h>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

namespace {

size_t element_count(const rtinfer::TensorDesc& desc) {
    size_t n = 1;
    for (int64_t d : desc.dims) n *= static_cast<size_t>(d);
    return n;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: classify model.onnx [model.engine]\n");
        return 2;
    }
    rtinfer::StderrLogger logger(rtinfer::Severity::kInfo);
    rtinfer::Builder builder(&logger);
    auto engine = builder.build_from_file(argv[1], rtinfer::BuilderConfig());
    if (!engine) {
        std::fprintf(stderr, "classify: %s\n", engine.status().to_string().c_str());
        return 1;
    }
    if (argc > 2) {
        rtinfer::Status saved = (*engine)->save(argv[2]);
        if (!saved) std::fprintf(stderr, "classify: %s\n", saved.to_string().c_str());
    }
    auto ctx = (*engine)->create_context();
    if (!ctx) {
        std::fprintf(stderr, "classify: %s\n", ctx.status().to_string().c_str());
        return 1;
    }
    const auto& in = (*engine)->inputs().at(0);
    const auto& out = (*engine)->outputs().at(0);
    auto in_desc = (*ctx)->tensor_desc(in.name);
    auto out_desc = (*ctx)->tensor_desc(out.name);
    if (!in_desc || !out_desc || in.type != rtinfer::DataType::kFloat32 || out.type != rtinfer::DataType::kFloat32) {
        std::fprintf(stderr, "classify: expects one float32 input and output\n");
        return 1;
    }
    std::vector<float> input(element_count(*in_desc)), output(element_count(*out_desc));
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    for (float& v : input) v = uniform(rng);
    (*ctx)->set_tensor_address(in.name, input.data());
    (*ctx)->set_tensor_address(out.name, output.data());
    rtinfer::Status run = (*ctx)->enqueue();
    if (!run) {
        std::fprintf(stderr, "classify: %s\n", run.to_string().c_str());
        return 1;
    }
    const size_t classes = out_desc->dims.back();
    std::vector<size_t> order(classes);
    std::iota(order.begin(), order.end(), 0);
    const size_t k = std::min<size_t>(5, classes);
    std::partial_sort(order.begin(), order.begin() + static_cast<long>(k), order.end(),
                      [&](size_t a, size_t b) { return output[a] > output[b]; });
    for (size_t i = 0; i < k; ++i) std::printf("class %zu: %.4f\n", order[i], output[order[i]]);
    return 0;
}
