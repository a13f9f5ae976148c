"""The conversion itself, run in the child job (engine/models/convert.py starts it): mlx_lm's load,
quantize and save, with the progress reported by this code rather than read from mlx_lm's log lines.

Quantizing is lazy, so the work happens while the weights are written: the bytes written so far
against the expected size are the progress of that step.
"""

from __future__ import annotations

import contextlib
import io
import threading
from pathlib import Path
from typing import Any

from engine.jobs import JobProgress, Report
from engine.memory import format_bytes

REPORT_SECONDS = 0.25
CAST_DTYPES = ("float16", "bfloat16", "float32")


class WriteProgress:
    """While open, reports every REPORT_SECONDS how many of the `expected` bytes of weights the folder holds."""

    def __init__(self, folder: Path, expected: int, report: Report) -> None:
        self._folder, self._expected, self._report = folder, expected, report
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="cabin-convert-progress", daemon=True)

    def __enter__(self) -> WriteProgress:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._send()

    def _watch(self) -> None:
        while not self._stop.wait(REPORT_SECONDS):
            self._send()

    def _send(self) -> None:
        written = sum(f.stat().st_size for f in self._folder.glob("*.safetensors"))
        fraction = min(written / self._expected, 1.0) if self._expected else None
        message = f"Quantizing and writing: {format_bytes(written)} of ~{format_bytes(self._expected)}"
        self._report(JobProgress("write", fraction, message))


def cast_to_saved_dtype(model: Any, config: dict) -> None:
    """As mlx_lm's convert does: floating-point weights take the dtype the model was saved in."""
    import mlx.core as mx
    from mlx.utils import tree_map_with_path

    name = config.get("torch_dtype") or (config.get("text_config") or {}).get("dtype")
    if name not in CAST_DTYPES:
        return
    dtype = getattr(mx, name)
    castable = getattr(model, "cast_predicate", lambda _: True)

    def cast(path: str, value: Any) -> Any:
        return value.astype(dtype) if castable(path) and mx.issubdtype(value.dtype, mx.floating) else value

    model.update(tree_map_with_path(cast, model.parameters()))


def convert_child(folder: str, tmp: str, bits: int, group_size: int, expected: int, report: Report) -> None:
    """The child process: quantize the model in `folder` to `bits` and write it to `tmp`. What mlx_lm prints
    ("[INFO] Quantized model with 4.5 bits per weight") stays off the user's terminal."""
    with contextlib.redirect_stdout(io.StringIO()):
        convert_quietly(folder, tmp, bits, group_size, expected, report)


def convert_quietly(folder: str, tmp: str, bits: int, group_size: int, expected: int, report: Report) -> None:
    from mlx_lm.utils import load, quantize_model, save

    report(JobProgress("load", 0.0, "Loading"))
    model, tokenizer, config = load(folder, return_config=True, lazy=True)
    cast_to_saved_dtype(model, config)
    report(JobProgress("quantize", 0.0, f"Quantizing to {bits}-bit"))
    model, config = quantize_model(model, config, group_size, bits)
    with WriteProgress(Path(tmp), expected, report):
        save(tmp, folder, model, tokenizer, config)
