// The rtinfer GStreamer plugin: rtinfer (inference), rtoverlay (drawing results) and rtmetasink (JSON lines).
#include <gst/gst.h>

#include "pipelines/gst/elements.h"
#include "pipelines/gst/rtinfer_meta.h"

#ifndef PACKAGE
#define PACKAGE "rtinfer"
#endif

namespace {

gboolean plugin_init(GstPlugin* plugin) {
    rtinfer_result_meta_get_info();
    gboolean ok = gst_element_register(plugin, "rtinfer", GST_RANK_NONE, rtinfer::gst::rtinfer_element_type()) &&
                  gst_element_register(plugin, "rtmetasink", GST_RANK_NONE, rtinfer::gst::rtmetasink_element_type());
#ifdef RTINFER_GST_OVERLAY
    ok = ok && gst_element_register(plugin, "rtoverlay", GST_RANK_NONE, rtinfer::gst::rtoverlay_element_type());
#endif
    return ok;
}

}  // namespace

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, rtinfer, "rtinfer: on-device inference on video frames",
                  plugin_init, RTINFER_VERSION_STRING, "Proprietary", "rtinfer", "rtinfer")
