"""Agreement and perplexity: the figures the export reports for a package against MLX."""

from __future__ import annotations

import numpy as np

from engine.coreml.fidelity import Fidelity, agreement, measure, perplexity


def test_uniform_logits_have_the_vocabulary_size_as_perplexity() -> None:
    assert np.isclose(perplexity(np.zeros((5, 40)), np.array([1, 2, 3, 4, 5])), 40.0)


def test_a_sure_right_guess_has_perplexity_one() -> None:
    ids = np.array([3, 1, 2])
    logits = np.full((3, 4), -1e4)
    logits[np.arange(2), ids[1:]] = 0.0
    assert np.isclose(perplexity(logits, ids), 1.0)


def test_agreement_counts_positions_with_the_same_top_token() -> None:
    want = np.eye(4)
    got = np.eye(4)[[0, 1, 3, 3]]
    assert agreement(got, want) == 0.75


def test_measure_reads_batched_logits() -> None:
    logits = np.random.default_rng(0).normal(size=(1, 6, 10))
    result = measure(logits, logits, np.arange(6)[None])
    assert result.tokens == 6 and result.agreement == 1.0 and result.perplexity == result.reference_perplexity


def test_a_mode_costs_accuracy_below_the_agreement_goal_or_with_a_worse_perplexity() -> None:
    assert not Fidelity(60, 0.97, 10.2, 10.0).costs_accuracy
    assert Fidelity(60, 0.90, 10.0, 10.0).costs_accuracy
    assert Fidelity(60, 1.0, 11.0, 10.0).costs_accuracy


def summary_with(fidelity: Fidelity) -> str:
    from engine.coreml.events import ExportSummary
    from engine.coreml.summary import summary_text

    return summary_text(ExportSummary(
        out="/tmp/x", package="m.mlpackage", source_model="m", architecture="llama", parameters=1, mode="palettize",
        bits=4, group_size=16, context=64, source_bytes=1, fp16_bytes=4, package_bytes=1, seconds=1.0, peak_memory=1,
        fidelity=fidelity,
    ))  # fmt: skip


def test_the_summary_says_plainly_when_a_mode_costs_accuracy() -> None:
    text = summary_with(Fidelity(60, 0.87, 31.2, 27.07))
    assert "top-1 agreement with MLX float32 87.0% over 60 tokens; perplexity 31.20 (MLX 27.07)" in text
    assert "WARNING: palettize 4-bit costs accuracy on this model: 13% of next tokens differ" in text


def test_the_summary_gives_the_figures_without_a_warning_when_the_mode_is_faithful() -> None:
    assert "WARNING" not in summary_with(Fidelity(60, 1.0, 27.09, 27.07))
