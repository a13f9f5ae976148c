"""The real SmolLM2-135M-Instruct, imported from its Q4_1 GGUF by Cabin: it answers, stops where its chat
template says, serves on the API, and computes what transformers computes from the same file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlx.core as mx
import mlx_lm
import numpy as np
import pytest

from bench.smollm2 import digest
from engine.compute_dtype import upcast_to_float32
from engine.generation import Engine, SamplingSettings
from engine.messages import user
from engine.server import ServerConfig
from tests.conftest import LiveServer
from tests.gguf_factory import transformers_logits

CAPITAL = [{"role": "user", "content": "What is the capital of France?"}]
GREEDY = SamplingSettings(temperature=0.0, max_tokens=48)
# About 60 tokens of plain English: the fidelity text, the same in the bench.
TEXT = ("The old lighthouse stood at the edge of the cliff, its white paint peeling in the salty wind. Every evening "
        "the keeper climbed the narrow stairs to light the lamp, and ships far out at sea would turn toward the "
        "harbour, trusting the steady beam to guide them home through the dark.")  # fmt: skip
MIN_AGREEMENT = 0.99
MAX_SIZE_RATIO = 1.3


@pytest.fixture(scope="module")
def reference_logits(smollm2_gguf: Path, smollm2_model: Path, request: pytest.FixtureRequest) -> np.ndarray:
    """transformers' logits over TEXT, cached in .pytest_cache by file, text and transformers version (loading
    the GGUF through transformers takes about a minute here; the imported model is run afresh every time)."""
    import hashlib

    import transformers

    _, tokenizer = mlx_lm.load(str(smollm2_model))
    ids = tokenizer.encode(TEXT)
    key = hashlib.sha256(f"{digest([smollm2_gguf])}{ids}{transformers.__version__}".encode()).hexdigest()[:16]
    cached = request.config.cache.mkdir("cabin-smollm2-reference") / f"{key}.npy"
    if not cached.is_file():
        np.save(cached, transformers_logits(smollm2_gguf, ids))
    return np.load(cached)


def imported_logits(model_path: Path) -> np.ndarray:
    model, tokenizer = mlx_lm.load(str(model_path))
    upcast_to_float32(model)
    return np.array(model(mx.array([tokenizer.encode(TEXT)]))[0])


@pytest.fixture
def smollm2_engine(engine: Engine, smollm2_model: Path) -> Engine:
    engine.load(smollm2_model).result()
    return engine


def test_the_imported_model_loads_with_plain_mlx_lm_and_knows_the_capital_of_france(smollm2_model: Path) -> None:
    model, tokenizer = mlx_lm.load(str(smollm2_model))
    prompt = tokenizer.apply_chat_template(CAPITAL, add_generation_prompt=True)
    assert "Paris" in mlx_lm.generate(model, tokenizer, prompt, max_tokens=10)


def test_teacher_forced_top1_agrees_with_transformers_on_the_same_gguf(
    smollm2_model: Path, reference_logits: np.ndarray
) -> None:
    logits = imported_logits(smollm2_model)
    assert len(logits) >= 50
    agreement = (logits.argmax(-1) == reference_logits.argmax(-1)).mean()
    assert agreement >= MIN_AGREEMENT


def test_the_imported_folder_is_within_1_3x_the_gguf(smollm2_gguf: Path, smollm2_model: Path) -> None:
    size = sum(f.stat().st_size for f in smollm2_model.iterdir())
    assert size <= MAX_SIZE_RATIO * smollm2_gguf.stat().st_size


def test_the_chat_template_and_eos_come_from_the_gguf(smollm2_model: Path) -> None:
    tokenizer_config = json.loads((smollm2_model / "tokenizer_config.json").read_text())
    assert tokenizer_config["eos_token"] == "<|im_end|>"
    assert "<|im_start|>" in tokenizer_config["chat_template"]


def test_cabin_chats_with_it_and_stops_at_im_end(smollm2_engine: Engine) -> None:
    finished = smollm2_engine.chat([user(CAPITAL[0]["content"])], GREEDY).result()
    assert "Paris" in finished.text
    assert finished.finish_reason == "stop"
    assert "<|im_end|>" not in finished.text


@pytest.fixture
def smollm2_server(smollm2_engine: Engine) -> Iterator[LiveServer]:
    server = LiveServer(smollm2_engine, ServerConfig(port=0))
    yield server
    server.close()


def test_it_serves_on_the_openai_api(smollm2_server: LiveServer) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{smollm2_server.url}/v1", api_key="unused")
    model = client.models.list().data[0].id
    reply: Any = client.chat.completions.create(model=model, messages=CAPITAL, temperature=0, max_tokens=32)
    assert "Paris" in reply.choices[0].message.content
    assert reply.choices[0].finish_reason == "stop"
