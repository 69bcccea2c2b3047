#!/usr/bin/env bash
# Runs the ONNX backend node test cases shipped by Debian's libonnx-testdata through rtexec on a backend,
# fails if a case on the committed pass list no longer passes, or if fewer than MIN_PASS cases pass.
#   run_conformance.sh RTEXEC BACKEND PASS_LIST MIN_PASS [LOG]
set -uo pipefail
rtexec="$1"; backend="$2"; pass_list="$3"; min_pass="$4"; log="${5:-conformance-$backend.log}"
data=/usr/share/libonnx-testdata/data/node
if [ ! -d "$data" ]; then
  echo "conformance: $data is missing (install libonnx-testdata)"; exit 1
fi
"$rtexec" conformance --dir "$data" --backend "$backend" --pass-list "$pass_list" > "$log" 2>&1
status=$?
summary=$(tail -n 1 "$log")
grep -E "^(FAIL|REGRESSION)" "$log" | head -n 40
echo "conformance ($backend): $summary"
passed=$(echo "$summary" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
if [ -z "$passed" ]; then echo "conformance: no summary line"; exit 1; fi
if [ "$passed" -lt "$min_pass" ]; then echo "conformance: $passed passed, fewer than $min_pass"; exit 1; fi
exit $status
