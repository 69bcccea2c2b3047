// rtoverlay: draws what rtinfer found onto the frame, in place: the segmentation mask (blended), detection
// boxes with "label confidence" tags, and classifier lines; one colour per class. Frames without an rtinfer
// result meta get their GstVideoRegionOfInterestMeta boxes drawn instead.
#include <gst/video/gstvideofilter.h>
#include <gst/video/gstvideometa.h>
#include <gst/video/video.h>

#include "pipelines/gst/elements.h"
#include "pipelines/gst/result_meta.h"
#include "pipelines/gst/video_frames.h"
#include "pipelines/overlay/overlay.h"

GST_DEBUG_CATEGORY_STATIC(rtoverlay_debug);
#define GST_CAT_DEFAULT rtoverlay_debug

namespace {

enum { PROP_0, PROP_LINE_WIDTH, PROP_MASK_ALPHA, PROP_SHOW_LABELS, PROP_SHOW_CONFIDENCE };

}  // namespace

struct GstRtOverlay {
    GstVideoFilter parent;
    gint line_width;
    gfloat mask_alpha;
    gboolean show_labels;
    gboolean show_confidence;
};

struct GstRtOverlayClass {
    GstVideoFilterClass parent_class;
};

G_DEFINE_TYPE(GstRtOverlay, gst_rt_overlay, GST_TYPE_VIDEO_FILTER)

namespace {

GstRtOverlay* self_of(gpointer p) { return reinterpret_cast<GstRtOverlay*>(p); }

bool mutable_frame(GstVideoFrame* frame, rtinfer::pipelines::MutableFrame* out) {
    rtinfer::gst::FrameLayout layout;
    if (!rtinfer::gst::frame_layout(frame, &layout) || layout.format == rtinfer::pipelines::PixelFormat::kGray8)
        return false;
    out->format = layout.format;
    out->width = layout.width;
    out->height = layout.height;
    for (int p = 0; p < 3; ++p) {
        out->planes[p] = layout.planes[p];
        out->strides[p] = layout.strides[p];
    }
    out->matrix = layout.matrix;
    out->full_range = layout.full_range;
    return true;
}

GstFlowReturn overlay_transform_frame_ip(GstVideoFilter* filter, GstVideoFrame* frame) {
    GstRtOverlay* self = self_of(filter);
    rtinfer::pipelines::MutableFrame target;
    if (!mutable_frame(frame, &target)) {
        GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                          ("unsupported video format %s", gst_video_format_to_string(GST_VIDEO_FRAME_FORMAT(frame))),
                          (nullptr));
        return GST_FLOW_NOT_NEGOTIATED;
    }
    rtinfer::pipelines::OverlayStyle style;
    style.line_width = self->line_width;
    style.mask_alpha = self->mask_alpha;
    style.show_labels = self->show_labels;
    style.show_confidence = self->show_confidence;
    rtinfer::Status s;
    if (const RtinferResultMeta* meta = rtinfer_buffer_get_result_meta(frame->buffer)) {
        const auto& r = rtinfer::gst::results_of(*meta);
        if (!r.mask.empty()) {
            s = rtinfer::pipelines::draw_class_mask(target, r.mask.data(), r.mask_width, r.mask_height, r.placement,
                                                    r.input_width, r.input_height, style);
        }
        if (s.is_ok()) s = rtinfer::pipelines::draw_detections(target, r.objects, style);
        if (s.is_ok() && !r.classes.empty()) s = rtinfer::pipelines::draw_classes(target, r.classes, style);
    } else {
        s = rtinfer::pipelines::draw_detections(target, rtinfer::gst::roi_detections(frame->buffer), style);
    }
    if (!s.is_ok()) {
        GST_ELEMENT_ERROR(self, STREAM, FAILED, ("%s", s.message().c_str()), (nullptr));
        return GST_FLOW_ERROR;
    }
    return GST_FLOW_OK;
}

void overlay_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
    GstRtOverlay* self = self_of(object);
    switch (id) {
        case PROP_LINE_WIDTH: self->line_width = g_value_get_int(value); break;
        case PROP_MASK_ALPHA: self->mask_alpha = g_value_get_float(value); break;
        case PROP_SHOW_LABELS: self->show_labels = g_value_get_boolean(value); break;
        case PROP_SHOW_CONFIDENCE: self->show_confidence = g_value_get_boolean(value); break;
        default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
    }
}

void overlay_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
    GstRtOverlay* self = self_of(object);
    switch (id) {
        case PROP_LINE_WIDTH: g_value_set_int(value, self->line_width); break;
        case PROP_MASK_ALPHA: g_value_set_float(value, self->mask_alpha); break;
        case PROP_SHOW_LABELS: g_value_set_boolean(value, self->show_labels); break;
        case PROP_SHOW_CONFIDENCE: g_value_set_boolean(value, self->show_confidence); break;
        default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
    }
}

}  // namespace

static void gst_rt_overlay_init(GstRtOverlay* self) {
    const rtinfer::pipelines::OverlayStyle style;
    self->line_width = style.line_width;
    self->mask_alpha = style.mask_alpha;
    self->show_labels = style.show_labels;
    self->show_confidence = style.show_confidence;
}

static void gst_rt_overlay_class_init(GstRtOverlayClass* klass) {
    GObjectClass* object_class = G_OBJECT_CLASS(klass);
    GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
    object_class->set_property = overlay_set_property;
    object_class->get_property = overlay_get_property;
    const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
    const rtinfer::pipelines::OverlayStyle style;
    g_object_class_install_property(object_class, PROP_LINE_WIDTH,
                                    g_param_spec_int("line-width", "Line width", "Box outline width in pixels", 1, 64,
                                                     style.line_width, flags));
    g_object_class_install_property(
        object_class, PROP_MASK_ALPHA,
        g_param_spec_float("mask-alpha", "Mask opacity", "Weight of the class colour where a segmentation mask is "
                                                          "blended", 0.0f, 1.0f, style.mask_alpha, flags));
    g_object_class_install_property(object_class, PROP_SHOW_LABELS,
                                    g_param_spec_boolean("show-labels", "Show labels", "Write the class name on each box",
                                                         style.show_labels, flags));
    g_object_class_install_property(
        object_class, PROP_SHOW_CONFIDENCE,
        g_param_spec_boolean("show-confidence", "Show confidence", "Write the confidence after the label",
                             style.show_confidence, flags));
    gst_element_class_set_static_metadata(
        element_class, "rtoverlay", "Filter/Effect/Video",
        "Draws rtinfer results on the frame: boxes with labels and confidence, classes, masks; one colour per "
        "class. Example: gst-launch-1.0 v4l2src ! videoconvert ! rtinfer config=model.yml ! rtoverlay ! "
        "videoconvert ! autovideosink",
        "rtinfer");
    GstCaps* caps = gst_caps_from_string(GST_VIDEO_CAPS_MAKE("{ RGB, BGR, RGBA, BGRx, NV12, I420 }"));
    gst_element_class_add_pad_template(element_class, gst_pad_template_new("sink", GST_PAD_SINK, GST_PAD_ALWAYS, caps));
    gst_element_class_add_pad_template(element_class, gst_pad_template_new("src", GST_PAD_SRC, GST_PAD_ALWAYS, caps));
    gst_caps_unref(caps);
    GST_VIDEO_FILTER_CLASS(klass)->transform_frame_ip = overlay_transform_frame_ip;
    GST_DEBUG_CATEGORY_INIT(rtoverlay_debug, "rtoverlay", 0, "rtinfer overlay");
}

namespace rtinfer::gst {

GType rtoverlay_element_type() { return gst_rt_overlay_get_type(); }

}  // namespace rtinfer::gst
