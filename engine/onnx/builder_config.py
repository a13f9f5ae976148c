"""The Hugging Face config as ONNX Runtime GenAI 0.18's model builder expects to read it.

The builder was written against transformers 4's config attributes; transformers 5 moved RoPE settings into
`rope_parameters`. Two architectures need their config restated before the builder sees it:
- gemma3: transformers 5 keeps one RoPE entry per layer type, the builder reads a flat `rope_parameters` plus
  `rope_theta` (global layers) and `rope_local_base_freq` (sliding-window layers).
- phi3: the builder picks its LongRoPE variant whenever `max_position_embeddings` differs from
  `original_max_position_embeddings`; Cabin sets the first to the export's context, so a model without
  LongRoPE scaling gets the second set alike.
"""

from __future__ import annotations

from typing import Any


def adapt_for_builder(config: Any) -> Any:
    """Restate `config` (a transformers PretrainedConfig, changed in place) for the builder; return it."""
    rope = getattr(config, "rope_parameters", None) or {}
    if config.model_type == "gemma3_text" and "full_attention" in rope:
        config.rope_theta = rope["full_attention"]["rope_theta"]
        config.rope_local_base_freq = rope["sliding_attention"]["rope_theta"]
        config.rope_parameters = dict(rope["full_attention"])
    if config.model_type == "phi3" and rope.get("rope_type", "default") == "default":
        config.original_max_position_embeddings = config.max_position_embeddings
    return config
