"""Fit check: weights + KV cache at a context + headroom against the memory MLX may use."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.errors import ModelError
from engine.generation import Engine
from engine.models.catalogue import USES, load_catalogue
from engine.models.fit import KVShape, Verdict, assess, budget_from

GB = 1024**3
LLAMA_8B = KVShape(layers=32, kv_heads=8, head_dim=128)


def test_kv_cache_per_token_is_keys_and_values_of_every_layer_in_16_bits() -> None:
    assert LLAMA_8B.bytes_per_token == 2 * 32 * 8 * 128 * 2 == 128 * 1024


def test_kv_shape_is_read_from_a_config() -> None:
    config = {"num_hidden_layers": 28, "num_attention_heads": 28, "num_key_value_heads": 4, "hidden_size": 3584}
    assert KVShape.from_config(config) == KVShape(28, 4, 128)
    assert KVShape.from_config({"text_config": config}) == KVShape(28, 4, 128)


def test_needed_memory_is_weights_plus_kv_cache_plus_headroom() -> None:
    fit = assess(weights=4 * GB, kv=LLAMA_8B, context=8192, budget=12 * GB)
    assert fit.kv_cache == 1 * GB
    assert fit.needed == 4 * GB + 1 * GB + int(0.4 * GB)


@pytest.mark.parametrize(
    ("budget_gb", "verdict"), [(16, Verdict.FITS), (6, Verdict.TIGHT), (5, Verdict.WONT_FIT)]
)
def test_an_8b_model_on_macs_of_different_sizes(budget_gb: int, verdict: Verdict) -> None:
    assert assess(4 * GB, LLAMA_8B, 8192, budget_gb * GB).verdict is verdict


def test_a_longer_context_can_turn_a_fit_into_a_wont_fit() -> None:
    assert assess(4 * GB, LLAMA_8B, 8192, 8 * GB).verdict is Verdict.FITS
    assert assess(4 * GB, LLAMA_8B, 131072, 8 * GB).verdict is Verdict.WONT_FIT


def test_on_a_mac_the_budget_is_metals_recommended_working_set() -> None:
    device = {"max_recommended_working_set_size": 11 * GB, "memory_size": 16 * GB}
    assert budget_from("darwin", device, total_memory=16 * GB) == 11 * GB


def test_without_metal_the_budget_is_three_quarters_of_ram() -> None:
    assert budget_from("linux", {"device_name": "cpu"}, total_memory=16 * GB) == 12 * GB


@pytest.fixture
def long_context_model(tmp_path: Path, llama_model: Path) -> Path:
    """The tiny llama claiming a billion-token context (the fit check plans for no more than a model takes)."""
    dest = tmp_path / "long-context-llama"
    shutil.copytree(llama_model, dest)
    config = json.loads((dest / "config.json").read_text())
    (dest / "config.json").write_text(json.dumps({**config, "max_position_embeddings": 10**9}))
    return dest


def test_loading_a_model_that_wont_fit_is_refused_with_the_numbers(engine: Engine, long_context_model: Path) -> None:
    with pytest.raises(ModelError) as refused:
        engine.load(long_context_model, context=10**9).result()
    message = str(refused.value)
    assert "won't fit in this machine's memory" in message and "--allow-oversize" in message
    assert engine.model_info is None


def test_an_explicit_override_loads_it_anyway(engine: Engine, llama_model: Path) -> None:
    assert engine.load(llama_model, context=10**9, allow_oversize=True).result().path == llama_model


def test_catalogue_covers_every_use_and_marks_the_vision_model() -> None:
    catalogue = load_catalogue()
    assert {e.use for e in catalogue} == set(USES)
    assert all(e.vision for e in catalogue if e.use == "vision")
    generative = [e for e in catalogue if e.use != "embedding"]
    assert all(e.repo_id.startswith("mlx-community/") and "4bit" in e.repo_id for e in generative)


def test_the_catalogue_offers_a_sentence_encoder_for_documents() -> None:
    encoders = [e for e in load_catalogue() if e.use == "embedding"]
    assert [e.repo_id for e in encoders] == ["sentence-transformers/all-MiniLM-L6-v2"]
    assert encoders[0].size_bytes < 100e6 and not encoders[0].capabilities


def test_catalogue_sizes_agree_with_4_bit_weights() -> None:
    """4-bit values plus a 16-bit scale and bias per 64 weights is 4.5 bits per parameter."""
    for entry in load_catalogue():
        if not entry.vision and entry.use != "embedding":
            assert entry.size_bytes * 8 / entry.parameters == pytest.approx(4.5, abs=0.05), entry.repo_id


def test_catalogue_spans_small_to_very_large_models() -> None:
    sizes = {e.use: [x.parameters for x in load_catalogue() if x.use == e.use] for e in load_catalogue()}
    assert min(sizes["autocomplete"]) < 2e9 and max(sizes["autocomplete"]) <= 3.5e9
    assert min(sizes["chat"]) <= 1.5e9 and max(sizes["chat"]) >= 70e9
    assert min(sizes["reasoning"]) < 1e9 and max(sizes["reasoning"]) >= 30e9


def test_every_catalogue_entry_says_whether_it_thinks_sees_and_calls_tools() -> None:
    import json

    from engine.models.catalogue import CATALOGUE_FILE, CAPABILITIES

    for record in json.loads(CATALOGUE_FILE.read_text())["models"]:
        assert all(isinstance(record[flag], bool) for flag in CAPABILITIES), record["repo_id"]


def test_the_2026_families_are_flagged_as_their_templates_behave() -> None:
    entries = {e.repo_id.removeprefix("mlx-community/"): e for e in load_catalogue()}
    assert entries["Qwen3-4B-4bit"].capabilities == ("thinking", "tools")
    assert entries["gpt-oss-20b-4bit"].thinking
    assert entries["gemma-3-12b-it-qat-4bit"].capabilities == ("vision",)
    assert entries["Llama-3.2-3B-Instruct-4bit"].capabilities == ("tools",)
    assert {"Qwen3-0.6B-4bit", "Qwen3-14B-4bit", "Qwen3-30B-A3B-4bit", "gemma-3-1b-it-4bit", "gemma-3-27b-it-qat-4bit",
            "Phi-4-mini-instruct-4bit", "SmolLM3-3B-4bit", "Mistral-Small-3.2-24B-Instruct-2506-4bit"} <= set(entries)


