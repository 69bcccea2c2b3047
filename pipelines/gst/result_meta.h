// The C++ side of the rtinfer result meta (rtinfer_meta.h is the public C API): attaching results to a
// buffer, and reading them back in the project's own elements.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <memory>

#include "pipelines/gst/rtinfer_meta.h"
#include "pipelines/runner/shared_model.h"

namespace rtinfer::gst {

// The buffer must be writable. The results are shared, not copied, by buffer copies.
RtinferResultMeta* add_result_meta(GstBuffer* buffer, int stream_id, uint64_t frame_number,
                                   std::shared_ptr<const pipelines::FrameOutput> results);

// The results behind a meta (never null for a meta made by add_result_meta).
const pipelines::FrameOutput& results_of(const RtinferResultMeta& meta);

}  // namespace rtinfer::gst
