# SVDIT_PYTHON_PACKAGE: the configuration python/pyproject.toml (scikit-build-core) asks for. It builds only the
# two op libraries and what they link (svdit_torch_ops: svdit_data, the CUDA kernels when nvcc is there;
# svdit_profile_ops: the profiler and runtime), against the torch of the Python interpreter doing the install, and
# installs them into the `svdit` package (python/CMakeLists.txt).
# Included before SvditDependencies, so that LibTorch is looked up where that interpreter has it.
option(SVDIT_PYTHON_PACKAGE "Configure only what the Python package needs (set by python/pyproject.toml)" OFF)
if(NOT SVDIT_PYTHON_PACKAGE)
  return()
endif()

# scikit-build-core passes the installing interpreter as Python_EXECUTABLE; its torch is the one the library
# must be built against (pip's build isolation is off for this reason, see python/README.md).
find_package(Python REQUIRED COMPONENTS Interpreter)
if(NOT Torch_DIR)
  execute_process(COMMAND "${Python_EXECUTABLE}" -c "import torch, sys; sys.stdout.write(torch.utils.cmake_prefix_path)"
                  OUTPUT_VARIABLE _svdit_torch_prefix ERROR_VARIABLE _svdit_torch_error RESULT_VARIABLE _svdit_torch_rc)
  if(NOT _svdit_torch_rc EQUAL 0)
    message(FATAL_ERROR "svdit Python package: ${Python_EXECUTABLE} cannot import torch; install torch first "
                        "(scripts/setup.sh) and build with `pip install --no-build-isolation ./python`.\n"
                        "${_svdit_torch_error}")
  endif()
  set(Torch_DIR "${_svdit_torch_prefix}/Torch" CACHE PATH "LibTorch of the installing interpreter" FORCE)
endif()

# ccache makes a reinstall (and the CI's install from a clean clone) cost little. The package builds in
# build-python/, at the depth of build/ and with its build type, so with a ccache base_dir above the checkout the
# objects the main build compiled are hits too.
find_program(SVDIT_CCACHE ccache)
if(SVDIT_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${SVDIT_CCACHE}")
  set(CMAKE_CUDA_COMPILER_LAUNCHER "${SVDIT_CCACHE}")
endif()
