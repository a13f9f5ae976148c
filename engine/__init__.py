"""Cabin's engine: models, generation, export and the command line. It never imports Qt."""

from engine import blas  # noqa: F401 — must run before MLX's first matmul (see engine/blas.py)

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cabin-ai")
except PackageNotFoundError:
    __version__ = "0.0.0+unknown"
