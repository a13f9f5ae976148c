"""llama.cpp's own error lines, kept to explain a failure in one line.

llama-cpp-python sends llama.cpp's log to stderr (or, while loading with verbose=False, nowhere), and its exceptions
say only "Failed to load model from file". While `error_lines` is active, the lines llama.cpp logs at ERROR level
are collected instead (e.g. "unknown model architecture: 'x'"); afterwards llama-cpp-python's logger is back.
The multimodal library (mtmd) logs through its own callback, which prints every line to stderr: `quiet_mtmd` sends
it here for good, so its errors are collected the same way and the rest is dropped.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

GGML_LOG_LEVEL_ERROR = 4
"""ggml.h's enum in the llama.cpp this binds (NONE, DEBUG, INFO, WARN, ERROR, CONT); llama_cpp/_logger.py's comment
still lists an older order."""

_collecting: list[list[str]] = []
"""The lists of the active `error_lines` blocks, innermost last."""
_callback: list[Any] = []
"""The one ctypes callback around `_collect`, made on first use and kept alive here (llama.cpp holds its pointer)."""


def _collect(level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
    if _collecting and level == GGML_LOG_LEVEL_ERROR and text.strip():
        line = text.decode("utf-8", "replace").strip()
        _collecting[-1].append(line.split(": ", 1)[-1])


def _collector() -> Any:
    import llama_cpp

    if not _callback:
        _callback.append(llama_cpp.llama_log_callback(_collect))
    return _callback[0]


@contextmanager
def error_lines() -> Iterator[list[str]]:
    """The ERROR lines llama.cpp logs inside the block, each without the function name it starts with. The log
    callback is process-wide: use it on the one thread that calls llama.cpp (the engine's worker)."""
    import llama_cpp
    from llama_cpp import _logger

    lines: list[str] = []
    _collecting.append(lines)
    llama_cpp.llama_log_set(_collector(), ctypes.c_void_p(0))
    try:
        yield lines
    finally:
        _collecting.pop()
        llama_cpp.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))


def quiet_mtmd(mtmd: Any) -> None:
    """Route the multimodal library's log (and its helpers') to `error_lines` instead of stderr."""
    mtmd.mtmd_log_set(_collector(), ctypes.c_void_p(0))
    mtmd.mtmd_helper_log_set(_collector(), ctypes.c_void_p(0))
