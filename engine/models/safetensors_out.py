"""Write a .safetensors file piece by piece: the header first (every tensor's dtype and shape is known in
advance), then each tensor's rows in chunks at their place. Peak memory stays at one chunk, not the model,
and no MLX call is needed (the importer runs on any thread; MLX arrays belong to the engine's worker)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np

ITEM_SIZES = {"U32": 4, "F32": 4, "F16": 2, "BF16": 2}


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dtype: str  # safetensors dtype: U32, F32, F16 or BF16
    shape: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * ITEM_SIZES[self.dtype]


class SafetensorsWriter:
    """`with SafetensorsWriter(path, specs) as out: out.write(name, first_row, rows)`."""

    def __init__(self, path: Path, specs: list[TensorSpec], metadata: dict[str, str] | None = None) -> None:
        header: dict[str, object] = {"__metadata__": metadata or {}}
        self._places: dict[str, tuple[int, int, int]] = {}  # name -> (start of data, bytes per row, bytes)
        offset = 0
        for spec in specs:
            place = [offset, offset + spec.nbytes]
            header[spec.name] = {"dtype": spec.dtype, "shape": list(spec.shape), "data_offsets": place}
            rows = spec.shape[0] if spec.shape else 1
            self._places[spec.name] = (offset, spec.nbytes // max(rows, 1), spec.nbytes)
            offset += spec.nbytes
        encoded = json.dumps(header, separators=(",", ":")).encode()
        encoded += b" " * (-len(encoded) % 8)  # the format pads the header to 8 bytes with spaces
        self._base = 8 + len(encoded)
        self._file = path.open("wb")
        self._file.write(len(encoded).to_bytes(8, "little") + encoded)
        self._file.truncate(self._base + offset)

    def write(self, name: str, first_row: int, rows: np.ndarray) -> None:
        start, row_bytes, size = self._places[name]
        data = np.ascontiguousarray(rows).tobytes()
        if first_row * row_bytes + len(data) > size:
            raise ValueError(f"{name}: rows past the end of the tensor")
        self._file.seek(self._base + start + first_row * row_bytes)
        self._file.write(data)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> SafetensorsWriter:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()
