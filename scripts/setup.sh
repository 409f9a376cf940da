#!/usr/bin/env bash
# Installs what svdit's build and tests need on a Debian 12 machine, and nothing that is already there.
# Idempotent: safe to run twice; says what it installs. Needs root (or sudo) for apt-get.
#
#   Debian packages: cmake ninja-build g++ ccache libhdf5-dev zlib1g-dev hdf5-tools nlohmann-json3-dev libgtest-dev
#                    libglfw3-dev libimgui-dev xvfb clang libclang-rt-14-dev (fuzzing)
#   PyPI:            torch==2.11.0 (its wheel carries LibTorch, the same version as the H100 machine's 2.11.0+cu130),
#                    h5py and numpy (the tests read profiles with h5py, as a user of docs/FORMATS.md would);
#                    with torch, for the Python package (python/) and its tests: scikit-build-core (its build
#                    backend; pip's build isolation is off, see python/README.md), diffusers and transformers (the
#                    pipelines the package plugs into; diffusers 0.42.1 is what the GPU figures used) and pytest
#
# Set SVDIT_SETUP_NO_TORCH=1 to skip LibTorch (the data/search/analyzer parts build without it).
set -euo pipefail

apt_packages=(cmake ninja-build g++ ccache pkg-config libhdf5-dev zlib1g-dev hdf5-tools nlohmann-json3-dev libgtest-dev libgloo-dev
              libglfw3-dev libimgui-dev xvfb xauth clang libclang-rt-14-dev)
torch_version="2.11.0"
# The Python package's build backend, the pipelines it is tested with, and the test runner: name==version.
python_package_pins=(scikit-build-core==1.1.2 diffusers==0.42.1 transformers==5.24.0 pytest==9.2.0)

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo > /dev/null || { echo "setup.sh: needs root or sudo to install Debian packages" >&2; exit 1; }
  sudo_cmd=(sudo)
fi

missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2> /dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "setup.sh: installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
else
  echo "setup.sh: Debian packages already installed"
fi

python=${PYTHON:-python3}
pip_wanted=()
if [[ -z "${SVDIT_SETUP_NO_TORCH:-}" ]]; then
  have_torch=$("$python" -c 'import torch; print(torch.__version__.split("+")[0])' 2> /dev/null || true)
  [[ "$have_torch" == "$torch_version" ]] || pip_wanted+=("torch==$torch_version")
  for pin in "${python_package_pins[@]}"; do
    have=$("$python" -c 'import sys, importlib.metadata as m; print(m.version(sys.argv[1]))' "${pin%%==*}" 2> /dev/null || true)
    [[ "$have" == "${pin##*==}" ]] || pip_wanted+=("$pin")
  done
fi
"$python" -c 'import h5py, numpy' 2> /dev/null || pip_wanted+=(h5py numpy)
if [[ ${#pip_wanted[@]} -gt 0 ]]; then
  echo "setup.sh: installing from PyPI for $("$python" --version 2>&1): ${pip_wanted[*]} (LibTorch comes in the torch wheel)"
  PIP_ROOT_USER_ACTION=ignore "$python" -m pip install --quiet --disable-pip-version-check "${pip_wanted[@]}"
else
  have="h5py, numpy"
  [[ -n "${SVDIT_SETUP_NO_TORCH:-}" ]] || have+=", torch $torch_version, ${python_package_pins[*]}"
  echo "setup.sh: PyPI packages already installed ($have)"
fi
