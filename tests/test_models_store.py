"""The model store: what `cabin models list` shows, partial downloads, added folders, delete."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.errors import ModelError
from engine.generation import Engine
from engine.models import local
from engine.models.store import add_model_folder, delete_model, find_model, list_models
from tests.conftest import put_in_hf_cache

REPO = "mlx-community/tiny-llama-4bit"


@pytest.fixture
def store(empty_hf_cache: Path, cabin_data: Path) -> Path:
    return empty_hf_cache


def test_a_cached_repo_is_listed_with_what_a_user_wants_to_know(store: Path, llama_4bit_model: Path) -> None:
    put_in_hf_cache(store, REPO, llama_4bit_model)
    [model] = list_models()
    assert (model.key, model.source, model.status) == (REPO, "hub", "ready")
    assert (model.info.model_type, model.info.bits, model.info.parameters) == ("llama", 4, 139584)
    assert model.size_bytes >= model.info.weight_bytes


def test_loading_a_model_records_when_it_was_last_used(store: Path, llama_4bit_model: Path, engine: Engine) -> None:
    put_in_hf_cache(store, REPO, llama_4bit_model)
    engine.load(REPO).result()
    assert find_model(REPO).last_used == local.last_used()[REPO]


def test_a_snapshot_missing_files_of_its_listing_is_partial_not_usable(store: Path, fake_hub, engine: Engine) -> None:
    from engine.models.download import pull

    snapshot = pull(REPO).path
    (snapshot / "tokenizer.json").unlink()
    [model] = list_models()
    assert (model.usable, model.status) == (False, "partial download")
    with pytest.raises(ModelError, match="only partly downloaded"):
        engine.load(REPO).result()


def test_an_interrupted_blob_marks_the_repo_partial(store: Path, llama_4bit_model: Path) -> None:
    repo = put_in_hf_cache(store, REPO, llama_4bit_model).parents[1]
    (repo / "blobs").mkdir()
    (repo / "blobs" / "abc123.deadbeef.incomplete").write_bytes(b"half")
    assert list_models()[0].status == "partial download"


def test_repos_that_hold_no_model_are_not_listed(store: Path, tmp_path: Path) -> None:
    (files := tmp_path / "files").mkdir()
    (files / "notes.txt").write_text("not a model")
    put_in_hf_cache(store, "someone/just-files", files)
    assert list_models() == []


def test_a_broken_model_is_listed_with_its_problem(store: Path, llama_4bit_model: Path) -> None:
    snapshot = put_in_hf_cache(store, REPO, llama_4bit_model)
    (snapshot / "tokenizer.json").unlink()
    [model] = list_models()
    assert not model.usable and "has no tokenizer" in model.status


def test_an_added_folder_is_listed_and_forgotten_without_deleting_it(store: Path, llama_model: Path) -> None:
    add_model_folder(llama_model)
    [model] = list_models()
    assert (model.key, model.source, model.usable) == (str(llama_model), "folder", True)
    assert delete_model(model.key) == 0
    assert list_models() == [] and llama_model.is_dir()


def test_adding_a_folder_that_is_not_a_model_is_refused(store: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no config.json"):
        add_model_folder(tmp_path)


def test_deleting_a_cached_repo_frees_its_size(store: Path, llama_4bit_model: Path) -> None:
    put_in_hf_cache(store, REPO, llama_4bit_model)
    size = find_model(REPO).size_bytes
    assert delete_model(REPO) == size
    assert list_models() == []
    assert not (store / "models--mlx-community--tiny-llama-4bit").exists()


def test_deleting_a_converted_model_removes_its_folder(store: Path, cabin_data: Path, llama_model: Path) -> None:
    converted = shutil.copytree(llama_model, local.converted_dir() / "tiny-4bit")
    [model] = list_models()
    assert model.source == "converted"
    assert delete_model(str(converted)) == model.size_bytes
    assert not converted.exists()


def test_deleting_an_unknown_model_says_so(store: Path) -> None:
    with pytest.raises(ModelError, match="is not among your models"):
        delete_model("nobody/nothing")
