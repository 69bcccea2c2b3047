# Cross-compiling rtinfer's sample apps for Jetson (aarch64, JetPack) from an x86-64 host.
#   cmake -S . -B build-jetson -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-jetson.cmake \
#         -DJETSON_SYSROOT=/path/to/jetson-rootfs
# JETSON_SYSROOT is a copy of the device's root file system (with CUDA under usr/local/cuda).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(JETSON_SYSROOT "$ENV{JETSON_SYSROOT}" CACHE PATH "Copy of the Jetson root file system")
if(JETSON_SYSROOT)
  set(CMAKE_SYSROOT "${JETSON_SYSROOT}")
  set(CMAKE_FIND_ROOT_PATH "${JETSON_SYSROOT}")
endif()

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# nvcc drives the cross compiler as its host compiler and links CUDA's aarch64 target libraries.
set(CMAKE_CUDA_HOST_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_CUDA_ARCHITECTURES "72;87" CACHE STRING "Xavier and Orin")
if(JETSON_SYSROOT)
  set(CUDAToolkit_ROOT "${JETSON_SYSROOT}/usr/local/cuda" CACHE PATH "")
  set(CMAKE_CUDA_FLAGS_INIT "-target-dir aarch64-linux")
endif()

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
