#!/usr/bin/env bash
# `systemd-analyze verify` on the units of deploy/systemd, with their paths pointing at this build's
# rtinfer-prebuild: any warning about them (unknown key, bad value, missing program, dependency loop) fails.
# Usage: check_systemd_units.sh SOURCE_DIR PREBUILD_BINARY WORK_DIR     exit 77 = skipped (and why)
set -uo pipefail
src=$1 prebuild=$2 work=$3
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

command -v systemd-analyze >/dev/null ||
  skip "systemd-analyze is not installed (Debian: systemd; scripts/setup.sh installs it)"
rm -rf "$work" && mkdir -p "$work" || fail "cannot create $work"

# First a unit known to be good: where systemd-analyze cannot work at all (no /proc, a sandbox), say so.
printf '[Unit]\nDescription=probe\n[Service]\nType=oneshot\nExecStart=/bin/true\n' > "$work/probe.service"
probe=$(cd "$work" && systemd-analyze verify ./probe.service 2>&1) ||
  skip "systemd-analyze verify fails even on a trivial unit here: $probe"

gst_launch=$(command -v gst-launch-1.0 || echo /bin/true)
for unit in rtinfer-prebuild.service rtinfer-pipeline.service; do
  sed -e "s|@RTINFER_BINDIR@|$(dirname "$prebuild")|g" -e "s|@RTINFER_GST_PLUGIN_DIR@|$work|g" \
      -e "s|@RTINFER_GST_LAUNCH@|$gst_launch|g" "$src/deploy/systemd/$unit.in" > "$work/$unit" ||
    fail "cannot write $work/$unit"
  grep -q "@[A-Z_]*@" "$work/$unit" && fail "$unit keeps a placeholder: $(grep "@[A-Z_]*@" "$work/$unit")"
done

out=$(cd "$work" && systemd-analyze verify ./rtinfer-prebuild.service ./rtinfer-pipeline.service 2>&1)
rc=$?
echo "$out"
[ $rc -eq 0 ] || fail "systemd-analyze verify exited $rc"
# verify exits 0 on some problems (an unknown key is only a warning): nothing may be said about our units.
if grep -q "rtinfer-" <<<"$out"; then fail "systemd-analyze verify warns about the units"; fi

# What the units promise: a oneshot that stays active, ordered before the pipeline, skipped when current.
p="$work/rtinfer-prebuild.service"
grep -qx "Type=oneshot" "$p" && grep -qx "RemainAfterExit=yes" "$p" &&
  grep -qx "Before=rtinfer-pipeline.service" "$p" ||
  fail "rtinfer-prebuild.service is not a oneshot ordered before the pipeline"
grep -q "^ExecCondition=.*! .*rtinfer-prebuild --check" "$p" || fail "rtinfer-prebuild.service has no --check condition"
grep -qx "Requires=rtinfer-prebuild.service" "$work/rtinfer-pipeline.service" &&
  grep -qx "After=rtinfer-prebuild.service" "$work/rtinfer-pipeline.service" ||
  fail "rtinfer-pipeline.service does not depend on the prebuild"
echo "PASS: systemd-analyze verify accepts both units"
