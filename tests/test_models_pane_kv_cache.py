"""The Models pane's fit column counts the KV cache as Preferences keeps it: quantized bits shrink it on MLX."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.models.tables import CATALOGUE_HEADERS
from engine.models.fit import assess
from tests.conftest import put_in_hf_cache

FIT = CATALOGUE_HEADERS.index("Fit")


@pytest.fixture
def store(empty_hf_cache: Path, cabin_data: Path) -> Path:
    return empty_hf_cache


def wont_fit(pane) -> int:
    return [pane.catalogue.item(row, FIT).text() for row in range(pane.catalogue.rowCount())].count("won't fit")


def test_a_4_bit_kv_cache_lets_more_catalogue_models_fit_at_a_long_context(store: Path, make_pane, monkeypatch) -> None:
    monkeypatch.setattr("app.models.pane.memory_budget", lambda: 16 * 1024**3)
    pane = make_pane()
    pane.context_box.setCurrentIndex(pane.context_box.count() - 1)
    full = wont_fit(pane)
    pane.engine.kv_bits = 4  # as Preferences sets it
    pane.hide()
    pane.show()
    assert wont_fit(pane) < full
    assert "4-bit KV cache" in pane.memory_label.text()


def test_an_installed_mlx_models_fit_counts_its_quantized_kv_cache(store: Path, smollm2_model: Path, make_pane) -> None:
    put_in_hf_cache(store, "mlx-community/SmolLM2-135M-Instruct", smollm2_model)
    pane = make_pane()
    (model,) = pane.models
    pane.engine.kv_bits = 8
    fit = pane.fit(model.info.weight_bytes, model)
    assert fit.kv_bits == 8
    assert fit.kv_cache == assess(0, model.info.kv, pane.context_length, 1, kv_bits=8).kv_cache
    assert fit.kv_cache < assess(0, model.info.kv, pane.context_length, 1).kv_cache
