"""Loads the op library that ``pip install`` put next to this file, registering ``torch.ops.svdit.*``."""

from pathlib import Path

import torch

_LIBRARY_NAME = "libsvdit_torch_ops.so"


def load_ops() -> Path:
    """Registers torch.ops.svdit from the packaged library (once per process) and returns its path."""
    path = Path(__file__).resolve().parent / _LIBRARY_NAME
    if not path.is_file():
        raise ImportError(
            f"svdit: the op library {path} is missing; install the package with "
            "`pip install --no-build-isolation ./python` from the svdit checkout (python/README.md)"
        )
    if str(path) not in torch.ops.loaded_libraries:
        torch.ops.load_library(str(path))
    return path
