#!/usr/bin/env bash
# Per-layer profiles of the benchmark models on the GPU: exports them (as bench_vs_pytorch.py does), builds
# FP16 engines and runs `rtexec bench --profile` at batch 1 and 32. Prints the batch-32 tables.
#   profile_models.sh RTEXEC WORK_DIR LOG_DIR [MODELS...]
set -uo pipefail
rtexec="$1"; work="$2"; logs="$3"; shift 3
models=("$@")
[ ${#models[@]} -eq 0 ] && models=(resnet50 mobilenet_v2 efficientnet_b0 vit_b_16)
here="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$work" "$logs"
python3 - "$here/scripts/bench" "$work" "${models[@]}" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import bench_vs_pytorch as b
for m in sys.argv[3:]:
    b.export(m, sys.argv[2])
PY
for m in "${models[@]}"; do
  "$rtexec" build --onnx "$work/$m.onnx" --out "$work/$m.fp16.engine" --backend cuda --fp16 \
    --min-batch 1 --opt-batch 32 --max-batch 32 > "$logs/$m.build.log" 2>&1 || { echo "$m: build failed"; tail -n 3 "$logs/$m.build.log"; continue; }
  for b in 32 1; do
    "$rtexec" bench --engine "$work/$m.fp16.engine" --batch $b --iterations 30 --warmup 5 --profile > "$logs/$m.b$b.log" 2>&1
  done
  echo "== $m batch 32"; grep -E "layers run channels-last|tuned" "$logs/$m.build.log"; sed -n '3,22p' "$logs/$m.b32.log"
done
