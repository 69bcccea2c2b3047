/* The rtinfer result meta: what the rtinfer element found in a frame, attached to the frame's buffer next to
 * the standard GstVideoRegionOfInterestMeta (one per detection). Applications read it through this C API:
 *
 *   const RtinferResultMeta* meta = rtinfer_buffer_get_result_meta(buffer);
 *   for (guint i = 0; meta && i < rtinfer_result_meta_n_objects(meta); ++i) {
 *     RtinferObject o;
 *     rtinfer_result_meta_get_object(meta, i, &o);   // o.label, o.confidence, o.x1 ... in frame pixels
 *   }
 *
 * Strings and arrays handed out belong to the meta and live as long as the buffer holds it. Link the static
 * library rtinfer_gstmeta (or use the functions from the plugin's process); several copies of it in one
 * process share one registered meta type. */
#ifndef RTINFER_GST_META_H
#define RTINFER_GST_META_H

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _RtinferResultMeta {
    GstMeta meta;
    gint stream_id;        /* the rtinfer element's stream-id */
    guint64 frame_number;  /* frames the element has seen before this one on its stream */
    gint batch_size;       /* frames in the inference that produced this result */
    gpointer results;      /* private */
} RtinferResultMeta;

typedef struct {
    gint class_id;
    gfloat confidence;
    gfloat x1, y1, x2, y2; /* frame pixels */
    const gchar* label;    /* "" when the model.yml has no labels */
} RtinferObject;

typedef struct {
    gint class_id;
    gfloat score;
    const gchar* label;
} RtinferClass;

/* Where the frame lay in the network input: input_x = frame_x * scale_x + offset_x (likewise y). */
typedef struct {
    gfloat scale_x, scale_y, offset_x, offset_y;
    gint input_width, input_height;
} RtinferPlacement;

GType rtinfer_result_meta_api_get_type(void);
const GstMetaInfo* rtinfer_result_meta_get_info(void);
#define RTINFER_RESULT_META_API_TYPE (rtinfer_result_meta_api_get_type())

/* The meta on a buffer, or NULL. */
const RtinferResultMeta* rtinfer_buffer_get_result_meta(GstBuffer* buffer);

guint rtinfer_result_meta_n_objects(const RtinferResultMeta* meta);
gboolean rtinfer_result_meta_get_object(const RtinferResultMeta* meta, guint index, RtinferObject* object);
guint rtinfer_result_meta_n_classes(const RtinferResultMeta* meta);
gboolean rtinfer_result_meta_get_class(const RtinferResultMeta* meta, guint index, RtinferClass* cls);
void rtinfer_result_meta_get_placement(const RtinferResultMeta* meta, RtinferPlacement* placement);
/* Segmentation: the class of each network input pixel, height rows of width values. FALSE when none. */
gboolean rtinfer_result_meta_get_mask(const RtinferResultMeta* meta, const gint32** classes, gint* width,
                                      gint* height);
/* Raw tensors (task raw): float32 values of one frame, shape without the batch dim. */
guint rtinfer_result_meta_n_tensors(const RtinferResultMeta* meta);
gboolean rtinfer_result_meta_get_tensor(const RtinferResultMeta* meta, guint index, const gchar** name,
                                        const gfloat** data, const gint64** shape, guint* n_dims);

G_END_DECLS

#endif /* RTINFER_GST_META_H */
