#!/usr/bin/env bash
# Installs the SDK into a temporary prefix, then: the built-in plugins are installed (EfficientNMS_TRT,
# YoloDecode), the installed rtexec finds EfficientNMS_TRT without flags (<libdir>/rtinfer/plugins of its
# prefix), and samples/custom_plugin builds out of tree with find_package(rtinfer) and runs end to end.
#   check_install_plugins.sh BUILD_DIR SOURCE_DIR PYTHON
set -euo pipefail
build="$1"; src="$2"; python="$3"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" > /dev/null
rtexec="$tmp/prefix/bin/rtexec"
# lib/rtinfer/plugins, or lib/<multiarch>/rtinfer/plugins on Debian.
# Outputs read whole, never through `| grep -q` (an early-exiting reader kills the writer under pipefail).
[ -n "$(find "$tmp/prefix" -path '*/rtinfer/plugins/librtinfer_plugin_nms.so')" ]
[ -n "$(find "$tmp/prefix" -path '*/rtinfer/plugins/librtinfer_plugin_yolo_decode.so')" ]

"$python" - "$tmp/nms.onnx" <<'PY'
import sys
from onnx import TensorProto, helper
vi = helper.make_tensor_value_info
node = helper.make_node("EfficientNMS_TRT", ["boxes", "scores"],
                        ["num_detections", "detection_boxes", "detection_scores", "detection_classes"],
                        name="nms", domain="TRT", score_threshold=0.25, iou_threshold=0.5, max_output_boxes=10,
                        background_class=-1, score_activation=0, box_coding=0)
graph = helper.make_graph([node], "g", [vi("boxes", TensorProto.FLOAT, [1, 50, 4]),
                                        vi("scores", TensorProto.FLOAT, [1, 50, 3])],
                          [vi("num_detections", TensorProto.INT32, [1, 1]),
                           vi("detection_boxes", TensorProto.FLOAT, [1, 10, 4]),
                           vi("detection_scores", TensorProto.FLOAT, [1, 10]),
                           vi("detection_classes", TensorProto.INT32, [1, 10])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("TRT", 1)])
model.ir_version = 7
open(sys.argv[1], "wb").write(model.SerializeToString())
PY
"$rtexec" build --onnx "$tmp/nms.onnx" --out "$tmp/nms.engine" > /dev/null
run_out=$("$rtexec" run --engine "$tmp/nms.engine" --output-dir "$tmp/nms_out")
grep -q "output 'num_detections' int32 \[1,1\]" <<<"$run_out"
echo "installed rtexec: built-in EfficientNMS_TRT found"

cmake -S "$src/samples/custom_plugin" -B "$tmp/sample-build" -DCMAKE_PREFIX_PATH="$tmp/prefix" > /dev/null
cmake --build "$tmp/sample-build" -j 2 > /dev/null
"$src/tests/samples/check_custom_plugin.sh" "$python" "$src/samples/custom_plugin" "$tmp/sample-build/custom_plugin" \
  "$tmp/sample-build/libscaled_clamp_plugin.so" "$rtexec" "$tmp/sample-run"
echo "find_package(rtinfer): custom plugin sample built and run"
