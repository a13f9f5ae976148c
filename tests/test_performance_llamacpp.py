"""The Performance view words its figures for the runtime the model runs on: a GGUF on llama.cpp has no MLX
allocator, so its memory figures are the process's, and its precision is the file's own quantization."""

from __future__ import annotations

import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (scripts/setup.sh builds it)")


def performance_of(window):
    return window.show_preferences("Performance").performance


def test_a_gguf_models_memory_is_the_process_s(smollm2_window) -> None:
    view = performance_of(smollm2_window)
    assert (view.active_figure.caption.text(), view.peak_figure.caption.text()) == ("Process memory", "Process peak")
    assert not view.cache_figure.isVisibleTo(view)
    assert "Runs on llama.cpp" in view.blas_label.text()


def test_a_gguf_model_is_named_by_its_file_and_its_quantization(smollm2_window) -> None:
    text = performance_of(smollm2_window).model_label.text()
    assert "SmolLM2-135M-Instruct.Q4_1" in text and " · Q4_1" in text


def test_an_mlx_model_keeps_mlx_s_memory_figures(window) -> None:
    view = performance_of(window)
    assert (view.active_figure.caption.text(), view.peak_figure.caption.text()) == ("MLX active", "MLX peak")
    assert view.cache_figure.isVisibleTo(view)
    assert view.blas_label.text().startswith("Matrix library: ")
