# Debian packages of the install components, made in the build tree by `cpack -G DEB` (docs/packages.md):
#   rtinfer               runtime: rtexec
#   rtinfer-plugins       the built-in plugin libraries (EfficientNMS_TRT, YoloDecode), <libdir>/rtinfer/plugins
#   rtinfer-dev           headers, the static libraries, find_package(rtinfer) and pkg-config files
#   gstreamer1.0-rtinfer  the GStreamer elements (rtinfer, rtoverlay, rtmetasink) in <libdir>/gstreamer-1.0
# The SDK is a static library, so every program built on it, rtexec, the GStreamer plugin and a user's program,
# carries it and needs the built-in plugins at run time only: each package that has such a program depends on
# rtinfer-plugins of the same version.
set(RTINFER_PACKAGE_MAINTAINER "rtinfer maintainers <maintainers@rtinfer.invalid>" CACHE STRING
    "The Maintainer field of the Debian packages")
set(RTINFER_PACKAGE_RELEASE 1 CACHE STRING "The Debian revision of the packages (version ${PROJECT_VERSION}-REVISION)")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME rtinfer)
set(CPACK_PACKAGE_VENDOR rtinfer)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${RTINFER_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_RELEASE ${RTINFER_PACKAGE_RELEASE})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # name_version-revision_architecture.deb
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)

# The architecture: dpkg's own (CPack asks `dpkg --print-architecture`), or the target's when cross-compiling,
# where dpkg-shlibdeps cannot read the target's libraries either: the packages then carry the dependencies
# between themselves only.
set(_shlibdeps_default OFF)
find_program(RTINFER_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(CMAKE_CROSSCOMPILING)
  if(CMAKE_SYSTEM_PROCESSOR STREQUAL "aarch64")
    set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
  elseif(CMAKE_SYSTEM_PROCESSOR STREQUAL "x86_64")
    set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE amd64)
  else()
    set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${CMAKE_SYSTEM_PROCESSOR})
  endif()
elseif(RTINFER_DPKG_SHLIBDEPS)
  set(_shlibdeps_default ON)
endif()
option(RTINFER_PACKAGE_SHLIBDEPS "Compute the packages' library dependencies with dpkg-shlibdeps" ${_shlibdeps_default})
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ${RTINFER_PACKAGE_SHLIBDEPS})
if(RTINFER_WITH_CUDA)
  # The CUDA libraries often come from NVIDIA's installer rather than a package: dpkg-shlibdeps finds them
  # here, and CPack lets it go on without a package to name for them.
  get_filename_component(_cudnn_dir "${RTINFER_CUDNN_LIBRARY}" DIRECTORY)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CUDAToolkit_LIBRARY_DIR} ${_cudnn_dir})
  list(REMOVE_DUPLICATES CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS)
endif()

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)  # CPACK_COMPONENT_<C>_DEPENDS: Depends on name (= version)
set(CPACK_COMPONENTS_ALL runtime plugins dev)
if(TARGET gstrtinfer)
  list(APPEND CPACK_COMPONENTS_ALL gstreamer)
endif()

# The first line of a description is the summary, the rest the long description (CPack indents it).
set(CPACK_DEBIAN_PLUGINS_PACKAGE_NAME rtinfer-plugins)
set(CPACK_DEBIAN_PLUGINS_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PLUGINS_DESCRIPTION "built-in plugins of the rtinfer inference SDK
Plugin libraries that rtinfer programs load by themselves from ${RTINFER_PLUGIN_INSTALL_DIR}:
EfficientNMS_TRT (non-maximum suppression, as TensorRT exports name it) and YoloDecode.")

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME rtinfer)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION science)
set(CPACK_COMPONENT_RUNTIME_DEPENDS plugins)
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "on-device inference SDK for ONNX models - command-line tool
rtexec builds engines from ONNX models, runs, benchmarks and inspects them, and checks them against
the ONNX conformance tests, on the CPU reference backend or, where built with CUDA, on an NVIDIA GPU.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME rtinfer-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DEPENDS runtime plugins)
# What a program linked with the static libraries links as well (rtinfer.pc, rtinferConfig.cmake).
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libprotobuf-dev, zlib1g-dev, libopenblas-dev")
set(CPACK_DEBIAN_DEV_DESCRIPTION "on-device inference SDK for ONNX models - development files
The C++ and C headers, the static libraries, the CMake package (find_package(rtinfer) gives
rtinfer::rtinfer) and the pkg-config file (rtinfer) to build programs and plugins on rtinfer.")

set(CPACK_DEBIAN_GSTREAMER_PACKAGE_NAME gstreamer1.0-rtinfer)
set(CPACK_DEBIAN_GSTREAMER_PACKAGE_SECTION video)
set(CPACK_COMPONENT_GSTREAMER_DEPENDS plugins)
set(CPACK_DEBIAN_GSTREAMER_PACKAGE_RECOMMENDS "rtinfer (= ${PROJECT_VERSION}-${RTINFER_PACKAGE_RELEASE})")
set(CPACK_DEBIAN_GSTREAMER_DESCRIPTION "GStreamer elements of the rtinfer inference SDK
rtinfer runs an ONNX model described by a model.yml on video frames and attaches its results to
them; rtoverlay draws the results, rtmetasink writes them as JSON lines.")

include(CPack)
