"""Every supported architecture exports: the saved program matches its PyTorch rebuild, which matches MLX.

gemma3 mixes sliding-window and global layers: its package takes a second mask, `slidingAttentionMask`,
and names the window in the `co.huggingface.exporters.sliding_window` metadata, which is how
swift-transformers builds that mask.
"""

from __future__ import annotations

from pathlib import Path

import coremltools as ct
import numpy as np
import pytest

from engine.coreml.mil_runtime import MilRuntime
from engine.coreml.package import SLIDING_WINDOW_KEY
from tests.model_factory import SLIDING_WINDOW
from tests.swift_driver import greedy_tokens
from tests.test_coreml_torch import TOKENS, mlx_logits

ARCHITECTURES = ["qwen3_model", "mistral_model", "phi3_model", "gemma3_model"]


@pytest.fixture(scope="module")
def gemma3_export(gemma3_model: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    from tests.conftest import _export_coreml

    return _export_coreml(tmp_path_factory.mktemp("arch") / "gemma3", gemma3_model, mode="fp16")


@pytest.fixture(scope="module", params=ARCHITECTURES)
def exported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    from tests.conftest import _export_coreml

    if request.param == "gemma3_model":
        return request.getfixturevalue("gemma3_export")
    model = request.getfixturevalue(request.param)
    return _export_coreml(tmp_path_factory.mktemp("arch") / request.param, model, mode="fp16")


def test_the_saved_program_matches_torch_which_matches_mlx(exported: tuple[Path, object]) -> None:
    summary = exported[1]
    assert summary.torch_vs_mlx < 1e-3
    assert summary.program_vs_torch < 1e-2 and summary.program_top_token_matches


def test_gemma3_declares_a_sliding_mask_and_its_window(gemma3_export: tuple[Path, object]) -> None:
    folder, summary = gemma3_export
    spec = ct.models.MLModel(str(folder / summary.package), skip_model_load=True).get_spec()
    assert [i.name for i in spec.description.input] == ["inputIds", "fullAttentionMask", "slidingAttentionMask"]
    assert spec.description.metadata.userDefined[SLIDING_WINDOW_KEY] == str(SLIDING_WINDOW)


def test_swift_transformers_generation_past_the_window_matches_mlx(
    gemma3_export: tuple[Path, object], gemma3_model: Path
) -> None:
    folder, summary = gemma3_export
    runtime = MilRuntime.from_package(folder / summary.package)
    prompt = TOKENS[0, :5].tolist()
    got = greedy_tokens(runtime, prompt, 4, sliding_window=SLIDING_WINDOW)
    want = []
    for _ in range(4):
        want.append(int(np.argmax(mlx_logits(gemma3_model, np.array([prompt + want], dtype=np.int32))[0, -1])))
    assert got == want
