#!/usr/bin/env bash
# GPU checks of the video pipeline, for a machine with a GPU and GStreamer (run from the repository root):
#   scripts/gpu/pipeline_checks.sh BIN_DIR GST_PLUGIN_DIR LOG_DIR [STREAMS]
# 1. the GPU pre-processing kernel against the CPU reference (rtinfer_gpu_tests CudaPreprocess.*);
# 2. the default detector through gst-launch on the cuda backend, pre-processing on the CPU and on the GPU:
#    mAP@0.5 of 200 generated scenes against their known objects;
# 3. throughput: N non-live 1080p NV12 test streams into rtinfer (one shared engine) for each pre-processing
#    place, frames/s from the wall time; then the PyTorch loop (scripts/bench/torch_stream_loop.py) on the
#    same N.
set -uo pipefail
bin=$1 plugins=$2 logs=$3 streams=${4:-1 4 16 64}
mkdir -p "$logs"
export GST_PLUGIN_PATH=$plugins
work=$(mktemp -d)
repo=$PWD

echo "== 1. GPU pre-processing kernel"
"$bin/rtinfer_gpu_tests" --gtest_filter='CudaPreprocess*' > "$logs/gpu_preprocess.log" 2>&1
echo "rc=$?"; grep -E "PASSED|FAILED|SKIPPED" "$logs/gpu_preprocess.log" | head -5

sed -e "s|onnx: detector_nms.onnx|onnx: $repo/models/detector/detector_nms.onnx|" \
    -e "s|labels: labels.txt|labels: $repo/models/detector/labels.txt|" \
    -e "s|^  batch: 8|  batch: 64\n  backend: cuda\n  engine_cache: $work/engines|" \
    models/detector/detector.yml > "$work/detector.yml"

echo "== 2. detector accuracy on the cuda backend"
caps=$(python3 scripts/pipeline/render_scenes.py --out "$work/scenes.nv12" --gt "$work/scenes.gt.jsonl" \
  --format NV12 --count 200 | tail -n 1)
for place in cpu gpu; do
  start=$(date +%s.%N)
  gst-launch-1.0 -q filesrc location="$work/scenes.nv12" ! $caps ! \
    rtinfer config="$work/detector.yml" preprocess=$place ! rtmetasink location="$work/det_$place.jsonl" \
    > "$logs/accuracy_$place.log" 2>&1
  echo "preprocess=$place gst rc=$? wall $(python3 -c "import time; print(round(time.time() - $start, 2))") s"
  python3 scripts/pipeline/check_detections.py --detections "$work/det_$place.jsonl" \
    --ground-truth "$work/scenes.gt.jsonl" --min-map 0.8 >> "$logs/accuracy_$place.log" 2>&1
  echo "check rc=$?"; tail -n 3 "$logs/accuracy_$place.log"
done
cp "$work/det_gpu.jsonl" "$logs/" 2>/dev/null

echo "== 3. throughput: N streams of 1080p NV12 scenes (4 distinct, repeated by imagefreeze), not live"
frames=${FRAMES:-300}
for k in 0 1 2 3; do
  python3 scripts/pipeline/render_scenes.py --out "$work/scene$k.nv12" --gt "$work/scene$k.gt.jsonl" --format NV12 \
    --count 1 --seed $((500000 + k)) --width 1920 --height 1080 > /dev/null
done
for mode in source cpu gpu; do
  for n in $streams; do
    desc=""
    for ((i = 0; i < n; ++i)); do
      desc+=" filesrc location=$work/scene$((i % 4)).nv12 ! rawvideoparse format=nv12 width=1920 height=1080"
      desc+=" framerate=30/1 colorimetry=bt709 ! imagefreeze num-buffers=$frames ! queue !"
      [ "$mode" != source ] && desc+=" rtinfer config=$work/detector.yml preprocess=$mode !"
      desc+=" fakesink sync=false"
    done
    start=$(date +%s.%N)
    # shellcheck disable=SC2086
    gst-launch-1.0 -q $desc > "$logs/throughput_${mode}_$n.log" 2>&1
    rc=$?
    python3 -c "import time; w = time.time() - $start; print('$mode streams=$n rc=$rc wall %.2f s  %.1f frames/s' % (w, $n * $frames / w))"
  done
done

echo "== 3b. PyTorch loop"
python3 scripts/bench/torch_stream_loop.py --streams "$(echo $streams | tr ' ' ,)" --seconds 5 \
  > "$logs/torch_loop.jsonl" 2> "$logs/torch_loop.err"
echo "rc=$?"; cat "$logs/torch_loop.jsonl"; tail -n 3 "$logs/torch_loop.err"
rm -rf "$work"
