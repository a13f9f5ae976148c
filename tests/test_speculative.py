"""Speculative decoding with a draft model (mlx_lm's draft_model): the answer is the model's own, the draft's
cache follows the conversation, the stats say what the draft did, and a draft that cannot draft is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.errors import ModelError
from engine.generation import Engine, Finished, SamplingSettings
from engine.messages import Message, assistant, system, user
from engine.models.store import model_key
from engine.speculative import DraftChoice

GREEDY = SamplingSettings(temperature=0.0, max_tokens=24)
QUESTION = [system("You are a helpful AI assistant."), user("What is the capital of France?")]


def engine_for(model: Path, draft: Path | None, num_draft_tokens: int = 3, kv_bits: int | None = None) -> Engine:
    engine = Engine(kv_bits=kv_bits)
    if draft is not None:
        engine.drafts[model_key(model)] = DraftChoice(str(draft), num_draft_tokens)
    engine.load(model).result()
    return engine


def two_turns(engine: Engine, settings: SamplingSettings = GREEDY) -> list[Finished]:
    """A question, then a follow-up answered from the conversation's prompt cache."""
    try:
        first = engine.chat(QUESTION, settings).result()
        follow_up: list[Message] = [*QUESTION, assistant(first.text), user("And the capital of Italy?")]
        return [first, engine.chat(follow_up, settings).result()]
    finally:
        engine.shutdown()


def token_ids(answers: list[Finished]) -> list[tuple[int, ...]]:
    return [answer.token_ids for answer in answers]


@pytest.fixture
def with_rejecting_draft(llama_model: Path, llama_draft_model: Path) -> Iterator[Engine]:
    engine = engine_for(llama_model, llama_draft_model)
    yield engine
    engine.shutdown()


def test_greedy_answers_are_the_same_with_a_draft_whose_tokens_are_mostly_rejected(
    llama_model: Path, llama_draft_model: Path
) -> None:
    alone = two_turns(engine_for(llama_model, None))
    drafted = two_turns(engine_for(llama_model, llama_draft_model))
    assert token_ids(drafted) == token_ids(alone)


def test_greedy_answers_are_the_same_with_a_draft_whose_tokens_are_mostly_kept(
    llama_model: Path, llama_4bit_twin: Path
) -> None:
    alone = two_turns(engine_for(llama_model, None))
    drafted = two_turns(engine_for(llama_model, llama_4bit_twin, num_draft_tokens=4))
    assert token_ids(drafted) == token_ids(alone)


def test_the_second_turn_with_a_draft_reuses_the_prompt_cache(llama_model: Path, llama_draft_model: Path) -> None:
    first, second = two_turns(engine_for(llama_model, llama_draft_model))
    assert second.stats.cached_tokens >= first.stats.prompt_tokens


def test_after_a_stop_string_cut_the_next_turn_is_still_the_models_own(
    llama_model: Path, llama_draft_model: Path
) -> None:
    alone = engine_for(llama_model, None)
    cut_at = alone.chat(QUESTION, GREEDY).result().text[6:9]
    stopping = SamplingSettings(temperature=0.0, max_tokens=24, stop=(cut_at,))
    expected = two_turns(alone, stopping)
    assert token_ids(two_turns(engine_for(llama_model, llama_draft_model), stopping)) == token_ids(expected)


def test_stats_carry_what_the_draft_proposed_and_the_model_accepted(llama_model: Path, llama_4bit_twin: Path) -> None:
    first, _ = two_turns(engine_for(llama_model, llama_4bit_twin))
    draft = first.stats.draft
    assert draft is not None and 0 < draft.accepted <= draft.proposed
    assert draft.baseline_tps > 0 and first.stats.draft.speedup(first.stats.generation_tps) is not None


def test_without_a_draft_the_stats_have_no_draft_figures(llama_model: Path) -> None:
    first, _ = two_turns(engine_for(llama_model, None))
    assert first.stats.draft is None


def test_the_loaded_draft_is_named(with_rejecting_draft: Engine) -> None:
    assert with_rejecting_draft.draft_name == "tiny-llama-draft"


def test_a_draft_with_another_tokenizer_is_refused_in_one_line(llama_model: Path, other_tokenizer_model: Path) -> None:
    with pytest.raises(ModelError, match="tokenizer is not the same") as refused:
        engine_for(llama_model, other_tokenizer_model).shutdown()
    assert "\n" not in str(refused.value)


def test_a_refused_draft_leaves_the_loaded_model_answering(llama_model: Path, other_tokenizer_model: Path) -> None:
    engine = engine_for(llama_model, None)
    try:
        engine.drafts[model_key(llama_model)] = DraftChoice(str(other_tokenizer_model))
        with pytest.raises(ModelError):
            engine.load(llama_model).result()
        assert engine.model_info.name == "tiny-llama"
        assert engine.chat(QUESTION, GREEDY).result().finish_reason in ("stop", "length")
    finally:
        engine.shutdown()


def test_a_gguf_model_loads_without_its_draft_and_says_so(tiny_gguf: Path, llama_model: Path) -> None:
    engine = engine_for(tiny_gguf, llama_model)
    try:
        assert engine.draft_name is None
        assert "draft models run on MLX only" in engine.draft_note
    finally:
        engine.shutdown()


def test_a_grammar_answer_runs_without_the_draft_and_says_why(with_rejecting_draft: Engine) -> None:
    from engine.structured.grammar import json_object_grammar

    grammar = json_object_grammar()
    answer = with_rejecting_draft.chat(QUESTION, SamplingSettings(temperature=0.0, max_tokens=8, grammar=grammar)).result()
    assert answer.stats.draft is not None and "grammar" in answer.stats.draft.note


def test_the_real_smollm2_answers_the_same_with_its_4_bit_import_as_draft(
    smollm2_float32: Path, smollm2_model: Path
) -> None:
    alone = two_turns(engine_for(smollm2_float32, None))
    drafted = two_turns(engine_for(smollm2_float32, smollm2_model))
    assert token_ids(drafted) == token_ids(alone)
    assert "Paris" in drafted[0].text
    assert drafted[0].stats.draft.acceptance > 0.5


def test_with_an_8_bit_kv_cache_the_real_pair_still_answers_as_the_model_alone(
    smollm2_float32: Path, smollm2_model: Path
) -> None:
    alone = two_turns(engine_for(smollm2_float32, None, kv_bits=8))
    drafted_engine = engine_for(smollm2_float32, smollm2_model, kv_bits=8)
    kinds = drafted_engine.run_with_backend(lambda backend: {type(c).__name__ for c in backend.new_cache()}).result()
    assert kinds == {"QuantizedKVCache"}
    assert token_ids(two_turns(drafted_engine)) == token_ids(alone)


def test_the_openai_api_counts_the_drafts_tokens_as_accepted_and_rejected_predictions(
    llama_model: Path, llama_draft_model: Path, cabin_data: Path, empty_hf_cache: Path
) -> None:
    from engine.server import ServerConfig
    from tests.conftest import LiveServer

    engine = engine_for(llama_model, llama_draft_model)
    server = LiveServer(engine, ServerConfig(port=0))
    try:
        answer = server.openai().chat.completions.create(
            model="tiny-llama", messages=[{"role": "user", "content": "Hello there"}], max_tokens=12, temperature=0
        )
    finally:
        server.close()
        engine.shutdown()
    details = answer.usage.completion_tokens_details
    assert details.accepted_prediction_tokens + details.rejected_prediction_tokens > 0


def engine_with_files(model: Path, draft: Path | None, folder: Path) -> Engine:
    from engine.generation.disk_cache import MB, CacheFolder

    engine = Engine(cache_folder=CacheFolder(folder, 64 * MB))
    if draft is not None:
        engine.drafts[model_key(model)] = DraftChoice(str(draft))
    engine.load(model).result()
    return engine


def restarted_turn(model: Path, draft: Path | None, folder: Path) -> tuple[Finished, Finished]:
    """A first answer, the engine shut down (its cache written), then the follow-up in a new engine."""
    before = engine_with_files(model, draft, folder)
    first = before.chat(QUESTION, GREEDY, conversation_id="chat").result()
    before.shutdown()
    after = engine_with_files(model, draft, folder)
    try:
        follow_up = [*QUESTION, assistant(first.text), user("And the capital of Italy?")]
        return first, after.chat(follow_up, GREEDY, conversation_id="chat").result()
    finally:
        after.shutdown()


def test_after_a_restart_the_saved_cache_holds_the_drafts_layers_too(
    llama_model: Path, llama_draft_model: Path, tmp_path: Path
) -> None:
    first, restored = restarted_turn(llama_model, llama_draft_model, tmp_path / "drafted")
    _, alone = restarted_turn(llama_model, None, tmp_path / "alone")
    assert restored.stats.cached_tokens == first.stats.prompt_tokens + first.stats.generated_tokens
    assert restored.token_ids == alone.token_ids


def test_a_cache_saved_without_the_draft_is_not_read_back_with_it(
    llama_model: Path, llama_draft_model: Path, tmp_path: Path
) -> None:
    before = engine_with_files(llama_model, None, tmp_path / "caches")
    first = before.chat(QUESTION, GREEDY, conversation_id="chat").result()
    before.shutdown()
    after = engine_with_files(llama_model, llama_draft_model, tmp_path / "caches")
    try:
        again = after.chat([*QUESTION, assistant(first.text), user("Why?")], GREEDY, conversation_id="chat").result()
    finally:
        after.shutdown()
    assert again.stats.cached_tokens == 0


def test_after_the_model_ran_alone_the_draft_catches_up_with_the_conversation(with_rejecting_draft: Engine) -> None:
    """What batched requests do (they run the model alone): the draft's layers are fed what the model's hold."""
    import mlx.core as mx
    from mlx_lm.generate import generate_step

    def run_alone_then_catch_up(backend) -> tuple[int, int]:
        kv = backend.new_cache()
        tokens = backend.tokenizer.encode("The capital of France is")
        generated = [t for t, _ in generate_step(mx.array(tokens), backend.model, max_tokens=5,
                                                  prompt_cache=backend.target_cache(kv))]  # fmt: skip
        held = tokens + generated
        backend.catch_up_draft(kv, held)
        target, draft = backend.target_cache(kv), kv[len(backend.target_cache(kv)) :]
        return target[0].offset, draft[0].offset

    target, draft = with_rejecting_draft.run_with_backend(run_alone_then_catch_up).result()
    assert draft == target

