#!/usr/bin/env bash
# Runs the GPU tier on a machine with an NVIDIA GPU: CUDA kernel tests against the CPU reference, the ONNX
# node conformance cases on the CUDA backend, and the torchvision models on the CUDA backend against
# PyTorch. Logs go to LOG_DIR; the last lines printed are a summary.
#   gpu_checks.sh BIN_DIR NODE_TEST_DIR LOG_DIR [MODELS...]
#   BIN_DIR holds rtexec and rtinfer_gpu_tests, and optionally nms_bench (EfficientNMS_TRT latency, whose
#   rows go to the summary); the built-in plugins lie in BIN_DIR/../lib/<multiarch>/rtinfer/plugins (as installed) or in
#   the build tree the binaries came from. MODELS default: resnet18 mobilenet_v2 efficientnet_b0 vit_b_16
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

if [ -x "$bin/nms_bench" ]; then
  "$bin/nms_bench" > "$logs/nms_bench.log" 2>&1
  echo "nms_bench (rc=$?):" | tee -a "$summary"
  grep -E '^GPU:|^ *(classes|[0-9])' "$logs/nms_bench.log" | tee -a "$summary"
fi

"$bin/rtexec" conformance --dir "$node_dir" --backend cuda > "$logs/conformance_cuda.log" 2>&1
echo "conformance cuda: $(tail -n 1 "$logs/conformance_cuda.log")" | tee -a "$summary"
grep -E '^FAIL' "$logs/conformance_cuda.log" | head -n 30 | tee -a "$summary"

work="$logs/models"
mkdir -p "$work"
for m in "${models[@]}"; do
  python3 "$here/scripts/models/export_torchvision.py" --model "$m" --out-dir "$work" --batch 2 > "$work/$m.export.log" 2>&1 ||
    { echo "model $m: export failed" | tee -a "$summary"; continue; }
  for mode in cuda cuda-fp16 cpu; do
    backend=${mode%%-*}
    flags=(--backend "$backend")
    limit=1e-4
    if [ "$mode" = cuda-fp16 ]; then flags+=(--fp16); limit=2e-2; fi
    "$bin/rtexec" build --onnx "$work/$m.onnx" --out "$work/$m.$mode.engine" "${flags[@]}" --verbose \
      --timing-cache "$work/timing.cache" --min-batch 1 --opt-batch 2 --max-batch 32 > "$work/$m.$mode.build.log" 2>&1 ||
      { echo "model $m $mode: build failed: $(tail -n 2 "$work/$m.$mode.build.log")" | tee -a "$summary"; continue; }
    "$bin/rtexec" run --engine "$work/$m.$mode.engine" --input "input=$work/$m.input.npy" \
      --output-dir "$work/$m.$mode.out" > "$work/$m.$mode.run.log" 2>&1 ||
      { echo "model $m $mode: run failed: $(tail -n 2 "$work/$m.$mode.run.log")" | tee -a "$summary"; continue; }
    echo "model $m $mode: $(python3 "$here/scripts/models/compare.py" --ref "$work/$m.torch64.npy" --max-rel-l2 $limit \
      --out "$work/$m.$mode.out/output.npy" | head -n 1); $(grep -o '[0-9]* of [0-9]* layers fall back' "$work/$m.$mode.build.log" || echo 'no fallbacks'); $(grep -o 'tuned [0-9]* layers in [0-9.]* s ([0-9]* from' "$work/$m.$mode.build.log")" | tee -a "$summary"
  done
  for b in 1 32; do
    for mode in cuda cuda-fp16; do
      "$bin/rtexec" bench --engine "$work/$m.$mode.engine" --batch $b --iterations 50 --warmup 10 > "$work/$m.$mode.bench$b.log" 2>&1
      echo "bench $m $mode batch $b: $(tail -n 1 "$work/$m.$mode.bench$b.log" | grep -o '"p50":[0-9.]*') ms" | tee -a "$summary"
    done
  done
done
echo "== summary"; cat "$summary"
