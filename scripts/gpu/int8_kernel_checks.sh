#!/usr/bin/env bash
# The int8 convolution kernel on a machine with an NVIDIA GPU: the GPU tests (its tests against the CPU
# reference among them), the INT8 benchmark (ResNet-50, INT8 against FP16 throughput), the INT8 build's log,
# per-layer profiles of both engines, the detector's and the classifier's accuracy through the int8 kernels,
# and the INT8 CLI cases on the CUDA backend.
#   int8_kernel_checks.sh BIN_DIR LOG_DIR [BATCH]
set -uo pipefail
bin="$1"; logs="$2"; batch="${3:-32}"
here="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$logs"
summary="$logs/summary.txt"
: > "$summary"
say() { echo "$*" | tee -a "$summary"; }
say "$(date -u +%FT%TZ) $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"

timeout 240 "$bin/rtinfer_gpu_tests" > "$logs/gpu_tests.log" 2>&1
say "gpu tests (rc=$?): $(grep -E '^\[  (PASSED|FAILED) ' "$logs/gpu_tests.log" | tr '\n' ' ')"
grep -E '^\[  FAILED  \]|Failure|differ|first difference' "$logs/gpu_tests.log" | head -n 20 | tee -a "$summary"

work=/tmp/int8bench
timeout 300 python3 "$here/scripts/bench/int8_bench.py" --rtexec "$bin/rtexec" --models resnet50 --batch "$batch" \
  --work "$work" > "$logs/int8_bench.log" 2>&1
say "int8 bench (rc=$?):"; grep -E "^\||calibration images|failed|Error|error" "$logs/int8_bench.log" | tee -a "$summary"

timeout 60 "$bin/rtexec" build --onnx "$work/resnet50.onnx" --backend cuda --fp16 --batch "$batch" --int8 \
  --calib-cache "$work/resnet50.calib" --out "$work/again.engine" --verbose > "$logs/int8_build.log" 2>&1
say "int8 build (rc=$?):"; grep -E "int8|INT8|channels-last" "$logs/int8_build.log" | cut -c1-240 | head -n 8 | tee -a "$summary"
for e in fp16 int8; do
  timeout 60 "$bin/rtexec" bench --engine "$work/resnet50.$e.engine" --batch "$batch" --profile > "$logs/profile_$e.log" 2>&1
  say "profile $e (rc=$?):"; grep -A 14 "^profile:" "$logs/profile_$e.log" | tee -a "$summary"
done
timeout 200 python3 "$here/scripts/classifier/evaluate.py" --rtexec "$bin/rtexec" --backend cuda --int8 --no-torch \
  --count 2000 > "$logs/classifier_int8.log" 2>&1
say "classifier (rc=$?):"; grep -iE "top-1|int8" "$logs/classifier_int8.log" | grep -v "^\[rtinfer\]" | tail -n 4 | tee -a "$summary"
timeout 250 python3 "$here/scripts/detector/evaluate.py" --count 500 --calib-count 500 --backend cuda --int8 \
  --rtexec "$bin/rtexec" --threads 8 --work-dir /tmp/det_int8 > "$logs/detector_int8.log" 2>&1
say "detector (rc=$?):"; grep -E "mAP@0.5|float - INT8" "$logs/detector_int8.log" | cut -c1-120 | tee -a "$summary"
timeout 60 "$bin/rtexec" build --onnx "$here/models/detector/detector_nms.onnx" --backend cuda --fp16 --int8 \
  --calib-cache /tmp/det_int8/detector.calib --out /tmp/det_int8/again.engine --verbose > "$logs/detector_build.log" 2>&1
say "detector int8 build (rc=$?): $(grep -E "int8 tensor cores" "$logs/detector_build.log" | cut -c1-200)"
for c in $(python3 "$here/tests/cli/int8_cli_test.py" --list); do
  timeout 120 python3 "$here/tests/cli/int8_cli_test.py" --rtexec "$bin/rtexec" --backend cuda --work "/tmp/int8cli/$c" "$c" \
    > "$logs/int8_cli_$c.log" 2>&1
  say "int8 cli cuda $c (rc=$?): $(tail -n 1 "$logs/int8_cli_$c.log" | cut -c1-200)"
done
echo "== summary"; cat "$summary"
