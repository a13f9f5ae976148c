"""A float Hugging Face-style folder (config.json, model.safetensors, tokenizer) from a store model, for the
ONNX Runtime GenAI model builder, which reads safetensors but not MLX's packed 4-bit weights."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from engine.coreml.source import SourceModel, export_config, read_weights

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
                   "generation_config.json")  # fmt: skip


def write_hf_folder(source: SourceModel, dest: Path, context: int) -> dict:
    """Write the folder (weights dequantized to float32); return the config written. `max_position_embeddings`
    becomes `context`: the builder sizes the KV cache and the RoPE tables from it."""
    from safetensors.numpy import save_file

    dest.mkdir(parents=True, exist_ok=True)
    save_file(read_weights(source), str(dest / "model.safetensors"))
    config = export_config(source.config) | {"torch_dtype": "float32", "max_position_embeddings": context}
    (dest / "config.json").write_text(json.dumps(config, indent=2))
    for name in TOKENIZER_FILES:
        if (source.info.path / name).is_file():
            shutil.copyfile(source.info.path / name, dest / name)
    return config
