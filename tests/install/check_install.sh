#!/usr/bin/env bash
# Installs the SDK from a build tree into a temporary prefix and builds samples/classify against it with
# find_package(rtinfer) and with pkg-config: the way a user outside this tree consumes rtinfer.
#   check_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$1"; src="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" > /dev/null
cmake -S "$src/samples/classify" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$tmp/prefix" > /dev/null
cmake --build "$tmp/cmake-build" -j 2 > /dev/null
test -x "$tmp/cmake-build/classify"
echo "find_package(rtinfer): sample built"
# lib/pkgconfig, or lib/<multiarch>/pkgconfig on Debian.
pc_dir=$(dirname "$(find "$tmp/prefix" -path '*/pkgconfig/rtinfer.pc' | head -n 1)")
PKG_CONFIG_PATH="$pc_dir" g++ -std=c++17 "$src/samples/classify/main.cpp" -o "$tmp/classify-pc" \
  $(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs rtinfer)
test -x "$tmp/classify-pc"
echo "pkg-config rtinfer: sample built"
