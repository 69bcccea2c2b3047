#!/usr/bin/env bash
# The int8 convolution kernel on a machine with an NVIDIA GPU: its tests against the CPU reference, the INT8
# benchmark (ResNet-50, INT8 against FP16 throughput), the INT8 build's log and per-layer profiles of both
# engines.
#   int8_kernel_checks.sh BIN_DIR LOG_DIR [BATCH]
set -uo pipefail
bin="$1"; logs="$2"; batch="${3:-32}"
here="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$logs"
summary="$logs/summary.txt"
: > "$summary"
say() { echo "$*" | tee -a "$summary"; }
say "$(date -u +%FT%TZ) $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"

timeout 240 "$bin/rtinfer_gpu_tests" --gtest_filter='CudaInt8Conv.*:CudaQuantizeLinear.*:CudaDequantizeLinear.*' \
  > "$logs/gpu_tests.log" 2>&1
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
echo "== summary"; cat "$summary"
