"""BOS: a model whose tokenizer starts every encoding with BOS is fed it exactly once, whatever renders the prompt."""

from __future__ import annotations

from pathlib import Path
from threading import Event as StopFlag

import mlx_lm
import pytest

from engine.backends.mlx import MLXBackend
from engine.generation import Engine, SamplingSettings
from engine.generation.prompt_cache import ConversationCache
from engine.generation.turn import prepare_chat, prepare_text, run_turn
from engine.models.fit import DEFAULT_CONTEXT
from engine.models.loading import inspect_model
from engine.messages import assistant, user
from tests.model_factory import CHATML_TEMPLATE, ModelSpec, build_model

GREEDY = SamplingSettings(temperature=0.0, max_tokens=8)
HELLO = [user("Hello")]


def load_as_stored(path: Path) -> MLXBackend:
    """The model as Cabin's MLX backend loads it, weights as stored, owned by this (the test's) thread."""
    return MLXBackend.load(inspect_model(path), DEFAULT_CONTEXT, upcast_on_cpu=False)


@pytest.fixture(scope="module")
def gemma3_base(gemma3_base_4bit_model: Path) -> MLXBackend:
    return load_as_stored(gemma3_base_4bit_model)


@pytest.fixture(scope="module")
def template_with_bos_model(models_dir: Path) -> Path:
    """A llama whose tokenizer adds <s> and whose chat template writes it too (as Llama 2's and Gemma's do)."""
    spec = ModelSpec(bos_token="<s>", chat_template="{{ bos_token }}" + CHATML_TEMPLATE, seed=5)
    return build_model(models_dir / "tiny-llama-template-bos", spec)


def fed_ids(backend: MLXBackend, text: str) -> list[int]:
    """The ids a fresh conversation cache feeds the model for this rendered prompt."""
    return ConversationCache(backend).prompt_ids(backend.tokenizer, text)


def test_a_chat_without_a_template_starts_with_bos_once(gemma3_base: MLXBackend) -> None:
    tokenizer = gemma3_base.tokenizer
    ids = fed_ids(gemma3_base, prepare_chat(tokenizer, HELLO, GREEDY).text)
    assert ids[0] == tokenizer.bos_token_id and ids.count(tokenizer.bos_token_id) == 1


def test_a_completion_starts_with_bos_once(gemma3_base: MLXBackend) -> None:
    tokenizer = gemma3_base.tokenizer
    ids = fed_ids(gemma3_base, prepare_text(tokenizer, "Once upon a time", GREEDY).text)
    assert ids[0] == tokenizer.bos_token_id and ids.count(tokenizer.bos_token_id) == 1


def test_a_prompt_that_already_starts_with_bos_is_not_given_another(gemma3_base: MLXBackend) -> None:
    tokenizer = gemma3_base.tokenizer
    ids = fed_ids(gemma3_base, prepare_text(tokenizer, "<bos>Once upon a time", GREEDY).text)
    assert ids.count(tokenizer.bos_token_id) == 1


def test_the_next_turn_from_the_prompt_cache_keeps_one_bos(gemma3_base: MLXBackend) -> None:
    tokenizer = gemma3_base.tokenizer
    cache = ConversationCache(gemma3_base)
    first = prepare_chat(tokenizer, HELLO, GREEDY)
    answer = run_turn(gemma3_base, cache, first, StopFlag(), lambda _event: None)
    follow_up = [*HELLO, assistant(answer.text), user("And then?")]
    rendered = prepare_chat(tokenizer, follow_up, GREEDY).text
    ids = cache.prompt_ids(tokenizer, rendered)
    assert cache.cached_prefix_len(tokenizer, rendered) > 1
    assert ids[0] == tokenizer.bos_token_id and ids.count(tokenizer.bos_token_id) == 1


def test_a_template_that_writes_bos_is_not_doubled(template_with_bos_model: Path) -> None:
    backend = load_as_stored(template_with_bos_model)
    bos = backend.tokenizer.bos_token_id
    ids = fed_ids(backend, prepare_chat(backend.tokenizer, HELLO, GREEDY).text)
    assert ids[0] == bos and ids.count(bos) == 1


def test_a_template_less_answer_is_token_for_token_mlx_lm_with_bos(
    engine_as_stored: Engine, gemma3_base_4bit_model: Path, gemma3_base: MLXBackend
) -> None:
    model, tokenizer = gemma3_base.model, gemma3_base.tokenizer
    prompt = tokenizer.encode("User: Hello\nAssistant:")  # the tokenizer's own encoding: BOS first
    reference = [r.token for r in mlx_lm.stream_generate(model, tokenizer, prompt, max_tokens=GREEDY.max_tokens)]
    engine_as_stored.load(gemma3_base_4bit_model).result()
    finished = engine_as_stored.chat(HELLO, GREEDY).result()
    assert prompt[0] == tokenizer.bos_token_id
    assert list(finished.token_ids) == reference[: len(finished.token_ids)] and finished.token_ids
