// The element types of the rtinfer GStreamer plugin (registered in plugin.cpp).
#pragma once

#include <gst/gst.h>

namespace rtinfer::gst {

GType rtinfer_element_type();
GType rtmetasink_element_type();
GType rtoverlay_element_type();

}  // namespace rtinfer::gst
