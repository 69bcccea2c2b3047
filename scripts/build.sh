#!/usr/bin/env bash
# Configures and builds rtinfer into BUILD_DIR (default: build). Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${BUILD_DIR:-build}"
cuda_args=()
# CUDA code is compiled whenever the toolkit is there, GPU or not; nvcc is often not on PATH.
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  cuda_args+=("-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc")
fi
cmake -S . -B "$build_dir" -G Ninja "${cuda_args[@]}" "$@"
cmake --build "$build_dir" -j "${JOBS:-2}"
