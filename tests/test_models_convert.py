"""Convert a 16-bit model folder to MLX at 4 and 8 bits: loadable, and smaller by about bits/16."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from engine.errors import CancelledByUser, ModelError
from engine.generation import Engine
from engine.jobs import JobProgress
from engine.models.convert import convert
from engine.models.store import list_models


@pytest.fixture
def store(empty_hf_cache: Path, cabin_data: Path) -> None:
    return None


@pytest.mark.parametrize(("bits", "group_size"), [(4, 64), (8, 32)])
def test_converted_model_loads_and_shrinks_as_expected(
    store: None, llama_fp16_model: Path, engine: Engine, bits: int, group_size: int
) -> None:
    seen: list[JobProgress] = []
    result = convert(llama_fp16_model, bits=bits, group_size=group_size, on_progress=seen.append)
    info = engine.load(result.model.key).result()
    assert (info.bits, result.model.source) == (bits, "converted")
    assert result.after / result.before == pytest.approx((bits + 32 / group_size) / 16, rel=0.15)
    assert [p.step for p in seen][:2] == ["load", "quantize"] and seen[-1].step == "write"


def test_converted_model_is_named_for_its_source_and_bits(store: None, llama_fp16_model: Path) -> None:
    result = convert(llama_fp16_model, bits=4)
    assert result.model.path.name == "tiny-llama-4bit"  # the source's dtype suffix is dropped
    assert [m.key for m in list_models()] == [result.model.key]


def test_converting_to_an_existing_name_is_refused(store: None, llama_fp16_model: Path) -> None:
    convert(llama_fp16_model, bits=4, name="mine")
    with pytest.raises(ModelError, match="already exists"):
        convert(llama_fp16_model, bits=4, name="mine")


@pytest.mark.parametrize(("bits", "group_size", "message"), [(5, 64, "cannot quantize to 5 bits"), (4, 48, "group size 48")])
def test_unsupported_choices_are_refused_before_starting(
    store: None, llama_fp16_model: Path, bits: int, group_size: int, message: str
) -> None:
    with pytest.raises(ModelError, match=message):
        convert(llama_fp16_model, bits=bits, group_size=group_size)


def test_an_already_quantized_model_is_refused(store: None, llama_4bit_model: Path) -> None:
    with pytest.raises(ModelError, match="already quantized"):
        convert(llama_4bit_model, bits=2)


def test_a_failed_conversion_leaves_nothing_behind(
    store: None, llama_fp16_model: Path, cabin_data: Path, tmp_path: Path
) -> None:
    broken = shutil.copytree(llama_fp16_model, tmp_path / "broken")
    config = json.loads((broken / "config.json").read_text())
    (broken / "config.json").write_text(json.dumps(config | {"hidden_size": 96}))
    with pytest.raises(ModelError, match="could not convert broken"):
        convert(broken, bits=4)
    assert list_models() == []
    assert not any((cabin_data / "models").iterdir())


def test_cancel_stops_the_converter(store: None, llama_fp16_model: Path, cabin_data: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CancelledByUser):
        convert(llama_fp16_model, bits=4, cancel=cancel)
    assert list_models() == []
