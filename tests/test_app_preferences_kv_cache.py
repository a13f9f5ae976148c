"""Preferences ▸ Memory & Compute ▸ Conversation memory: the KV-cache choice, and what it saves for the loaded model
at the context length."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.preferences.kv_cache import kv_cache_text
from engine.models.folder import inspect_model_folder

SMOLLM2_PER_TOKEN = {None: 30 * 3 * 2 * 64 * 2, 8: 30 * 3 * 2 * (64 + 4), 4: 30 * 3 * 2 * (32 + 4)}
"""Bytes a token: 30 layers × 3 KV heads × (key + value) × 64 values, 16-bit or packed with a scale and bias per 64."""


@pytest.fixture
def smollm2_preferences(make_window, smollm2_model: Path):
    window = make_window(smollm2_model)
    return window.show_preferences("Memory & Compute")


def test_choosing_4_bits_shows_the_saving_at_the_context_length(smollm2_preferences, tmp_path: Path) -> None:
    smollm2_preferences.settings.set("context_length", 4096)
    smollm2_preferences.editors["kv_cache_bits"].choose(4)
    engine = smollm2_preferences.context.engine
    shown = smollm2_preferences.kv_cache_label.text()
    assert shown == kv_cache_text(engine.model_info, 4096, 4, float32=engine.compute_plan.upcast)
    assert "KV cache at 4,096 tokens" in shown and " → " in shown and "4-bit" in shown
    assert smollm2_preferences.settings.values.kv_cache_bits == 4
    assert engine.kv_bits == 4
    assert "next time a model is loaded" in smollm2_preferences.message.text()
    smollm2_preferences.grab().save(str(Path(os.environ.get("CABIN_PNG_DIR", tmp_path)) / "preferences-kv-cache.png"))


def test_the_saving_is_the_fit_checks_numbers(smollm2_model: Path) -> None:
    info = inspect_model_folder(smollm2_model)
    mb = {bits: f"{per_token * 4096 / 2**20:.1f} MB" for bits, per_token in SMOLLM2_PER_TOKEN.items()}
    assert f"{mb[None]} → {mb[4]}" in kv_cache_text(info, 4096, 4)
    assert f"(8-bit: {mb[8]}, 4-bit: {mb[4]})" in kv_cache_text(info, 4096, None)


def test_on_a_cpu_that_upcast_the_model_the_cache_is_counted_in_float32(smollm2_model: Path) -> None:
    """float32 keys and values: 256 bytes a vector; 4-bit: 32 bytes packed + a float32 scale and bias."""
    shown = kv_cache_text(inspect_model_folder(smollm2_model), 4096, 4, float32=True)
    assert f"{2 * SMOLLM2_PER_TOKEN[None] * 4096 / 2**20:.1f} MB → {30 * 3 * 2 * 40 * 4096 / 2**20:.1f} MB" in shown


def test_a_gguf_on_llama_cpp_is_said_to_keep_full_precision(smollm2_gguf: Path) -> None:
    from engine.models.gguf_model import inspect_gguf_model

    assert "llama.cpp, which keeps its KV cache at full precision" in kv_cache_text(inspect_gguf_model(smollm2_gguf), 4096, 4)
