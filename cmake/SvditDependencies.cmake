# Finds svdit's dependencies and decides which parts of the toolkit are built.
# Each SVDIT_<PART> option is AUTO (default: on when the machine has what it needs), ON (fail if missing) or OFF.
# Result variables: SVDIT_WITH_TORCH, SVDIT_WITH_CUDA, SVDIT_WITH_ANALYZER, SVDIT_WITH_TESTS, SVDIT_WITH_FUZZ;
# targets svdit_torch (LibTorch builds) and svdit_torch_cuda (CUDA builds), see "LibTorch and the CUDA toolchain".

set(SVDIT_TORCH AUTO CACHE STRING "Build the LibTorch parts (runtime, profiler, torch op): AUTO, ON or OFF")
set(SVDIT_CUDA AUTO CACHE STRING "Build the CUDA kernels (needs nvcc, the CUDA toolkit and a CUDA LibTorch): AUTO, ON or OFF")
set(SVDIT_ANALYZER AUTO CACHE STRING "Build the Dear ImGui analyzer (needs GLFW, ImGui, OpenGL): AUTO, ON or OFF")
set(SVDIT_TESTS AUTO CACHE STRING "Build the GoogleTest suite: AUTO, ON or OFF")
option(SVDIT_FUZZ "Build the libFuzzer targets (needs clang)" OFF)
set(SVDIT_CUDA_ARCHITECTURES "90a;80" CACHE STRING "CUDA architectures for the kernels (90a: Hopper wgmma/TMA path, 80: portable path)")

set(_svdit_summary "")
macro(_svdit_decide part wanted found why_on why_off)
  if("${wanted}" STREQUAL "OFF")
    set(SVDIT_WITH_${part} OFF)
    list(APPEND _svdit_summary "${part} off (disabled by SVDIT_${part}=OFF)")
  elseif(${found})
    set(SVDIT_WITH_${part} ON)
    list(APPEND _svdit_summary "${part} on (${why_on})")
  elseif("${wanted}" STREQUAL "ON")
    message(FATAL_ERROR "SVDIT_${part}=ON but ${why_off}")
  else()
    set(SVDIT_WITH_${part} OFF)
    list(APPEND _svdit_summary "${part} off (${why_off})")
  endif()
endmacro()

# --- always required: formats ---------------------------------------------------------------------------
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(Threads REQUIRED)
add_library(svdit_hdf5 INTERFACE)
target_include_directories(svdit_hdf5 SYSTEM INTERFACE ${HDF5_C_INCLUDE_DIRS} ${HDF5_INCLUDE_DIRS})
target_link_libraries(svdit_hdf5 INTERFACE ${HDF5_C_LIBRARIES} ${HDF5_LIBRARIES})
target_compile_definitions(svdit_hdf5 INTERFACE ${HDF5_DEFINITIONS})

# --- LibTorch and the CUDA toolchain ------------------------------------------------------------------
# Two interface targets carry LibTorch into svdit:
#   svdit_torch       every torch-using target: torch_cpu's headers and definitions, the SAME in every configuration
#                     (so ccache serves a CUDA-less build from a CUDA one); in a CUDA build it also links torch_cuda
#                     (link only: its usage requirements stay out of the shared translation units).
#   svdit_torch_cuda  CUDA builds only, for the few translation units that include ATen/c10 CUDA headers.
set(_torch_found FALSE)
set(_torch_why "LibTorch not found: run scripts/setup.sh or pass -DTorch_DIR=...")
set(_cuda_why "")
if(SVDIT_TORCH STREQUAL "OFF")
  set(_cuda_why "LibTorch is off")
else()
  if(NOT SVDIT_CUDA STREQUAL "OFF")
    include(CheckLanguage)
    check_language(CUDA)
    if(NOT CMAKE_CUDA_COMPILER)
      set(_cuda_why "no nvcc found")
    else()
      find_package(CUDAToolkit)
      if(NOT CUDAToolkit_FOUND)
        set(_cuda_why "nvcc found but not the CUDA toolkit around it")
      endif()
    endif()
  endif()
  if(NOT Torch_DIR)
    # The PyPI wheel carries LibTorch; ask the python3 on PATH where it is.
    execute_process(COMMAND python3 -c "import torch, sys; sys.stdout.write(torch.utils.cmake_prefix_path)"
                    OUTPUT_VARIABLE _torch_prefix ERROR_QUIET RESULT_VARIABLE _torch_rc)
    if(_torch_rc EQUAL 0 AND _torch_prefix)
      list(APPEND CMAKE_PREFIX_PATH "${_torch_prefix}")
    endif()
  endif()
  # A CUDA LibTorch's config (Caffe2's public/cuda.cmake) looks for a CUDA toolkit itself: without one it stops
  # the configure with a fatal error, with one it enables CUDA under its own architecture list (and warns about
  # ours). torch::cudart is the one target its imported libraries need from that file, and the file returns at
  # once when the target exists: defined here, it is CUDA::cudart where svdit builds CUDA and empty elsewhere.
  if(NOT TARGET torch::cudart)
    add_library(torch::cudart INTERFACE IMPORTED)
    if(CUDAToolkit_FOUND)
      target_link_libraries(torch::cudart INTERFACE CUDA::cudart)
    endif()
  endif()
  # The PyPI wheel links kineto into libtorch_cpu and ships no libkineto; TorchConfig would warn on every
  # configure that it is missing. A name that is not NOTFOUND stops the search (the value is never linked).
  if(NOT DEFINED kineto_LIBRARY)
    set(kineto_LIBRARY "linked-into-libtorch_cpu")
  endif()
  find_package(Torch QUIET)
  if(Torch_FOUND)
    set(_torch_found TRUE)
    set(_torch_why "LibTorch at ${TORCH_INSTALL_PREFIX}")
    add_library(svdit_torch INTERFACE)
    target_include_directories(svdit_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
    target_compile_options(svdit_torch INTERFACE ${TORCH_CXX_FLAGS})
    target_link_libraries(svdit_torch INTERFACE torch_cpu_library c10)
  endif()
endif()
_svdit_decide(TORCH "${SVDIT_TORCH}" _torch_found "${_torch_why}" "${_torch_why}")
if(NOT SVDIT_WITH_TORCH)
  set(_cuda_why "LibTorch is off")
endif()

# --- CUDA kernels --------------------------------------------------------------------------------------
set(_cuda_found FALSE)
if(NOT SVDIT_CUDA STREQUAL "OFF" AND SVDIT_WITH_TORCH AND CUDAToolkit_FOUND)
  if(NOT TARGET torch_cuda)
    set(_cuda_why "nvcc found but LibTorch has no CUDA")
  else()
    set(_cuda_found TRUE)
  endif()
endif()
if(_cuda_found)
  set(CMAKE_CUDA_ARCHITECTURES ${SVDIT_CUDA_ARCHITECTURES})
  enable_language(CUDA)
  # CMake 3.25 (Debian 12) does not know nvcc's C++20 flag; teach it, so CUDA_STANDARD 20 works there too.
  if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
  endif()
  set(CMAKE_CUDA_STANDARD 20)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  set(_cuda_why "nvcc ${CMAKE_CUDA_COMPILER_VERSION}, sm ${SVDIT_CUDA_ARCHITECTURES}")
  target_link_libraries(svdit_torch INTERFACE $<LINK_ONLY:torch_cuda_library>)
  add_library(svdit_torch_cuda INTERFACE)
  target_link_libraries(svdit_torch_cuda INTERFACE svdit_torch torch_cuda_library CUDA::cudart)
endif()
_svdit_decide(CUDA "${SVDIT_CUDA}" _cuda_found "${_cuda_why}" "${_cuda_why}")

# --- CUPTI (the profiler's kernel timer; without it the profiler times the CPU reference by wall clock) ---------
# FindCUDAToolkit defines CUDA::cupti when it finds cupti.h in extras/CUPTI/include or the toolkit's include dir.
# Toolkits that put CUPTI elsewhere can be pointed at with -DSVDIT_CUPTI_ROOT=<dir holding include/ and lib*/>.
set(SVDIT_CUPTI_ROOT "" CACHE PATH "Folder holding CUPTI's include/ and lib64/ (when the CUDA toolkit's own is not found)")
if(SVDIT_WITH_CUDA)
  if(NOT TARGET CUDA::cupti)
    find_path(SVDIT_CUPTI_INCLUDE_DIR cupti.h
              HINTS ${SVDIT_CUPTI_ROOT}/include ${CUDAToolkit_LIBRARY_ROOT}/extras/CUPTI/include
                    ${CUDAToolkit_TARGET_DIR}/extras/CUPTI/include ${CUDAToolkit_INCLUDE_DIRS}
              NO_DEFAULT_PATH)
    find_library(SVDIT_CUPTI_LIBRARY cupti
                 HINTS ${SVDIT_CUPTI_ROOT}/lib64 ${SVDIT_CUPTI_ROOT}/lib ${CUDAToolkit_LIBRARY_ROOT}/extras/CUPTI/lib64
                       ${CUDAToolkit_TARGET_DIR}/extras/CUPTI/lib64 ${CUDAToolkit_LIBRARY_DIR}
                 NO_DEFAULT_PATH)
    if(SVDIT_CUPTI_INCLUDE_DIR AND SVDIT_CUPTI_LIBRARY)
      add_library(CUDA::cupti UNKNOWN IMPORTED)
      set_target_properties(CUDA::cupti PROPERTIES IMPORTED_LOCATION "${SVDIT_CUPTI_LIBRARY}"
                                                   INTERFACE_INCLUDE_DIRECTORIES "${SVDIT_CUPTI_INCLUDE_DIR}")
    endif()
  endif()
  if(TARGET CUDA::cupti)
    get_target_property(_cupti_location CUDA::cupti IMPORTED_LOCATION)
    list(APPEND _svdit_summary "CUPTI on (${_cupti_location})")
  else()
    list(APPEND _svdit_summary "CUPTI off (cupti.h or libcupti not found: pass -DSVDIT_CUPTI_ROOT=...; the profiler times the CPU reference instead)")
  endif()
else()
  list(APPEND _svdit_summary "CUPTI off (no CUDA kernels)")
endif()

# --- analyzer: GLFW + Dear ImGui + OpenGL ---------------------------------------------------------------
set(_analyzer_found FALSE)
set(_analyzer_why "")
if(NOT SVDIT_ANALYZER STREQUAL "OFF")
  find_package(glfw3 3.3 QUIET)
  find_package(OpenGL QUIET)
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(IMGUI QUIET IMPORTED_TARGET imgui)
  endif()
  set(SVDIT_IMGUI_BACKENDS_DIR "/usr/share/doc/libimgui-dev/examples/backends" CACHE PATH
      "Folder holding imgui_impl_glfw.cpp and imgui_impl_opengl3.cpp (Debian ships them as documentation)")
  if(NOT glfw3_FOUND)
    set(_analyzer_why "GLFW not found (apt-get install libglfw3-dev)")
  elseif(NOT IMGUI_FOUND)
    set(_analyzer_why "Dear ImGui not found (apt-get install libimgui-dev)")
  elseif(NOT OpenGL_FOUND)
    set(_analyzer_why "OpenGL not found")
  elseif(NOT EXISTS "${SVDIT_IMGUI_BACKENDS_DIR}/imgui_impl_glfw.cpp")
    set(_analyzer_why "ImGui GLFW backend source not found in ${SVDIT_IMGUI_BACKENDS_DIR}")
  else()
    set(_analyzer_found TRUE)
    set(_analyzer_why "GLFW ${glfw3_VERSION}, ImGui ${IMGUI_VERSION}")
  endif()
endif()
_svdit_decide(ANALYZER "${SVDIT_ANALYZER}" _analyzer_found "${_analyzer_why}" "${_analyzer_why}")

# --- tests ---------------------------------------------------------------------------------------------
set(_tests_found FALSE)
if(NOT SVDIT_TESTS STREQUAL "OFF")
  find_package(GTest QUIET)
  if(GTest_FOUND)
    set(_tests_found TRUE)
  endif()
endif()
_svdit_decide(TESTS "${SVDIT_TESTS}" _tests_found "GoogleTest found" "GoogleTest not found (apt-get install libgtest-dev)")

# --- fuzzers -------------------------------------------------------------------------------------------
if(SVDIT_FUZZ AND NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "SVDIT_FUZZ=ON needs clang (CXX=clang++); the compiler is ${CMAKE_CXX_COMPILER_ID}")
endif()
set(_fuzz_found ${SVDIT_FUZZ})
set(_fuzz_wanted OFF)
if(SVDIT_FUZZ)
  set(_fuzz_wanted ON)
endif()
_svdit_decide(FUZZ "${_fuzz_wanted}" _fuzz_found "libFuzzer with ${CMAKE_CXX_COMPILER_ID}" "")

list(JOIN _svdit_summary "; " _svdit_summary_line)
message(STATUS "svdit: ${_svdit_summary_line}")

# For scripts/test.sh: whether this build folder has the CUDA kernels (it then also tests the build without).
set(SVDIT_BUILT_WITH_CUDA ${SVDIT_WITH_CUDA} CACHE INTERNAL "The CUDA kernels are part of this build")
