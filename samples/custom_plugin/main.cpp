// Builds a model that uses the ScaledClamp plugin, saves and reloads the engine, runs it and checks the
// result: the whole life of a custom op.
//   custom_plugin <libscaled_clamp_plugin.so> <scaled_clamp.onnx>
#include <rtinfer/builder.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace {

int fail(const char* what, const rtinfer::Status& s) {
    std::fprintf(stderr, "custom_plugin: %s: %s\n", what, s.to_string().c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: custom_plugin <plugin library> <model.onnx>\n");
        return 2;
    }
    // The plugin must be loaded before building, and again (in a new process) before loading the engine.
    rtinfer::Status s = rtinfer::load_plugin_library(argv[1]);
    if (!s) return fail("loading the plugin", s);

    rtinfer::StderrLogger logger;
    rtinfer::Builder builder(&logger);
    rtinfer::BuilderConfig config;
    config.min_batch = 1;
    config.opt_batch = 2;
    config.max_batch = 4;
    auto built = builder.build_from_file(argv[2], config);
    if (!built) return fail("building", built.status());
    const std::string engine_path = std::string(argv[2]) + ".engine";
    s = (*built)->save(engine_path);
    if (!s) return fail("saving", s);
    auto engine = rtinfer::Engine::load_file(engine_path, &logger);
    if (!engine) return fail("loading the engine", engine.status());
    for (const auto& layer : (*engine)->layers()) std::printf("layer %s (%s)\n", layer.name.c_str(), layer.op_type.c_str());

    auto ctx = (*engine)->create_context();
    if (!ctx) return fail("creating a context", ctx.status());
    const int batch = 3;
    std::vector<float> x(batch * 8), y(x.size());
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) * 0.25f - 2.9f;
    if (!(s = (*ctx)->set_batch(batch)) || !(s = (*ctx)->set_tensor_address("x", x.data())) ||
        !(s = (*ctx)->set_tensor_address("y", y.data())) || !(s = (*ctx)->enqueue())) {
        return fail("running", s);
    }
    int wrong = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        const float want = std::max(0.0f, std::min(std::max(x[i] * 2.0f, -1.0f), 1.5f));
        if (std::fabs(y[i] - want) > 1e-6f) ++wrong;
    }
    std::printf("batch %d, item 1: x =", batch);
    for (size_t i = 8; i < 16; ++i) std::printf(" %.2f", x[i]);
    std::printf("\n                 y =");
    for (size_t i = 8; i < 16; ++i) std::printf(" %.2f", y[i]);
    std::printf("\n%s\n", wrong ? "MISMATCH" : "ok: y = relu(clamp(2x, -1, 1.5))");
    std::remove(engine_path.c_str());
    return wrong ? 1 : 0;
}
