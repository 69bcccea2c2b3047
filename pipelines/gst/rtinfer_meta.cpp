#include "pipelines/gst/result_meta.h"

namespace {

using Results = std::shared_ptr<const rtinfer::pipelines::FrameOutput>;

const rtinfer::pipelines::FrameOutput& empty_results() {
    static const auto* empty = new rtinfer::pipelines::FrameOutput;
    return *empty;
}

gboolean meta_init(GstMeta* meta, gpointer, GstBuffer*) {
    auto* m = reinterpret_cast<RtinferResultMeta*>(meta);
    m->stream_id = 0;
    m->frame_number = 0;
    m->batch_size = 0;
    m->results = nullptr;
    return TRUE;
}

void meta_free(GstMeta* meta, GstBuffer*) {
    auto* m = reinterpret_cast<RtinferResultMeta*>(meta);
    delete static_cast<Results*>(m->results);
    m->results = nullptr;
}

gboolean meta_transform(GstBuffer* dest, GstMeta* meta, GstBuffer*, GQuark type, gpointer data) {
    const auto* m = reinterpret_cast<const RtinferResultMeta*>(meta);
    // Copies keep the results; scaling or cropping would move the boxes, so those drop the meta.
    if (!GST_META_TRANSFORM_IS_COPY(type)) return TRUE;
    auto* copy = reinterpret_cast<GstMetaTransformCopy*>(data);
    if (copy->region) return TRUE;
    Results results = m->results ? *static_cast<const Results*>(m->results) : Results();
    RtinferResultMeta* out = rtinfer::gst::add_result_meta(dest, m->stream_id, m->frame_number, results);
    if (out) out->batch_size = m->batch_size;
    return out != nullptr;
}

const rtinfer::pipelines::FrameOutput& results(const RtinferResultMeta* meta) {
    if (meta == nullptr || meta->results == nullptr) return empty_results();
    const Results& r = *static_cast<const Results*>(meta->results);
    return r ? *r : empty_results();
}

}  // namespace

extern "C" {

GType rtinfer_result_meta_api_get_type(void) {
    static GType type = 0;
    if (g_once_init_enter(&type)) {
        // Another copy of this library in the process may have registered it already.
        GType t = g_type_from_name("RtinferResultMetaAPI");
        if (t == 0) {
            static const gchar* tags[] = {nullptr};
            t = gst_meta_api_type_register("RtinferResultMetaAPI", tags);
        }
        g_once_init_leave(&type, t);
    }
    return type;
}

const GstMetaInfo* rtinfer_result_meta_get_info(void) {
    static const GstMetaInfo* info = nullptr;
    if (g_once_init_enter(&info)) {
        const GstMetaInfo* i = gst_meta_get_info("RtinferResultMeta");
        if (i == nullptr) {
            i = gst_meta_register(rtinfer_result_meta_api_get_type(), "RtinferResultMeta", sizeof(RtinferResultMeta),
                                  meta_init, meta_free, meta_transform);
        }
        g_once_init_leave(&info, i);
    }
    return info;
}

const RtinferResultMeta* rtinfer_buffer_get_result_meta(GstBuffer* buffer) {
    if (buffer == nullptr) return nullptr;
    return reinterpret_cast<const RtinferResultMeta*>(
        gst_buffer_get_meta(buffer, rtinfer_result_meta_api_get_type()));
}

guint rtinfer_result_meta_n_objects(const RtinferResultMeta* meta) {
    return static_cast<guint>(results(meta).objects.size());
}

gboolean rtinfer_result_meta_get_object(const RtinferResultMeta* meta, guint index, RtinferObject* object) {
    const auto& objects = results(meta).objects;
    if (object == nullptr || index >= objects.size()) return FALSE;
    const auto& d = objects[index];
    *object = {d.class_id, d.confidence, d.x1, d.y1, d.x2, d.y2, d.label.c_str()};
    return TRUE;
}

guint rtinfer_result_meta_n_classes(const RtinferResultMeta* meta) {
    return static_cast<guint>(results(meta).classes.size());
}

gboolean rtinfer_result_meta_get_class(const RtinferResultMeta* meta, guint index, RtinferClass* cls) {
    const auto& classes = results(meta).classes;
    if (cls == nullptr || index >= classes.size()) return FALSE;
    const auto& c = classes[index];
    *cls = {c.class_id, c.score, c.label.c_str()};
    return TRUE;
}

void rtinfer_result_meta_get_placement(const RtinferResultMeta* meta, RtinferPlacement* placement) {
    if (placement == nullptr) return;
    const auto& r = results(meta);
    *placement = {r.placement.scale_x,  r.placement.scale_y, r.placement.offset_x,
                  r.placement.offset_y, r.input_width,       r.input_height};
}

gboolean rtinfer_result_meta_get_mask(const RtinferResultMeta* meta, const gint32** classes, gint* width,
                                      gint* height) {
    const auto& r = results(meta);
    if (r.mask.empty()) return FALSE;
    if (classes) *classes = r.mask.data();
    if (width) *width = r.mask_width;
    if (height) *height = r.mask_height;
    return TRUE;
}

guint rtinfer_result_meta_n_tensors(const RtinferResultMeta* meta) {
    return static_cast<guint>(results(meta).tensors.size());
}

gboolean rtinfer_result_meta_get_tensor(const RtinferResultMeta* meta, guint index, const gchar** name,
                                        const gfloat** data, const gint64** shape, guint* n_dims) {
    const auto& tensors = results(meta).tensors;
    if (index >= tensors.size()) return FALSE;
    const auto& t = tensors[index];
    if (name) *name = t.name.c_str();
    if (data) *data = t.data.data();
    if (shape) *shape = reinterpret_cast<const gint64*>(t.shape.data());
    if (n_dims) *n_dims = static_cast<guint>(t.shape.size());
    return TRUE;
}

}  // extern "C"

namespace rtinfer::gst {

RtinferResultMeta* add_result_meta(GstBuffer* buffer, int stream_id, uint64_t frame_number,
                                   std::shared_ptr<const pipelines::FrameOutput> results) {
    auto* meta = reinterpret_cast<RtinferResultMeta*>(gst_buffer_add_meta(buffer, rtinfer_result_meta_get_info(), nullptr));
    if (meta == nullptr) return nullptr;
    meta->stream_id = stream_id;
    meta->frame_number = frame_number;
    meta->batch_size = results ? results->batch_size : 0;
    meta->results = new Results(std::move(results));
    return meta;
}

const pipelines::FrameOutput& results_of(const RtinferResultMeta& meta) { return results(&meta); }

}  // namespace rtinfer::gst
