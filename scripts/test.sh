#!/usr/bin/env bash
# The test command: installs dependencies, builds, and runs every test tier that this machine can run.
#   scripts/test.sh              unit, CLI, conformance and model tests (GPU tests skip without a GPU)
#   scripts/test.sh --sanitize   the same CPU tiers built with AddressSanitizer + UndefinedBehaviorSanitizer
#   scripts/test.sh --quick      everything but the model tests
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=0
quick=0
for arg in "$@"; do
  case "$arg" in
    --sanitize) sanitize=1 ;;
    --quick) quick=1 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

start=$(date +%s)
scripts/setup.sh
if [ "$sanitize" -eq 1 ]; then
  export BUILD_DIR=build-sanitize
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # The CPU tiers only: the CUDA runtime and ASan do not mix well, and CI has no GPU anyway.
  scripts/build.sh -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRTINFER_SANITIZE=ON -DRTINFER_WITH_CUDA=OFF
else
  export BUILD_DIR=build
  scripts/build.sh -DCMAKE_BUILD_TYPE=Release
fi

ctest_args=(--test-dir "$BUILD_DIR" --output-on-failure -j 2)
# The install test links the sample against the installed library without the sanitizer runtime.
exclude=()
[ "$quick" -eq 1 ] && exclude+=(model)
[ "$sanitize" -eq 1 ] && exclude+=(install)
[ ${#exclude[@]} -gt 0 ] && ctest_args+=(-LE "$(IFS='|'; echo "${exclude[*]}")")
ctest "${ctest_args[@]}"
echo "test.sh: all tests passed in $(( $(date +%s) - start )) s"
