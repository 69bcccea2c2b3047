#!/usr/bin/env bash
# The INT8 work on a machine with an NVIDIA GPU, in one run: the GPU kernel tests, the INT8 CLI cases on the
# CUDA backend, rtexec compare's per-layer report on a CUDA FP16 engine (channels-last tensors), the detector's
# and the classifier's INT8 accuracy against float, and the INT8 benchmark (calibration time, rebuild from the
# cache, throughput against FP16). Each step has its own time limit; the summary grows as steps end.
#   int8_checks.sh BIN_DIR LOG_DIR
#   BIN_DIR holds rtexec and rtinfer_gpu_tests; the built-in plugins lie in BIN_DIR/../lib/<multiarch>/rtinfer/plugins.
set -uo pipefail
bin="$1"; logs="$2"
here="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$logs"
summary="$logs/summary.txt"
: > "$summary"
say() { echo "$*" | tee -a "$summary"; }
say "$(date -u +%FT%TZ) $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"

timeout 300 "$bin/rtinfer_gpu_tests" > "$logs/gpu_tests.log" 2>&1
say "gpu tests (rc=$?): $(grep -E '^\[  (PASSED|FAILED) ' "$logs/gpu_tests.log" | tr '\n' ' ')"
grep -E '^\[  FAILED  \]' "$logs/gpu_tests.log" | head -n 20 | tee -a "$summary"

for c in $(python3 "$here/tests/cli/int8_cli_test.py" --list); do
  timeout 120 python3 "$here/tests/cli/int8_cli_test.py" --rtexec "$bin/rtexec" --backend cuda --work "/tmp/int8cli/$c" "$c" \
    > "$logs/int8_cli_$c.log" 2>&1
  say "int8 cli cuda $c (rc=$?): $(tail -n 1 "$logs/int8_cli_$c.log" | cut -c1-300)"
done

# rtexec compare: a CUDA FP16 engine of the detector against its ONNX model on the CPU, layer by layer.
cmp="/tmp/compare"; mkdir -p "$cmp/data"
python3 - "$here" "$cmp/data" <<'PY'
import sys, os, numpy as np
sys.path.insert(0, os.path.join(sys.argv[1], "scripts", "detector"))
import scenes
for i in range(8):
    im, _, _ = scenes.generate_scene(scenes.TEST_SEED + i, 160)
    np.save(os.path.join(sys.argv[2], "s%d.npy" % i), im.transpose(2, 0, 1)[None].astype(np.float32) / 255)
PY
timeout 120 "$bin/rtexec" build --onnx "$here/models/detector/detector.onnx" --out "$cmp/det16.engine" --backend cuda --fp16 \
  > "$logs/compare_build.log" 2>&1
timeout 120 "$bin/rtexec" compare --engine "$cmp/det16.engine" --onnx "$here/models/detector/detector.onnx" --data "$cmp/data" \
  --per-layer > "$logs/compare.log" 2>&1
say "compare cuda fp16 detector (rc=$?):"; sed -n '5,9p' "$logs/compare.log" | tee -a "$summary"
grep -E "per-layer|first jump|skipped" "$logs/compare.log" | head -n 5 | tee -a "$summary"

timeout 420 python3 "$here/scripts/detector/evaluate.py" --count 500 --calib-count 500 --backend cuda --int8 \
  --rtexec "$bin/rtexec" --threads 8 > "$logs/detector_int8.log" 2>&1
say "detector (rc=$?):"; grep -E "mAP@0.5|float - INT8|PyTorch \(same|build with calibration" "$logs/detector_int8.log" | cut -c1-120 | tee -a "$summary"
grep -E "calibrated|INT8:" "$logs/detector_int8.log" | head -n 3 | cut -c1-200 | tee -a "$summary"

if [ -f "$here/scripts/classifier/evaluate.py" ]; then
  timeout 300 python3 "$here/scripts/classifier/evaluate.py" --rtexec "$bin/rtexec" --backend cuda --int8 --no-torch --count 2000 \
    > "$logs/classifier_int8.log" 2>&1
  say "classifier (rc=$?):"; grep -iE "top-1|int8" "$logs/classifier_int8.log" | grep -v "^\[rtinfer\]" | tail -n 8 | tee -a "$summary"
fi

timeout 420 python3 "$here/scripts/bench/int8_bench.py" --rtexec "$bin/rtexec" --models resnet50 --batch 32 \
  --work /tmp/int8bench > "$logs/int8_bench.log" 2>&1
say "int8 bench (rc=$?):"; grep -E "^\||calibration images|failed" "$logs/int8_bench.log" | tee -a "$summary"
echo "== summary"; cat "$summary"
