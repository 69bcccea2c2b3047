#include "pipelines/camera/sources.h"

#include <fcntl.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <tuple>

namespace rtinfer::pipelines {

namespace {

Status bad_uri(const std::string& uri, const std::string& why) {
    return Status(StatusCode::kInvalidArgument, "source '" + uri + "': " + why);
}

std::string fourcc_text(uint32_t f) {
    std::string s(4, ' ');
    for (int i = 0; i < 4; ++i) s[static_cast<size_t>(i)] = static_cast<char>((f >> (8 * i)) & 0xff);
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

int xioctl(int fd, unsigned long request, void* arg) {
    int r;
    do {
        r = ioctl(fd, request, arg);
    } while (r == -1 && errno == EINTR);
    return r;
}

void add_rates(int fd, uint32_t format, int w, int h, const std::string& fourcc, std::vector<CaptureMode>& modes) {
    v4l2_frmivalenum iv{};
    iv.pixel_format = format;
    iv.width = static_cast<uint32_t>(w);
    iv.height = static_cast<uint32_t>(h);
    bool any = false;
    for (iv.index = 0; xioctl(fd, VIDIOC_ENUM_FRAMEINTERVALS, &iv) == 0; ++iv.index) {
        const v4l2_fract f = iv.type == V4L2_FRMIVAL_TYPE_DISCRETE ? iv.discrete : iv.stepwise.min;
        if (f.numerator == 0) continue;
        modes.push_back({fourcc, w, h, static_cast<double>(f.denominator) / f.numerator});
        any = true;
        if (iv.type != V4L2_FRMIVAL_TYPE_DISCRETE) break;
    }
    if (!any) modes.push_back({fourcc, w, h, 0.0});
}

}  // namespace

Expected<std::string> source_description(const std::string& uri) {
    const size_t sep = uri.find("://");
    if (sep == std::string::npos) return bad_uri(uri, "not a URI (expected scheme://...)");
    const std::string scheme = uri.substr(0, sep), rest = uri.substr(sep + 3);
    // Characters that would end or split a gst-launch property value.
    if (rest.find_first_of(" !\"'\\\n\t=") != std::string::npos) {
        return bad_uri(uri, "spaces, quotes, '!' and '=' are not allowed");
    }
    if (scheme == "v4l2") {
        if (rest.empty() || rest[0] != '/') return bad_uri(uri, "expected v4l2:///dev/videoN");
        return "v4l2src device=" + rest;
    }
    if (scheme == "file") {
        if (rest.empty() || rest[0] != '/') return bad_uri(uri, "expected an absolute path (file:///path)");
        return "filesrc location=" + rest + " ! decodebin";
    }
    if (scheme == "rtsp" || scheme == "rtsps") {
        if (rest.empty()) return bad_uri(uri, "no host");
        return "rtspsrc location=" + uri + " latency=200 ! decodebin";
    }
    if (scheme == "test") {
        const std::string pattern = rest.empty() ? "smpte" : rest;
        return "videotestsrc pattern=" + pattern + " is-live=true";
    }
    return bad_uri(uri, "unknown scheme '" + scheme + "' (v4l2, file, rtsp, test)");
}

std::vector<V4l2Device> list_v4l2_devices() {
    std::vector<std::string> paths;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/dev", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("video", 0) == 0) paths.push_back(entry.path().string());
    }
    std::sort(paths.begin(), paths.end());
    std::vector<V4l2Device> devices;
    for (const std::string& path : paths) {
        const int fd = open(path.c_str(), O_RDWR | O_NONBLOCK);
        if (fd < 0) continue;
        v4l2_capability cap{};
        const uint32_t caps = xioctl(fd, VIDIOC_QUERYCAP, &cap) == 0
                                  ? ((cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities)
                                  : 0;
        if (!(caps & V4L2_CAP_VIDEO_CAPTURE)) {
            close(fd);
            continue;
        }
        V4l2Device dev;
        dev.path = path;
        dev.card = reinterpret_cast<const char*>(cap.card);
        dev.driver = reinterpret_cast<const char*>(cap.driver);
        v4l2_fmtdesc fmt{};
        fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        for (fmt.index = 0; xioctl(fd, VIDIOC_ENUM_FMT, &fmt) == 0; ++fmt.index) {
            const std::string fourcc = fourcc_text(fmt.pixelformat);
            v4l2_frmsizeenum size{};
            size.pixel_format = fmt.pixelformat;
            for (size.index = 0; xioctl(fd, VIDIOC_ENUM_FRAMESIZES, &size) == 0; ++size.index) {
                if (size.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
                    add_rates(fd, fmt.pixelformat, static_cast<int>(size.discrete.width),
                              static_cast<int>(size.discrete.height), fourcc, dev.modes);
                } else {
                    add_rates(fd, fmt.pixelformat, static_cast<int>(size.stepwise.max_width),
                              static_cast<int>(size.stepwise.max_height), fourcc, dev.modes);
                    break;
                }
            }
        }
        close(fd);
        devices.push_back(std::move(dev));
    }
    return devices;
}

Expected<CaptureMode> choose_capture_mode(const std::vector<CaptureMode>& modes, int width, int height, double fps) {
    if (modes.empty()) return Status(StatusCode::kNotFound, "the device offers no capture modes");
    const bool any_big = std::any_of(modes.begin(), modes.end(),
                                     [&](const CaptureMode& m) { return m.width >= width && m.height >= height; });
    auto rank = [&](const CaptureMode& m) {
        const bool big = m.width >= width && m.height >= height;
        const bool fast = m.fps + 1e-6 >= fps;
        const bool compressed = m.fourcc == "MJPG" || m.fourcc == "JPEG" || m.fourcc == "H264" || m.fourcc == "HEVC";
        // Lower is better, compared in order.
        const int64_t area = static_cast<int64_t>(m.width) * m.height;
        return std::make_tuple(any_big && !big, !fast, fast ? 0.0 : fps - m.fps, compressed, any_big ? area : -area,
                               -m.fps);
    };
    return *std::min_element(modes.begin(), modes.end(),
                             [&](const CaptureMode& a, const CaptureMode& b) { return rank(a) < rank(b); });
}

}  // namespace rtinfer::pipelines
