"""Read a store model's weights as float32 numpy arrays, with a config transformers and mlx_lm agree on.

MLX 4-bit (affine) weights are dequantized with MLX itself, with float32 scales and biases (bf16
scales add ~0.5% weight error), and bf16 tensors are cast in MLX before they reach numpy (numpy has
no bfloat16). Call from one thread only: MLX arrays belong to the thread that made them.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import ModelError
from engine.models.folder import ModelInfo, inspect_model_folder, weight_files
from engine.models.store import resolve_model

SUPPORTED_ARCHITECTURES = ("llama", "qwen2", "qwen3", "mistral", "phi3", "gemma3_text")
DROPPED_CONFIG_KEYS = ("quantization", "quantization_config")


@dataclass(frozen=True)
class SourceModel:
    """A validated model folder, described without reading its weights."""

    info: ModelInfo
    config: dict
    parameters: int

    @property
    def quantized(self) -> bool:
        return self.info.bits is not None


def safetensors_shapes(file: Path) -> dict[str, list[int]]:
    """Tensor name -> shape, from a .safetensors header (no weights read)."""
    with file.open("rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    return {name: entry["shape"] for name, entry in header.items() if name != "__metadata__"}


def count_parameters(files: list[Path], config: dict) -> int:
    """Parameters of the full-precision model, counting packed quantized weights at their real size."""
    shapes: dict[str, list[int]] = {}
    for file in files:
        shapes.update(safetensors_shapes(file))
    total = 0
    for name, shape in shapes.items():
        if name.endswith((".scales", ".biases")) and name.rsplit(".", 1)[0] + ".weight" in shapes:
            continue
        size = int(np.prod(shape))
        prefix = name.removesuffix(".weight")
        if name.endswith(".weight") and prefix + ".scales" in shapes:
            size = size * 32 // layer_quantization(config, prefix)[1]
        total += size
    return total


def open_source(spec: str | Path, target: str = "Core ML export") -> SourceModel:
    """Validate a store model (folder or cached repo id) for export; raise ModelError if it cannot be exported.
    `target` names the export in the refusal."""
    info = inspect_model_folder(resolve_model(spec))
    if info.model_type not in SUPPORTED_ARCHITECTURES:
        raise ModelError(
            f"{info.name} is a {info.model_type} model; {target} supports {', '.join(SUPPORTED_ARCHITECTURES)}"
        )
    config = json.loads((info.path / "config.json").read_text())
    mode = (config.get("quantization") or {}).get("mode", "affine")
    if mode != "affine":
        raise ModelError(f"{info.name} uses {mode} quantization; only MLX affine quantization can be exported")
    return SourceModel(info, config, count_parameters(weight_files(info.path), config))


def layer_quantization(config: dict, prefix: str) -> tuple[int, int]:
    """(group_size, bits) of one quantized layer: mlx_lm allows per-layer overrides in `quantization`."""
    quantization = config.get("quantization") or {}
    override = quantization.get(prefix)
    if isinstance(override, dict):
        return override["group_size"], override["bits"]
    return quantization["group_size"], quantization["bits"]


def export_config(config: dict) -> dict:
    """The source config cleaned for transformers: no quantization keys, and the RoPE base mlx_lm uses.

    mlx_lm reads a top-level `rope_theta` (with per-architecture defaults: qwen2's is 1e6) while
    transformers 5 reads `rope_parameters["rope_theta"]`; a mismatch silently shifts every logit.
    """
    from mlx_lm.utils import _get_classes

    cleaned = {k: v for k, v in config.items() if k not in DROPPED_CONFIG_KEYS}
    _, args_class = _get_classes(cleaned)
    theta = float(args_class.from_dict(cleaned).rope_theta)
    cleaned["rope_theta"] = theta
    if isinstance(cleaned.get("rope_parameters"), dict):
        cleaned["rope_parameters"] = {**cleaned["rope_parameters"], "rope_theta": theta}
    cleaned["torch_dtype"] = "float16"
    return cleaned


def dequantize_all(arrays: dict[str, Any], config: dict) -> dict[str, Any]:
    """Replace each (weight, scales, biases) triple with the dequantized float32 weight."""
    import mlx.core as mx

    out = {}
    for name, array in arrays.items():
        if name.endswith((".scales", ".biases")):
            continue
        prefix = name.removesuffix(".weight")
        if name.endswith(".weight") and prefix + ".scales" in arrays:
            group_size, bits = layer_quantization(config, prefix)
            scales = arrays[prefix + ".scales"].astype(mx.float32)
            biases = arrays[prefix + ".biases"].astype(mx.float32)
            array = mx.dequantize(array, scales, biases, group_size=group_size, bits=bits, dtype=mx.float32)
        out[name] = array
    return out


def read_weights(source: SourceModel) -> dict[str, np.ndarray]:
    """All weights as float32 numpy arrays, named as transformers names them."""
    import mlx.core as mx

    arrays: dict[str, Any] = {}
    for file in weight_files(source.info.path):
        arrays.update(mx.load(str(file)))
    arrays = dequantize_all(arrays, source.config)
    weights = {}
    for name in list(arrays):
        array = arrays.pop(name)
        if "rotary_emb.inv_freq" in name:
            continue
        weights[name] = np.array(array.astype(mx.float32))
    return weights
