#!/usr/bin/env bash
# The Debian packages of a build tree (cmake/Packaging.cmake), the way a user of them sees them, without
# installing anything on this system:
#   1. cpack -G DEB makes rtinfer, rtinfer-plugins, rtinfer-dev (and gstreamer1.0-rtinfer where the GStreamer
#      plugin is built) with the project's version, dpkg's architecture and Depends between them;
#   2. dpkg-deb -x unpacks them into a scratch root; each file is in one package, under /usr, in the standard
#      places: headers, the multiarch library directory, its cmake/, pkgconfig/, rtinfer/plugins/ and
#      GStreamer's plugin directory (pkg-config's pluginsdir of gstreamer-1.0);
#   3. samples/classify builds out of tree against the root with find_package(rtinfer) and with pkg-config,
#      and runs the shipped detector; samples/custom_plugin builds against it too;
#   4. the root's rtexec builds and runs the detector that ends in EfficientNMS_TRT, loading that built-in
#      plugin from the root's rtinfer-plugins;
#   5. gst-inspect-1.0 finds the root's rtinfer element through GST_PLUGIN_PATH, and a pipeline runs it on the
#      same detector, again with the root's plugins.
# Exits 77 (skipped) where dpkg-deb is missing (not a Debian system).
#   check_packages.sh BUILD_DIR SOURCE_DIR VERSION gst|no-gst
set -euo pipefail
if [ $# -ne 4 ]; then
    echo "usage: $0 BUILD_DIR SOURCE_DIR VERSION gst|no-gst" >&2
    exit 2
fi
build=$1; src=$2; version=$3; gst=$4
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
for tool in dpkg-deb dpkg; do
    command -v $tool >/dev/null || { echo "SKIP: $tool not found (the packages are Debian's)"; exit 77; }
done
command -v dpkg-architecture >/dev/null || fail "dpkg-architecture not found: install the Debian package dpkg-dev"
command -v cpack >/dev/null || fail "cpack not found: install the Debian package cmake"

tmp=$(cd "$(mktemp -d)" && pwd -P)  # canonical: the loader reports canonical paths
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
arch=$(dpkg --print-architecture)
libdir=usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)

# --- 1. the packages
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/packages" >"$tmp/cpack.log" 2>&1 ||
    { cat "$tmp/cpack.log" >&2; fail "cpack -G DEB failed"; }
packages=(rtinfer rtinfer-plugins rtinfer-dev)
[ "$gst" = gst ] && packages+=(gstreamer1.0-rtinfer)
made=$(find "$tmp/packages" -maxdepth 1 -name '*.deb' | wc -l)
[ "$made" -eq ${#packages[@]} ] || fail "cpack made $made packages, expected ${#packages[@]} (${packages[*]})"
mkdir -p "$root"
for p in "${packages[@]}"; do
    deb=$tmp/packages/${p}_${version}_${arch}.deb
    [ -f "$deb" ] || fail "no $(basename "$deb") among: $(cd "$tmp/packages" && ls ./*.deb)"
    for field in Package:$p Version:$version Architecture:$arch; do
        got=$(dpkg-deb -f "$deb" "${field%%:*}")
        [ "$got" = "${field#*:}" ] || fail "$p: ${field%%:*} is '$got', expected '${field#*:}'"
    done
    # Each field read whole: `dpkg-deb -f ... | grep -q .` failed now and then under pipefail, as grep leaves at
    # the first line and dpkg-deb, writing one field at a time, dies of SIGPIPE on the next.
    for field in Maintainer Description; do
        [ -n "$(dpkg-deb -f "$deb" $field)" ] || fail "$p has no $field"
    done
    dpkg-deb -f "$deb" Depends >"$tmp/$p.depends"
    # The package's files (not folders), as ./usr/... paths.
    dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' >"$tmp/$p.files"
    outside=$(grep -v '^\./usr/' "$tmp/$p.files" || true)
    [ -z "$outside" ] || fail "$p installs outside /usr: $outside"
    dpkg-deb -x "$deb" "$root"
    echo "$p: $(wc -l <"$tmp/$p.files") files, $(stat -c %s "$deb") bytes, Depends: $(cat "$tmp/$p.depends")"
done
twice=$(cat "$tmp"/*.files | sort | uniq -d)
[ -z "$twice" ] || fail "files in more than one package: $twice"

depends_on() {  # PACKAGE DEPENDENCY: PACKAGE depends on DEPENDENCY of this very version
    grep -qF "$2 (= $version)" "$tmp/$1.depends" ||
        fail "$1 does not depend on $2 (= $version): $(cat "$tmp/$1.depends")"
}
depends_on rtinfer rtinfer-plugins
depends_on rtinfer-dev rtinfer
depends_on rtinfer-dev rtinfer-plugins
[ "$gst" = gst ] && depends_on gstreamer1.0-rtinfer rtinfer-plugins
if command -v dpkg-shlibdeps >/dev/null; then
    # dpkg-shlibdeps named the system libraries the programs link.
    grep -q 'libc6' "$tmp/rtinfer.depends" ||
        fail "rtinfer lacks its library dependencies: $(cat "$tmp/rtinfer.depends")"
    [ "$gst" = no-gst ] || grep -q 'libgstreamer1.0-0' "$tmp/gstreamer1.0-rtinfer.depends" ||
        fail "gstreamer1.0-rtinfer lacks libgstreamer1.0-0: $(cat "$tmp/gstreamer1.0-rtinfer.depends")"
fi

in_package() {  # PACKAGE FILE...: each FILE (below the root) is one of PACKAGE's
    local p=$1; shift
    for f in "$@"; do
        grep -qxF "./$f" "$tmp/$p.files" || fail "$p lacks /$f"
    done
}
in_package rtinfer usr/bin/rtexec
in_package rtinfer-plugins "$libdir/rtinfer/plugins/librtinfer_plugin_nms.so" \
    "$libdir/rtinfer/plugins/librtinfer_plugin_yolo_decode.so"
in_package rtinfer-dev usr/include/rtinfer/builder.h usr/include/rtinfer/plugin.h "$libdir/librtinfer.a" \
    "$libdir/cmake/rtinfer/rtinferConfig.cmake" "$libdir/cmake/rtinfer/rtinferConfigVersion.cmake" \
    "$libdir/cmake/rtinfer/rtinferTargets.cmake" "$libdir/pkgconfig/rtinfer.pc"
if [ "$gst" = gst ]; then
    # Installed to /, the plugin lies where gst-inspect-1.0 looks without GST_PLUGIN_PATH.
    gst_dir=$(pkg-config --variable=pluginsdir gstreamer-1.0)
    [ -n "$gst_dir" ] || fail "pkg-config knows no pluginsdir of gstreamer-1.0"
    in_package gstreamer1.0-rtinfer "${gst_dir#/}/libgstrtinfer.so"
fi
[ -x "$root/usr/bin/rtexec" ] || fail "/usr/bin/rtexec is not executable"
echo "packages: ${packages[*]} unpacked into a scratch root, files in place"

# --- 3. samples/classify against the root
if ! { cmake -S "$src/samples/classify" -B "$tmp/classify" -DCMAKE_PREFIX_PATH="$root/usr" &&
        cmake --build "$tmp/classify"; } >"$tmp/classify.log" 2>&1; then
    cat "$tmp/classify.log" >&2
    fail "samples/classify does not build with find_package(rtinfer)"
fi
found=$(sed -n 's/^rtinfer_DIR:PATH=//p' "$tmp/classify/CMakeCache.txt")
[ "$found" = "$root/$libdir/cmake/rtinfer" ] || fail "find_package(rtinfer) took '$found', not the root's"
export PKG_CONFIG_PATH=$root/$libdir/pkgconfig
[ "$(realpath "$(pkg-config --variable=prefix rtinfer)")" = "$root/usr" ] ||
    fail "pkg-config's prefix of rtinfer is $(pkg-config --variable=prefix rtinfer), not $root/usr"
# shellcheck disable=SC2046  # the flags are words
g++ -std=c++17 "$src/samples/classify/main.cpp" -o "$tmp/classify-pc" $(pkg-config --cflags --libs rtinfer) ||
    fail "samples/classify does not build with pkg-config"
unset PKG_CONFIG_PATH
"$tmp/classify/classify" "$src/models/detector/detector.onnx" >"$tmp/classify.out" 2>"$tmp/classify.err" ||
    { cat "$tmp/classify.err" >&2; fail "classify did not run the detector"; }
# classify ranks the last axis of the first output: here the 4 coordinates of the first box.
[ "$(grep -c '^class [0-3]: -*[0-9]' "$tmp/classify.out")" -eq 4 ] ||
    fail "classify printed: $(cat "$tmp/classify.out")"
echo "samples/classify: built against the root (find_package and pkg-config) and run"
# The plugin sample takes the headers-only target too (rtinfer::rtinfer_headers); it runs in the install tests.
if ! { cmake -S "$src/samples/custom_plugin" -B "$tmp/custom_plugin" -DCMAKE_PREFIX_PATH="$root/usr" &&
        cmake --build "$tmp/custom_plugin"; } >"$tmp/custom_plugin.log" 2>&1; then
    cat "$tmp/custom_plugin.log" >&2
    fail "samples/custom_plugin does not build with find_package(rtinfer)"
fi
if [ ! -x "$tmp/custom_plugin/custom_plugin" ] || [ ! -f "$tmp/custom_plugin/libscaled_clamp_plugin.so" ]; then
    fail "samples/custom_plugin built no program or plugin"
fi
echo "samples/custom_plugin: built against the root"

# --- 4. the root's rtexec with the root's built-in plugins
loaded() {  # LOG: the NMS plugin library the loader opened, per LD_DEBUG=files
    sed -n 's/.*file=\([^ ]*librtinfer_plugin_nms\.so\) .*/\1/p' "$1" | sort -u
}
nms_plugin=$root/$libdir/rtinfer/plugins/librtinfer_plugin_nms.so
LD_DEBUG=files "$root/usr/bin/rtexec" build --onnx "$src/models/detector/detector_nms.onnx" \
    --out "$tmp/detector_nms.engine" >"$tmp/rtexec.out" 2>"$tmp/rtexec.err" ||
    { grep -v '^ *[0-9]*:' "$tmp/rtexec.err" >&2; fail "the root's rtexec did not build detector_nms.onnx"; }
[ "$(loaded "$tmp/rtexec.err")" = "$nms_plugin" ] ||
    fail "rtexec loaded EfficientNMS_TRT from '$(loaded "$tmp/rtexec.err")', not $nms_plugin"
"$root/usr/bin/rtexec" run --engine "$tmp/detector_nms.engine" --output-dir "$tmp/detector_out" >"$tmp/run.out" ||
    fail "the root's rtexec did not run the engine"
grep -q "output 'num_detections' int32 \[1,1\]" "$tmp/run.out" || fail "rtexec run printed: $(cat "$tmp/run.out")"
echo "rtexec: the root's rtexec ran the detector with the root's EfficientNMS_TRT"

# --- 5. the root's GStreamer plugin
if [ "$gst" = no-gst ]; then
    echo "gstreamer1.0-rtinfer: not checked, the GStreamer plugin is not built in $build"
    exit 0
fi
export GST_PLUGIN_PATH=$root/${gst_dir#/}
export GST_REGISTRY=$tmp/gst-registry.bin
gst-inspect-1.0 rtinfer >"$tmp/inspect.out" 2>&1 ||
    { cat "$tmp/inspect.out" >&2; fail "gst-inspect-1.0 rtinfer failed"; }
grep -qE "Filename +$GST_PLUGIN_PATH/libgstrtinfer.so" "$tmp/inspect.out" ||
    fail "gst-inspect-1.0 rtinfer did not take the root's plugin: $(grep Filename "$tmp/inspect.out")"
sed -e "s|^  onnx: .*|  onnx: $src/models/detector/detector_nms.onnx\n  engine_cache: $tmp/engine-cache|" \
    -e "s|^  batch: .*|  batch: 1|" -e "s|^    labels: .*|    labels: $src/models/detector/labels.txt|" \
    "$src/models/detector/detector.yml" >"$tmp/detector.yml"
LD_DEBUG=files gst-launch-1.0 -q videotestsrc num-buffers=2 ! video/x-raw,format=RGB,width=160,height=160 ! \
    rtinfer config="$tmp/detector.yml" ! fakesink >"$tmp/gst.out" 2>"$tmp/gst.err" ||
    { grep -v '^ *[0-9]*:' "$tmp/gst.err" >&2; fail "a pipeline with the root's rtinfer element failed"; }
[ "$(loaded "$tmp/gst.err")" = "$nms_plugin" ] ||
    fail "the rtinfer element loaded EfficientNMS_TRT from '$(loaded "$tmp/gst.err")', not $nms_plugin"
echo "gstreamer1.0-rtinfer: gst-inspect-1.0 finds rtinfer in the root; a pipeline ran it with the root's plugins"
