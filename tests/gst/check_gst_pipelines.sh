#!/usr/bin/env bash
# The rtinfer GStreamer elements in gst-launch-1.0 pipelines over generated scenes (CPU backend):
#   1. NV12 640x480 scenes: filesrc ! rawvideoparse ! rtinfer ! tee, one branch to rtmetasink, the other through
#      rtoverlay ! videoconvert ! pngenc ! multifilesink (the last two frames kept);
#   2. two streams in one process (NV12 and RGB scenes) into two rtinfer elements of one model.yml, each into its
#      own rtmetasink.
# Every metadata file must reach mAP@0.5 >= 0.8 against the scenes' ground truth (check_detections.py).
# A missing tool or plugin is a failure that names the Debian package to install, never a skip.
#
# Usage: check_gst_pipelines.sh PYTHON PLUGIN_DIR SOURCE_DIR WORK_DIR
set -u
if [ $# -ne 4 ]; then
    echo "usage: $0 PYTHON PLUGIN_DIR SOURCE_DIR WORK_DIR" >&2
    exit 2
fi
python=$1
plugin_dir=$2
src=$3
work=$4
count=24

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

export GST_PLUGIN_PATH=$plugin_dir
export GST_REGISTRY=$work/gst-registry.bin
rm -rf "$work"
mkdir -p "$work/png" || fail "cannot make $work"

command -v gst-launch-1.0 >/dev/null || fail "gst-launch-1.0 not found: install the Debian package gstreamer1.0-tools"
command -v gst-inspect-1.0 >/dev/null || fail "gst-inspect-1.0 not found: install the Debian package gstreamer1.0-tools"
"$python" -c "import numpy" 2>/dev/null || fail "$python cannot import numpy: install the Debian package python3-numpy"
for pair in filesrc:libgstreamer1.0-0 tee:libgstreamer1.0-0 queue:libgstreamer1.0-0 \
            rawvideoparse:gstreamer1.0-plugins-base videoconvert:gstreamer1.0-plugins-base \
            pngenc:gstreamer1.0-plugins-good multifilesink:gstreamer1.0-plugins-good; do
    element=${pair%%:*}
    gst-inspect-1.0 "$element" >/dev/null 2>&1 ||
        fail "the GStreamer element $element is missing: install the Debian package ${pair#*:}"
done
for element in rtinfer rtoverlay rtmetasink; do
    gst-inspect-1.0 "$element" >/dev/null 2>&1 || fail "the element $element is not in $plugin_dir (build gstrtinfer)"
done

# The default detector with absolute paths and an engine cache in the build tree, not next to the model.
config=$work/detector.yml
cache=$(dirname "$work")/engine-cache
sed -e "s|^  onnx: .*|  onnx: $src/models/detector/detector_nms.onnx\n  engine_cache: $cache|" \
    -e "s|^    labels: .*|    labels: $src/models/detector/labels.txt|" \
    "$src/models/detector/detector.yml" >"$config"
grep -q "engine_cache: " "$config" && grep -q "labels: $src" "$config" || fail "cannot write $config"

render() {  # FORMAT WIDTH HEIGHT SEED NAME: writes NAME.raw and NAME.gt.jsonl, prints the rawvideoparse description
    "$python" "$src/scripts/pipeline/render_scenes.py" --out "$work/$5.raw" --gt "$work/$5.gt.jsonl" \
        --format "$1" --width "$2" --height "$3" --seed "$4" --count $count | tail -n 1
    [ "${PIPESTATUS[0]}" -eq 0 ]
}
nv12_parse=$(render NV12 640 480 500000 nv12) || fail "render_scenes.py failed (NV12)"
rgb_parse=$(render RGB 320 320 500100 rgb) || fail "render_scenes.py failed (RGB)"
case "$nv12_parse $rgb_parse" in
    *rawvideoparse*rawvideoparse*) ;;
    *) fail "render_scenes.py printed no rawvideoparse description: '$nv12_parse' '$rgb_parse'" ;;
esac

check() {  # DETECTIONS GROUND_TRUTH WHAT
    [ -s "$1" ] || fail "$3: no metadata in $1"
    echo "== $3"
    "$python" "$src/scripts/pipeline/check_detections.py" --detections "$1" --ground-truth "$2" --min-map 0.8 ||
        fail "$3: the detections in $1 are below mAP 0.8 (or incomplete)"
}

echo "== pipeline 1: NV12 scenes, rtinfer, tee to rtmetasink and rtoverlay ! pngenc"
# shellcheck disable=SC2086  # the descriptions are pipeline fragments: their words are separate arguments
timeout 600 gst-launch-1.0 -q filesrc location="$work/nv12.raw" ! $nv12_parse ! \
    rtinfer config="$config" stream-id=0 ! tee name=t \
    t. ! queue ! rtmetasink location="$work/tee.jsonl" \
    t. ! queue ! rtoverlay ! videoconvert ! pngenc ! \
    multifilesink location="$work/png/frame_%05d.png" max-files=2 ||
    fail "pipeline 1 failed (exit status $?)"
check "$work/tee.jsonl" "$work/nv12.gt.jsonl" "pipeline 1 (NV12 640x480, tee)"
for i in $((count - 2)) $((count - 1)); do
    png=$(printf '%s/png/frame_%05d.png' "$work" "$i")
    [ -s "$png" ] || fail "pipeline 1 wrote no $png"
    [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "$png is not a PNG file"
done
[ "$(ls "$work/png" | wc -l)" -eq 2 ] || fail "multifilesink max-files=2 should leave 2 files: $(ls "$work/png")"

echo "== pipeline 2: two streams, one model.yml, one process"
# shellcheck disable=SC2086
timeout 600 gst-launch-1.0 -q \
    filesrc location="$work/nv12.raw" ! $nv12_parse ! rtinfer config="$config" stream-id=0 ! \
    rtmetasink location="$work/stream0.jsonl" \
    filesrc location="$work/rgb.raw" ! $rgb_parse ! rtinfer config="$config" stream-id=1 ! \
    rtmetasink location="$work/stream1.jsonl" ||
    fail "pipeline 2 failed (exit status $?)"
check "$work/stream0.jsonl" "$work/nv12.gt.jsonl" "pipeline 2, stream 0 (NV12 640x480)"
check "$work/stream1.jsonl" "$work/rgb.gt.jsonl" "pipeline 2, stream 1 (RGB 320x320)"
grep -q '"stream":1' "$work/stream1.jsonl" || fail "stream 1's lines do not carry stream id 1"
echo "PASS"
