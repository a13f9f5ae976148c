"""Loading models: from folders and the HF cache, and one clear error for each kind of broken model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.errors import ModelError
from engine.generation import Engine
from engine.messages import user
from engine.models.folder import inspect_model_folder
from tests.conftest import put_in_hf_cache


def broken_copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


def load_error(engine: Engine, spec: str | Path) -> str:
    with pytest.raises(ModelError) as raised:
        engine.load(spec).result()
    return str(raised.value)


@pytest.mark.parametrize("fixture", ["llama_model", "qwen2_model", "llama_fp16_model", "llama_4bit_model"])
def test_loads_each_test_architecture_and_dtype(engine: Engine, fixture: str, request: pytest.FixtureRequest) -> None:
    path = request.getfixturevalue(fixture)
    info = engine.load(path).result()
    assert info.path == path
    assert engine.model_info == info


def test_info_reports_bits_of_a_quantized_model(llama_4bit_model: Path) -> None:
    assert inspect_model_folder(llama_4bit_model).bits == 4


def test_loads_a_repo_id_from_the_hf_cache_offline(engine: Engine, hf_cache: Path, llama_model: Path) -> None:
    put_in_hf_cache(hf_cache, "tiny-org/tiny-llama", llama_model)
    info = engine.load("tiny-org/tiny-llama").result()
    assert info.name == "tiny-org/tiny-llama"


def test_repo_id_not_in_cache_says_so(engine: Engine, hf_cache: Path) -> None:
    assert "is not in the local model cache" in load_error(engine, "nobody/absent-model")


def test_missing_path(engine: Engine, tmp_path: Path) -> None:
    assert "no model at" in load_error(engine, str(tmp_path / "nothing-here"))


def test_folder_without_config_is_not_a_model(engine: Engine, tmp_path: Path) -> None:
    assert "is not a model folder: it has no config.json" in load_error(engine, tmp_path)


def test_config_that_is_not_json(engine: Engine, tmp_path: Path, llama_model: Path) -> None:
    model = broken_copy(llama_model, tmp_path / "m")
    (model / "config.json").write_text("{not json")
    assert "is not valid JSON" in load_error(engine, model)


def test_unsupported_architecture(engine: Engine, tmp_path: Path, llama_model: Path) -> None:
    model = broken_copy(llama_model, tmp_path / "m")
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps(config | {"model_type": "no-such-arch"}))
    assert "architecture 'no-such-arch' is not supported" in load_error(engine, model)


def test_missing_weights(engine: Engine, tmp_path: Path, llama_model: Path) -> None:
    model = broken_copy(llama_model, tmp_path / "m")
    (model / "model.safetensors").unlink()
    assert "missing weight files: model.safetensors" in load_error(engine, model)


def test_truncated_weights(engine: Engine, tmp_path: Path, llama_model: Path) -> None:
    model = broken_copy(llama_model, tmp_path / "m")
    weights = model / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    assert "model.safetensors" in (message := load_error(engine, model)) and "truncated" in message


def test_garbage_weights(engine: Engine, tmp_path: Path, llama_model: Path) -> None:
    model = broken_copy(llama_model, tmp_path / "m")
    (model / "model.safetensors").write_bytes(b"\x00" * 64)
    assert "header is corrupt" in load_error(engine, model)


def test_weights_that_do_not_match_the_config(engine: Engine, tmp_path: Path, llama_model: Path) -> None:
    model = broken_copy(llama_model, tmp_path / "m")
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps(config | {"hidden_size": 96}))
    assert load_error(engine, model).startswith("could not load m:")


def test_missing_tokenizer(engine: Engine, tmp_path: Path, llama_model: Path) -> None:
    model = broken_copy(llama_model, tmp_path / "m")
    (model / "tokenizer.json").unlink()
    assert "has no tokenizer" in load_error(engine, model)


def test_engine_stays_usable_after_a_failed_load(engine: Engine, tmp_path: Path, llama_model: Path) -> None:
    load_error(engine, tmp_path)
    assert engine.load(llama_model).result().name == llama_model.name


def test_loading_a_new_model_frees_the_old_one(engine: Engine, bigger_model: Path, llama_model: Path) -> None:
    engine.load(llama_model).result()
    engine.submit(lambda: None).result()
    small = engine.memory().active
    engine.load(bigger_model).result()
    big = engine.memory().active
    engine.load(llama_model).result()
    again = engine.memory().active
    assert big > small + 2_000_000
    assert abs(again - small) < 200_000


def test_a_released_model_is_freed_by_reference_counting_alone(
    engine: Engine, llama_model: Path, collector_off: None
) -> None:
    """No reference cycle holds a model's arrays, so unloading frees them without a gc.collect() (~0.2 s of GIL
    once mlx_lm is imported), after answers in a conversation and outside one."""
    engine.submit(lambda: None).result()
    before = engine.memory().active
    engine.load(llama_model).result()
    for conversation in ("default", None):
        engine.chat([{"role": "user", "content": "Hi"}], conversation_id=conversation).result()
    engine.unload().result()
    assert engine.memory().active - before < 64_000


def test_a_broken_folder_does_not_unload_the_working_model(llama_engine: Engine, tmp_path: Path) -> None:
    load_error(llama_engine, tmp_path)
    assert llama_engine.model_info is not None
    assert llama_engine.chat([user("Hi")]).result().finish_reason in ("stop", "length")
