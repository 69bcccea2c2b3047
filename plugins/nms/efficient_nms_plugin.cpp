// The EfficientNMS_TRT plugin: attributes, shapes, serialization and the rtinfer plugin ABI glue around
// efficient_nms_cpu and (built with CUDA) efficient_nms_cuda. Built on rtinfer/plugin.h alone. Every ABI
// function is noexcept: nothing throws out.
#include <algorithm>
#include <string>

#include "common/plugin_attrs.h"
#include "common/plugin_bytes.h"
#include "common/plugin_instance.h"
#include "efficient_nms_cpu.h"
#include "rtinfer/plugin.h"
#ifdef RTINFER_PLUGIN_CUDA
#include "efficient_nms_cuda.h"
#endif

namespace rtinfer_nms {

namespace {

using rtinfer_plugin_common::ByteReader;
using rtinfer_plugin_common::ByteWriter;
using rtinfer_plugin_common::read_flag;
using rtinfer_plugin_common::read_int32;

constexpr const char* kName = "EfficientNMS_TRT";
constexpr const char* kVersion = "1";
constexpr int32_t kNumOutputs = 4;
constexpr uint32_t kMagic = 0x534d4e45;  // "ENMS"
constexpr uint32_t kFormat = 1;
constexpr size_t kSerializedSize = 9 * 4;

const rt_plugin_field kFields[] = {
    {"score_threshold", RT_PLUGIN_ATTR_FLOAT, 0},   {"iou_threshold", RT_PLUGIN_ATTR_FLOAT, 0},
    {"max_output_boxes", RT_PLUGIN_ATTR_INT, 0},    {"background_class", RT_PLUGIN_ATTR_INT, 0},
    {"score_activation", RT_PLUGIN_ATTR_INT, 0},    {"class_agnostic", RT_PLUGIN_ATTR_INT, 0},
    {"box_coding", RT_PLUGIN_ATTR_INT, 0},          {"plugin_version", RT_PLUGIN_ATTR_STRING, 0},
};

const EfficientNmsParams& params_of(const rt_plugin* self) {
    return rtinfer_plugin_common::instance_params<EfficientNmsParams>(self);
}

int32_t check_params(const EfficientNmsParams& p, rt_plugin_error* error) {
    if (!(p.iou_threshold >= 0.0f && p.iou_threshold <= 1.0f)) {
        return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "iou_threshold must be in [0, 1], got %g",
                                   static_cast<double>(p.iou_threshold));
    }
    if (p.score_threshold != p.score_threshold) {
        return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "score_threshold is NaN");
    }
    if (p.max_output_boxes < 1) {
        return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "max_output_boxes must be at least 1, got %d",
                                   p.max_output_boxes);
    }
    if (p.background_class < -1) {
        return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "background_class must be -1 or a class, got %d",
                                   p.background_class);
    }
    if (p.box_coding != BoxCoding::kCorners && p.box_coding != BoxCoding::kCenterSize) {
        return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT,
                                   "box_coding must be 0 (corners) or 1 (center and size), got %d",
                                   static_cast<int>(p.box_coding));
    }
    return RT_PLUGIN_OK;
}

// rtinfer has checked the types of the attributes listed in kFields.
int32_t parse_attrs(const rt_plugin_attr* attrs, int32_t n, EfficientNmsParams* p, rt_plugin_error* error) {
    for (int32_t i = 0; i < n; ++i) {
        const rt_plugin_attr& a = attrs[i];
        const std::string name = a.name;
        int32_t code = RT_PLUGIN_OK;
        if (name == "score_threshold") {
            p->score_threshold = static_cast<float>(a.f);
        } else if (name == "iou_threshold") {
            p->iou_threshold = static_cast<float>(a.f);
        } else if (name == "max_output_boxes") {
            code = read_int32(a, &p->max_output_boxes, error);
        } else if (name == "background_class") {
            code = read_int32(a, &p->background_class, error);
        } else if (name == "score_activation") {
            code = read_flag(a, &p->score_activation, error);
        } else if (name == "class_agnostic") {
            code = read_flag(a, &p->class_agnostic, error);
        } else if (name == "box_coding") {
            int32_t v = 0;
            code = read_int32(a, &v, error);
            p->box_coding = static_cast<BoxCoding>(v);
        } else if (name == "plugin_version") {
            if (std::string(a.s, a.count) != kVersion) {
                return rt_plugin_set_error(error, RT_PLUGIN_UNSUPPORTED, "plugin_version '%s' is not supported (only '%s')",
                                           a.s, kVersion);
            }
        } else {
            return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "unknown attribute '%s'", a.name);
        }
        if (code != RT_PLUGIN_OK) return code;
    }
    return check_params(*p, error);
}

// --- shapes -------------------------------------------------------------------------------------------

int32_t read_shape(const rt_plugin_tensor_desc* in, int32_t n, EfficientNmsShape* shape, rt_plugin_error* error) {
    if (n == 3) {
        return rt_plugin_set_error(error, RT_PLUGIN_UNSUPPORTED,
                                   "the anchors input (fused box decoder mode) is not supported yet");
    }
    if (n != 2) return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "takes 2 inputs (boxes, scores), got %d", n);
    const rt_plugin_tensor_desc& boxes = in[0];
    const rt_plugin_tensor_desc& scores = in[1];
    if (scores.rank != 3) {
        return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT,
                                   "scores must be [batch, boxes, classes], got rank %d", scores.rank);
    }
    shape->batch = scores.dims[0];
    shape->num_boxes = scores.dims[1];
    shape->num_classes = scores.dims[2];
    const bool rank3 = boxes.rank == 3 && boxes.dims[2] == 4;
    const bool rank4 = boxes.rank == 4 && boxes.dims[3] == 4 && boxes.dims[2] == scores.dims[2];
    if ((!rank3 && !rank4) || boxes.dims[0] != shape->batch || boxes.dims[1] != shape->num_boxes) {
        return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT,
                                   "boxes must be [batch, boxes, 4] or [batch, boxes, classes, 4] matching scores "
                                   "[%lld, %lld, %lld]",
                                   static_cast<long long>(shape->batch), static_cast<long long>(shape->num_boxes),
                                   static_cast<long long>(shape->num_classes));
    }
    if (shape->num_boxes > INT32_MAX || shape->num_classes > INT32_MAX) {
        return rt_plugin_set_error(error, RT_PLUGIN_UNSUPPORTED, "too many boxes or classes");
    }
    shape->boxes_per_class = rank4;
    return RT_PLUGIN_OK;
}

rt_plugin_tensor_desc desc(int32_t dtype, int32_t rank, int64_t d0, int64_t d1, int64_t d2 = 0) {
    rt_plugin_tensor_desc d{};
    d.dtype = dtype;
    d.rank = rank;
    d.dims[0] = d0;
    d.dims[1] = d1;
    d.dims[2] = d2;
    return d;
}

// --- the instance's functions ---------------------------------------------------------------------------

int32_t get_num_outputs(const rt_plugin*) { return kNumOutputs; }

int32_t get_output_descs(const rt_plugin* self, const rt_plugin_tensor_desc* in, int32_t n_in,
                         rt_plugin_tensor_desc* out, int32_t n_out, rt_plugin_error* error) {
    EfficientNmsShape shape;
    const int32_t code = read_shape(in, n_in, &shape, error);
    if (code != RT_PLUGIN_OK) return code;
    if (n_out != kNumOutputs) return rt_plugin_set_error(error, RT_PLUGIN_INTERNAL, "has 4 outputs");
    const int64_t k = params_of(self).max_output_boxes;
    out[0] = desc(RT_PLUGIN_DTYPE_INT32, 2, shape.batch, 1);
    out[1] = desc(in[0].dtype, 3, shape.batch, k, 4);
    out[2] = desc(in[1].dtype, 2, shape.batch, k);
    out[3] = desc(RT_PLUGIN_DTYPE_INT32, 2, shape.batch, k);
    return RT_PLUGIN_OK;
}

int32_t supports(const rt_plugin*, const rt_plugin_tensor_desc* in, int32_t n_in, const rt_plugin_tensor_desc*,
                 int32_t, rt_plugin_error* error) {
    for (int32_t i = 0; i < n_in; ++i) {
        if (in[i].dtype != RT_PLUGIN_DTYPE_FLOAT32) {
            return rt_plugin_set_error(error, RT_PLUGIN_UNSUPPORTED, "%s must be float32 (float16 is not supported yet)",
                                       i == 0 ? "boxes" : "scores");
        }
    }
    return RT_PLUGIN_OK;
}

size_t get_workspace_size(const rt_plugin* self, const rt_plugin_tensor_desc* in, int32_t n_in,
                          const rt_plugin_tensor_desc*, int32_t) {
    EfficientNmsShape shape;
    if (read_shape(in, n_in, &shape, nullptr) != RT_PLUGIN_OK) return 0;
    // One answer serves both enqueues (the ABI does not say which will run): the larger need.
    size_t bytes = efficient_nms_cpu_workspace(params_of(self), shape);
#ifdef RTINFER_PLUGIN_CUDA
    bytes = std::max(bytes, efficient_nms_cuda_layout(params_of(self), shape).total);
#endif
    return bytes;
}

size_t get_serialized_size(const rt_plugin*) { return kSerializedSize; }

int32_t serialize(const rt_plugin* self, void* buffer, size_t size, rt_plugin_error* error) {
    if (size < kSerializedSize) return rt_plugin_set_error(error, RT_PLUGIN_INTERNAL, "serialize buffer too small");
    const EfficientNmsParams& p = params_of(self);
    ByteWriter out(buffer, size);
    out.u32(kMagic);
    out.u32(kFormat);
    out.f32(p.score_threshold);
    out.f32(p.iou_threshold);
    out.i32(p.max_output_boxes);
    out.i32(p.background_class);
    out.u32(p.score_activation ? 1u : 0u);
    out.u32(p.class_agnostic ? 1u : 0u);
    out.u32(static_cast<uint32_t>(p.box_coding));
    return RT_PLUGIN_OK;
}

// The shape and buffers of one enqueue (host or device pointers alike).
int32_t read_io(const rt_plugin_io* io, EfficientNmsShape* shape, EfficientNmsBuffers* b, rt_plugin_error* error) {
    const int32_t code = read_shape(io->input_descs, io->num_inputs, shape, error);
    if (code != RT_PLUGIN_OK) return code;
    if (io->num_outputs != kNumOutputs) return rt_plugin_set_error(error, RT_PLUGIN_INTERNAL, "has 4 outputs");
    b->boxes = static_cast<const float*>(io->inputs[0]);
    b->scores = static_cast<const float*>(io->inputs[1]);
    b->num_detections = static_cast<int32_t*>(io->outputs[0]);
    b->detection_boxes = static_cast<float*>(io->outputs[1]);
    b->detection_scores = static_cast<float*>(io->outputs[2]);
    b->detection_classes = static_cast<int32_t*>(io->outputs[3]);
    return RT_PLUGIN_OK;
}

int32_t enqueue_cpu(const rt_plugin* self, const rt_plugin_io* io, rt_plugin_error* error) {
    EfficientNmsShape shape;
    EfficientNmsBuffers b;
    const int32_t code = read_io(io, &shape, &b, error);
    if (code != RT_PLUGIN_OK) return code;
    const EfficientNmsParams& p = params_of(self);
    if (io->workspace_size < efficient_nms_cpu_workspace(p, shape) || (shape.batch > 0 && !io->workspace)) {
        return rt_plugin_set_error(error, RT_PLUGIN_INTERNAL, "workspace too small");
    }
    efficient_nms_cpu(p, shape, b, io->workspace);
    return RT_PLUGIN_OK;
}

#ifdef RTINFER_PLUGIN_CUDA
int32_t enqueue_cuda(const rt_plugin* self, const rt_plugin_io* io, rt_plugin_error* error) {
    EfficientNmsShape shape;
    EfficientNmsBuffers b;
    const int32_t code = read_io(io, &shape, &b, error);
    if (code != RT_PLUGIN_OK) return code;
    const NmsCudaResult r =
        efficient_nms_cuda(params_of(self), shape, b, io->workspace, io->workspace_size, io->stream);
    if (r.code == NmsCudaResult::kOk) return RT_PLUGIN_OK;
    const int32_t failure = r.code == NmsCudaResult::kUnsupported ? RT_PLUGIN_UNSUPPORTED : RT_PLUGIN_INTERNAL;
    return rt_plugin_set_error(error, failure, "%s", r.message);
}
#endif

// The instance's entry points (make_instance fills in the rest).
rt_plugin functions() {
    rt_plugin f{};
    f.get_num_outputs = get_num_outputs;
    f.get_output_descs = get_output_descs;
    f.supports = supports;
    f.get_workspace_size = get_workspace_size;
    f.get_serialized_size = get_serialized_size;
    f.serialize = serialize;
    f.enqueue_cpu = enqueue_cpu;
#ifdef RTINFER_PLUGIN_CUDA
    f.enqueue_cuda = enqueue_cuda;
#else
    f.enqueue_cuda = nullptr;  // built without CUDA: a CUDA engine runs enqueue_cpu as a fallback
#endif
    return f;
}

// --- the creator ----------------------------------------------------------------------------------------

rt_plugin* create(const rt_plugin_creator*, const char*, const rt_plugin_attr* attrs, int32_t n, rt_plugin_error* error) {
    return rtinfer_plugin_common::create_instance<EfficientNmsParams>(parse_attrs, attrs, n, functions(), error);
}

rt_plugin* deserialize(const rt_plugin_creator*, const char*, const void* data, size_t size, rt_plugin_error* error) {
    if (size != kSerializedSize || !data) {
        rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "stored parameters have %zu bytes, expected %zu", size,
                            kSerializedSize);
        return nullptr;
    }
    ByteReader in(data, size);
    if (in.u32() != kMagic || in.u32() != kFormat) {
        rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "stored parameters are not EfficientNMS format %u", kFormat);
        return nullptr;
    }
    EfficientNmsParams p;
    p.score_threshold = in.f32();
    p.iou_threshold = in.f32();
    p.max_output_boxes = in.i32();
    p.background_class = in.i32();
    const uint32_t activation = in.u32(), agnostic = in.u32();
    p.box_coding = static_cast<BoxCoding>(in.u32());
    if (activation > 1 || agnostic > 1) {
        rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "stored flags are not 0 or 1");
        return nullptr;
    }
    p.score_activation = activation == 1;
    p.class_agnostic = agnostic == 1;
    if (check_params(p, error) != RT_PLUGIN_OK) return nullptr;
    return rtinfer_plugin_common::make_instance(p, functions(), error);
}

const rt_plugin_creator kCreator = {
    RT_PLUGIN_ABI_VERSION,
    sizeof(rt_plugin_creator),
    kName,
    kVersion,
    "",
    kFields,
    static_cast<int32_t>(sizeof(kFields) / sizeof(kFields[0])),
    nullptr,
    create,
    deserialize,
};

const rt_plugin_creator* const kCreators[] = {&kCreator};

}  // namespace

}  // namespace rtinfer_nms

extern "C" const rt_plugin_creator* const* rtinfer_get_plugin_creators(uint32_t, int32_t* count) {
    *count = 1;
    return rtinfer_nms::kCreators;
}
