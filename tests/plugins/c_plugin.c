/* A plugin written in C: the ABI header must stay plain C. CNegate (namespace test.c): y = -x, float32. */
#include <stdlib.h>

#include "rtinfer/plugin.h"

static int32_t get_num_outputs(const rt_plugin* self) {
    (void)self;
    return 1;
}

static int32_t get_output_descs(const rt_plugin* self, const rt_plugin_tensor_desc* in, int32_t n_in,
                                rt_plugin_tensor_desc* out, int32_t n_out, rt_plugin_error* error) {
    (void)self;
    (void)n_out;
    if (n_in != 1) return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "takes 1 input, got %d", (int)n_in);
    out[0] = in[0];
    return RT_PLUGIN_OK;
}

static size_t get_serialized_size(const rt_plugin* self) {
    (void)self;
    return 0;
}

static int32_t serialize(const rt_plugin* self, void* buffer, size_t size, rt_plugin_error* error) {
    (void)self;
    (void)buffer;
    (void)size;
    (void)error;
    return RT_PLUGIN_OK;
}

static int32_t enqueue_cpu(const rt_plugin* self, const rt_plugin_io* io, rt_plugin_error* error) {
    int64_t n = 1, i;
    int32_t d;
    const float* x = (const float*)io->inputs[0];
    float* y = (float*)io->outputs[0];
    (void)self;
    if (io->input_descs[0].dtype != RT_PLUGIN_DTYPE_FLOAT32) {
        return rt_plugin_set_error(error, RT_PLUGIN_UNSUPPORTED, "x must be float32");
    }
    for (d = 0; d < io->input_descs[0].rank; ++d) n *= io->input_descs[0].dims[d];
    for (i = 0; i < n; ++i) y[i] = -x[i];
    return RT_PLUGIN_OK;
}

static void destroy(rt_plugin* self) { free(self); }

static rt_plugin* make(rt_plugin_error* error) {
    rt_plugin* p = (rt_plugin*)calloc(1, sizeof(rt_plugin));
    if (!p) {
        rt_plugin_set_error(error, RT_PLUGIN_INTERNAL, "out of memory");
        return NULL;
    }
    p->abi_version = RT_PLUGIN_ABI_VERSION;
    p->struct_size = sizeof(rt_plugin);
    p->get_num_outputs = get_num_outputs;
    p->get_output_descs = get_output_descs;
    p->get_serialized_size = get_serialized_size;
    p->serialize = serialize;
    p->enqueue_cpu = enqueue_cpu;
    p->destroy = destroy;
    return p;
}

static rt_plugin* create(const rt_plugin_creator* self, const char* layer, const rt_plugin_attr* attrs, int32_t n,
                         rt_plugin_error* error) {
    (void)self;
    (void)layer;
    (void)attrs;
    (void)n;
    return make(error);
}

static rt_plugin* deserialize(const rt_plugin_creator* self, const char* layer, const void* data, size_t size,
                              rt_plugin_error* error) {
    (void)self;
    (void)layer;
    (void)data;
    (void)size;
    return make(error);
}

static const rt_plugin_creator kCreator = {RT_PLUGIN_ABI_VERSION, sizeof(rt_plugin_creator), "CNegate", "1", "test.c",
                                           NULL, 0, NULL, create, deserialize};
static const rt_plugin_creator* const kCreators[] = {&kCreator};

const rt_plugin_creator* const* rtinfer_get_plugin_creators(uint32_t host_abi_version, int32_t* count) {
    (void)host_abi_version;
    *count = 1;
    return kCreators;
}
