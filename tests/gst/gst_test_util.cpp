#include "tests/gst/gst_test_util.h"

#include <gst/video/gstvideometa.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "pipelines/gst/rtinfer_meta.h"

namespace rtinfer::gst_test {

namespace {

// A .npy file (little-endian, C order): what the reference files are.
struct Npy {
    std::string descr;
    std::vector<int64_t> shape;
    std::vector<char> data;
    int64_t count() const {
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        return n;
    }
};

bool read_npy(const std::string& path, Npy* out) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) {
        ADD_FAILURE() << path << ": not a .npy file";
        return false;
    }
    const bool v1 = bytes[6] == 1;
    const size_t len_bytes = v1 ? 2 : 4;
    size_t header_len = 0;
    for (size_t i = 0; i < len_bytes; ++i)
        header_len |= static_cast<size_t>(static_cast<uint8_t>(bytes[8 + i])) << (8 * i);
    const size_t start = 8 + len_bytes;
    if (bytes.size() < start + header_len) {
        ADD_FAILURE() << path << ": truncated header";
        return false;
    }
    const std::string header(bytes.data() + start, header_len);
    auto value_of = [&](const std::string& key) {
        const size_t k = header.find("'" + key + "'");
        return k == std::string::npos ? std::string() : header.substr(header.find(':', k) + 1);
    };
    const std::string descr = value_of("descr");
    out->descr = descr.substr(descr.find('\'') + 1, descr.find('\'', descr.find('\'') + 1) - descr.find('\'') - 1);
    if (header.find("'fortran_order': False") == std::string::npos) {
        ADD_FAILURE() << path << ": Fortran order is not read here";
        return false;
    }
    const std::string shape = value_of("shape");
    std::istringstream dims(shape.substr(shape.find('(') + 1, shape.find(')') - shape.find('(') - 1));
    out->shape.clear();
    for (std::string d; std::getline(dims, d, ',');)
        if (d.find_first_of("0123456789") != std::string::npos) out->shape.push_back(std::stoll(d));
    out->data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(start + header_len), bytes.end());
    size_t item = out->descr == "|u1" ? 1 : (out->descr == "<f4" || out->descr == "<i4") ? 4 : 0;
    if (item == 0 || out->data.size() != static_cast<size_t>(out->count()) * item) {
        ADD_FAILURE() << path << ": unexpected dtype " << out->descr << " or size " << out->data.size();
        return false;
    }
    return true;
}

template <typename T>
T at(const Npy& a, int64_t i) {
    T v;
    std::memcpy(&v, a.data.data() + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
    return v;
}

std::filesystem::path g_work;

void remove_work_dir() {
    std::error_code ec;
    if (!g_work.empty()) std::filesystem::remove_all(g_work, ec);
}

GstBuffer* packed_buffer(const ReferenceFrame& frame, int width, int height, int bytes_per_pixel,
                         const int order[4]) {
    const int stride = (width * bytes_per_pixel + 3) / 4 * 4;
    GstBuffer* buffer = gst_buffer_new_allocate(nullptr, static_cast<gsize>(stride) * height, nullptr);
    GstMapInfo map;
    gst_buffer_map(buffer, &map, GST_MAP_WRITE);
    std::memset(map.data, 0, map.size);
    for (int y = 0; y < height; ++y) {
        const int sy = y * frame.height / height;
        for (int x = 0; x < width; ++x) {
            const int sx = x * frame.width / width;
            const uint8_t* s = &frame.rgb[(static_cast<size_t>(sy) * frame.width + sx) * 3];
            uint8_t* d = map.data + static_cast<size_t>(y) * stride + static_cast<size_t>(x) * bytes_per_pixel;
            for (int c = 0; c < bytes_per_pixel; ++c) d[c] = order[c] < 0 ? 255 : s[order[c]];
        }
    }
    gst_buffer_unmap(buffer, &map);
    return buffer;
}

}  // namespace

const std::string& work_dir() {
    static const std::string dir = [] {
        std::filesystem::create_directories(RTINFER_GST_TEST_WORK_DIR);
        std::string tmpl = std::string(RTINFER_GST_TEST_WORK_DIR) + "/run-XXXXXX";
        if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "cannot make a folder in " << RTINFER_GST_TEST_WORK_DIR;
        g_work = tmpl;
        std::atexit(remove_work_dir);
        return tmpl;
    }();
    return dir;
}

std::vector<ReferenceFrame> load_reference(float threshold) {
    const std::string dir = std::string(RTINFER_SOURCE_DIR) + "/models/detector/reference/";
    Npy input, boxes, scores, classes, counts;
    if (!read_npy(dir + "input_u8.npy", &input) || !read_npy(dir + "detection_boxes.npy", &boxes) ||
        !read_npy(dir + "detection_scores.npy", &scores) || !read_npy(dir + "detection_classes.npy", &classes) ||
        !read_npy(dir + "num_detections.npy", &counts))
        return {};
    if (input.shape.size() != 4 || input.shape[1] != 3 || boxes.shape.size() != 3 || boxes.shape[2] != 4) {
        ADD_FAILURE() << dir << ": unexpected reference shapes";
        return {};
    }
    std::vector<ReferenceFrame> frames;
    const int64_t n = input.shape[0], h = input.shape[2], w = input.shape[3], k = boxes.shape[1];
    for (int64_t i = 0; i < n; ++i) {
        ReferenceFrame f;
        f.width = static_cast<int>(w);
        f.height = static_cast<int>(h);
        f.rgb.resize(static_cast<size_t>(w * h * 3));
        for (int64_t c = 0; c < 3; ++c)
            for (int64_t p = 0; p < w * h; ++p)
                f.rgb[static_cast<size_t>(p * 3 + c)] = at<uint8_t>(input, (i * 3 + c) * w * h + p);
        const int32_t count = at<int32_t>(counts, i);
        for (int64_t j = 0; j < count && j < k; ++j) {
            Box b;
            b.score = at<float>(scores, i * k + j);
            if (b.score < threshold) continue;
            b.class_id = at<int32_t>(classes, i * k + j);
            b.x1 = at<float>(boxes, (i * k + j) * 4 + 0);
            b.y1 = at<float>(boxes, (i * k + j) * 4 + 1);
            b.x2 = at<float>(boxes, (i * k + j) * 4 + 2);
            b.y2 = at<float>(boxes, (i * k + j) * 4 + 3);
            f.detections.push_back(b);
        }
        frames.push_back(std::move(f));
    }
    return frames;
}

std::string write_config(const std::string& name, const ConfigOptions& options) {
    const std::string models = std::string(RTINFER_SOURCE_DIR) + "/models/detector/";
    const std::string path = work_dir() + "/" + name + ".yml";
    std::ofstream out(path);
    out << "model:\n"
        << "  onnx: " << (options.onnx.empty() ? models + "detector_nms.onnx" : options.onnx) << "\n"
        << "  precision: fp16\n"
        << "  batch: 8\n"
        << "  engine_cache: " << RTINFER_GST_TEST_ENGINE_CACHE << "\n"
        << options.extra
        << "input:\n"
        << "  color: RGB\n  width: 160\n  height: 160\n  resize: stretch\n  scale: 0.00392156862745098\n"
        << "output:\n"
        << "  detector:\n"
        << "    format: efficient_nms\n"
        << "    tensors: [num_detections, detection_boxes, detection_scores, detection_classes]\n"
        << "    confidence_threshold: " << options.confidence_threshold << "\n"
        << "    max_detections: 100\n"
        << "    labels: " << models << "labels.txt\n"
        << "interval: " << options.interval << "\n";
    EXPECT_TRUE(out.good()) << "cannot write " << path;
    return path;
}

GstBuffer* rgb_buffer(const ReferenceFrame& frame) {
    static const int order[4] = {0, 1, 2, -1};
    return packed_buffer(frame, frame.width, frame.height, 3, order);
}

GstBuffer* bgrx_buffer(const ReferenceFrame& frame, int width, int height) {
    static const int order[4] = {2, 1, 0, -1};
    return packed_buffer(frame, width, height, 4, order);
}

GstBuffer* i420_buffer(const ReferenceFrame& frame, int width, int height) {
    static const int order[4] = {0, 1, 2, -1};
    GstBuffer* rgb = packed_buffer(frame, width, height, 3, order);
    GstVideoInfo in_info, out_info;
    for (auto [info, format] : {std::pair{&in_info, "RGB"}, std::pair{&out_info, "I420"}}) {
        GstCaps* caps = gst_caps_from_string(caps_string(format, width, height).c_str());
        gst_video_info_from_caps(info, caps);
        gst_caps_unref(caps);
    }
    GstBuffer* yuv = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&out_info), nullptr);
    GstVideoFrame src, dst;
    gst_video_frame_map(&src, &in_info, rgb, GST_MAP_READ);
    gst_video_frame_map(&dst, &out_info, yuv, GST_MAP_WRITE);
    GstVideoConverter* converter = gst_video_converter_new(&in_info, &out_info, nullptr);
    gst_video_converter_frame(converter, &src, &dst);
    gst_video_converter_free(converter);
    gst_video_frame_unmap(&dst);
    gst_video_frame_unmap(&src);
    gst_buffer_unref(rgb);
    return yuv;
}

std::string caps_string(const char* format, int width, int height) {
    std::string caps = std::string("video/x-raw,format=") + format + ",width=" + std::to_string(width) +
                       ",height=" + std::to_string(height) + ",framerate=30/1";
    if (std::strcmp(format, "I420") == 0 || std::strcmp(format, "NV12") == 0) caps += ",colorimetry=bt709";
    return caps;
}

std::vector<Box> result_meta_boxes(GstBuffer* buffer) {
    std::vector<Box> out;
    const RtinferResultMeta* meta = rtinfer_buffer_get_result_meta(buffer);
    for (guint i = 0; meta && i < rtinfer_result_meta_n_objects(meta); ++i) {
        RtinferObject o;
        EXPECT_TRUE(rtinfer_result_meta_get_object(meta, i, &o));
        out.push_back(Box{o.class_id, o.confidence, o.x1, o.y1, o.x2, o.y2});
    }
    return out;
}

std::vector<Box> roi_meta_boxes(GstBuffer* buffer) {
    std::vector<Box> out;
    gpointer state = nullptr;
    while (GstMeta* m = gst_buffer_iterate_meta_filtered(buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)) {
        auto* roi = reinterpret_cast<GstVideoRegionOfInterestMeta*>(m);
        Box b;
        b.x1 = static_cast<float>(roi->x);
        b.y1 = static_cast<float>(roi->y);
        b.x2 = static_cast<float>(roi->x + roi->w);
        b.y2 = static_cast<float>(roi->y + roi->h);
        GstStructure* s = gst_video_region_of_interest_meta_get_param(roi, "detection");
        EXPECT_NE(s, nullptr) << "an ROI meta without a \"detection\" parameter";
        gdouble confidence = -1.0;
        if (s) {
            EXPECT_TRUE(gst_structure_get_int(s, "class-id", &b.class_id));
            EXPECT_TRUE(gst_structure_get_double(s, "confidence", &confidence));
        }
        b.score = static_cast<float>(confidence);
        out.push_back(b);
    }
    return out;
}

void expect_same_detections(const std::vector<Box>& got, const std::vector<Box>& want, float sx, float sy,
                            float px_tol, float score_tol, const std::string& what) {
    ASSERT_EQ(got.size(), want.size()) << what << ": detection count";
    std::vector<bool> used(got.size(), false);
    for (const Box& w : want) {
        const float ex[4] = {w.x1 * sx, w.y1 * sy, w.x2 * sx, w.y2 * sy};
        int best = -1;
        float best_err = 1e9f;
        for (size_t i = 0; i < got.size(); ++i) {
            if (used[i] || got[i].class_id != w.class_id) continue;
            const float g[4] = {got[i].x1, got[i].y1, got[i].x2, got[i].y2};
            float err = std::fabs(got[i].score - w.score);
            for (int c = 0; c < 4; ++c) err = std::max(err, std::fabs(g[c] - ex[c]));
            if (err < best_err) {
                best_err = err;
                best = static_cast<int>(i);
            }
        }
        ASSERT_GE(best, 0) << what << ": no detection of class " << w.class_id;
        used[static_cast<size_t>(best)] = true;
        const Box& g = got[static_cast<size_t>(best)];
        EXPECT_NEAR(g.score, w.score, score_tol) << what << ": class " << w.class_id;
        EXPECT_NEAR(g.x1, ex[0], px_tol) << what << ": class " << w.class_id << " x1";
        EXPECT_NEAR(g.y1, ex[1], px_tol) << what << ": class " << w.class_id << " y1";
        EXPECT_NEAR(g.x2, ex[2], px_tol) << what << ": class " << w.class_id << " x2";
        EXPECT_NEAR(g.y2, ex[3], px_tol) << what << ": class " << w.class_id << " y2";
    }
}

GstElement* harness_element(GstHarness* h, const char* name) {
    if (GST_IS_BIN(h->element)) return gst_bin_get_by_name(GST_BIN(h->element), name);
    return GST_ELEMENT(gst_object_ref(h->element));
}

std::string pipeline_error(const std::string& description, bool* state_failed, int timeout_s) {
    GError* error = nullptr;
    GstElement* pipeline = gst_parse_launch(description.c_str(), &error);
    if (pipeline == nullptr || error != nullptr) {
        ADD_FAILURE() << "cannot parse " << description << ": " << (error ? error->message : "");
        if (error) g_error_free(error);
        if (pipeline) gst_object_unref(pipeline);
        return "";
    }
    *state_failed = gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE;
    GstBus* bus = gst_element_get_bus(pipeline);
    std::string text;
    GstMessage* msg = gst_bus_timed_pop_filtered(bus, static_cast<GstClockTime>(timeout_s) * GST_SECOND,
                                                 GST_MESSAGE_ERROR);
    if (msg) {
        GError* err = nullptr;
        gchar* debug = nullptr;
        gst_message_parse_error(msg, &err, &debug);
        text = std::string(err ? err->message : "") + "\n" + (debug ? debug : "");
        g_clear_error(&err);
        g_free(debug);
        gst_message_unref(msg);
    }
    gst_object_unref(bus);
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(pipeline);
    return text;
}

}  // namespace rtinfer::gst_test
