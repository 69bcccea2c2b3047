/* rtinfer C API: mirrors Builder / Engine / ExecutionContext with opaque handles.
 *
 * Every function returns an rt_status (0 = success). On failure, rt_last_error() gives the message for
 * the calling thread. Handles are created by rt_*_create / rt_*_load / rt_*_build and released by the
 * matching rt_*_destroy; a context must be destroyed before its engine. */
#ifndef RTINFER_RTINFER_H_
#define RTINFER_RTINFER_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int rt_status; /* values of rtinfer::StatusCode */
typedef struct rt_engine rt_engine;
typedef struct rt_context rt_context;

typedef enum { RT_BACKEND_CPU = 0, RT_BACKEND_CUDA = 1 } rt_backend;

typedef struct {
    rt_backend backend;
    int fp16;
    int min_batch, opt_batch, max_batch; /* 0 = default */
    uint64_t memory_budget_bytes;        /* 0 = no limit */
} rt_build_options;

/* Message of the last failed call on this thread ("" if none). Owned by the library. */
const char* rt_last_error(void);
/* The SDK version, e.g. "0.1.0". */
const char* rt_version(void);

/* Loads a plugin library (rtinfer/plugin.h) for builds and engine loads in this process; see
 * rtinfer::load_plugin_library. */
rt_status rt_load_plugin_library(const char* path);
/* Builds an engine from an ONNX file. options may be NULL (CPU, float32). *engine receives a new handle. */
rt_status rt_engine_build(const char* onnx_path, const rt_build_options* options, rt_engine** engine);
/* Loads a serialized engine file. */
rt_status rt_engine_load(const char* engine_path, rt_engine** engine);
/* Writes the engine to a file (atomically). */
rt_status rt_engine_save(const rt_engine* engine, const char* path);
void rt_engine_destroy(rt_engine* engine);

/* Number of inputs/outputs, and the name of each (owned by the engine). */
int rt_engine_num_inputs(const rt_engine* engine);
int rt_engine_num_outputs(const rt_engine* engine);
const char* rt_engine_input_name(const rt_engine* engine, int index);
const char* rt_engine_output_name(const rt_engine* engine, int index);

/* A new execution context (one per thread or stream). */
rt_status rt_context_create(const rt_engine* engine, rt_context** context);
void rt_context_destroy(rt_context* context);
rt_status rt_context_set_batch(rt_context* context, int batch);
/* Dims of a tensor at the current batch: writes up to max_dims dims and the rank to *rank. */
rt_status rt_context_tensor_shape(rt_context* context, const char* name, int64_t* dims, int max_dims, int* rank);
/* Binds caller-owned memory to an input or output. */
rt_status rt_context_set_tensor_address(rt_context* context, const char* name, void* data);
/* Runs inference; stream is a cudaStream_t for the CUDA backend, ignored by the CPU backend. */
rt_status rt_context_enqueue(rt_context* context, void* stream);

#ifdef __cplusplus
}
#endif

#endif /* RTINFER_RTINFER_H_ */
