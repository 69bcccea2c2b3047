// The YoloDecode plugin (domain "rtinfer"): attributes, shapes, serialization and the rtinfer plugin ABI
// glue around yolo_decode_cpu and (built with CUDA) yolo_decode_cuda. Built on rtinfer/plugin.h alone;
// nothing throws out of an ABI function.
#include <cmath>
#include <string>

#include "common/plugin_attrs.h"
#include "common/plugin_bytes.h"
#include "common/plugin_instance.h"
#include "rtinfer/plugin.h"
#include "yolo_decode_cpu.h"
#ifdef RTINFER_PLUGIN_CUDA
#include "yolo_decode_cuda.h"
#endif

namespace rtinfer_yolo {

namespace {

using rtinfer_plugin_common::ByteReader;
using rtinfer_plugin_common::ByteWriter;
using rtinfer_plugin_common::read_flag;
using rtinfer_plugin_common::read_int32;

constexpr const char* kName = "YoloDecode";
constexpr const char* kVersion = "1";
constexpr const char* kNamespace = "rtinfer";
constexpr int32_t kNumOutputs = 2;
constexpr uint32_t kMagic = 0x444c4f59;  // "YOLD"
constexpr uint32_t kFormat = 1;

const rt_plugin_field kFields[] = {
    {"style", RT_PLUGIN_ATTR_STRING, 1},      {"strides", RT_PLUGIN_ATTR_INTS, 1},
    {"image_size", RT_PLUGIN_ATTR_INTS, 0},   {"grid_sizes", RT_PLUGIN_ATTR_INTS, 0},
    {"reg_max", RT_PLUGIN_ATTR_INT, 0},       {"anchors", RT_PLUGIN_ATTR_FLOATS, 0},
    {"apply_sigmoid", RT_PLUGIN_ATTR_INT, 0},
};

const YoloDecodeParams& params_of(const rt_plugin* self) {
    return rtinfer_plugin_common::instance_params<YoloDecodeParams>(self);
}

int32_t invalid(rt_plugin_error* error, const char* message) {
    return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "%s", message);
}

// What create() and deserialize() both check.
int32_t check_params(const YoloDecodeParams& p, rt_plugin_error* error) {
    if (p.style != YoloStyle::kAnchorFree && p.style != YoloStyle::kAnchorBased) return invalid(error, "unknown style");
    if (p.num_levels < 1 || p.num_levels > kMaxLevels) {
        return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "strides must list 1 to %d levels, got %d",
                                   kMaxLevels, p.num_levels);
    }
    for (int l = 0; l < p.num_levels; ++l) {
        if (!(p.strides[l] > 0.0f) || !std::isfinite(p.strides[l])) return invalid(error, "strides must be positive");
        if (p.grid_h[l] < 1 || p.grid_w[l] < 1) return invalid(error, "grid sizes must be positive");
    }
    if (p.style == YoloStyle::kAnchorFree && (p.reg_max < 1 || p.reg_max > kMaxRegMax)) {
        return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "reg_max must be in [1, %d], got %d", kMaxRegMax,
                                   p.reg_max);
    }
    if (p.style == YoloStyle::kAnchorBased) {
        if (p.anchors_per_level < 1 || p.anchors_per_level > kMaxAnchorsPerLevel) {
            return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT,
                                       "anchors must give 1 to %d (w, h) pairs per level, got %d", kMaxAnchorsPerLevel,
                                       p.anchors_per_level);
        }
        for (int l = 0; l < p.num_levels; ++l) {
            for (int k = 0; k < p.anchors_per_level; ++k) {
                for (float v : p.anchors[l][k]) {
                    if (!(v > 0.0f) || !std::isfinite(v)) return invalid(error, "anchor sizes must be positive");
                }
            }
        }
    }
    return RT_PLUGIN_OK;
}

// --- attributes -----------------------------------------------------------------------------------------

struct RawAttrs {
    const rt_plugin_attr* strides = nullptr;
    const rt_plugin_attr* image_size = nullptr;
    const rt_plugin_attr* grid_sizes = nullptr;
    const rt_plugin_attr* anchors = nullptr;
};

int32_t read_levels(const RawAttrs& raw, YoloDecodeParams* p, rt_plugin_error* error) {
    const size_t levels = raw.strides->count;
    if (levels < 1 || levels > static_cast<size_t>(kMaxLevels)) {
        return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "strides must list 1 to %d levels, got %zu",
                                   kMaxLevels, levels);
    }
    p->num_levels = static_cast<int32_t>(levels);
    if ((raw.image_size != nullptr) == (raw.grid_sizes != nullptr)) {
        return invalid(error, "give exactly one of image_size [height, width] and grid_sizes [h0, w0, h1, w1, ...]");
    }
    if (raw.image_size && raw.image_size->count != 2) return invalid(error, "image_size must be [height, width]");
    if (raw.grid_sizes && raw.grid_sizes->count != 2 * levels) {
        return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT,
                                   "grid_sizes must hold a (height, width) pair per stride: %zu values, got %zu",
                                   2 * levels, raw.grid_sizes->count);
    }
    for (size_t l = 0; l < levels; ++l) {
        const int64_t s = raw.strides->ints[l];
        if (s < 1 || s > 65536) return invalid(error, "strides must be in [1, 65536]");
        p->strides[l] = static_cast<float>(s);
        int64_t h = 0, w = 0;
        if (raw.image_size) {
            // A stride-s feature map of a strided convolution stack covers ceil(size / s) cells.
            h = (raw.image_size->ints[0] + s - 1) / s;
            w = (raw.image_size->ints[1] + s - 1) / s;
        } else {
            h = raw.grid_sizes->ints[2 * l];
            w = raw.grid_sizes->ints[2 * l + 1];
        }
        if (h < 1 || w < 1 || h > 65536 || w > 65536) return invalid(error, "grid sizes must be in [1, 65536]");
        p->grid_h[l] = static_cast<int32_t>(h);
        p->grid_w[l] = static_cast<int32_t>(w);
    }
    return RT_PLUGIN_OK;
}

int32_t read_anchors(const rt_plugin_attr* anchors, YoloDecodeParams* p, rt_plugin_error* error) {
    if (p->style != YoloStyle::kAnchorBased) {
        return anchors ? invalid(error, "anchors are for style 'yolov5' only") : RT_PLUGIN_OK;
    }
    if (!anchors) return invalid(error, "style 'yolov5' needs anchors: (w, h) pairs in pixels, level by level");
    const size_t per_level = 2 * static_cast<size_t>(p->num_levels);
    if (anchors->count == 0 || anchors->count % per_level != 0) {
        return rt_plugin_set_error(
            error, RT_PLUGIN_INVALID_ARGUMENT,
            "anchors must hold the same number of (w, h) pairs for each of the %d levels, got %zu "
            "values",
            p->num_levels, anchors->count);
    }
    const size_t na = anchors->count / per_level;
    p->anchors_per_level =
        na > static_cast<size_t>(kMaxAnchorsPerLevel) ? kMaxAnchorsPerLevel + 1 : static_cast<int32_t>(na);
    for (int l = 0; l < p->num_levels && na <= static_cast<size_t>(kMaxAnchorsPerLevel); ++l) {
        for (size_t k = 0; k < na; ++k) {
            p->anchors[l][k][0] = anchors->floats[(l * na + k) * 2];
            p->anchors[l][k][1] = anchors->floats[(l * na + k) * 2 + 1];
        }
    }
    return RT_PLUGIN_OK;
}

// rtinfer has checked the types of the attributes listed in kFields, and that the required ones are there.
int32_t parse_attrs(const rt_plugin_attr* attrs, int32_t n, YoloDecodeParams* p, rt_plugin_error* error) {
    RawAttrs raw;
    bool reg_max_given = false;
    for (int32_t i = 0; i < n; ++i) {
        const rt_plugin_attr& a = attrs[i];
        const std::string name = a.name;
        int32_t code = RT_PLUGIN_OK;
        if (name == "style") {
            const std::string style(a.s, a.count);
            if (style == "yolov8") {
                p->style = YoloStyle::kAnchorFree;
            } else if (style == "yolov5") {
                p->style = YoloStyle::kAnchorBased;
            } else {
                return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT,
                                           "style must be 'yolov8' (anchor-free, DFL) or 'yolov5' (anchors), got '%s'",
                                           style.c_str());
            }
        } else if (name == "strides") {
            raw.strides = &a;
        } else if (name == "image_size") {
            raw.image_size = &a;
        } else if (name == "grid_sizes") {
            raw.grid_sizes = &a;
        } else if (name == "anchors") {
            raw.anchors = &a;
        } else if (name == "reg_max") {
            code = read_int32(a, &p->reg_max, error);
            reg_max_given = true;
        } else if (name == "apply_sigmoid") {
            code = read_flag(a, &p->apply_sigmoid, error);
        } else {
            return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "unknown attribute '%s'", a.name);
        }
        if (code != RT_PLUGIN_OK) return code;
    }
    if (!raw.strides) return invalid(error, "strides is required");
    if (reg_max_given && p->style == YoloStyle::kAnchorBased)
        return invalid(error, "reg_max is for style 'yolov8' only");
    int32_t code = read_levels(raw, p, error);
    if (code == RT_PLUGIN_OK) code = read_anchors(raw.anchors, p, error);
    return code == RT_PLUGIN_OK ? check_params(*p, error) : code;
}

// --- serialization ----------------------------------------------------------------------------------------

size_t serialized_size(const YoloDecodeParams& p) {
    const size_t levels = static_cast<size_t>(p.num_levels);
    const size_t anchors =
        p.style == YoloStyle::kAnchorBased ? levels * static_cast<size_t>(p.anchors_per_level) * 2 : 0;
    return 4 * (2 + 2 + 3 * levels + 2 + anchors + 1);
}

// --- shapes -----------------------------------------------------------------------------------------------

int32_t read_shape(const YoloDecodeParams& p, const rt_plugin_tensor_desc* in, int32_t n, YoloDecodeShape* shape,
                   rt_plugin_error* error) {
    if (n != 1) return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "takes 1 input (the head), got %d", n);
    const rt_plugin_tensor_desc& d = in[0];
    const int64_t expected = yolo_levels(p).level_start[p.num_levels];
    const bool anchor_free = p.style == YoloStyle::kAnchorFree;
    const int64_t box_values = anchor_free ? 4 * int64_t{p.reg_max} : 5;
    const int64_t values = anchor_free ? d.dims[1] : d.dims[2];
    if (d.rank != 3 || values <= box_values) {
        return anchor_free
                   ? rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT,
                                         "the yolov8 head must be [batch, 4 * reg_max + classes, anchors] with "
                                         "reg_max %d and at least one class",
                                         p.reg_max)
                   : invalid(error, "the yolov5 head must be [batch, anchors, 5 + classes] with at least one class");
    }
    shape->batch = d.dims[0];
    shape->num_candidates = anchor_free ? d.dims[2] : d.dims[1];
    shape->num_classes = values - box_values;
    if (shape->num_candidates != expected) {
        return rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT,
                                   "the head has %lld candidates, but the strides and grid sizes give %lld",
                                   static_cast<long long>(shape->num_candidates), static_cast<long long>(expected));
    }
    return RT_PLUGIN_OK;
}

rt_plugin_tensor_desc desc3(int64_t d0, int64_t d1, int64_t d2) {
    rt_plugin_tensor_desc d{};
    d.dtype = RT_PLUGIN_DTYPE_FLOAT32;
    d.rank = 3;
    d.dims[0] = d0;
    d.dims[1] = d1;
    d.dims[2] = d2;
    return d;
}

// --- the instance's functions -----------------------------------------------------------------------------

int32_t get_num_outputs(const rt_plugin*) {
    return kNumOutputs;
}

int32_t get_output_descs(const rt_plugin* self, const rt_plugin_tensor_desc* in, int32_t n_in,
                         rt_plugin_tensor_desc* out, int32_t n_out, rt_plugin_error* error) {
    YoloDecodeShape shape;
    const int32_t code = read_shape(params_of(self), in, n_in, &shape, error);
    if (code != RT_PLUGIN_OK) return code;
    if (n_out != kNumOutputs) return rt_plugin_set_error(error, RT_PLUGIN_INTERNAL, "has 2 outputs");
    out[0] = desc3(shape.batch, shape.num_candidates, 4);
    out[1] = desc3(shape.batch, shape.num_candidates, shape.num_classes);
    return RT_PLUGIN_OK;
}

int32_t supports(const rt_plugin*, const rt_plugin_tensor_desc* in, int32_t n_in, const rt_plugin_tensor_desc*, int32_t,
                 rt_plugin_error* error) {
    if (n_in >= 1 && in[0].dtype != RT_PLUGIN_DTYPE_FLOAT32) {
        return rt_plugin_set_error(error, RT_PLUGIN_UNSUPPORTED,
                                   "the head must be float32 (float16 is not supported yet)");
    }
    return RT_PLUGIN_OK;
}

size_t get_workspace_size(const rt_plugin*, const rt_plugin_tensor_desc*, int32_t, const rt_plugin_tensor_desc*,
                          int32_t) {
    return 0;
}

size_t get_serialized_size(const rt_plugin* self) {
    return serialized_size(params_of(self));
}

int32_t serialize(const rt_plugin* self, void* buffer, size_t size, rt_plugin_error* error) {
    const YoloDecodeParams& p = params_of(self);
    ByteWriter out(buffer, size);
    out.u32(kMagic);
    out.u32(kFormat);
    out.i32(static_cast<int32_t>(p.style));
    out.i32(p.num_levels);
    for (int l = 0; l < p.num_levels; ++l) {
        out.f32(p.strides[l]);
        out.i32(p.grid_h[l]);
        out.i32(p.grid_w[l]);
    }
    out.i32(p.reg_max);
    out.i32(p.anchors_per_level);
    for (int l = 0; p.style == YoloStyle::kAnchorBased && l < p.num_levels; ++l) {
        for (int k = 0; k < p.anchors_per_level; ++k) {
            out.f32(p.anchors[l][k][0]);
            out.f32(p.anchors[l][k][1]);
        }
    }
    out.u32(p.apply_sigmoid ? 1u : 0u);
    return out.ok() ? RT_PLUGIN_OK : rt_plugin_set_error(error, RT_PLUGIN_INTERNAL, "serialize buffer too small");
}

int32_t read_io(const rt_plugin* self, const rt_plugin_io* io, YoloDecodeShape* shape, YoloDecodeBuffers* b,
                rt_plugin_error* error) {
    const int32_t code = read_shape(params_of(self), io->input_descs, io->num_inputs, shape, error);
    if (code != RT_PLUGIN_OK) return code;
    if (io->num_outputs != kNumOutputs) return rt_plugin_set_error(error, RT_PLUGIN_INTERNAL, "has 2 outputs");
    b->head = static_cast<const float*>(io->inputs[0]);
    b->boxes = static_cast<float*>(io->outputs[0]);
    b->scores = static_cast<float*>(io->outputs[1]);
    return RT_PLUGIN_OK;
}

int32_t enqueue_cpu(const rt_plugin* self, const rt_plugin_io* io, rt_plugin_error* error) {
    YoloDecodeShape shape;
    YoloDecodeBuffers b;
    const int32_t code = read_io(self, io, &shape, &b, error);
    if (code != RT_PLUGIN_OK) return code;
    yolo_decode_cpu(params_of(self), shape, b);
    return RT_PLUGIN_OK;
}

#ifdef RTINFER_PLUGIN_CUDA
int32_t enqueue_cuda(const rt_plugin* self, const rt_plugin_io* io, rt_plugin_error* error) {
    YoloDecodeShape shape;
    YoloDecodeBuffers b;
    const int32_t code = read_io(self, io, &shape, &b, error);
    if (code != RT_PLUGIN_OK) return code;
    const char* failure = yolo_decode_cuda(params_of(self), shape, b, io->stream);
    return failure[0] ? rt_plugin_set_error(error, RT_PLUGIN_INTERNAL, "%s", failure) : RT_PLUGIN_OK;
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

// --- the creator ------------------------------------------------------------------------------------------

rt_plugin* create(const rt_plugin_creator*, const char*, const rt_plugin_attr* attrs, int32_t n,
                  rt_plugin_error* error) {
    return rtinfer_plugin_common::create_instance<YoloDecodeParams>(parse_attrs, attrs, n, functions(), error);
}

rt_plugin* deserialize(const rt_plugin_creator*, const char*, const void* data, size_t size, rt_plugin_error* error) {
    ByteReader in(data, size);
    if (in.u32() != kMagic || in.u32() != kFormat) {
        rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "stored parameters are not YoloDecode format %u",
                            kFormat);
        return nullptr;
    }
    YoloDecodeParams p;
    p.style = static_cast<YoloStyle>(in.i32());
    p.num_levels = in.i32();
    const bool levels_ok = p.num_levels >= 1 && p.num_levels <= kMaxLevels;
    for (int l = 0; levels_ok && l < p.num_levels; ++l) {
        p.strides[l] = in.f32();
        p.grid_h[l] = in.i32();
        p.grid_w[l] = in.i32();
    }
    p.reg_max = in.i32();
    p.anchors_per_level = in.i32();
    const bool anchors_ok = p.anchors_per_level >= 0 && p.anchors_per_level <= kMaxAnchorsPerLevel;
    for (int l = 0; levels_ok && anchors_ok && p.style == YoloStyle::kAnchorBased && l < p.num_levels; ++l) {
        for (int k = 0; k < p.anchors_per_level; ++k) {
            p.anchors[l][k][0] = in.f32();
            p.anchors[l][k][1] = in.f32();
        }
    }
    const uint32_t sigmoid = in.u32();
    if (!levels_ok || !anchors_ok || sigmoid > 1 || !in.ok() || in.left() != 0) {
        rt_plugin_set_error(error, RT_PLUGIN_INVALID_ARGUMENT, "stored parameters (%zu bytes) are malformed", size);
        return nullptr;
    }
    p.apply_sigmoid = sigmoid == 1;
    if (check_params(p, error) != RT_PLUGIN_OK) return nullptr;
    return rtinfer_plugin_common::make_instance(p, functions(), error);
}

const rt_plugin_creator kCreator = {
    RT_PLUGIN_ABI_VERSION,
    sizeof(rt_plugin_creator),
    kName,
    kVersion,
    kNamespace,
    kFields,
    static_cast<int32_t>(sizeof(kFields) / sizeof(kFields[0])),
    nullptr,
    create,
    deserialize,
};

const rt_plugin_creator* const kCreators[] = {&kCreator};

}  // namespace

}  // namespace rtinfer_yolo

extern "C" const rt_plugin_creator* const* rtinfer_get_plugin_creators(uint32_t, int32_t* count) {
    *count = 1;
    return rtinfer_yolo::kCreators;
}
