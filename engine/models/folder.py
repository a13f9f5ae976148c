"""Check that a folder holds a model mlx_lm can load, and describe it, before any weights are read."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ModelError
from engine.models.fit import KVShape

TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "tiktoken.model")


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: Path
    model_type: str
    bits: int | None
    weight_bytes: int
    context_length: int | None
    parameters: int = 0
    kv: KVShape = KVShape(0, 0, 0)
    quant: str | None = None
    """A GGUF file's quantization as llama.cpp names it ("Q4_K_M"); None for an MLX folder (see `bits`)."""
    vision: bool = False
    """It reads images: a vision-language folder (mlx-vlm runs it, engine/backends/mlx_vlm.py) or a GGUF file with
    its vision projector (engine/backends/llamacpp_vision.py)."""
    projector: Path | None = None
    """A GGUF model's vision projector file (`mmproj`, engine/models/gguf_projector.py); its weights are counted in
    `weight_bytes`."""

    @property
    def type_label(self) -> str:
        """Its architecture as lists show it: "llama", or "llava + vision" for one that reads images."""
        return f"{self.model_type} + vision" if self.vision else self.model_type

    @property
    def precision(self) -> str:
        """How the weights are stored, in a word: "4-bit", "Q4_K_M" or "full precision"."""
        if self.bits:
            return f"{self.bits}-bit"
        return self.quant or "full precision"


def display_name(path: Path) -> str:
    """`org/name` for a Hugging Face cache snapshot, else the folder's name."""
    parts = path.resolve().parts
    for part in reversed(parts):
        if part.startswith("models--"):
            return part[len("models--") :].replace("--", "/", 1)
    return path.name


def read_config(path: Path) -> dict:
    config_file = path / "config.json"
    if not config_file.is_file():
        raise ModelError(f"{path} is not a model folder: it has no config.json")
    try:
        config = json.loads(config_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelError(f"{config_file} is not valid JSON ({e})") from None
    if not isinstance(config, dict) or "model_type" not in config:
        raise ModelError(f"{config_file} names no model_type")
    return config


def is_vision_config(config: dict) -> bool:
    """A vision-language model's config: a vision encoder's settings beside the language model's."""
    return isinstance(config.get("vision_config"), dict)


def check_vision_architecture(config: dict) -> None:
    try:
        from mlx_vlm.utils import get_model_and_args
    except ImportError:
        raise ModelError(f"'{config['model_type']}' is a vision model: install mlx-vlm to run it") from None
    try:
        get_model_and_args(config)
    except ValueError:
        raise ModelError(f"vision architecture '{config['model_type']}' is not supported by mlx-vlm") from None


def check_architecture(config: dict) -> None:
    if is_vision_config(config):
        check_vision_architecture(config)
        return
    from mlx_lm.utils import _get_classes

    try:
        _get_classes(config)
    except ValueError:
        raise ModelError(f"architecture '{config['model_type']}' is not supported by mlx-lm") from None


def read_safetensors_header(file: Path) -> tuple[int, dict] | None:
    """(header length, header) of a .safetensors file, or None when the header is unreadable."""
    try:
        with file.open("rb") as f:
            (header_len,) = struct.unpack("<Q", f.read(8))
            if header_len > file.stat().st_size:
                return None
            header = json.loads(f.read(header_len))
    except (struct.error, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return (header_len, header) if isinstance(header, dict) else None


def safetensors_problem(file: Path) -> str | None:
    """Why a .safetensors file cannot be loaded (truncated, bad header), or None when it looks whole."""
    size = file.stat().st_size
    read = read_safetensors_header(file)
    if read is None:
        return "its header is corrupt"
    header_len, header = read
    data_end = max((t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"), default=0)
    expected = 8 + header_len + data_end
    if size != expected:
        return f"it is truncated or corrupt ({size} bytes, expected {expected})"
    return None


def weight_files(path: Path) -> list[Path]:
    index = path / "model.safetensors.index.json"
    if index.is_file():
        shards = set(json.loads(index.read_text()).get("weight_map", {}).values())
        missing = sorted(s for s in shards if not (path / s).is_file())
        if missing:
            raise ModelError(f"{path} is missing weight files: {', '.join(missing)}")
    files = sorted(path.glob("model*.safetensors"))
    if not files:
        raise ModelError(f"{path} has no model*.safetensors weights")
    for file in files:
        problem = safetensors_problem(file)
        if problem:
            raise ModelError(f"cannot load {file.name} in {path}: {problem}")
    return files


def count_parameters(files: list[Path], quantization: dict) -> int:
    """Parameters from the safetensors headers; a quantized weight packs 32/bits values per uint32."""
    total = 0
    for file in files:
        tensors = {k: t for k, t in read_safetensors_header(file)[1].items() if k != "__metadata__"}
        for name, tensor in tensors.items():
            module = name.rsplit(".", 1)[0]
            quantized = f"{module}.scales" in tensors
            if quantized and not name.endswith(".weight"):
                continue
            numel = 1
            for dim in tensor["shape"]:
                numel *= dim
            layer_bits = (quantization.get(module) or {}).get("bits", quantization.get("bits"))
            total += numel * 32 // layer_bits if quantized and layer_bits else numel
    return total


def inspect_model_folder(path: Path) -> ModelInfo:
    """Validate a model folder without loading weights; raise ModelError naming the first problem."""
    if not path.is_dir():
        raise ModelError(f"{path} is not a folder")
    config = read_config(path)
    check_architecture(config)
    files = weight_files(path)
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        raise ModelError(f"{path} has no tokenizer (tokenizer.json or tokenizer.model)")
    quantization = config.get("quantization") or {}
    return ModelInfo(
        name=display_name(path),
        path=path,
        model_type=config["model_type"],
        bits=quantization.get("bits"),
        weight_bytes=sum(f.stat().st_size for f in files),
        context_length=config.get("max_position_embeddings"),
        parameters=count_parameters(files, quantization),
        kv=KVShape.from_config(config),
        vision=is_vision_config(config),
    )
