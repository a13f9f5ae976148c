"""The PyTorch rebuild: same logits as MLX, for prefill and for decode through the slice-updated cache."""

from __future__ import annotations

from pathlib import Path

import mlx.core as mx
import mlx_lm
import numpy as np
import pytest
import torch

from engine.coreml.golden import step_inputs
from engine.coreml.source import count_parameters, export_config, open_source, read_weights
from engine.coreml.torch_model import StatefulCausalLM, build_torch_model
from engine.models.folder import weight_files
from tests.model_factory import SLIDING_WINDOW

TOKENS = np.array([[3, 17, 42, 99, 7, 250, 11, 64]], dtype=np.int32)


def wrapper_for(path: Path, context: int = 32) -> StatefulCausalLM:
    source = open_source(str(path))
    weights = {k: torch.from_numpy(v) for k, v in read_weights(source).items()}
    return StatefulCausalLM(build_torch_model(export_config(source.config), weights), context)


def run(wrapper: StatefulCausalLM, ids: np.ndarray, past: int) -> np.ndarray:
    inputs = step_inputs(ids, past, wrapper.window)
    tensors = {name: torch.from_numpy(value if value.dtype == np.int32 else value.astype(np.float32))
               for name, value in inputs.items()}  # fmt: skip
    with torch.no_grad():
        return wrapper(**tensors).numpy()


def mlx_logits(path: Path, ids: np.ndarray) -> np.ndarray:
    model, _ = mlx_lm.load(str(path))
    return np.array(model(mx.array(ids)).astype(mx.float32))


def relative(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.abs(got - want).max() / np.abs(want).max())


@pytest.mark.parametrize("fixture", ["llama_model", "qwen2_model", "llama_fp16_model", "llama_4bit_model",
                                     "qwen3_model", "mistral_model", "phi3_model", "gemma3_model"])
def test_prefill_logits_match_mlx(fixture: str, request: pytest.FixtureRequest) -> None:
    path = request.getfixturevalue(fixture)
    assert relative(run(wrapper_for(path), TOKENS, 0), mlx_logits(path, TOKENS)) < 1e-3


def test_decode_step_by_step_through_the_cache_matches_mlx(llama_model: Path) -> None:
    wrapper = wrapper_for(llama_model)
    steps = [run(wrapper, TOKENS[:, :5], 0)] + [run(wrapper, TOKENS[:, i : i + 1], i) for i in range(5, 8)]
    assert relative(np.concatenate(steps, axis=1), mlx_logits(llama_model, TOKENS)) < 1e-4


def test_gemma3_sliding_layers_drop_keys_outside_their_window_in_decode_too(gemma3_model: Path) -> None:
    wrapper = wrapper_for(gemma3_model)
    assert wrapper.window == SLIDING_WINDOW < TOKENS.shape[1]
    steps = [run(wrapper, TOKENS[:, :2], 0)] + [run(wrapper, TOKENS[:, i : i + 1], i) for i in range(2, 8)]
    assert relative(np.concatenate(steps, axis=1), mlx_logits(gemma3_model, TOKENS)) < 1e-4


def test_chunked_prefill_continues_from_the_cache(qwen2_model: Path) -> None:
    wrapper = wrapper_for(qwen2_model)
    chunks = np.concatenate([run(wrapper, TOKENS[:, :3], 0), run(wrapper, TOKENS[:, 3:], 3)], axis=1)
    assert relative(chunks, mlx_logits(qwen2_model, TOKENS)) < 1e-4


def test_rope_base_is_written_where_transformers_and_mlx_both_read_it() -> None:
    config = {"model_type": "qwen2", "hidden_size": 64, "num_hidden_layers": 1, "intermediate_size": 128,
              "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 512, "rms_norm_eps": 1e-6,
              "rope_parameters": {"rope_type": "default"}}
    cleaned = export_config(config)
    assert cleaned["rope_theta"] == cleaned["rope_parameters"]["rope_theta"] == 1_000_000.0


def test_quantization_keys_are_dropped_from_the_exported_config(llama_4bit_model: Path) -> None:
    cleaned = export_config(open_source(str(llama_4bit_model)).config)
    assert "quantization" not in cleaned and "quantization_config" not in cleaned


def test_a_4bit_model_counts_the_parameters_of_its_full_precision_twin(llama_model: Path, llama_4bit_model: Path) -> None:
    full = open_source(str(llama_model))
    packed = open_source(str(llama_4bit_model))
    assert count_parameters(weight_files(llama_4bit_model), packed.config) == full.parameters
