#!/usr/bin/env bash
# Runs the GPU tier on a machine with an NVIDIA GPU: CUDA kernel tests against the CPU reference, the ONNX
# node conformance cases on the CUDA backend, and the torchvision models on the CUDA backend against
# PyTorch. Logs go to LOG_DIR; the last lines printed are a summary.
#   gpu_checks.sh BIN_DIR NODE_TEST_DIR LOG_DIR [MODELS...]
#   BIN_DIR holds rtexec and rtinfer_gpu_tests; MODELS default: resnet18 mobilenet_v2 efficientnet_b0 vit_b_16
set -uo pipefail
bin="$1"; node_dir="$2"; logs="$3"; shift 3
models=("$@")
[ ${#models[@]} -eq 0 ] && models=(resnet18 mobilenet_v2 efficientnet_b0 vit_b_16)
here="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$logs"
summary="$logs/summary.txt"
: > "$summary"

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee -a "$summary"

"$bin/rtinfer_gpu_tests" > "$logs/gpu_tests.log" 2>&1
echo "gpu tests (rc=$?): $(grep -E '^\[  (PASSED|FAILED) ' "$logs/gpu_tests.log" | tr '\n' ' ') $(grep -c '^\[  SKIPPED' "$logs/gpu_tests.log") skipped lines" | tee -a "$summary"
grep -E '^\[  FAILED  \]' "$logs/gpu_tests.log" | head -n 30 | tee -a "$summary"

"$bin/rtexec" conformance --dir "$node_dir" --backend cuda > "$logs/conformance_cuda.log" 2>&1
echo "conformance cuda: $(tail -n 1 "$logs/conformance_cuda.log")" | tee -a "$summary"
grep -E '^FAIL' "$logs/conformance_cuda.log" | head -n 30 | tee -a "$summary"

work="$logs/models"
mkdir -p "$work"
for m in "${models[@]}"; do
  python3 "$here/scripts/models/export_torchvision.py" --model "$m" --out-dir "$work" --batch 2 > "$work/$m.export.log" 2>&1 ||
    { echo "model $m: export failed" | tee -a "$summary"; continue; }
  for backend in cuda cpu; do
    "$bin/rtexec" build --onnx "$work/$m.onnx" --out "$work/$m.$backend.engine" --backend "$backend" \
      --min-batch 1 --opt-batch 2 --max-batch 32 > "$work/$m.$backend.build.log" 2>&1 ||
      { echo "model $m $backend: build failed: $(tail -n 2 "$work/$m.$backend.build.log")" | tee -a "$summary"; continue; }
    "$bin/rtexec" run --engine "$work/$m.$backend.engine" --input "input=$work/$m.input.npy" \
      --output-dir "$work/$m.$backend.out" > "$work/$m.$backend.run.log" 2>&1 ||
      { echo "model $m $backend: run failed: $(tail -n 2 "$work/$m.$backend.run.log")" | tee -a "$summary"; continue; }
    echo "model $m $backend: $(python3 "$here/scripts/models/compare.py" --ref "$work/$m.torch64.npy" \
      --out "$work/$m.$backend.out/output.npy" | head -n 1); fallbacks: $(grep -o '[0-9]* of [0-9]* layers fall back' "$work/$m.$backend.build.log" || echo none)" | tee -a "$summary"
  done
  for b in 1 32; do
    "$bin/rtexec" bench --engine "$work/$m.cuda.engine" --batch $b --iterations 50 --warmup 10 > "$work/$m.bench$b.log" 2>&1
    echo "bench $m cuda batch $b: $(tail -n 1 "$work/$m.bench$b.log")" | tee -a "$summary"
  done
done
echo "== summary"; cat "$summary"
