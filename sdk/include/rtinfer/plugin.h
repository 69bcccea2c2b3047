/* The rtinfer plugin ABI: how a shared library adds ops that rtinfer runs as layers of an engine.
 *
 * A plugin library exports one C function, rtinfer_get_plugin_creators, that returns its creators. A
 * creator answers one op type (its name) in one ONNX domain (its namespace): it receives the ONNX node's
 * attributes and creates a plugin instance, or re-creates one from the bytes the instance serialized into
 * an engine. An instance answers shape and type inference, its workspace size, serialization, and runs on
 * the CPU (host pointers) and optionally on a CUDA stream (device pointers).
 *
 * Compatibility: plain C, std headers only, nothing throws across it. Every struct that rtinfer or a
 * plugin hands over by pointer starts with abi_version and struct_size; later ABI versions only append
 * fields, so a plugin built against an older rtinfer loads in a newer one (which reads the fields the
 * plugin's struct_size covers). rtinfer rejects a plugin whose abi_version is newer than its own.
 * rt_plugin_tensor_desc and rt_plugin_attr are passed in arrays and are frozen: they never change.
 *
 * Errors: functions that can fail return an RT_PLUGIN_* code and write a message into the caller's
 * rt_plugin_error (rt_plugin_set_error does both). rtinfer adds the layer and plugin names to it.
 *
 * Threading: rtinfer may call the functions of one instance from several threads at once (one execution
 * context each), so enqueue must keep its per-call state in the workspace, not in the instance.
 *
 * Lifetime: an instance lives until rtinfer calls its destroy; rtinfer keeps the library loaded while any
 * of its instances lives. Strings and arrays passed to a function are valid only during that call.
 */
#ifndef RTINFER_PLUGIN_H_
#define RTINFER_PLUGIN_H_

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes. */
#define RT_PLUGIN_ABI_VERSION 1u

#if defined(_WIN32)
#define RT_PLUGIN_EXPORT __declspec(dllexport)
#else
#define RT_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* Result codes of plugin functions. */
#define RT_PLUGIN_OK 0
#define RT_PLUGIN_INVALID_ARGUMENT 1 /* bad attribute, shape or serialized bytes */
#define RT_PLUGIN_UNSUPPORTED 2      /* valid, but this plugin cannot do it (type, shape, mode) */
#define RT_PLUGIN_INTERNAL 3         /* anything else, e.g. a failed allocation or CUDA call */

/* Element types; the values never change. */
typedef enum rt_plugin_dtype {
    RT_PLUGIN_DTYPE_UNDEFINED = 0, /* an omitted optional input */
    RT_PLUGIN_DTYPE_FLOAT32 = 1,
    RT_PLUGIN_DTYPE_FLOAT16 = 2, /* IEEE half, as uint16_t bits */
    RT_PLUGIN_DTYPE_INT8 = 3,
    RT_PLUGIN_DTYPE_UINT8 = 4,
    RT_PLUGIN_DTYPE_INT32 = 5,
    RT_PLUGIN_DTYPE_INT64 = 6,
    RT_PLUGIN_DTYPE_BOOL = 7, /* one byte, 0 or 1 */
    RT_PLUGIN_DTYPE_FLOAT64 = 8
} rt_plugin_dtype;

#define RT_PLUGIN_MAX_RANK 8

/* A dense row-major tensor's type and shape. Frozen (passed in arrays). */
typedef struct rt_plugin_tensor_desc {
    int32_t dtype; /* rt_plugin_dtype */
    int32_t rank;  /* 0..RT_PLUGIN_MAX_RANK */
    int64_t dims[RT_PLUGIN_MAX_RANK];
} rt_plugin_tensor_desc;

/* Attribute types, as ONNX has them (the ones plugins may take). */
typedef enum rt_plugin_attr_type {
    RT_PLUGIN_ATTR_INT = 1,
    RT_PLUGIN_ATTR_FLOAT = 2,
    RT_PLUGIN_ATTR_STRING = 3,
    RT_PLUGIN_ATTR_INTS = 4,
    RT_PLUGIN_ATTR_FLOATS = 5
} rt_plugin_attr_type;

/* One attribute of the ONNX node. Frozen (passed in arrays). */
typedef struct rt_plugin_attr {
    const char* name;
    int32_t type; /* rt_plugin_attr_type */
    int32_t reserved;
    int64_t i;            /* INT */
    double f;             /* FLOAT (the ONNX value is a float32) */
    const char* s;        /* STRING, NUL-terminated; count is its length in bytes */
    const int64_t* ints;  /* INTS */
    const float* floats;  /* FLOATS */
    size_t count;         /* elements of ints/floats, bytes of s */
} rt_plugin_attr;

/* An attribute a creator knows. rtinfer checks the node's attribute of that name has this type (and is
 * present, if required) before create is called, so the plugin can rely on it. Attributes a creator does
 * not list are passed on unchecked. */
typedef struct rt_plugin_field {
    const char* name;
    int32_t type; /* rt_plugin_attr_type */
    int32_t required;
} rt_plugin_field;

/* Where a failing function writes its message (NUL-terminated, truncated to capacity). */
typedef struct rt_plugin_error {
    char* message;
    size_t capacity;
} rt_plugin_error;

/* Writes a printf-style message into error (if any) and returns code. */
static inline int32_t rt_plugin_set_error(rt_plugin_error* error, int32_t code, const char* format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static inline int32_t rt_plugin_set_error(rt_plugin_error* error, int32_t code, const char* format, ...) {
    if (error && error->message && error->capacity) {
        va_list args;
        va_start(args, format);
        vsnprintf(error->message, error->capacity, format, args);
        va_end(args);
    }
    return code;
}

/* The tensors of one enqueue. Inputs and outputs follow the ONNX node's order; an omitted optional input
 * has a NULL pointer and an UNDEFINED desc. Pointers are host memory for enqueue_cpu and device memory for
 * enqueue_cuda. */
typedef struct rt_plugin_io {
    uint32_t abi_version;
    uint32_t struct_size;
    int32_t num_inputs;
    int32_t num_outputs;
    const rt_plugin_tensor_desc* input_descs;
    const rt_plugin_tensor_desc* output_descs;
    const void* const* inputs;
    void* const* outputs;
    void* workspace; /* get_workspace_size bytes, 256-byte aligned; NULL when that is 0 */
    size_t workspace_size;
    void* stream; /* cudaStream_t for enqueue_cuda; NULL for enqueue_cpu */
} rt_plugin_io;

typedef struct rt_plugin rt_plugin;

/* A plugin instance: one layer. Created by its creator; destroyed by rtinfer through destroy. */
struct rt_plugin {
    uint32_t abi_version; /* RT_PLUGIN_ABI_VERSION the plugin was built with */
    uint32_t struct_size; /* sizeof(rt_plugin) the plugin was built with */
    void* state;          /* the plugin's own data */

    /* Number of outputs the layer has. */
    int32_t (*get_num_outputs)(const rt_plugin* self);
    /* Output types and shapes from the inputs'. Called at build time and whenever the batch changes. */
    int32_t (*get_output_descs)(const rt_plugin* self, const rt_plugin_tensor_desc* inputs, int32_t num_inputs,
                                rt_plugin_tensor_desc* outputs, int32_t num_outputs, rt_plugin_error* error);
    /* RT_PLUGIN_OK when the plugin runs with these input and output types and shapes, else
     * RT_PLUGIN_UNSUPPORTED with the reason (e.g. "boxes must be float32"). */
    int32_t (*supports)(const rt_plugin* self, const rt_plugin_tensor_desc* inputs, int32_t num_inputs,
                        const rt_plugin_tensor_desc* outputs, int32_t num_outputs, rt_plugin_error* error);
    /* Scratch bytes one enqueue needs at these shapes (on the host for CPU, on the device for CUDA). */
    size_t (*get_workspace_size)(const rt_plugin* self, const rt_plugin_tensor_desc* inputs, int32_t num_inputs,
                                 const rt_plugin_tensor_desc* outputs, int32_t num_outputs);
    /* The bytes stored in the engine: what the creator's deserialize needs to re-create this instance. */
    size_t (*get_serialized_size)(const rt_plugin* self);
    int32_t (*serialize)(const rt_plugin* self, void* buffer, size_t size, rt_plugin_error* error);
    /* Runs the layer on the CPU, synchronously. May be NULL for a CUDA-only plugin. */
    int32_t (*enqueue_cpu)(const rt_plugin* self, const rt_plugin_io* io, rt_plugin_error* error);
    /* Launches the layer on io->stream without synchronizing, allocating or logging (it may be captured
     * into a CUDA graph). NULL: rtinfer runs enqueue_cpu on copies, like other CPU fallbacks. */
    int32_t (*enqueue_cuda)(const rt_plugin* self, const rt_plugin_io* io, rt_plugin_error* error);
    /* Frees the instance (and the struct itself, which the plugin allocated). */
    void (*destroy)(rt_plugin* self);
};

typedef struct rt_plugin_creator rt_plugin_creator;

/* Makes instances of one plugin. Creators are owned by the library and live as long as it is loaded. */
struct rt_plugin_creator {
    uint32_t abi_version; /* RT_PLUGIN_ABI_VERSION the plugin was built with */
    uint32_t struct_size; /* sizeof(rt_plugin_creator) the plugin was built with */
    const char* name;     /* the ONNX op type it answers, e.g. "EfficientNMS_TRT" */
    const char* version;  /* recorded in engines; an engine needs the same version to load */
    const char* plugin_namespace; /* the ONNX domain it answers; "" = the default domain (see below) */
    const rt_plugin_field* fields; /* the attributes it knows (may be NULL) */
    int32_t num_fields;
    void* state; /* the creator's own data */

    /* A new instance for the ONNX node `layer_name` with its attributes. NULL on failure (error set). */
    rt_plugin* (*create)(const rt_plugin_creator* self, const char* layer_name, const rt_plugin_attr* attrs,
                         int32_t num_attrs, rt_plugin_error* error);
    /* An instance from bytes its serialize wrote (read from an engine file: check them). */
    rt_plugin* (*deserialize)(const rt_plugin_creator* self, const char* layer_name, const void* data, size_t size,
                              rt_plugin_error* error);
};

/* How ONNX nodes find plugins. A node maps to the plugin whose name is its op type and whose namespace is
 * its domain; a plugin in a non-default namespace takes precedence over a built-in op of the same name
 * there. A plugin in the default namespace ("") answers its op type in the default domain when no built-in
 * op does, and in any other domain no plugin claims (so TensorRT models whose nodes are in domain "TRT" or
 * "trt.plugins" import unchanged). */

/* The entry point's name and type. host_abi_version is the loading rtinfer's RT_PLUGIN_ABI_VERSION; *count
 * receives the number of creators. The array and the creators must stay valid while the library is
 * loaded. Returning NULL (or a count < 0) refuses the load. */
#define RT_PLUGIN_ENTRY_POINT "rtinfer_get_plugin_creators"
typedef const rt_plugin_creator* const* (*rt_plugin_get_creators_fn)(uint32_t host_abi_version, int32_t* count);

/* Every plugin library defines this function (declared here so that it has C linkage and is exported). */
RT_PLUGIN_EXPORT const rt_plugin_creator* const* rtinfer_get_plugin_creators(uint32_t host_abi_version,
                                                                             int32_t* count);

#ifdef __cplusplus
}
#endif

#endif /* RTINFER_PLUGIN_H_ */
