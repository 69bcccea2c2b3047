// The default detector end to end on the CPU backend through the pipeline pieces: a frame of the reference
// batch pre-processed as model.yml's input section says, the raw detector (decoded boxes and scores, no
// NMS) run by rtinfer, its outputs decoded as SSD-style detections with the NMS settings of the shipped
// EfficientNMS_TRT model; the detections must be PyTorch's (models/detector/reference).
#include <gtest/gtest.h>

#include <vector>

#include "pipelines/decode/decode.h"
#include "pipelines/preprocess/frame_preprocess.h"
#include "rtinfer/builder.h"
#include "rtinfer/engine.h"
#include "sdk/rtexec/npy.h"

using namespace rtinfer;
using namespace rtinfer::pipelines;

namespace {

const std::string kModels = std::string(RTINFER_SOURCE_DIR) + "/models/detector/";

template <class T>
const T* values(const rtexec::NpyArray& a) {
    return reinterpret_cast<const T*>(a.data.data());
}

}  // namespace

TEST(DetectorPipeline, PreprocessRunDecodeMatchesPyTorch) {
    auto input = rtexec::read_npy(kModels + "reference/input_u8.npy");  // uint8 [N, 3, 160, 160]
    ASSERT_TRUE(input.has_value()) << input.status().message();
    ASSERT_EQ(input->shape.size(), 4u);
    const int h = static_cast<int>(input->shape[2]), w = static_cast<int>(input->shape[3]);

    BuilderConfig bc;
    bc.min_batch = bc.opt_batch = bc.max_batch = 1;
    auto engine = Builder().build_from_file(kModels + "detector.onnx", bc);
    ASSERT_TRUE(engine.has_value()) << engine.status().message();
    auto ctx = (*engine)->create_context();
    ASSERT_TRUE(ctx.has_value()) << ctx.status().message();
    ASSERT_TRUE((*ctx)->set_batch(1).is_ok());

    auto ref_num = rtexec::read_npy(kModels + "reference/num_detections.npy");
    auto ref_boxes = rtexec::read_npy(kModels + "reference/detection_boxes.npy");
    auto ref_scores = rtexec::read_npy(kModels + "reference/detection_scores.npy");
    auto ref_classes = rtexec::read_npy(kModels + "reference/detection_classes.npy");
    ASSERT_TRUE(ref_num && ref_boxes && ref_scores && ref_classes);
    const int64_t k = ref_scores->shape[1];

    for (int64_t image = 0; image < input->shape[0]; ++image) {
        // The reference image as an RGB frame (packed, row-major).
        std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3);
        const uint8_t* src = values<uint8_t>(*input) + image * 3 * w * h;
        for (int c = 0; c < 3; ++c) {
            for (int i = 0; i < w * h; ++i) rgb[static_cast<size_t>(i) * 3 + c] = src[c * w * h + i];
        }
        FrameView frame;
        frame.format = PixelFormat::kRgb;
        frame.width = w;
        frame.height = h;
        frame.planes[0] = rgb.data();
        frame.strides[0] = 3 * w;
        config::InputSection in;  // RGB, pixel / 255, NCHW: what the detector takes
        std::vector<float> tensor(static_cast<size_t>(3) * w * h);
        Placement placement;
        ASSERT_TRUE(preprocess_frame(frame, in, w, h, tensor.data(), &placement).is_ok());

        std::vector<float> boxes(525 * 4), scores(525 * 6);
        ASSERT_TRUE((*ctx)->set_tensor_address("images", tensor.data()).is_ok());
        ASSERT_TRUE((*ctx)->set_tensor_address("boxes", boxes.data()).is_ok());
        ASSERT_TRUE((*ctx)->set_tensor_address("scores", scores.data()).is_ok());
        ASSERT_TRUE((*ctx)->enqueue().is_ok());

        config::DetectorOutput out;  // the shipped EfficientNMS_TRT settings
        out.format = config::DetectorFormat::kSsd;
        out.normalized_boxes = false;
        out.background_class = -1;
        out.confidence_threshold = 0.05f;
        out.iou_threshold = 0.5f;
        out.max_detections = 100;
        auto found =
            decode_detections(out, {{boxes.data(), {525, 4}}, {scores.data(), {525, 6}}}, w, h, placement, w, h);
        ASSERT_TRUE(found.has_value()) << found.status().message();

        const int32_t n = values<int32_t>(*ref_num)[image];
        ASSERT_GT(n, 0);
        ASSERT_EQ(static_cast<int32_t>(found->size()), n) << "image " << image;
        for (int32_t i = 0; i < n; ++i) {
            const Detection& d = (*found)[static_cast<size_t>(i)];
            const float* rb = values<float>(*ref_boxes) + (image * k + i) * 4;
            EXPECT_EQ(d.class_id, values<int32_t>(*ref_classes)[image * k + i]) << image << " " << i;
            EXPECT_NEAR(d.confidence, values<float>(*ref_scores)[image * k + i], 1e-4) << image << " " << i;
            // The reference boxes are not clipped to the image; ours are.
            EXPECT_NEAR(d.x1, std::max(0.0f, rb[0]), 1e-2) << image << " " << i;
            EXPECT_NEAR(d.y1, std::max(0.0f, rb[1]), 1e-2) << image << " " << i;
            EXPECT_NEAR(d.x2, std::min(float(w), rb[2]), 1e-2) << image << " " << i;
            EXPECT_NEAR(d.y2, std::min(float(h), rb[3]), 1e-2) << image << " " << i;
        }
    }
}
