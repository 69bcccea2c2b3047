// rtmetasink: writes one JSON line per frame (pipelines/metadata/json_lines.h) to a file or to stdout, from
// the rtinfer result meta, or from plain GstVideoRegionOfInterestMeta when a frame has no rtinfer meta.
#include <gst/base/gstbasesink.h>
#include <gst/video/gstvideometa.h>
#include <gst/video/video.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "pipelines/gst/elements.h"
#include "pipelines/gst/result_meta.h"
#include "pipelines/gst/video_frames.h"
#include "pipelines/metadata/json_lines.h"

GST_DEBUG_CATEGORY_STATIC(rtmetasink_debug);
#define GST_CAT_DEFAULT rtmetasink_debug

namespace {

enum { PROP_0, PROP_LOCATION };

}  // namespace

struct GstRtMetaSink {
    GstBaseSink parent;
    gchar* location;  // NULL or "-": stdout
    FILE* file;
    gint width, height;
    guint64 frames;
};

struct GstRtMetaSinkClass {
    GstBaseSinkClass parent_class;
};

G_DEFINE_TYPE(GstRtMetaSink, gst_rt_meta_sink, GST_TYPE_BASE_SINK)

namespace {

GstRtMetaSink* self_of(gpointer p) { return reinterpret_cast<GstRtMetaSink*>(p); }

bool to_stdout(const GstRtMetaSink* self) {
    return self->location == nullptr || self->location[0] == '\0' || std::strcmp(self->location, "-") == 0;
}

gboolean metasink_start(GstBaseSink* sink) {
    GstRtMetaSink* self = self_of(sink);
    self->frames = 0;
    if (to_stdout(self)) {
        self->file = stdout;
        return TRUE;
    }
    self->file = std::fopen(self->location, "w");
    if (self->file == nullptr) {
        GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                          ("cannot write the metadata file %s: %s", self->location, std::strerror(errno)), (nullptr));
        return FALSE;
    }
    return TRUE;
}

gboolean metasink_stop(GstBaseSink* sink) {
    GstRtMetaSink* self = self_of(sink);
    bool ok = true;
    if (self->file != nullptr && self->file != stdout) ok = std::fclose(self->file) == 0;
    else if (self->file != nullptr) std::fflush(stdout);
    self->file = nullptr;
    if (!ok) {
        GST_ELEMENT_ERROR(self, RESOURCE, CLOSE, ("cannot finish the metadata file %s: %s", self->location,
                                                  std::strerror(errno)), (nullptr));
        return FALSE;
    }
    return TRUE;
}

gboolean metasink_set_caps(GstBaseSink* sink, GstCaps* caps) {
    GstRtMetaSink* self = self_of(sink);
    GstVideoInfo info;
    if (!gst_video_info_from_caps(&info, caps)) {
        self->width = self->height = 0;  // not raw video: the lines leave the size at 0
        return TRUE;
    }
    self->width = GST_VIDEO_INFO_WIDTH(&info);
    self->height = GST_VIDEO_INFO_HEIGHT(&info);
    return TRUE;
}

rtinfer::pipelines::FrameResults frame_results(GstRtMetaSink* self, GstBuffer* buffer) {
    rtinfer::pipelines::FrameResults r;
    r.width = self->width;
    r.height = self->height;
    r.pts_ns = GST_BUFFER_PTS_IS_VALID(buffer) ? static_cast<int64_t>(GST_BUFFER_PTS(buffer)) : -1;
    r.frame = static_cast<int64_t>(self->frames);
    if (const RtinferResultMeta* meta = rtinfer_buffer_get_result_meta(buffer)) {
        const auto& out = rtinfer::gst::results_of(*meta);
        r.stream = meta->stream_id;
        r.frame = static_cast<int64_t>(meta->frame_number);
        r.objects = out.objects;
        r.classes = out.classes;
        return r;
    }
    r.objects = rtinfer::gst::roi_detections(buffer);
    return r;
}

GstFlowReturn metasink_render(GstBaseSink* sink, GstBuffer* buffer) {
    GstRtMetaSink* self = self_of(sink);
    const std::string line = rtinfer::pipelines::to_json_line(frame_results(self, buffer)) + "\n";
    ++self->frames;
    // One line at a time, flushed: a reader following the file sees whole frames as they come.
    if (std::fwrite(line.data(), 1, line.size(), self->file) != line.size() || std::fflush(self->file) != 0) {
        GST_ELEMENT_ERROR(self, RESOURCE, WRITE,
                          ("cannot write to the metadata file %s: %s", to_stdout(self) ? "stdout" : self->location,
                           std::strerror(errno)),
                          (nullptr));
        return GST_FLOW_ERROR;
    }
    return GST_FLOW_OK;
}

void metasink_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
    GstRtMetaSink* self = self_of(object);
    switch (id) {
        case PROP_LOCATION:
            g_free(self->location);
            self->location = g_value_dup_string(value);
            break;
        default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
    }
}

void metasink_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
    GstRtMetaSink* self = self_of(object);
    switch (id) {
        case PROP_LOCATION: g_value_set_string(value, self->location); break;
        default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
    }
}

void metasink_finalize(GObject* object) {
    g_free(self_of(object)->location);
    G_OBJECT_CLASS(gst_rt_meta_sink_parent_class)->finalize(object);
}

}  // namespace

static void gst_rt_meta_sink_init(GstRtMetaSink* self) {
    self->location = nullptr;
    self->file = nullptr;
    self->width = self->height = 0;
    self->frames = 0;
    gst_base_sink_set_sync(GST_BASE_SINK(self), FALSE);
}

static void gst_rt_meta_sink_class_init(GstRtMetaSinkClass* klass) {
    GObjectClass* object_class = G_OBJECT_CLASS(klass);
    GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
    GstBaseSinkClass* sink_class = GST_BASE_SINK_CLASS(klass);
    object_class->set_property = metasink_set_property;
    object_class->get_property = metasink_get_property;
    object_class->finalize = metasink_finalize;
    g_object_class_install_property(
        object_class, PROP_LOCATION,
        g_param_spec_string("location", "File",
                            "Where the JSON lines go (one per frame: stream, frame, pts_ns, width, height, objects, "
                            "classes); unset or \"-\" for stdout",
                            nullptr,
                            static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                     GST_PARAM_MUTABLE_READY)));
    gst_element_class_set_static_metadata(
        element_class, "rtmetasink", "Sink/Metadata",
        "Writes the inference results of each frame as one JSON line. Example: gst-launch-1.0 filesrc "
        "location=v.mp4 ! decodebin ! videoconvert ! rtinfer config=model.yml ! rtmetasink location=out.jsonl",
        "rtinfer");
    GstCaps* caps = gst_caps_new_any();
    gst_element_class_add_pad_template(element_class, gst_pad_template_new("sink", GST_PAD_SINK, GST_PAD_ALWAYS, caps));
    gst_caps_unref(caps);
    sink_class->start = metasink_start;
    sink_class->stop = metasink_stop;
    sink_class->set_caps = metasink_set_caps;
    sink_class->render = metasink_render;
    GST_DEBUG_CATEGORY_INIT(rtmetasink_debug, "rtmetasink", 0, "rtinfer metadata sink");
}

namespace rtinfer::gst {

GType rtmetasink_element_type() { return gst_rt_meta_sink_get_type(); }

}  // namespace rtinfer::gst
