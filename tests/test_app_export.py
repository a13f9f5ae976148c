"""The Export pane: settings to options, refusals shown at once, a real export with progress, cancel."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.export.pane import ExportPane
from engine.coreml.staging import PARTIAL_MARK

EXPORT_TIMEOUT_MS = 180_000


@pytest.fixture
def pane(qtbot) -> ExportPane:
    pane = ExportPane()
    qtbot.addWidget(pane)
    pane.resize(760, 640)
    pane.show()
    yield pane
    pane.shutdown()


def fill(pane: ExportPane, model: Path, out: Path, recipe: str = "int8 blocks") -> None:
    pane.form.model.setText(str(model))
    pane.form.out.setText(str(out))
    pane.form.recipe.setCurrentIndex(pane.form.recipe.findText(recipe))
    pane.form.context.setValue(32)


def test_the_form_builds_the_options_the_cli_would(pane: ExportPane, tmp_path: Path) -> None:
    fill(pane, Path("org/model"), tmp_path / "out", "int4 blocks (Mac GPU)")
    options = pane.form.options()
    assert (options.mode, options.bits, options.group_size, options.context) == ("linear", 4, 32, 32)
    assert options.embeddings == "8bit" and options.verify and not options.overwrite


def test_fp16_disables_the_group_size(pane: ExportPane) -> None:
    pane.form.recipe.setCurrentIndex(pane.form.recipe.findText("fp16, uncompressed"))
    assert not pane.form.group_size.isEnabled()


def choose_onnx(pane: ExportPane, model: Path, out: Path, recipe: str = "fp32, uncompressed") -> None:
    pane.form.model.setText(str(model))
    pane.form.out.setText(str(out))
    pane.form.target.setCurrentIndex(pane.form.target.findText("ONNX Runtime GenAI (Android)"))
    pane.form.recipe.setCurrentIndex(pane.form.recipe.findText(recipe))
    pane.form.context.setValue(128)


def test_the_onnx_target_builds_the_options_export_onnx_would(pane: ExportPane, tmp_path: Path) -> None:
    choose_onnx(pane, Path("org/model"), tmp_path / "out", "int4 blocks (an MLX 4-bit model keeps its own weights)")
    options = pane.form.options()
    assert (options.precision, options.block_size, options.context) == ("int4", 32, 128) and options.verify
    assert pane.form.compress_embeddings.isHidden()


def test_an_onnx_export_runs_with_progress_and_shows_its_checks(pane: ExportPane, llama_model: Path, tmp_path: Path,
                                                               qtbot) -> None:  # fmt: skip
    choose_onnx(pane, llama_model, tmp_path / "out")
    with qtbot.waitSignal(pane.sig_finished, timeout=EXPORT_TIMEOUT_MS):
        pane.export_button.click()
    assert (tmp_path / "out" / "genai_config.json").is_file()
    assert "first 32 of 32 tokens the same" in pane.result.toPlainText()
    assert pane.status.text() == f"Exported to {tmp_path / 'out'}" and pane.reveal_button.isEnabled()


def test_missing_settings_are_explained_and_nothing_starts(pane: ExportPane, qtbot) -> None:
    with qtbot.waitSignal(pane.sig_failed) as failed:
        pane.export_button.click()
    assert failed.args == ["choose a model to export"]
    assert pane.job is None and pane.status.text() == "Choose a model to export."


def test_an_existing_folder_is_refused_at_once(pane: ExportPane, llama_model: Path, tmp_path: Path, qtbot) -> None:
    fill(pane, llama_model, tmp_path)
    with qtbot.waitSignal(pane.sig_failed):
        pane.export_button.click()
    assert "already exists" in pane.status.text() and pane.export_button.isEnabled()


def test_exports_with_progress_and_shows_the_summary(pane: ExportPane, llama_model: Path, tmp_path: Path, qtbot) -> None:
    fill(pane, llama_model, tmp_path / "out")
    seen: list[int] = []
    pane.progress.valueChanged.connect(seen.append)
    with qtbot.waitSignal(pane.sig_finished, timeout=EXPORT_TIMEOUT_MS) as finished:
        pane.export_button.click()
        assert not pane.form.isEnabled() and pane.cancel_button.isEnabled()
    assert (tmp_path / "out" / "manifest.json").is_file()
    assert finished.args[0].program_top_token_matches
    assert "model.layers.0.mlp.up_proj.weight" in pane.result.toPlainText()
    assert len(set(seen)) > 3 and pane.progress.value() == 1000
    assert pane.reveal_button.isEnabled() and pane.form.isEnabled()


def test_cancel_leaves_nothing_behind(pane: ExportPane, llama_model: Path, tmp_path: Path, qtbot) -> None:
    fill(pane, llama_model, tmp_path / "out")
    pane.export_button.click()
    qtbot.waitUntil(lambda: pane.progress.value() > 0, timeout=60_000)
    with qtbot.waitSignal(pane.sig_failed, timeout=EXPORT_TIMEOUT_MS) as failed:
        pane.cancel_button.click()
    assert failed.args == ["export cancelled"]
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert not any(PARTIAL_MARK in p.name for p in tmp_path.iterdir())


def test_the_pane_imports_neither_torch_nor_mlx() -> None:
    import subprocess
    import sys

    code = "import sys, app.export.pane; print(sorted(m for m in ('torch', 'mlx', 'coremltools', 'onnx', 'onnxruntime_genai') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_main_window_offers_the_export_pane_with_the_loaded_model(make_window, llama_model: Path) -> None:
    window = make_window(llama_model)
    titles = [action.text() for action in window.switcher.actions()]
    assert "Export" in titles
    pane = window.panes[titles.index("Export")]
    assert pane.form.model.text() == str(llama_model)
