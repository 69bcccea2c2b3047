#!/usr/bin/env bash
# The INT8 accuracy budget on the GPU: the detector (raw outputs, relative error budget) and the classifier
# (top-1 agreement budget), FP16 + INT8 CUDA builds calibrated on generated images, and the CLI case on CUDA.
#   int8_budget_checks.sh BIN_DIR
set -uo pipefail
bin="$1"
here="$(cd "$(dirname "$0")/../.." && pwd)"
work=/tmp/int8_budget; mkdir -p "$work/dcal"
python3 - "$here" "$work/dcal" <<'PY'
import sys, os, numpy as np
sys.path.insert(0, os.path.join(sys.argv[1], "scripts", "detector"))
import scenes
for i in range(200):
    im, _, _ = scenes.generate_scene(scenes.TEST_SEED + 50_000 + i, 160)
    np.save(os.path.join(sys.argv[2], "s%03d.npy" % i), im.transpose(2, 0, 1)[None].astype(np.float32) / 255)
PY
python3 "$here/scripts/classifier/evaluate.py" --write-calib "$work/ccal" --count 400 > /dev/null
echo "== detector, --accuracy-budget 0.05"
timeout 200 "$bin/rtexec" build --onnx "$here/models/detector/detector.onnx" --out "$work/d.engine" --backend cuda --fp16 \
  --int8 --calib "$work/dcal" --accuracy-budget 0.05 2>&1 | grep -E "calibrated|probe|met with|INT8:" | cut -c1-260
echo "== classifier, --accuracy-budget top1:99"
timeout 120 "$bin/rtexec" build --onnx "$here/models/classifier/classifier.onnx" --out "$work/c.engine" --backend cuda \
  --fp16 --int8 --calib "$work/ccal" --accuracy-budget top1:99 2>&1 | grep -E "calibrated|probe|met with|INT8:" | cut -c1-260
echo "== cli case on cuda"
timeout 120 python3 "$here/tests/cli/int8_cli_test.py" --rtexec "$bin/rtexec" --backend cuda --work "$work/cli" accuracy_budget | tail -n 3
