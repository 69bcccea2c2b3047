#!/usr/bin/env bash
# Runs the custom plugin sample end to end: generates its model, runs the sample program with the plugin,
# then the same model through rtexec with --plugins and RTINFER_PLUGIN_PATH, and without the plugin.
#   check_custom_plugin.sh PYTHON SAMPLE_SOURCE_DIR SAMPLE_PROGRAM PLUGIN_LIBRARY RTEXEC WORK_DIR
set -euo pipefail
python="$1"; src="$2"; program="$3"; plugin="$4"; rtexec="$5"; work="$6"
rm -rf "$work"; mkdir -p "$work"
"$python" "$src/make_model.py" "$work/scaled_clamp.onnx"

out=$("$program" "$plugin" "$work/scaled_clamp.onnx")
echo "$out"
grep -q "layer clamp0 (ScaledClamp)" <<<"$out"
grep -q "^ok: " <<<"$out"

"$rtexec" build --onnx "$work/scaled_clamp.onnx" --out "$work/sc.engine" --plugins "$plugin" > /dev/null
RTINFER_PLUGIN_PATH="$plugin" "$rtexec" run --engine "$work/sc.engine" --output-dir "$work/out" > /dev/null
test -f "$work/out/y.npy"
if "$rtexec" run --engine "$work/sc.engine" 2> "$work/err.txt" > /dev/null; then
  echo "FAIL: the engine ran without its plugin"; exit 1
fi
grep -q "layer 'clamp0' needs plugin 'ScaledClamp' (version 1, namespace 'com.example'), which is not loaded" "$work/err.txt"
echo "custom plugin sample: ok"
