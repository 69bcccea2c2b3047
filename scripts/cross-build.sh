#!/usr/bin/env bash
# Cross-compiles the CPU parts of rtinfer for aarch64 on a Debian 12 x86-64 host and runs the aarch64 tests
# under user-mode qemu. Installs what it needs with apt (safe to run again). See docs/cross-compile.md.
#   scripts/cross-build.sh                 install, configure build-aarch64, build, test
#   JOBS=2 BUILD_DIR=build-aarch64 scripts/cross-build.sh
# Exits non-zero when anything fails; ends with a summary of what ran under qemu.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${BUILD_DIR:-build-aarch64}"
jobs="${JOBS:-2}"
start=$(date +%s)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# Host tools (the cross compiler, qemu, protoc and the ONNX schema and test data, which are
# architecture-independent) and the arm64 libraries that core, sdk, plugins, pipelines, samples and the tests
# link. libyaml-cpp-dev is not co-installable across architectures, so its arm64 build is unpacked privately.
packages=(
  cmake ninja-build pkg-config g++-aarch64-linux-gnu qemu-user-static
  protobuf-compiler libonnx-dev libonnx-testdata python3 python3-numpy python3-onnx
  libc6:arm64 libprotobuf-dev:arm64 zlib1g-dev:arm64 libopenblas-dev:arm64 libgtest-dev:arm64
  libpng-dev:arm64 libjpeg-dev:arm64
  libyaml-cpp0.7:arm64
)
missing=()
for p in "${packages[@]}"; do
  grep -q "install ok installed" <<<"$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "cross-build: installing ${missing[*]}"
  grep -qx arm64 <<<"$(dpkg --print-foreign-architectures)" || $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "cross-build: all ${#packages[@]} packages present"
fi

deps="$build_dir/deps"
yaml_version=$(dpkg-query -W -f='${Version}' libyaml-cpp0.7:arm64)
if [ ! -f "$deps/yaml-cpp-$yaml_version" ]; then
  rm -rf "$deps" && mkdir -p "$deps/root"
  (cd "$deps" && apt-get download -qq "libyaml-cpp-dev:arm64=$yaml_version" "libyaml-cpp0.7:arm64=$yaml_version" \
     2>/dev/null)
  for deb in "$deps"/*.deb; do dpkg -x "$deb" "$deps/root"; done
  touch "$deps/yaml-cpp-$yaml_version"
fi

if ! command -v qemu-aarch64-static >/dev/null; then
  echo "cross-build: qemu-aarch64-static is missing; the aarch64 tests cannot run here" >&2
  exit 1
fi
configure_start=$(date +%s)
# The toolchain file sets CMAKE_CROSSCOMPILING_EMULATOR to qemu-aarch64-static: CTest, GoogleTest's test
# discovery and the test scripts run the aarch64 programs through it.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-jetson.cmake \
  -DCMAKE_BUILD_TYPE=Release -DRTINFER_WITH_CUDA=OFF -DRTINFER_WITH_GSTREAMER=OFF \
  -DCMAKE_PREFIX_PATH="$PWD/$deps/root/usr"
nice -n 10 cmake --build "$build_dir" -j "$jobs"
build_s=$(( $(date +%s) - configure_start ))

test_start=$(date +%s)
# The model tests (torchvision classifiers built and run by the CPU backend) are left out: the backend runs
# many times slower under emulation. A cross build defines no install tests (they build a sample with the
# host's compilers). Tests that cannot check something under emulation report themselves skipped.
ctest_status=0
nice -n 10 ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" -LE model \
  | tee "$build_dir/ctest-aarch64.log" || ctest_status=$?
test_s=$(( $(date +%s) - test_start ))

summary=$(grep -E "tests passed, [0-9]+ tests failed out of" "$build_dir/ctest-aarch64.log" || true)
skipped=$(grep -c "(Skipped)$" "$build_dir/ctest-aarch64.log" || true)
conformance_log="$build_dir/tests/conformance/conformance-cpu.log"
conformance=$( [ -f "$conformance_log" ] && tail -n 1 "$conformance_log" || true)
unit=$(nice qemu-aarch64-static "$build_dir/tests/rtinfer_unit_tests" --gtest_list_tests 2>/dev/null |
         grep -c '^  ' || true)
echo
echo "== cross-build summary (aarch64, CPU only, tests under $(command -v qemu-aarch64-static))"
echo "build:       $build_dir, GCC $(aarch64-linux-gnu-g++ -dumpversion) cross, ${build_s} s configure + build"
echo "ctest:       ${summary:-no result}, ${test_s} s"
echo "skipped:     ${skipped}, each with the reason it printed:"
# CTest shows the output of failed tests only; the skipped ones' reasons are in its full log.
grep -E '\(Skipped\)$' "$build_dir/ctest-aarch64.log" | sed -E 's/^[[:space:]]*[0-9]+ - (.*) \(Skipped\)$/\1/' |
  while read -r name; do
    reason=$(awk -v t="Testing: $name" \
               '$0 ~ t"$" {f=1} f && /: Skipped$/ {getline; print; exit} f && /SKIP[: ]/ {print; exit}' \
               "$build_dir/Testing/Temporary/LastTest.log" | sed -E 's/^.*(SKIP)/\1/' | cut -c1-150)
    echo "               $name: ${reason:-no reason printed}"
  done
echo "unit tests:  ${unit} in rtinfer_unit_tests (one CTest test each), plus the config and pipelines tests"
echo "conformance: ${conformance:-not run} (rtexec conformance --backend cpu under qemu)"
echo "not run:     model tests (label model: too slow under emulation), install tests (not defined in a cross"
echo "             build: they use the host's compilers), CUDA and GStreamer parts (not built)"
echo "total:       $(( $(date +%s) - start )) s"
if [ "$ctest_status" -ne 0 ] || [ -z "$summary" ]; then
  echo "cross-build: FAILED" >&2
  exit 1
fi
echo "cross-build: all aarch64 tests passed under qemu"
