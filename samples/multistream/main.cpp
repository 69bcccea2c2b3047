// rtinfer_multistream: N video streams through one model in one GStreamer pipeline of one process. Every
// branch ends in its own rtinfer element; elements that load the same model.yml share one engine and batch
// their frames together (pipelines/runner/shared_model.h). Prints, per stream and in total, the frames that
// left rtinfer in the measured window, frames/s, and rtinfer's latency (buffer entering its sink pad to leaving
// its src pad, pad probes, monotonic clock), with the engine's batch size and how many streams share it.
//
//   rtinfer_multistream --config models/detector/detector.yml --seconds 10 test:// test:// test:// test://
//   rtinfer_multistream --config model.yml --json v4l2:///dev/video0 rtsp://cam:8554/live
#include <cctype>
#include <glib-unix.h>
#include <gst/gst.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "pipelines/camera/sources.h"
#include "pipelines/gst/rtinfer_meta.h"

namespace {

using rtinfer::Expected;

const char* kUsage =
    "usage: rtinfer_multistream --config model.yml [options] URI...\n"
    "  URI: v4l2:///dev/videoN, file:///path, rtsp://host/path, test:// (solid colour) or test://PATTERN,\n"
    "       frame:///path (one raw --format --width x --height frame, repeated at --fps or as fast as it goes)\n"
    "  --seconds S         measured time (default 10)\n"
    "  --warmup S          time after the pipeline starts playing that is not measured (default 0)\n"
    "  --frames N          stop once every stream has N measured frames\n"
    "  --width W --height H --fps F   test:// frame size and rate (default 1920x1080 at 30); with other\n"
    "                      sources, --width/--height scale the frames\n"
    "  --format NV12|RGB   the frames rtinfer receives (default NV12)\n"
    "  --not-live          test:// sources run as fast as they can (throughput) instead of at --fps\n"
    "  --max-latency US    rtinfer's batching wait in microseconds (default 20000)\n"
    "  --preprocess auto|cpu|gpu\n"
    "  --sink fakesink|metadata:DIR   discard the frames, or write DIR/stream-<i>.jsonl with rtmetasink\n"
    "  --json              print one JSON line instead of the table\n";

using Clock = std::chrono::steady_clock;

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

struct Options {
    std::string config;
    double seconds = 10.0;
    double warmup = 0.0;
    long frames = 0;  // 0: no frame limit
    int width = 1920;
    int height = 1080;
    bool size_given = false;
    int fps = 30;
    std::string format = "NV12";
    bool live = true;
    unsigned max_latency_us = 20000;
    std::string preprocess = "auto";
    std::string metadata_dir;  // empty: fakesink
    bool json = false;
    std::vector<std::string> uris;
};

// What one stream's probes record. Both probes of a stream run in the one thread that pushes its frames through
// rtinfer (an in-place transform hands the buffer on from its chain function); the main thread reads after the
// pipeline has stopped.
struct StreamStats {
    int64_t entered_ns = 0;
    std::vector<double> latency_ms;
    long batch_sum = 0;      // frames in the inferences of the measured frames (mean batch occupancy)
    long inferred = 0;       // measured frames that carry a result (model.yml interval skips the others)
    long objects = 0;        // detections on the measured frames
    std::atomic<long> measured{0};
};

struct Run {
    Options opt;
    GstElement* pipeline = nullptr;
    GMainLoop* loop = nullptr;
    std::vector<StreamStats> streams;
    std::atomic<int64_t> window_start{INT64_MAX};  // frames leaving rtinfer before this are not measured
    std::atomic<int64_t> window_end{INT64_MAX};
    std::atomic<int> streams_done{0};
    bool armed = false;
    std::string error;  // the first bus error
    std::vector<GstElement*> infers;
};

void stop_now(Run* run) {
    int64_t expected = INT64_MAX;
    run->window_end.compare_exchange_strong(expected, now_ns());
    g_main_loop_quit(run->loop);
}

struct ProbeData {
    Run* run;
    int index;
};

GstPadProbeReturn on_enter(GstPad*, GstPadProbeInfo*, gpointer data) {
    auto* p = static_cast<ProbeData*>(data);
    p->run->streams[static_cast<size_t>(p->index)].entered_ns = now_ns();
    return GST_PAD_PROBE_OK;
}

GstPadProbeReturn on_leave(GstPad*, GstPadProbeInfo* info, gpointer data) {
    auto* p = static_cast<ProbeData*>(data);
    Run* run = p->run;
    StreamStats& s = run->streams[static_cast<size_t>(p->index)];
    const int64_t t = now_ns();
    if (t < run->window_start.load() || t > run->window_end.load()) return GST_PAD_PROBE_OK;
    s.latency_ms.push_back(static_cast<double>(t - s.entered_ns) * 1e-6);
    if (const RtinferResultMeta* meta = rtinfer_buffer_get_result_meta(GST_PAD_PROBE_INFO_BUFFER(info))) {
        s.batch_sum += meta->batch_size;
        s.objects += static_cast<long>(rtinfer_result_meta_n_objects(meta));
        ++s.inferred;
    }
    const long n = s.measured.fetch_add(1) + 1;
    if (run->opt.frames > 0 && n == run->opt.frames &&
        run->streams_done.fetch_add(1) + 1 == static_cast<int>(run->streams.size())) {
        stop_now(run);
    }
    return GST_PAD_PROBE_OK;
}

gboolean on_timeout(gpointer data) {
    stop_now(static_cast<Run*>(data));
    return G_SOURCE_REMOVE;
}

gboolean on_signal(gpointer data) {
    stop_now(static_cast<Run*>(data));
    return G_SOURCE_CONTINUE;
}

// The window opens once every element plays (live sources only start then; engines are built before).
void arm(Run* run) {
    if (run->armed) return;
    run->armed = true;
    run->window_start = now_ns() + static_cast<int64_t>(run->opt.warmup * 1e9);
    g_timeout_add(static_cast<guint>((run->opt.warmup + run->opt.seconds) * 1000.0 + 0.5), on_timeout, run);
}

gboolean on_bus(GstBus*, GstMessage* msg, gpointer data) {
    auto* run = static_cast<Run*>(data);
    switch (GST_MESSAGE_TYPE(msg)) {
        case GST_MESSAGE_ERROR: {
            GError* err = nullptr;
            gchar* debug = nullptr;
            gst_message_parse_error(msg, &err, &debug);
            if (run->error.empty()) {
                run->error = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg))) + ": " + err->message;
                if (debug != nullptr && debug[0] != '\0') run->error += " (" + std::string(debug) + ")";
            }
            g_error_free(err);
            g_free(debug);
            stop_now(run);
            break;
        }
        case GST_MESSAGE_EOS: stop_now(run); break;
        case GST_MESSAGE_STATE_CHANGED:
            if (GST_MESSAGE_SRC(msg) == GST_OBJECT(run->pipeline)) {
                GstState old_state, new_state;
                gst_message_parse_state_changed(msg, &old_state, &new_state, nullptr);
                if (new_state == GST_STATE_PLAYING) arm(run);
            }
            break;
        default: break;
    }
    return TRUE;
}

bool parse_number(const char* text, double lo, double hi, double* out) {
    char* end = nullptr;
    const double v = std::strtod(text, &end);
    if (end == text || *end != '\0' || !std::isfinite(v) || v < lo || v > hi) return false;
    *out = v;
    return true;
}

// Options as in kUsage; returns 0 when parsed, else the exit code (2: usage, 0: --help).
int parse_args(int argc, char** argv, Options* opt) {
    auto bad = [](const std::string& what) {
        std::fprintf(stderr, "rtinfer_multistream: %s\n%s", what.c_str(), kUsage);
        return 2;
    };
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            std::fputs(kUsage, stdout);
            return -1;
        }
        if (a == "--not-live") {
            opt->live = false;
            continue;
        }
        if (a == "--json") {
            opt->json = true;
            continue;
        }
        if (a.rfind("--", 0) != 0) {
            opt->uris.push_back(a);
            continue;
        }
        if (i + 1 >= argc) return bad(a + " needs a value");
        const char* v = argv[++i];
        double x = 0;
        if (a == "--config") {
            opt->config = v;
        } else if (a == "--seconds") {
            if (!parse_number(v, 0.001, 1e6, &x)) {
                return bad("--seconds " + std::string(v) + ": expected seconds > 0");
            }
            opt->seconds = x;
        } else if (a == "--warmup") {
            if (!parse_number(v, 0, 1e6, &x)) return bad("--warmup " + std::string(v) + ": expected seconds >= 0");
            opt->warmup = x;
        } else if (a == "--frames") {
            if (!parse_number(v, 1, 1e12, &x) || x != std::floor(x)) {
                return bad("--frames " + std::string(v) + ": expected a count > 0");
            }
            opt->frames = static_cast<long>(x);
        } else if (a == "--width" || a == "--height") {
            if (!parse_number(v, 2, 16384, &x) || x != std::floor(x) || static_cast<long>(x) % 2 != 0) {
                return bad(a + " " + v + ": expected an even number of pixels, 2 to 16384");
            }
            (a == "--width" ? opt->width : opt->height) = static_cast<int>(x);
            opt->size_given = true;
        } else if (a == "--fps") {
            if (!parse_number(v, 1, 1000, &x) || x != std::floor(x)) {
                return bad("--fps " + std::string(v) + ": expected 1 to 1000");
            }
            opt->fps = static_cast<int>(x);
        } else if (a == "--format") {
            opt->format = v;
            if (opt->format != "NV12" && opt->format != "RGB") return bad("--format " + opt->format + ": NV12 or RGB");
        } else if (a == "--max-latency") {
            if (!parse_number(v, 0, 10000000, &x) || x != std::floor(x)) {
                return bad("--max-latency " + std::string(v) + ": expected microseconds, 0 to 10000000");
            }
            opt->max_latency_us = static_cast<unsigned>(x);
        } else if (a == "--preprocess") {
            opt->preprocess = v;
            if (opt->preprocess != "auto" && opt->preprocess != "cpu" && opt->preprocess != "gpu") {
                return bad("--preprocess " + opt->preprocess + ": auto, cpu or gpu");
            }
        } else if (a == "--sink") {
            const std::string s = v;
            if (s == "fakesink") {
                opt->metadata_dir.clear();
            } else if (s.rfind("metadata:", 0) == 0 && s.size() > 9) {
                opt->metadata_dir = s.substr(9);
            } else {
                return bad("--sink " + s + ": fakesink or metadata:DIR");
            }
        } else {
            return bad("unknown option " + a);
        }
    }
    if (opt->config.empty()) return bad("--config model.yml is required");
    if (opt->uris.empty()) return bad("no source URIs");
    return 0;
}

// One branch of the pipeline, as gst-launch text. Paths (config, metadata files) are set as properties after
// parsing, so they need no quoting here.
Expected<std::string> branch(const Options& opt, size_t i) {
    const std::string& uri = opt.uris[i];
    // A bare test:// is a solid colour: at 1080p the SMPTE bars cost ~1.5 ms a frame and the ball ~6 ms on one
    // core, which 64 live streams would turn into the bottleneck of the benchmark.
    const std::string size = ",width=" + std::to_string(opt.width) + ",height=" + std::to_string(opt.height);
    std::string d;
    const bool frame = uri.rfind("frame://", 0) == 0;
    if (frame) {
        // One raw frame (--format, --width x --height) shown again and again: a real scene at no cost per frame.
        std::string format = opt.format;
        for (auto& c : format) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        d = "filesrc location=" + uri.substr(8) + " ! rawvideoparse format=" + format +
            " width=" + std::to_string(opt.width) + " height=" + std::to_string(opt.height) +
            " framerate=" + std::to_string(opt.fps) + "/1 colorimetry=bt709 ! imagefreeze is-live=" +
            (opt.live ? "true" : "false");
    } else {
        auto source = rtinfer::pipelines::source_description(uri == "test://" ? "test://solid-color" : uri);
        if (!source) return source.status();
        d = *source;
    }
    const bool test = uri.rfind("test://", 0) == 0;
    if (frame) {
        // rawvideoparse already says what the frames are.
    } else if (test) {
        // The later assignment wins: sources.h makes every test source live.
        d += std::string(" is-live=") + (opt.live ? "true" : "false") + " ! video/x-raw" + size +
             ",framerate=" + std::to_string(opt.fps) + "/1 ! videoconvert";
    } else {
        d += opt.size_given ? " ! videoconvert ! videoscale" : " ! videoconvert";
    }
    d += " ! video/x-raw,format=" + opt.format + (test || opt.size_given ? size : std::string());
    // imagefreeze runs at 25 frames/s unless told otherwise.
    if (frame) d += ",framerate=" + std::to_string(opt.fps) + "/1";
    // A short queue: a separate thread per stream in front of rtinfer, without piling up seconds of 1080p frames
    // from a non-live source.
    d += " ! queue max-size-buffers=4 max-size-bytes=0 max-size-time=0";
    d += " ! rtinfer name=infer" + std::to_string(i) + " stream-id=" + std::to_string(i) +
         " max-latency=" + std::to_string(opt.max_latency_us) + " preprocess=" + opt.preprocess;
    d += opt.metadata_dir.empty() ? " ! fakesink sync=false" : " ! rtmetasink sync=false name=meta" + std::to_string(i);
    return d;
}

// numpy's default (linear) percentile of sorted values.
double percentile(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return 0.0;
    const double pos = q / 100.0 * static_cast<double>(sorted.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string fixed(double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

struct Figures {
    long frames = 0;
    double fps = 0.0;
    double p50 = 0.0;
    double p99 = 0.0;
    double mean_batch = 0.0;
    double objects_per_frame = 0.0;
};

Figures figures_of(std::vector<double> latency, long frames, long batch_sum, long inferred, long objects,
                   double seconds) {
    std::sort(latency.begin(), latency.end());
    Figures f;
    f.frames = frames;
    f.fps = seconds > 0 ? static_cast<double>(frames) / seconds : 0.0;
    f.p50 = percentile(latency, 50);
    f.p99 = percentile(latency, 99);
    f.mean_batch = inferred > 0 ? static_cast<double>(batch_sum) / static_cast<double>(inferred) : 0.0;
    f.objects_per_frame = inferred > 0 ? static_cast<double>(objects) / static_cast<double>(inferred) : 0.0;
    return f;
}

std::string figures_json(const Figures& f) {
    return "\"frames\":" + std::to_string(f.frames) + ",\"fps\":" + fixed(f.fps, 2) +
           ",\"latency_ms_p50\":" + fixed(f.p50, 3) + ",\"latency_ms_p99\":" + fixed(f.p99, 3) +
           ",\"mean_batch\":" + fixed(f.mean_batch, 2) + ",\"objects_per_frame\":" + fixed(f.objects_per_frame, 2);
}

void report(const Run& run, double seconds, int batch_size, int engine_users) {
    const Options& opt = run.opt;
    std::vector<Figures> per;
    std::vector<double> all;
    long batch_sum = 0, inferred = 0, objects = 0, frames = 0;
    for (const StreamStats& s : run.streams) {
        per.push_back(figures_of(s.latency_ms, s.measured.load(), s.batch_sum, s.inferred, s.objects, seconds));
        all.insert(all.end(), s.latency_ms.begin(), s.latency_ms.end());
        batch_sum += s.batch_sum;
        inferred += s.inferred;
        objects += s.objects;
        frames += s.measured.load();
    }
    const Figures total = figures_of(all, frames, batch_sum, inferred, objects, seconds);
    double min_fps = per.empty() ? 0.0 : per[0].fps;
    for (const Figures& f : per) min_fps = std::min(min_fps, f.fps);
    if (opt.json) {
        std::string j = "{\"streams\":" + std::to_string(per.size()) + ",\"config\":" + json_string(opt.config) +
                        ",\"batch_size\":" + std::to_string(batch_size) + ",\"engine_users\":" +
                        std::to_string(engine_users) + ",\"width\":" + std::to_string(opt.width) +
                        ",\"height\":" + std::to_string(opt.height) + ",\"format\":" + json_string(opt.format) +
                        ",\"target_fps\":" + std::to_string(opt.fps) + ",\"live\":" + (opt.live ? "true" : "false") +
                        ",\"max_latency_us\":" + std::to_string(opt.max_latency_us) + ",\"preprocess\":" +
                        json_string(opt.preprocess) + ",\"seconds\":" + fixed(seconds, 3) + "," +
                        figures_json(total) + ",\"min_stream_fps\":" + fixed(min_fps, 2) + ",\"per_stream\":[";
        for (size_t i = 0; i < per.size(); ++i) {
            j += (i ? ",{" : "{") + std::string("\"stream\":") + std::to_string(i) + ",\"uri\":" +
                 json_string(opt.uris[i]) + "," + figures_json(per[i]) + "}";
        }
        std::printf("%s]}\n", j.c_str());
        return;
    }
    std::printf("%zu streams, %s: batch size %d, engine users %d, max-latency %u us, preprocess %s\n", per.size(),
                opt.config.c_str(), batch_size, engine_users, opt.max_latency_us, opt.preprocess.c_str());
    std::printf("%.2f s measured; test sources %dx%d %s, %s\n", seconds, opt.width, opt.height, opt.format.c_str(),
                opt.live ? ("live at " + std::to_string(opt.fps) + " fps").c_str() : "not live (as fast as they go)");
    std::printf("%-7s %8s %9s %8s %8s %6s %8s  %s\n", "stream", "frames", "fps", "p50 ms", "p99 ms", "batch",
                "objects", "source");
    for (size_t i = 0; i < per.size(); ++i) {
        const Figures& f = per[i];
        std::printf("%-7zu %8ld %9.2f %8.2f %8.2f %6.2f %8.2f  %s\n", i, f.frames, f.fps, f.p50, f.p99, f.mean_batch,
                    f.objects_per_frame, opt.uris[i].c_str());
    }
    std::printf("%-7s %8ld %9.2f %8.2f %8.2f %6.2f %8.2f  min stream fps %.2f\n", "total", total.frames, total.fps,
                total.p50, total.p99, total.mean_batch, total.objects_per_frame, min_fps);
}

int fail(const std::string& message) {
    std::fprintf(stderr, "rtinfer_multistream: %s\n", message.c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    Run run;
    const int parsed = parse_args(argc, argv, &run.opt);
    if (parsed != 0) return parsed < 0 ? 0 : parsed;
    const Options& opt = run.opt;
#ifdef RTINFER_GST_PLUGIN_DIR
    // From the build tree the plugin is found without setup; an explicit GST_PLUGIN_PATH is left alone.
    if (g_getenv("GST_PLUGIN_PATH") == nullptr) g_setenv("GST_PLUGIN_PATH", RTINFER_GST_PLUGIN_DIR, TRUE);
#endif
    gst_init(nullptr, nullptr);
    GstElementFactory* factory = gst_element_factory_find("rtinfer");
    if (factory == nullptr) {
        return fail("no rtinfer element: put the directory of libgstrtinfer.so in GST_PLUGIN_PATH (now '" +
                    std::string(g_getenv("GST_PLUGIN_PATH") ? g_getenv("GST_PLUGIN_PATH") : "") + "')");
    }
    gst_object_unref(factory);
    if (!opt.metadata_dir.empty() && g_mkdir_with_parents(opt.metadata_dir.c_str(), 0755) != 0) {
        return fail("cannot create the metadata directory " + opt.metadata_dir + ": " + std::strerror(errno));
    }

    std::string description;
    for (size_t i = 0; i < opt.uris.size(); ++i) {
        auto b = branch(opt, i);
        if (!b) return fail(b.status().message());
        description += (i ? "  " : "") + *b;
    }
    GError* err = nullptr;
    run.pipeline = gst_parse_launch(description.c_str(), &err);
    if (err != nullptr) {
        const std::string message = "cannot build the pipeline: " + std::string(err->message) + "\n  " + description;
        g_error_free(err);
        if (run.pipeline) gst_object_unref(run.pipeline);
        return fail(message);
    }

    run.streams = std::vector<StreamStats>(opt.uris.size());
    std::vector<ProbeData> probes(opt.uris.size());
    for (size_t i = 0; i < opt.uris.size(); ++i) {
        GstElement* infer = gst_bin_get_by_name(GST_BIN(run.pipeline), ("infer" + std::to_string(i)).c_str());
        g_object_set(infer, "config", opt.config.c_str(), nullptr);
        if (!opt.metadata_dir.empty()) {
            GstElement* sink = gst_bin_get_by_name(GST_BIN(run.pipeline), ("meta" + std::to_string(i)).c_str());
            const std::string file = opt.metadata_dir + "/stream-" + std::to_string(i) + ".jsonl";
            g_object_set(sink, "location", file.c_str(), nullptr);
            gst_object_unref(sink);
        }
        probes[i] = {&run, static_cast<int>(i)};
        run.streams[i].latency_ms.reserve(static_cast<size_t>(std::max(opt.seconds, 1.0) * opt.fps * 1.5));
        GstPad* sink_pad = gst_element_get_static_pad(infer, "sink");
        GstPad* src_pad = gst_element_get_static_pad(infer, "src");
        gst_pad_add_probe(sink_pad, GST_PAD_PROBE_TYPE_BUFFER, on_enter, &probes[i], nullptr);
        gst_pad_add_probe(src_pad, GST_PAD_PROBE_TYPE_BUFFER, on_leave, &probes[i], nullptr);
        gst_object_unref(sink_pad);
        gst_object_unref(src_pad);
        run.infers.push_back(infer);
    }

    run.loop = g_main_loop_new(nullptr, FALSE);
    GstBus* bus = gst_element_get_bus(run.pipeline);
    const guint bus_watch = gst_bus_add_watch(bus, on_bus, &run);
    gst_object_unref(bus);
    const guint sigint = g_unix_signal_add(SIGINT, on_signal, &run);
    if (!opt.json) {
        std::fprintf(stderr, "rtinfer_multistream: starting %zu streams (engines are built on first use)\n",
                     opt.uris.size());
    }
    if (gst_element_set_state(run.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        // The element that failed has posted why on the bus.
        GstBus* b = gst_element_get_bus(run.pipeline);
        while (GstMessage* msg = gst_bus_pop_filtered(b, GST_MESSAGE_ERROR)) {
            on_bus(b, msg, &run);
            gst_message_unref(msg);
        }
        gst_object_unref(b);
        if (run.error.empty()) run.error = "the pipeline does not start";
    } else {
        g_main_loop_run(run.loop);
    }

    const int64_t start = run.window_start.load(), end = run.window_end.load();
    const double seconds = run.armed && end > start ? static_cast<double>(end - start) * 1e-9 : 0.0;
    int batch_size = 0, engine_users = 0;
    g_object_get(run.infers[0], "batch-size", &batch_size, "engine-users", &engine_users, nullptr);
    gst_element_set_state(run.pipeline, GST_STATE_NULL);
    g_source_remove(sigint);
    g_source_remove(bus_watch);
    for (GstElement* e : run.infers) gst_object_unref(e);
    gst_object_unref(run.pipeline);
    g_main_loop_unref(run.loop);
    if (!run.error.empty()) return fail(run.error);
    report(run, seconds, batch_size, engine_users);
    return 0;
}
