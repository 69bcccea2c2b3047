#!/usr/bin/env bash
# The INT8 work on a machine with an NVIDIA GPU, in one run: rtexec compare's per-layer report on a CUDA FP16
# engine (channels-last tensors), then int8_kernel_checks.sh (the GPU tests, the INT8 benchmark, the detector's
# and the classifier's INT8 accuracy, the INT8 CLI cases on CUDA). Each step has its own time limit; the summary
# grows as steps end.
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

# The GPU tests, the INT8 benchmark, the accuracy of both models and the INT8 CLI cases on CUDA.
bash "$here/scripts/gpu/int8_kernel_checks.sh" "$bin" "$logs/kernel" 32 > /dev/null 2>&1
say "int8 kernel checks (rc=$?):"; cat "$logs/kernel/summary.txt" >> "$summary"
echo "== summary"; cat "$summary"
