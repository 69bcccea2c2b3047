#!/usr/bin/env bash
# The single-model demo: export a model, build an rtinfer engine from it, run it, and print results and timings.
#   scripts/demo-model.sh [MODEL]    MODEL: resnet18 (default), mobilenet_v2, efficientnet_b0, vit_b_16
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-resnet18}"

scripts/setup.sh
BUILD_DIR=build scripts/build.sh -DCMAKE_BUILD_TYPE=Release
rtexec=build/sdk/rtexec/rtexec
work=build/demo
mkdir -p "$work"

echo "== export $model to ONNX (PyTorch, CPU)"
/usr/bin/python3 scripts/models/export_torchvision.py --model "$model" --out-dir "$work" --batch 2

echo "== capability report"
"$rtexec" inspect --onnx "$work/$model.onnx" --capability

echo "== build the engine"
"$rtexec" build --onnx "$work/$model.onnx" --out "$work/$model.engine" --min-batch 1 --opt-batch 2 --max-batch 8

echo "== inspect the engine"
"$rtexec" inspect --engine "$work/$model.engine" | head -n 20

echo "== run on the exported reference input"
"$rtexec" run --engine "$work/$model.engine" --input "input=$work/$model.input.npy" --output-dir "$work/out"

echo "== compare with PyTorch"
/usr/bin/python3 scripts/models/compare.py --ref "$work/$model.torch64.npy" --out "$work/out/output.npy"

echo "== benchmark"
"$rtexec" bench --engine "$work/$model.engine" --batch 1 --iterations 20 --warmup 3
