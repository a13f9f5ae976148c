"""llama.cpp's own error lines, kept to explain a failure in one line.

llama-cpp-python sends llama.cpp's log to stderr (or, while loading with verbose=False, nowhere), and its exceptions
say only "Failed to load model from file". While `error_lines` is active, the lines llama.cpp logs at ERROR level
are collected instead (e.g. "unknown model architecture: 'x'"); afterwards llama-cpp-python's logger is back.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager

GGML_LOG_LEVEL_ERROR = 4
"""ggml.h's enum in the llama.cpp this binds (NONE, DEBUG, INFO, WARN, ERROR, CONT); llama_cpp/_logger.py's comment
still lists an older order."""


@contextmanager
def error_lines() -> Iterator[list[str]]:
    """The ERROR lines llama.cpp logs inside the block, each without the function name it starts with. The log callback is process-wide: use it on the one
    thread that calls llama.cpp (the engine's worker)."""
    import llama_cpp
    from llama_cpp import _logger

    lines: list[str] = []

    @llama_cpp.llama_log_callback
    def collect(level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
        if level == GGML_LOG_LEVEL_ERROR and text.strip():
            line = text.decode("utf-8", "replace").strip()
            lines.append(line.split(": ", 1)[-1])

    llama_cpp.llama_log_set(collect, ctypes.c_void_p(0))
    try:
        yield lines
    finally:
        llama_cpp.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))
