"""An embedding model folder: which folders hold one, and turning texts into unit vectors on the worker thread."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.errors import ModelError

ENCODERS = ("bert",)
"""Model types (config.json) this module runs as sentence encoders."""


def is_embedding_model(path: Path) -> bool:
    """Whether the folder holds a sentence encoder (a BERT-style config), by its config.json alone."""
    try:
        return json.loads((path / "config.json").read_text()).get("model_type") in ENCODERS
    except (OSError, json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return False


class SentenceEncoder:
    """Worker thread only: an encoder, its tokenizer, mean pooling over real tokens and L2 normalisation."""

    def __init__(self, path: Path) -> None:
        import mlx.core as mx
        from transformers import AutoTokenizer

        from engine.embeddings.bert import BertConfig, BertModel, sanitize

        self.path = path
        try:
            config = BertConfig.from_dict(json.loads((path / "config.json").read_text()))
            weights: dict[str, Any] = {}
            for file in sorted(path.glob("*.safetensors")):
                weights.update(mx.load(str(file)))
            self.model = BertModel(config)
            self.model.load_weights(list(sanitize(weights).items()))
            self.tokenizer = AutoTokenizer.from_pretrained(str(path))
        except (OSError, ValueError, TypeError, KeyError) as e:
            raise ModelError(f"could not load the embedding model at {path}: {e}") from e
        self.max_length = config.max_position_embeddings
        mx.eval(self.model.parameters())

    def embed(self, texts: list[str]) -> tuple[list[list[float]], int]:
        """(one unit vector per text, tokens read)."""
        import mlx.core as mx

        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="np")
        ids, mask = mx.array(batch["input_ids"]), mx.array(batch["attention_mask"]).astype(mx.float32)
        hidden = self.model(ids, mask)
        pooled = (hidden * mask[..., None]).sum(axis=1) / mx.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        unit = pooled / mx.maximum(mx.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12)
        return unit.astype(mx.float32).tolist(), int(batch["attention_mask"].sum())


class EncoderSlot:
    """The one embedding model kept loaded beside the chat model (worker thread only): swapped when another is named."""

    def __init__(self) -> None:
        self._encoder: SentenceEncoder | None = None

    def embed(self, path: Path, texts: list[str]) -> tuple[list[list[float]], int]:
        if self._encoder is None or self._encoder.path != path:
            self._encoder = None
            self._encoder = SentenceEncoder(path)
        return self._encoder.embed(texts)

    def release(self) -> None:
        self._encoder = None
