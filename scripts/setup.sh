#!/usr/bin/env bash
# Installs what building and testing rtinfer needs on Debian 12. Safe to run again.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config dpkg-dev file
  libprotobuf-dev protobuf-compiler zlib1g-dev
  libonnx-dev libonnx-testdata
  libopenblas-dev libgtest-dev libyaml-cpp-dev libpng-dev libjpeg-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good libopencv-core-dev libopencv-imgproc-dev
  python3 python3-numpy python3-onnx python3-torch python3-torchvision
  systemd  # systemd-analyze, which checks the units of deploy/systemd
)

missing=()
for p in "${packages[@]}"; do
  grep -q "install ok installed" <<<"$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
