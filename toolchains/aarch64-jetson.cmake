# Cross-compiling rtinfer for aarch64 (Jetson, JetPack) from an x86-64 host with aarch64-linux-gnu-g++.
#   CPU only, against Debian's arm64 multiarch packages (scripts/cross-build.sh does this and runs the tests
#   under qemu):
#     cmake -S . -B build-aarch64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-jetson.cmake
#   Jetson, against a copy of the device's root file system (CUDA when its aarch64 target libraries are there):
#     cmake -S . -B build-jetson -G Ninja -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-jetson.cmake \
#           -DJETSON_SYSROOT=/path/to/jetson-rootfs
# See docs/cross-compile.md. Settings (cache variables, or environment variables of the same name):
#   JETSON_SYSROOT          copy of the Jetson root file system; empty: the host's multiarch arm64 packages
#   JETSON_CUDA_HOST_ROOT   the host's CUDA toolkit whose nvcc compiles the kernels (default /usr/local/cuda)
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(JETSON_SYSROOT "$ENV{JETSON_SYSROOT}" CACHE PATH "Copy of the Jetson root file system (empty: multiarch)")
set(JETSON_CUDA_HOST_ROOT "$ENV{JETSON_CUDA_HOST_ROOT}" CACHE PATH "Host CUDA toolkit with an aarch64 target")
if(NOT JETSON_CUDA_HOST_ROOT)
  set(JETSON_CUDA_HOST_ROOT /usr/local/cuda)
endif()

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

if(JETSON_SYSROOT)
  set(CMAKE_SYSROOT "${JETSON_SYSROOT}")
  set(CMAKE_FIND_ROOT_PATH "${JETSON_SYSROOT}")
  # Libraries, headers and packages come from the device's file system only; protoc and the other tools
  # that run during the build come from the host.
  set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
endif()
# Without a sysroot the arm64 libraries are Debian multiarch ones (/usr/lib/aarch64-linux-gnu, shared headers
# in /usr/include): the compiler's library architecture already keeps the search away from x86-64 libraries.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# pkg-config (GStreamer, the yaml-cpp fallback) would otherwise describe the host's x86-64 libraries.
if(JETSON_SYSROOT)
  set(ENV{PKG_CONFIG_SYSROOT_DIR} "${JETSON_SYSROOT}")
  set(_jetson_pc "${JETSON_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${JETSON_SYSROOT}/usr/lib/pkgconfig")
  set(ENV{PKG_CONFIG_LIBDIR} "${_jetson_pc}:${JETSON_SYSROOT}/usr/share/pkgconfig")
else()
  set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
endif()

# CUDA needs the aarch64 target libraries: in a host toolkit with the cross target installed (NVIDIA's
# cuda-cross-aarch64: <root>/targets/aarch64-linux) or in the sysroot (JetPack's /usr/local/cuda). nvcc itself
# always runs on the host and must be the device's CUDA version.
set(_jetson_cuda_target "")
foreach(_root "${JETSON_CUDA_HOST_ROOT}" "${JETSON_SYSROOT}/usr/local/cuda")
  if(NOT _jetson_cuda_target AND (JETSON_SYSROOT OR _root STREQUAL JETSON_CUDA_HOST_ROOT)
     AND EXISTS "${_root}/targets/aarch64-linux/lib/libcudart_static.a")
    set(_jetson_cuda_target "${_root}/targets/aarch64-linux")
  endif()
endforeach()

function(_jetson_cuda_version header out)
  set(_version 0)
  if(EXISTS "${header}")
    file(STRINGS "${header}" _line REGEX "^#define CUDA_VERSION ")
    string(REGEX MATCH "[0-9]+" _version "${_line}")
  endif()
  set(${out} "${_version}" PARENT_SCOPE)
endfunction()

if(_jetson_cuda_target AND EXISTS "${JETSON_CUDA_HOST_ROOT}/bin/nvcc")
  _jetson_cuda_version("${JETSON_CUDA_HOST_ROOT}/include/cuda.h" _jetson_nvcc_version)
  _jetson_cuda_version("${_jetson_cuda_target}/include/cuda.h" _jetson_target_version)
  if(NOT _jetson_nvcc_version)
    set(_jetson_nvcc_version "${_jetson_target_version}")
  endif()
  if(NOT _jetson_nvcc_version EQUAL _jetson_target_version)
    message(WARNING "aarch64-jetson: nvcc in ${JETSON_CUDA_HOST_ROOT} is CUDA ${_jetson_nvcc_version}, the aarch64 "
                    "target libraries in ${_jetson_cuda_target} are CUDA ${_jetson_target_version}")
  endif()
  # Xavier (sm_72) and Orin (sm_87). CUDA 13 no longer compiles for Volta, hence Xavier, and adds Thor (sm_110).
  if(_jetson_nvcc_version GREATER_EQUAL 13000)
    set(_jetson_cuda_archs "87;110")
  else()
    set(_jetson_cuda_archs "72;87")
  endif()
  set(CMAKE_CUDA_COMPILER "${JETSON_CUDA_HOST_ROOT}/bin/nvcc")
  set(CMAKE_CUDA_HOST_COMPILER aarch64-linux-gnu-g++)
  set(CMAKE_CUDA_ARCHITECTURES "${_jetson_cuda_archs}" CACHE STRING "Jetson GPU architectures")
  set(CMAKE_CUDA_FLAGS_INIT "-target-dir aarch64-linux")
  # FindCUDAToolkit takes headers and libraries from <root>/targets/aarch64-linux when cross-compiling.
  get_filename_component(_jetson_cuda_root "${_jetson_cuda_target}/../.." ABSOLUTE)
  set(CUDAToolkit_ROOT "${_jetson_cuda_root}" CACHE PATH "CUDA toolkit with the aarch64 target libraries")
  list(APPEND CMAKE_FIND_ROOT_PATH "${_jetson_cuda_target}")
  set(RTINFER_WITH_CUDA ON CACHE BOOL "Build the CUDA backend")
else()
  # No aarch64 CUDA libraries: the host's nvcc would build x86-64 code, so only the CPU parts are built.
  set(CMAKE_CUDA_COMPILER "" CACHE FILEPATH "No aarch64 CUDA target here")
  set(RTINFER_WITH_CUDA OFF CACHE BOOL "Build the CUDA backend")
endif()

# Without a device file system, aarch64 test programs run on the host under user-mode qemu (CTest,
# gtest_discover_tests and the tests' scripts use this), loaded by Debian's libc6:arm64. The cross toolchain's
# C library (-L /usr/aarch64-linux-gnu) is only a fallback: with it, qemu 7.2 hangs in every program that
# starts a thread (OpenBLAS starts its pool before main).
if(NOT JETSON_SYSROOT)
  find_program(JETSON_QEMU qemu-aarch64-static qemu-aarch64)
  if(JETSON_QEMU AND EXISTS /lib/ld-linux-aarch64.so.1)
    set(CMAKE_CROSSCOMPILING_EMULATOR "${JETSON_QEMU}")
  elseif(JETSON_QEMU AND EXISTS /usr/aarch64-linux-gnu)
    set(CMAKE_CROSSCOMPILING_EMULATOR "${JETSON_QEMU};-L;/usr/aarch64-linux-gnu")
  endif()
endif()
