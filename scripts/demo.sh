#!/usr/bin/env bash
# The main job: the default detector in a GStreamer pipeline on generated scenes. Renders scenes of the
# detector's data generator into a raw video, runs
#   filesrc ! rawvideoparse ! rtinfer config=detector.yml ! tee ! rtmetasink (JSON lines)
#                                                              ! rtoverlay ! videoconvert ! pngenc ! multifilesink
# and checks the detections in the metadata against the known objects (mAP@0.5).
#   scripts/demo.sh [FRAMES]    FRAMES: how many scenes (default 60)
# Output in build/demo/: frames/frame_NNNNN.png (annotated), detections.jsonl, scenes.gt.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
frames="${1:-60}"

scripts/setup.sh
BUILD_DIR=build scripts/build.sh -DCMAKE_BUILD_TYPE=Release -DRTINFER_WITH_GSTREAMER=ON
work=build/demo
rm -rf "$work/frames" && mkdir -p "$work/frames" "$work/engines"
export GST_PLUGIN_PATH="$PWD/build/gst-plugins"

echo "== render $frames generated scenes (640x480 NV12)"
caps=$(/usr/bin/python3 scripts/pipeline/render_scenes.py --out "$work/scenes.nv12" --gt "$work/scenes.gt.jsonl" \
  --format NV12 --count "$frames" | tail -n 1)
echo "$caps"

# The shipped model.yml, with the engine cached in the build folder instead of next to the model.
sed -e "s|onnx: detector_nms.onnx|onnx: $PWD/models/detector/detector_nms.onnx|" \
    -e "s|labels: labels.txt|labels: $PWD/models/detector/labels.txt|" \
    -e "s|^  batch: 8|  batch: 8\n  engine_cache: engines|" models/detector/detector.yml > "$work/detector.yml"

echo "== the pipeline (the engine is built on the first run and cached in $work/engines)"
pipeline="filesrc location=$work/scenes.nv12 ! $caps ! rtinfer config=$work/detector.yml ! tee name=t
  t. ! queue ! rtmetasink location=$work/detections.jsonl
  t. ! queue ! rtoverlay ! videoconvert ! video/x-raw,format=RGB ! pngenc ! multifilesink location=$work/frames/frame_%05d.png"
echo "gst-launch-1.0 $pipeline"
start=$(date +%s.%N)
# shellcheck disable=SC2086
gst-launch-1.0 -q $pipeline
end=$(date +%s.%N)
python3 -c "print('pipeline: $frames frames in %.2f s' % ($end - $start))"

echo "== detections against the known objects"
head -c 400 "$work/detections.jsonl"; echo " ..."
/usr/bin/python3 scripts/pipeline/check_detections.py --detections "$work/detections.jsonl" \
  --ground-truth "$work/scenes.gt.jsonl" --min-map 0.8
echo "annotated frames: $work/frames/ ($(ls "$work/frames" | wc -l) PNG files)"
