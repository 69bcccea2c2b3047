#include "pipelines/gst/video_frames.h"

#include <gst/video/gstvideometa.h>

namespace rtinfer::gst {

bool pixel_format_of(GstVideoFormat format, pipelines::PixelFormat* out) {
    using pipelines::PixelFormat;
    switch (format) {
        case GST_VIDEO_FORMAT_RGB: *out = PixelFormat::kRgb; return true;
        case GST_VIDEO_FORMAT_BGR: *out = PixelFormat::kBgr; return true;
        case GST_VIDEO_FORMAT_RGBA: *out = PixelFormat::kRgba; return true;
        case GST_VIDEO_FORMAT_BGRx: *out = PixelFormat::kBgrx; return true;
        case GST_VIDEO_FORMAT_GRAY8: *out = PixelFormat::kGray8; return true;
        case GST_VIDEO_FORMAT_NV12: *out = PixelFormat::kNv12; return true;
        case GST_VIDEO_FORMAT_I420: *out = PixelFormat::kI420; return true;
        default: return false;
    }
}

bool frame_layout(const GstVideoFrame* frame, FrameLayout* out) {
    if (!pixel_format_of(GST_VIDEO_FRAME_FORMAT(frame), &out->format)) return false;
    out->width = GST_VIDEO_FRAME_WIDTH(frame);
    out->height = GST_VIDEO_FRAME_HEIGHT(frame);
    for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(frame) && p < 3; ++p) {
        out->planes[p] = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(frame, p));
        out->strides[p] = GST_VIDEO_FRAME_PLANE_STRIDE(frame, p);
    }
    const GstVideoColorimetry& c = GST_VIDEO_INFO_COLORIMETRY(&frame->info);
    out->matrix =
        c.matrix == GST_VIDEO_COLOR_MATRIX_BT601 ? pipelines::YuvMatrix::kBt601 : pipelines::YuvMatrix::kBt709;
    out->full_range = c.range == GST_VIDEO_COLOR_RANGE_0_255;
    return true;
}

std::vector<pipelines::Detection> roi_detections(GstBuffer* buffer) {
    std::vector<pipelines::Detection> out;
    gpointer state = nullptr;
    while (GstMeta* m = gst_buffer_iterate_meta_filtered(buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)) {
        auto* roi = reinterpret_cast<GstVideoRegionOfInterestMeta*>(m);
        pipelines::Detection d;
        d.x1 = static_cast<float>(roi->x);
        d.y1 = static_cast<float>(roi->y);
        d.x2 = static_cast<float>(roi->x + roi->w);
        d.y2 = static_cast<float>(roi->y + roi->h);
        d.class_id = -1;
        if (roi->roi_type) d.label = g_quark_to_string(roi->roi_type);
        if (GstStructure* s = gst_video_region_of_interest_meta_get_param(roi, "detection")) {
            gint id = -1;
            gdouble confidence = 0.0;
            if (gst_structure_get_int(s, "class-id", &id)) d.class_id = id;
            if (gst_structure_get_double(s, "confidence", &confidence)) d.confidence = static_cast<float>(confidence);
        }
        out.push_back(d);
    }
    return out;
}

}  // namespace rtinfer::gst
