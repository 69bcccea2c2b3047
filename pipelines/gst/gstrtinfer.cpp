// The rtinfer element: runs the model of a model.yml on every frame (or every Nth) passing through, in place,
// and attaches what it finds to the frame: one GstVideoRegionOfInterestMeta per detection (with a
// "detection" parameter: class-id, confidence) and an RtinferResultMeta with everything (rtinfer_meta.h).
// Elements of one process that name the same model.yml share one engine and batch their frames together.
#include <gst/base/gstbasetransform.h>
#include <gst/video/gstvideometa.h>
#include <gst/video/video.h>

#include <memory>
#include <string>

#include "pipelines/gst/elements.h"
#include "pipelines/gst/result_meta.h"
#include "pipelines/gst/video_frames.h"
#include "pipelines/runner/engine_cache.h"
#include "pipelines/runner/shared_model.h"

GST_DEBUG_CATEGORY_STATIC(rtinfer_debug);
#define GST_CAT_DEFAULT rtinfer_debug

namespace {

using rtinfer::pipelines::PreprocessPlace;
using rtinfer::pipelines::SharedModel;

// SDK messages into the element's debug category (GST_DEBUG=rtinfer:5 shows build progress).
class GstLogger : public rtinfer::Logger {
public:
    void log(rtinfer::Severity severity, const char* message) noexcept override {
        switch (severity) {
            case rtinfer::Severity::kError: GST_ERROR("%s", message); break;
            case rtinfer::Severity::kWarning: GST_WARNING("%s", message); break;
            case rtinfer::Severity::kInfo: GST_INFO("%s", message); break;
            default: GST_DEBUG("%s", message); break;
        }
    }
};

GstLogger* logger() {
    static auto* l = new GstLogger;  // lives as long as the process: shared models keep using it
    return l;
}

constexpr guint kDefaultMaxLatencyUs = 20000;

enum { PROP_0, PROP_CONFIG, PROP_STREAM_ID, PROP_MAX_LATENCY, PROP_PREPROCESS, PROP_ENGINE_USERS, PROP_BATCH_SIZE };

GType preprocess_enum_type() {
    static GType type = 0;
    if (g_once_init_enter(&type)) {
        static const GEnumValue values[] = {
            {static_cast<gint>(PreprocessPlace::kAuto), "GPU for the cuda backend, else the CPU", "auto"},
            {static_cast<gint>(PreprocessPlace::kCpu), "on the CPU", "cpu"},
            {static_cast<gint>(PreprocessPlace::kGpu), "on the GPU, one CUDA kernel", "gpu"},
            {0, nullptr, nullptr}};
        g_once_init_leave(&type, g_enum_register_static("RtinferPreprocess", values));
    }
    return type;
}

gint g_next_stream_id = 0;

}  // namespace

struct GstRtinfer {
    GstBaseTransform parent;
    gchar* config_path;
    gint stream_id;  // -1 until chosen
    gint configured_stream_id;
    guint max_latency_us;
    PreprocessPlace preprocess;
    // C++ members live behind a pointer: GObject zero-fills instances and never runs constructors.
    struct State {
        std::shared_ptr<SharedModel> model;
        int interval = 1;
        guint64 frames = 0;
        GstVideoInfo info;
        bool negotiated = false;
        bool counted = false;  // counted among the model's streams (not after EOS, until the stream restarts)
    }* state;
};

struct GstRtinferClass {
    GstBaseTransformClass parent_class;
};

G_DEFINE_TYPE(GstRtinfer, gst_rtinfer, GST_TYPE_BASE_TRANSFORM)

namespace {

GstRtinfer* self_of(gpointer p) { return reinterpret_cast<GstRtinfer*>(p); }

bool frame_view(const GstVideoFrame* frame, rtinfer::pipelines::FrameView* view) {
    rtinfer::gst::FrameLayout layout;
    if (!rtinfer::gst::frame_layout(frame, &layout)) return false;
    view->format = layout.format;
    view->width = layout.width;
    view->height = layout.height;
    for (int p = 0; p < 3; ++p) {
        view->planes[p] = layout.planes[p];
        view->strides[p] = layout.strides[p];
    }
    view->matrix = layout.matrix;
    view->full_range = layout.full_range;
    return true;
}

void attach(GstBuffer* buffer, const GstRtinfer* self, std::shared_ptr<const rtinfer::pipelines::FrameOutput> out) {
    int index = 0;
    for (const auto& d : out->objects) {
        const std::string label = d.label.empty() ? "class " + std::to_string(d.class_id) : d.label;
        const guint x = static_cast<guint>(std::max(0.0f, d.x1));
        const guint y = static_cast<guint>(std::max(0.0f, d.y1));
        const guint w = static_cast<guint>(std::max(0.0f, d.x2 - d.x1));
        const guint h = static_cast<guint>(std::max(0.0f, d.y2 - d.y1));
        GstVideoRegionOfInterestMeta* roi = gst_buffer_add_video_region_of_interest_meta(buffer, label.c_str(), x, y, w, h);
        roi->id = index++;
        roi->parent_id = -1;
        gst_video_region_of_interest_meta_add_param(
            roi, gst_structure_new("detection", "class-id", G_TYPE_INT, d.class_id, "confidence", G_TYPE_DOUBLE,
                                   static_cast<double>(d.confidence), "stream-id", G_TYPE_INT, self->stream_id,
                                   nullptr));
    }
    rtinfer::gst::add_result_meta(buffer, self->stream_id, self->state->frames, std::move(out));
}

gboolean rtinfer_start(GstBaseTransform* trans) {
    GstRtinfer* self = self_of(trans);
    if (self->config_path == nullptr || self->config_path[0] == '\0') {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("no model.yml: set the config property"), (nullptr));
        return FALSE;
    }
    auto config = rtinfer::config::load_model_config(self->config_path);
    if (!config) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", config.status().message().c_str()), (nullptr));
        return FALSE;
    }
    if (!config->model.onnx.empty()) {
        const auto backend = rtinfer::pipelines::choose_backend(config->model);
        auto cached = rtinfer::pipelines::engine_cache_file(config->model, backend);
        if (cached && !g_file_test(cached->c_str(), G_FILE_TEST_EXISTS)) {
            GST_ELEMENT_INFO(self, RESOURCE, SETTINGS,
                             ("building the engine for %s; it is cached in %s for later starts",
                              config->model.onnx.c_str(), cached->c_str()),
                             (nullptr));
        }
    }
    rtinfer::pipelines::SharedModelOptions options;
    options.max_latency = std::chrono::microseconds(self->max_latency_us);
    options.preprocess = self->preprocess;
    auto model = SharedModel::acquire(*config, options, logger());
    if (!model) {
        GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("%s", model.status().message().c_str()), (nullptr));
        return FALSE;
    }
    self->state->model = *model;
    self->state->interval = config->interval;
    self->state->frames = 0;
    self->state->negotiated = false;
    self->stream_id = self->configured_stream_id >= 0 ? self->configured_stream_id : g_atomic_int_add(&g_next_stream_id, 1);
    self->state->model->add_stream();
    self->state->counted = true;
    GST_INFO_OBJECT(self, "stream %d: %s, %s backend, batch up to %d, %s pre-processing", self->stream_id,
                    self->config_path, rtinfer::backend_name(self->state->model->backend()),
                    self->state->model->max_batch(), self->state->model->gpu_preprocess() ? "GPU" : "CPU");
    return TRUE;
}

gboolean rtinfer_stop(GstBaseTransform* trans) {
    GstRtinfer* self = self_of(trans);
    if (self->state->model && self->state->counted) self->state->model->remove_stream();
    self->state->counted = false;
    self->state->model.reset();
    return TRUE;
}

// Caps may change between frames (renegotiation): the next frames are read with the new format and size.
gboolean rtinfer_set_caps(GstBaseTransform* trans, GstCaps* incaps, GstCaps*) {
    GstRtinfer* self = self_of(trans);
    if (!gst_video_info_from_caps(&self->state->info, incaps)) {
        GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("cannot parse the caps %" GST_PTR_FORMAT, incaps), (nullptr));
        return FALSE;
    }
    self->state->negotiated = true;
    GST_INFO_OBJECT(self, "caps %" GST_PTR_FORMAT, incaps);
    return TRUE;
}

// The frame is only read: mapping it for writing would copy a frame that another branch of a tee also holds.
GstFlowReturn rtinfer_transform_ip(GstBaseTransform* trans, GstBuffer* buffer) {
    GstRtinfer* self = self_of(trans);
    auto& st = *self->state;
    if (!st.model) {
        GST_ELEMENT_ERROR(self, CORE, FAILED, ("no model loaded"), (nullptr));
        return GST_FLOW_ERROR;
    }
    const guint64 index = st.frames;
    if (index % static_cast<guint64>(st.interval) != 0) {
        ++st.frames;
        return GST_FLOW_OK;
    }
    if (!st.negotiated) {
        GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("a frame came before its caps"), (nullptr));
        return GST_FLOW_NOT_NEGOTIATED;
    }
    GstVideoFrame frame;
    if (!gst_video_frame_map(&frame, &st.info, buffer, GST_MAP_READ)) {
        GST_ELEMENT_ERROR(self, STREAM, FAILED, ("frame %" G_GUINT64_FORMAT ": cannot map the buffer", index), (nullptr));
        return GST_FLOW_ERROR;
    }
    rtinfer::pipelines::FrameView view;
    if (!frame_view(&frame, &view)) {
        gst_video_frame_unmap(&frame);
        GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                          ("unsupported video format %s", gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&st.info))),
                          (nullptr));
        return GST_FLOW_NOT_NEGOTIATED;
    }
    auto out = st.model->infer(view);
    gst_video_frame_unmap(&frame);
    if (!out) {
        GST_ELEMENT_ERROR(self, STREAM, FAILED, ("frame %" G_GUINT64_FORMAT ": %s", index, out.status().message().c_str()),
                          (nullptr));
        return GST_FLOW_ERROR;
    }
    attach(buffer, self, std::make_shared<const rtinfer::pipelines::FrameOutput>(std::move(*out)));
    ++st.frames;
    return GST_FLOW_OK;
}

// A stream at its end stops counting among the model's streams, so that batches stop waiting for its frames;
// it counts again when it starts over (after a flush or a new stream-start).
gboolean rtinfer_sink_event(GstBaseTransform* trans, GstEvent* event) {
    GstRtinfer* self = self_of(trans);
    auto& st = *self->state;
    if (st.model) {
        const GstEventType type = GST_EVENT_TYPE(event);
        if (type == GST_EVENT_EOS && st.counted) {
            st.model->remove_stream();
            st.counted = false;
        } else if ((type == GST_EVENT_FLUSH_STOP || type == GST_EVENT_STREAM_START) && !st.counted) {
            st.model->add_stream();
            st.counted = true;
        }
    }
    return GST_BASE_TRANSFORM_CLASS(gst_rtinfer_parent_class)->sink_event(trans, event);
}

// Downstream learns the worst wait a frame can see here: a batch that waits its max-latency, then runs.
gboolean rtinfer_query(GstBaseTransform* trans, GstPadDirection direction, GstQuery* query) {
    GstRtinfer* self = self_of(trans);
    if (direction != GST_PAD_SRC || GST_QUERY_TYPE(query) != GST_QUERY_LATENCY)
        return GST_BASE_TRANSFORM_CLASS(gst_rtinfer_parent_class)->query(trans, direction, query);
    if (!gst_pad_peer_query(GST_BASE_TRANSFORM_SINK_PAD(trans), query)) return FALSE;
    gboolean live = FALSE;
    GstClockTime min = 0, max = GST_CLOCK_TIME_NONE;
    gst_query_parse_latency(query, &live, &min, &max);
    GstClockTime ours = static_cast<GstClockTime>(self->max_latency_us) * GST_USECOND;
    if (self->state->model)
        ours += static_cast<GstClockTime>(self->state->model->inference_time().count()) * GST_USECOND;
    min += ours;
    if (GST_CLOCK_TIME_IS_VALID(max)) max += ours;
    GST_DEBUG_OBJECT(self, "latency: adding %" GST_TIME_FORMAT, GST_TIME_ARGS(ours));
    gst_query_set_latency(query, live, min, max);
    return TRUE;
}

void rtinfer_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
    GstRtinfer* self = self_of(object);
    switch (id) {
        case PROP_CONFIG:
            g_free(self->config_path);
            self->config_path = g_value_dup_string(value);
            break;
        case PROP_STREAM_ID: self->configured_stream_id = g_value_get_int(value); break;
        case PROP_MAX_LATENCY: self->max_latency_us = g_value_get_uint(value); break;
        case PROP_PREPROCESS: self->preprocess = static_cast<PreprocessPlace>(g_value_get_enum(value)); break;
        default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
    }
}

void rtinfer_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
    GstRtinfer* self = self_of(object);
    switch (id) {
        case PROP_CONFIG: g_value_set_string(value, self->config_path); break;
        case PROP_STREAM_ID:
            g_value_set_int(value, self->stream_id >= 0 ? self->stream_id : self->configured_stream_id);
            break;
        case PROP_MAX_LATENCY: g_value_set_uint(value, self->max_latency_us); break;
        case PROP_PREPROCESS: g_value_set_enum(value, static_cast<gint>(self->preprocess)); break;
        case PROP_ENGINE_USERS: g_value_set_int(value, self->state->model ? self->state->model->streams() : 0); break;
        case PROP_BATCH_SIZE: g_value_set_int(value, self->state->model ? self->state->model->max_batch() : 0); break;
        default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
    }
}

void rtinfer_finalize(GObject* object) {
    GstRtinfer* self = self_of(object);
    g_free(self->config_path);
    delete self->state;
    G_OBJECT_CLASS(gst_rtinfer_parent_class)->finalize(object);
}

}  // namespace

static void gst_rtinfer_init(GstRtinfer* self) {
    self->config_path = nullptr;
    self->stream_id = -1;
    self->configured_stream_id = -1;
    self->max_latency_us = kDefaultMaxLatencyUs;
    self->preprocess = PreprocessPlace::kAuto;
    self->state = new GstRtinfer::State;
    gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
}

static void gst_rtinfer_class_init(GstRtinferClass* klass) {
    GObjectClass* object_class = G_OBJECT_CLASS(klass);
    GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
    GstBaseTransformClass* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
    object_class->set_property = rtinfer_set_property;
    object_class->get_property = rtinfer_get_property;
    object_class->finalize = rtinfer_finalize;

    const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                GST_PARAM_MUTABLE_READY);
    const auto read_only = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    g_object_class_install_property(
        object_class, PROP_CONFIG,
        g_param_spec_string("config", "model.yml",
                            "The model.yml to run (docs/model-yml.md): the model, pre-processing, decoding. "
                            "The engine is built on first use and cached (model.engine_cache)",
                            nullptr, flags));
    g_object_class_install_property(
        object_class, PROP_STREAM_ID,
        g_param_spec_int("stream-id", "Stream id",
                         "The id written into this stream's results and metadata; -1 numbers the elements of the "
                         "process in the order they start",
                         -1, G_MAXINT, -1, flags));
    g_object_class_install_property(
        object_class, PROP_MAX_LATENCY,
        g_param_spec_uint("max-latency", "Maximum batching latency (microseconds)",
                          "How long a batch waits for frames of other streams sharing the engine before it runs "
                          "with what it has (the first user's value applies to a shared engine)",
                          0, 10000000, kDefaultMaxLatencyUs, flags));
    g_object_class_install_property(
        object_class, PROP_PREPROCESS,
        g_param_spec_enum("preprocess", "Pre-processing", "Where frames become input tensors",
                          preprocess_enum_type(), static_cast<gint>(PreprocessPlace::kAuto), flags));
    g_object_class_install_property(
        object_class, PROP_ENGINE_USERS,
        g_param_spec_int("engine-users", "Engine users", "Streams in this process that share this element's engine",
                         0, G_MAXINT, 0, read_only));
    g_object_class_install_property(
        object_class, PROP_BATCH_SIZE,
        g_param_spec_int("batch-size", "Batch size", "The most frames one inference takes (model.batch)", 0,
                         G_MAXINT, 0, read_only));

    gst_element_class_set_static_metadata(
        element_class, "rtinfer", "Filter/Analyzer/Video",
        "Runs an rtinfer model on video frames and attaches the results as metadata "
        "(GstVideoRegionOfInterestMeta per detection, RtinferResultMeta). Example: "
        "gst-launch-1.0 v4l2src ! videoconvert ! rtinfer config=model.yml ! rtoverlay ! videoconvert ! "
        "autovideosink",
        "rtinfer");
    GstCaps* caps = gst_caps_from_string(GST_VIDEO_CAPS_MAKE("{ RGB, BGR, RGBA, BGRx, GRAY8, NV12, I420 }"));
    gst_element_class_add_pad_template(element_class, gst_pad_template_new("sink", GST_PAD_SINK, GST_PAD_ALWAYS, caps));
    gst_element_class_add_pad_template(element_class, gst_pad_template_new("src", GST_PAD_SRC, GST_PAD_ALWAYS, caps));
    gst_caps_unref(caps);

    trans_class->start = rtinfer_start;
    trans_class->stop = rtinfer_stop;
    trans_class->query = rtinfer_query;
    trans_class->sink_event = rtinfer_sink_event;
    trans_class->transform_ip = rtinfer_transform_ip;
    trans_class->set_caps = rtinfer_set_caps;
    GST_DEBUG_CATEGORY_INIT(rtinfer_debug, "rtinfer", 0, "rtinfer inference element");
}

namespace rtinfer::gst {

GType rtinfer_element_type() { return gst_rtinfer_get_type(); }

}  // namespace rtinfer::gst
