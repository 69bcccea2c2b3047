#include "sdk/rtexec/calib_data.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "sdk/rtexec/npy.h"
#ifdef RTEXEC_HAVE_PNG
#include <png.h>
#endif
#ifdef RTEXEC_HAVE_JPEG
#include <csetjmp>
#include <cstdio>

#include <jpeglib.h>
#endif
#ifdef RTEXEC_HAVE_PREPROCESS
#include "pipelines/config/model_config.h"
#include "pipelines/preprocess/frame_preprocess.h"
#endif

namespace rtexec {

using rtinfer::DataType;
using rtinfer::Expected;
using rtinfer::Status;
using rtinfer::StatusCode;

namespace {

namespace fs = std::filesystem;

std::string lower_extension(const fs::path& p) {
    std::string e = p.extension().string();
    std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return e;
}

Status unreadable(const std::string& path, const std::string& why) {
    return Status(StatusCode::kInvalidArgument, path + ": not a readable image: " + why);
}

// An 8-bit image, RGB (3 channels) or grey (1), rows packed.
struct Netpbm {
    int width = 0, height = 0, channels = 0;
    std::vector<uint8_t> pixels;
};

Expected<Netpbm> read_netpbm(const std::string& path, bool header_only) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status(StatusCode::kNotFound, path + ": cannot open the image");
    std::string magic;
    in >> magic;
    Netpbm img;
    if (magic == "P6") {
        img.channels = 3;
    } else if (magic == "P5") {
        img.channels = 1;
    } else {
        return unreadable(path, "binary PPM (P6) or PGM (P5) expected");
    }
    long values[3] = {0, 0, 0};
    for (long& v : values) {
        in >> std::ws;
        while (in.peek() == '#') {
            std::string comment;
            std::getline(in, comment);
            in >> std::ws;
        }
        if (!(in >> v)) return unreadable(path, "a truncated header");
    }
    if (values[0] <= 0 || values[1] <= 0 || values[0] > 65536 || values[1] > 65536) return unreadable(path, "a bad size");
    if (values[2] <= 0 || values[2] > 255) return unreadable(path, "only 8-bit samples (maxval <= 255) are read");
    in.get();  // the one whitespace byte before the pixels
    img.width = static_cast<int>(values[0]);
    img.height = static_cast<int>(values[1]);
    if (header_only) return img;
    img.pixels.resize(static_cast<size_t>(img.width) * img.height * img.channels);
    in.read(reinterpret_cast<char*>(img.pixels.data()), static_cast<std::streamsize>(img.pixels.size()));
    if (in.gcount() != static_cast<std::streamsize>(img.pixels.size())) return unreadable(path, "the pixels are truncated");
    if (values[2] != 255) {
        for (auto& p : img.pixels) p = static_cast<uint8_t>((p * 255 + values[2] / 2) / values[2]);
    }
    return img;
}

#ifdef RTEXEC_HAVE_PNG
// PNG through libpng's simplified API: any bit depth, palette or alpha becomes 8-bit RGB or grey.
Expected<Netpbm> read_png(const std::string& path, bool header_only) {
    png_image png{};
    png.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&png, path.c_str())) return unreadable(path, png.message);
    Netpbm img;
    img.width = static_cast<int>(png.width);
    img.height = static_cast<int>(png.height);
    img.channels = (png.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1;
    if (header_only) {
        png_image_free(&png);
        return img;
    }
    png.format = img.channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    img.pixels.resize(PNG_IMAGE_SIZE(png));
    if (!png_image_finish_read(&png, nullptr, img.pixels.data(), 0, nullptr)) {
        const std::string why = png.message;
        png_image_free(&png);
        return unreadable(path, why);
    }
    return img;
}
#endif

#ifdef RTEXEC_HAVE_JPEG
// libjpeg reports errors through error_exit, which must not return: it jumps back to read_jpeg.
struct JpegErrors {
    jpeg_error_mgr mgr;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

void jpeg_error_exit(j_common_ptr cinfo) {
    auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, errors->message);
    std::longjmp(errors->jump, 1);
}

// Decodes into pixels (sized by the caller once the header is read); only plain C objects live between the
// setjmp and a longjmp. Returns "" or the error.
std::string decode_jpeg(std::FILE* file, bool header_only, int* width, int* height, int* channels,
                        std::vector<uint8_t>* pixels) {
    jpeg_decompress_struct cinfo;
    JpegErrors errors;
    cinfo.err = jpeg_std_error(&errors.mgr);
    errors.mgr.error_exit = jpeg_error_exit;
    errors.message[0] = '\0';
    if (setjmp(errors.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return errors.message[0] ? errors.message : "a corrupt JPEG file";
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, file);
    jpeg_read_header(&cinfo, TRUE);
    *channels = cinfo.num_components == 1 ? 1 : 3;
    cinfo.out_color_space = *channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    *width = static_cast<int>(cinfo.image_width);
    *height = static_cast<int>(cinfo.image_height);
    if (!header_only) {
        jpeg_start_decompress(&cinfo);
        pixels->resize(static_cast<size_t>(cinfo.output_width) * cinfo.output_height * cinfo.output_components);
        const size_t row = static_cast<size_t>(cinfo.output_width) * cinfo.output_components;
        while (cinfo.output_scanline < cinfo.output_height) {
            JSAMPROW rows[1] = {pixels->data() + cinfo.output_scanline * row};
            jpeg_read_scanlines(&cinfo, rows, 1);
        }
        jpeg_finish_decompress(&cinfo);
    }
    jpeg_destroy_decompress(&cinfo);
    return "";
}

Expected<Netpbm> read_jpeg(const std::string& path, bool header_only) {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (!file) return Status(StatusCode::kNotFound, path + ": cannot open the image");
    Netpbm img;
    const std::string error = decode_jpeg(file, header_only, &img.width, &img.height, &img.channels, &img.pixels);
    std::fclose(file);
    if (!error.empty()) return unreadable(path, error);
    return img;
}
#endif

bool is_png(const std::string& ext) { return ext == ".png"; }
bool is_jpeg(const std::string& ext) { return ext == ".jpg" || ext == ".jpeg"; }
bool is_netpbm(const std::string& ext) { return ext == ".ppm" || ext == ".pgm" || ext == ".pnm"; }

// An image file of any format this rtexec reads, by its extension.
Expected<Netpbm> read_image(const std::string& path, bool header_only) {
    const std::string ext = lower_extension(path);
    if (is_png(ext)) {
#ifdef RTEXEC_HAVE_PNG
        return read_png(path, header_only);
#else
        return Status(StatusCode::kUnsupported, path + ": this rtexec was built without libpng; give PPM or .npy");
#endif
    }
    if (is_jpeg(ext)) {
#ifdef RTEXEC_HAVE_JPEG
        return read_jpeg(path, header_only);
#else
        return Status(StatusCode::kUnsupported, path + ": this rtexec was built without libjpeg; give PPM or .npy");
#endif
    }
    return read_netpbm(path, header_only);
}

struct Entry {
    std::string path;
    bool image = false;
    int64_t samples = 1;
};

class FolderData : public rtinfer::CalibrationData {
public:
    FolderData(std::vector<Entry> entries, int64_t total) : entries_(std::move(entries)), total_(total) {}
#ifdef RTEXEC_HAVE_PREPROCESS
    rtinfer::config::InputSection input;
#endif

    int64_t size() const override { return total_; }

    Expected<bool> next(const std::vector<rtinfer::TensorDesc>& inputs, rtinfer::CalibrationSample* sample) override {
        if (inputs.size() != 1)
            return Status(StatusCode::kUnsupported, "calibration folders feed models with one input; this one has " +
                                                        std::to_string(inputs.size()));
        int64_t values = 1;
        for (int64_t d : inputs[0].dims) values *= d;
        while (index_ < entries_.size()) {
            const Entry& e = entries_[index_];
            if (e.image) {
                ++index_;
                sample->assign(1, std::vector<float>());
                RT_RETURN_IF_ERROR(image_sample(e.path, inputs[0], &(*sample)[0]));
                return true;
            }
            if (!current_) {
                RT_ASSIGN_OR_RETURN(NpyArray a, read_npy(e.path));
                RT_RETURN_IF_ERROR(npy_floats(a, e.path, inputs[0], values));
                offset_ = 0;
            }
            if (offset_ < floats_.size()) {
                sample->assign(1, std::vector<float>(floats_.begin() + static_cast<std::ptrdiff_t>(offset_),
                                                     floats_.begin() + static_cast<std::ptrdiff_t>(offset_ + values)));
                offset_ += static_cast<size_t>(values);
                return true;
            }
            current_ = false;
            ++index_;
        }
        return false;
    }

private:
    // The array as float32 values, a whole number of samples of the input.
    Status npy_floats(const NpyArray& a, const std::string& path, const rtinfer::TensorDesc& input, int64_t values) {
        floats_.resize(static_cast<size_t>(a.numel()));
        if (a.dtype == DataType::kFloat32) {
            std::memcpy(floats_.data(), a.data.data(), floats_.size() * sizeof(float));
        } else if (a.dtype == DataType::kFloat64) {
            const auto* d = reinterpret_cast<const double*>(a.data.data());
            for (size_t i = 0; i < floats_.size(); ++i) floats_[i] = static_cast<float>(d[i]);
        } else {
            return Status(StatusCode::kInvalidArgument, path + ": calibration tensors are float32 or float64, this one is " +
                                                            rtinfer::data_type_name(a.dtype));
        }
        if (values <= 0 || a.numel() == 0 || a.numel() % values != 0 || !fits(a.shape, input.dims)) {
            return Status(StatusCode::kInvalidArgument, path + ": shape " + dims_text(a.shape) + " does not fit input '" +
                                                            input.name + "' " + dims_text(input.dims) +
                                                            " (one sample, with or without the batch dim, or a batch)");
        }
        current_ = true;
        return Status();
    }

    // [dims...] without the batch, [1, dims...] or [N, dims...].
    static bool fits(const std::vector<int64_t>& shape, const std::vector<int64_t>& input) {
        if (input.empty()) return shape.empty();
        const std::vector<int64_t> item(input.begin() + 1, input.end());
        if (shape == item) return true;
        return shape.size() == input.size() && std::equal(item.begin(), item.end(), shape.begin() + 1);
    }

    static std::string dims_text(const std::vector<int64_t>& dims) {
        std::string s = "[";
        for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
        return s + "]";
    }

    Status image_sample(const std::string& path, const rtinfer::TensorDesc& desc, std::vector<float>* out) {
#ifdef RTEXEC_HAVE_PREPROCESS
        using rtinfer::config::Layout;
        if (desc.dims.size() != 4)
            return Status(StatusCode::kInvalidArgument, path + ": images feed 4-D inputs; input '" + desc.name +
                                                            "' is " + dims_text(desc.dims));
        const bool nhwc = input.layout == Layout::kNhwc;
        const int64_t channels = nhwc ? desc.dims[3] : desc.dims[1];
        const int height = static_cast<int>(nhwc ? desc.dims[1] : desc.dims[2]);
        const int width = static_cast<int>(nhwc ? desc.dims[2] : desc.dims[3]);
        if (channels != input.channels())
            return Status(StatusCode::kInvalidArgument, "input '" + desc.name + "' " + dims_text(desc.dims) + " has " +
                                                            std::to_string(channels) + " channels, the pre-processing makes " +
                                                            std::to_string(input.channels()) + " (" +
                                                            (nhwc ? "NHWC" : "NCHW") + ")");
        RT_ASSIGN_OR_RETURN(Netpbm img, read_image(path, false));
        rtinfer::pipelines::FrameView frame;
        frame.format = img.channels == 3 ? rtinfer::pipelines::PixelFormat::kRgb : rtinfer::pipelines::PixelFormat::kGray8;
        frame.width = img.width;
        frame.height = img.height;
        frame.planes[0] = img.pixels.data();
        frame.strides[0] = img.width * img.channels;
        out->resize(static_cast<size_t>(channels) * height * width);
        return rtinfer::pipelines::preprocess_frame(frame, input, width, height, out->data()).with_context(path);
#else
        (void)desc, (void)out;
        return Status(StatusCode::kUnsupported, path + ": this rtexec was built without image pre-processing "
                                                       "(pipelines/config needs yaml-cpp); give .npy tensors");
#endif
    }

    std::vector<Entry> entries_;
    int64_t total_ = 0;
    size_t index_ = 0;
    bool current_ = false;
    std::vector<float> floats_;
    size_t offset_ = 0;
};

}  // namespace

Expected<std::unique_ptr<rtinfer::CalibrationData>> open_calibration_folder(const std::string& dir,
                                                                            const std::string& config_path) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return Status(StatusCode::kNotFound, dir + ": the calibration folder does not exist or is not a folder");
    std::vector<std::string> files;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec)) files.push_back(it->path().string());
    }
    if (ec) return Status(StatusCode::kIoError, dir + ": cannot list the calibration folder (" + ec.message() + ")");
    std::sort(files.begin(), files.end());
    std::vector<Entry> entries;
    int64_t total = 0;
    for (const auto& f : files) {
        const std::string ext = lower_extension(f);
        Entry e;
        e.path = f;
        if (ext == ".npy") {
            // The header says how many samples the file holds once the input is known; count whole arrays for now
            // and refine below.
            RT_ASSIGN_OR_RETURN(NpyArray a, read_npy(f));
            e.samples = a.shape.empty() ? 1 : a.shape[0];
            e.samples = std::max<int64_t>(e.samples, 1);
        } else if (is_netpbm(ext) || is_png(ext) || is_jpeg(ext)) {
            RT_RETURN_IF_ERROR(read_image(f, true).status());
            e.image = true;
        } else {
            continue;
        }
        total += e.samples;
        entries.push_back(std::move(e));
    }
    if (entries.empty()) {
        return Status(StatusCode::kInvalidArgument,
                      dir + ": no calibration samples: none of its " + std::to_string(files.size()) +
                          " files is a .npy tensor or a readable image (.ppm, .pgm, .pnm, .png, .jpg)");
    }
    auto data = std::make_unique<FolderData>(std::move(entries), total);
#ifdef RTEXEC_HAVE_PREPROCESS
    if (!config_path.empty()) {
        RT_ASSIGN_OR_RETURN(rtinfer::config::ModelConfig config, rtinfer::config::load_model_config(config_path));
        data->input = config.input;
    }
#else
    if (!config_path.empty())
        return Status(StatusCode::kUnsupported, config_path + ": this rtexec was built without model.yml support (yaml-cpp)");
#endif
    return std::unique_ptr<rtinfer::CalibrationData>(std::move(data));
}

}  // namespace rtexec
