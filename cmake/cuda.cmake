# cmake/cuda.cmake: adds the cuda backend (native/cuda) to ${PROJECT_NAME} when it can be
# built, and says why not otherwise. Included from CMakeLists.txt after the target exists.
#
# Needs: nvcc (CMAKE_CUDA_COMPILER / CUDACXX, else /usr/local/cuda/bin/nvcc, else PATH) and
# the cuDNN 9 and cuBLAS headers (CUDNN_INCLUDE_DIR / CUBLAS_INCLUDE_DIR as cache or
# environment variables, else .cache/nvidia from scripts/fetch-cuda-deps.sh, else the CUDA
# toolkit and system include dirs). Libraries are not linked: cuDNN and cuBLAS are dlopened
# at run time (native/cuda/loader.cc) and cudart is linked statically with hidden symbols,
# so the same .node loads on machines without a driver, a GPU or cuDNN.
#
# Sets CN_WITH_CUDA (ON/OFF). -DCN_WITH_CUDA=OFF turns it off on purpose.

option(CN_WITH_CUDA "Build the cuda backend (cuDNN 9 + cuBLAS, loaded at run time)" ON)

set(_cn_cuda_off "")
if(NOT CN_WITH_CUDA)
  set(_cn_cuda_off "disabled with -DCN_WITH_CUDA=OFF")
endif()

# ---- nvcc
if(NOT _cn_cuda_off)
  if(NOT DEFINED CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX}
     AND EXISTS /usr/local/cuda/bin/nvcc)
    set(ENV{CUDACXX} /usr/local/cuda/bin/nvcc)
  endif()
  # Note [architectures]: sm_80 and sm_90 machine code plus compute_90 PTX for later GPUs
  # (8.6/8.9 run the sm_80 code). Set before check_language so that the trial compile and
  # the real one agree.
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES "80-real;90-real;90-virtual")
  endif()
  include(CheckLanguage)
  check_language(CUDA)  # a trial configure: a broken nvcc turns us OFF instead of failing
  if(NOT CMAKE_CUDA_COMPILER)
    set(_cn_cuda_off "nvcc not found or not working (set CUDACXX or CMAKE_CUDA_COMPILER)")
  endif()
endif()

# ---- headers
if(NOT _cn_cuda_off)
  file(GLOB _cn_cache_includes LIST_DIRECTORIES true
       "${CMAKE_SOURCE_DIR}/.cache/nvidia/*/include" "${CMAKE_SOURCE_DIR}/.cache/nvidia/*/*/include")
  get_filename_component(_cn_nvcc_dir "${CMAKE_CUDA_COMPILER}" DIRECTORY)
  set(_cn_toolkit_include "${_cn_nvcc_dir}/../include" "${_cn_nvcc_dir}/../targets/x86_64-linux/include")
  find_path(CUDNN_INCLUDE_DIR cudnn_version.h
            HINTS ENV CUDNN_INCLUDE_DIR ${_cn_cache_includes}
            PATHS ${_cn_toolkit_include} /usr/include /usr/local/include
            DOC "Directory with cudnn.h / cudnn_version.h (cuDNN 9)")
  find_path(CUBLAS_INCLUDE_DIR cublas_v2.h
            HINTS ENV CUBLAS_INCLUDE_DIR ${_cn_cache_includes}
            PATHS ${_cn_toolkit_include} /usr/include /usr/local/include
            DOC "Directory with cublas_v2.h and cublasLt.h")
  if(NOT CUDNN_INCLUDE_DIR OR NOT EXISTS "${CUDNN_INCLUDE_DIR}/cudnn.h")
    set(_cn_cuda_off "cuDNN headers (cudnn.h, cudnn_version.h) not found; run scripts/fetch-cuda-deps.sh or set CUDNN_INCLUDE_DIR")
  elseif(NOT CUBLAS_INCLUDE_DIR OR NOT EXISTS "${CUBLAS_INCLUDE_DIR}/cublasLt.h")
    set(_cn_cuda_off "cuBLAS headers (cublas_v2.h, cublasLt.h) not found; run scripts/fetch-cuda-deps.sh or set CUBLAS_INCLUDE_DIR")
  else()
    file(STRINGS "${CUDNN_INCLUDE_DIR}/cudnn_version.h" _cn_cudnn_defs
         REGEX "^#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) ")
    string(REGEX REPLACE ".*CUDNN_MAJOR ([0-9]+).*" "\\1" _cn_cudnn_major "${_cn_cudnn_defs}")
    string(REGEX REPLACE ".*CUDNN_MINOR ([0-9]+).*" "\\1" _cn_cudnn_minor "${_cn_cudnn_defs}")
    string(REGEX REPLACE ".*CUDNN_PATCHLEVEL ([0-9]+).*" "\\1" _cn_cudnn_patch "${_cn_cudnn_defs}")
    if(NOT _cn_cudnn_major STREQUAL "9")
      set(_cn_cuda_off "cuDNN headers in ${CUDNN_INCLUDE_DIR} are version ${_cn_cudnn_major}, 9 required")
    endif()
  endif()
endif()

if(_cn_cuda_off)
  set(CN_WITH_CUDA OFF)
  message(STATUS "cuda backend: OFF because ${_cn_cuda_off}")
  return()
endif()

# ---- the backend
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
set(CN_WITH_CUDA ON)
message(STATUS "cuda backend: ON (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, cuDNN headers "
               "${_cn_cudnn_major}.${_cn_cudnn_minor}.${_cn_cudnn_patch} in ${CUDNN_INCLUDE_DIR}, "
               "cuBLAS headers in ${CUBLAS_INCLUDE_DIR}, archs ${CMAKE_CUDA_ARCHITECTURES})")

file(GLOB CN_CUDA_SOURCES CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/native/cuda/*.cc"
     "${CMAKE_SOURCE_DIR}/native/cuda/kernels/*.cu")
list(FILTER CN_CUDA_SOURCES EXCLUDE REGEX "cuda_unavailable\\.cc$")
target_sources(${PROJECT_NAME} PRIVATE ${CN_CUDA_SOURCES})
target_compile_definitions(${PROJECT_NAME} PRIVATE CN_WITH_CUDA=1)
target_include_directories(${PROJECT_NAME} PRIVATE ${CUDNN_INCLUDE_DIR} ${CUBLAS_INCLUDE_DIR}
                           ${CUDAToolkit_INCLUDE_DIRS})
# The target existed before CUDA was enabled, so its CUDA properties are set here rather
# than inherited from CMAKE_CUDA_* variables.
# Note [static cudart]: CUDA::cudart_static (with its dl / rt / pthread needs); CMake's own
# runtime choice is switched off so it is not linked twice. -Wl,--exclude-libs,ALL on the
# target keeps its symbols out of the addon's dynamic symbol table.
set_target_properties(${PROJECT_NAME} PROPERTIES CUDA_ARCHITECTURES "${CMAKE_CUDA_ARCHITECTURES}"
                      CUDA_STANDARD 17 CUDA_STANDARD_REQUIRED ON CUDA_RUNTIME_LIBRARY None
                      CUDA_VISIBILITY_PRESET hidden)
target_link_libraries(${PROJECT_NAME} PRIVATE CUDA::cudart_static ${CMAKE_DL_LIBS})
