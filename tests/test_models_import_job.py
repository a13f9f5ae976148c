"""Importing a GGUF in a child process, as the Models pane does: progress, the summary, cancel, nothing left behind."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from engine.errors import CancelledByUser, ModelError
from engine.generation import Engine
from engine.jobs import JobProgress
from engine.models.import_job import import_in_child
from engine.models.store import list_models
from tests.store_factory import write_small, write_split


def test_an_imported_gguf_appears_among_the_models_and_loads(
    cabin_data: Path, empty_hf_cache: Path, tiny_gguf: Path, engine: Engine
) -> None:
    seen: list[JobProgress] = []
    result = import_in_child(tiny_gguf, name="tiny", on_progress=seen.append)
    assert [m.key for m in list_models()] == [str(result.path)]
    assert engine.load(str(result.path)).result().model_type == "llama"
    assert result.lines[0] == f"Imported {tiny_gguf.name} (llama) to {result.path}"
    assert seen[-1] == JobProgress("import", 1.0, "tokenizer")


def test_nothing_but_the_model_is_left_in_the_models_folder(cabin_data: Path, tiny_gguf: Path) -> None:
    result = import_in_child(tiny_gguf, name="tidy")
    assert [p.name for p in result.path.parent.iterdir()] == ["tidy"]


def test_a_cancelled_import_leaves_nothing_behind(cabin_data: Path, empty_hf_cache: Path, tiny_gguf: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CancelledByUser, match=f"^import of {tiny_gguf.name} cancelled$"):
        import_in_child(tiny_gguf, cancel=cancel)
    assert list_models() == []
    assert not any((cabin_data / "models").iterdir())


def test_a_failure_in_the_importer_is_one_line_and_leaves_nothing(cabin_data: Path, gguf_dir: Path) -> None:
    odd = write_small(gguf_dir / "odd-arch.gguf", arch="notamodel")
    with pytest.raises(ModelError, match="^could not import odd-arch.gguf: ") as e:
        import_in_child(odd)
    assert "\n" not in str(e.value)
    assert not any((cabin_data / "models").iterdir())


def test_a_truncated_file_is_refused_before_a_process_starts(cabin_data: Path, tiny_gguf: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_gguf.read_bytes()[:-64])
    with pytest.raises(ModelError, match="^cut.gguf: it is truncated"):
        import_in_child(cut)


def test_an_existing_model_of_that_name_is_not_overwritten(cabin_data: Path, tiny_gguf: Path) -> None:
    (cabin_data / "models" / "taken").mkdir(parents=True)
    with pytest.raises(ModelError, match="taken already exists"):
        import_in_child(tiny_gguf, name="taken")


def test_one_file_of_a_split_gguf_is_refused_before_a_process_starts(cabin_data: Path, gguf_dir: Path) -> None:
    [first, _] = write_split(gguf_dir / "split", "big")
    with pytest.raises(ModelError, match="^big-00001-of-00002.gguf is one file of a split GGUF"):
        import_in_child(first)
