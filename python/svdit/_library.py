"""Loads the op library that ``pip install`` put next to this file, registering ``torch.ops.svdit.*``."""

from pathlib import Path

import torch

# The ops (torch.ops.svdit.*), then the profiler's session (torch.classes.svdit.ProfileSession), which links the
# first: loaded in this order, the dynamic linker finds the ops library already in the process.
_LIBRARY_NAMES = ("libsvdit_torch_ops.so", "libsvdit_profile_ops.so")


def load_ops() -> Path:
    """Registers torch.ops.svdit and torch.classes.svdit from the packaged libraries (once per process) and returns
    the ops library's path."""
    folder = Path(__file__).resolve().parent
    for name in _LIBRARY_NAMES:
        path = folder / name
        if not path.is_file():
            raise ImportError(
                f"svdit: the op library {path} is missing; install the package with "
                "`pip install --no-build-isolation ./python` from the svdit checkout (python/README.md)"
            )
        if str(path) not in torch.ops.loaded_libraries:
            torch.ops.load_library(str(path))
    return folder / _LIBRARY_NAMES[0]
