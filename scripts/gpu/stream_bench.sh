#!/usr/bin/env bash
# The multi-stream benchmark on a GPU machine (run from the repository root):
#   scripts/gpu/stream_bench.sh BIN_DIR GST_PLUGIN_DIR OUT_DIR [STREAMS] [SECONDS]
# Renders 4 distinct 1080p NV12 scenes, then runs scripts/bench/bench_streams.py with them (frame:// sources)
# for pre-processing on the CPU and on the GPU, the PyTorch loop next to the first.
set -uo pipefail
bin=$1 plugins=$2 out=$3 streams=${4:-1,2,4,8,16,32,64} seconds=${5:-5}
mkdir -p "$out"
export GST_PLUGIN_PATH=$plugins
work=$(mktemp -d)
mkdir -p "$work/frames"
for k in 0 1 2 3; do
  python3 scripts/pipeline/render_scenes.py --out "$work/frames/scene$k.raw" --gt "$work/scene$k.gt.jsonl" \
    --format NV12 --count 1 --seed $((500000 + k)) --width 1920 --height 1080 > /dev/null
done
sed -e "s|onnx: detector_nms.onnx|onnx: $PWD/models/detector/detector_nms.onnx|" \
    -e "s|labels: labels.txt|labels: $PWD/models/detector/labels.txt|" \
    -e "s|^  batch: 8|  batch: 64\n  backend: cuda\n  engine_cache: $work/engines|" \
    models/detector/detector.yml > "$work/detector.yml"
for place in ${PLACES:-cpu gpu}; do
  torch=(--no-torch)
  [ "$place" = cpu ] && torch=(--torch-python python3)
  echo "== preprocess=$place"
  python3 scripts/bench/bench_streams.py --multistream "$bin/rtinfer_multistream" --config "$work/detector.yml" \
    --streams "$streams" --seconds "$seconds" --warmup 2 --frames-dir "$work/frames" --preprocess "$place" \
    "${torch[@]}" --json-out "$out/bench_$place.json" 2> "$out/bench_$place.err"
  echo "rc=$?"; tail -n 3 "$out/bench_$place.err"
done
rm -rf "$work"
