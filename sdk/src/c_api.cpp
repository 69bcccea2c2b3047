// The C API: thin wrappers that turn Status into codes and a thread-local message.
#include "rtinfer/rtinfer.h"

#include <memory>
#include <string>

#include "rtinfer/builder.h"

struct rt_engine {
    std::unique_ptr<rtinfer::Engine> engine;
};

struct rt_context {
    std::unique_ptr<rtinfer::ExecutionContext> context;
};

namespace {

thread_local std::string g_last_error;

rt_status report(const rtinfer::Status& s) {
    g_last_error = s.is_ok() ? std::string() : s.to_string();
    return static_cast<rt_status>(s.code());
}

rt_status null_argument(const char* what) {
    return report(rtinfer::Status(rtinfer::StatusCode::kInvalidArgument, std::string(what) + " is null"));
}

}  // namespace

extern "C" {

const char* rt_last_error(void) { return g_last_error.c_str(); }
const char* rt_version(void) { return RTINFER_VERSION; }

rt_status rt_load_plugin_library(const char* path) {
    if (!path) return null_argument("path");
    return report(rtinfer::load_plugin_library(path));
}

rt_status rt_engine_build(const char* onnx_path, const rt_build_options* options, rt_engine** engine) {
    if (!onnx_path || !engine) return null_argument(!onnx_path ? "onnx_path" : "engine");
    rtinfer::BuilderConfig config;
    if (options) {
        config.backend = options->backend == RT_BACKEND_CUDA ? rtinfer::Backend::kCuda : rtinfer::Backend::kCpu;
        config.fp16 = options->fp16 != 0;
        config.min_batch = options->min_batch;
        config.opt_batch = options->opt_batch;
        config.max_batch = options->max_batch;
        config.memory_budget_bytes = options->memory_budget_bytes;
    }
    rtinfer::Builder builder;
    auto built = builder.build_from_file(onnx_path, config);
    if (!built.has_value()) return report(built.status());
    *engine = new rt_engine{std::move(built).value()};
    return report(rtinfer::Status());
}

rt_status rt_engine_load(const char* engine_path, rt_engine** engine) {
    if (!engine_path || !engine) return null_argument(!engine_path ? "engine_path" : "engine");
    auto loaded = rtinfer::Engine::load_file(engine_path);
    if (!loaded.has_value()) return report(loaded.status());
    *engine = new rt_engine{std::move(loaded).value()};
    return report(rtinfer::Status());
}

rt_status rt_engine_save(const rt_engine* engine, const char* path) {
    if (!engine || !path) return null_argument(!engine ? "engine" : "path");
    return report(engine->engine->save(path));
}

void rt_engine_destroy(rt_engine* engine) { delete engine; }

int rt_engine_num_inputs(const rt_engine* engine) { return engine ? static_cast<int>(engine->engine->inputs().size()) : 0; }
int rt_engine_num_outputs(const rt_engine* engine) { return engine ? static_cast<int>(engine->engine->outputs().size()) : 0; }

const char* rt_engine_input_name(const rt_engine* engine, int index) {
    if (!engine || index < 0 || index >= rt_engine_num_inputs(engine)) return nullptr;
    return engine->engine->inputs()[static_cast<size_t>(index)].name.c_str();
}

const char* rt_engine_output_name(const rt_engine* engine, int index) {
    if (!engine || index < 0 || index >= rt_engine_num_outputs(engine)) return nullptr;
    return engine->engine->outputs()[static_cast<size_t>(index)].name.c_str();
}

rt_status rt_context_create(const rt_engine* engine, rt_context** context) {
    if (!engine || !context) return null_argument(!engine ? "engine" : "context");
    auto ctx = engine->engine->create_context();
    if (!ctx.has_value()) return report(ctx.status());
    *context = new rt_context{std::move(ctx).value()};
    return report(rtinfer::Status());
}

void rt_context_destroy(rt_context* context) { delete context; }

rt_status rt_context_set_batch(rt_context* context, int batch) {
    if (!context) return null_argument("context");
    return report(context->context->set_batch(batch));
}

rt_status rt_context_tensor_shape(rt_context* context, const char* name, int64_t* dims, int max_dims, int* rank) {
    if (!context || !name || !rank) return null_argument(!context ? "context" : !name ? "name" : "rank");
    auto desc = context->context->tensor_desc(name);
    if (!desc.has_value()) return report(desc.status());
    *rank = static_cast<int>(desc->dims.size());
    for (int i = 0; i < *rank && i < max_dims && dims; ++i) dims[i] = desc->dims[static_cast<size_t>(i)];
    return report(rtinfer::Status());
}

rt_status rt_context_set_tensor_address(rt_context* context, const char* name, void* data) {
    if (!context || !name) return null_argument(!context ? "context" : "name");
    return report(context->context->set_tensor_address(name, data));
}

rt_status rt_context_enqueue(rt_context* context, void* stream) {
    if (!context) return null_argument("context");
    return report(context->context->enqueue(stream));
}

}  // extern "C"
