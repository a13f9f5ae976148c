"""Describing a GGUF file from its header: what a list of found models shows, checked against gguf's own reader."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from gguf import GGUFReader, GGUFWriter, LlamaFileType

from engine.errors import ModelError
from engine.models.fit import KVShape
from engine.models.gguf_info import inspect_gguf
from tests.gguf_factory import Q
from tests.store_factory import write_small


def test_the_header_gives_name_architecture_quant_and_context(tiny_gguf: Path) -> None:
    info = inspect_gguf(tiny_gguf)
    assert (info.name, info.architecture, info.quant, info.context_length) == ("tiny-llama", "llama", "Q8_0", 512)


def test_parameters_and_tensor_bytes_agree_with_gguf_reader(tiny_gguf: Path) -> None:
    reader = GGUFReader(tiny_gguf)
    info = inspect_gguf(tiny_gguf)
    assert info.parameters == sum(t.n_elements for t in reader.tensors)
    assert info.tensor_bytes == sum(t.n_bytes for t in reader.tensors)
    assert info.file_size == tiny_gguf.stat().st_size


def test_kv_cache_shape_comes_from_the_architecture_keys(tiny_gguf: Path) -> None:
    assert inspect_gguf(tiny_gguf).kv == KVShape(layers=2, kv_heads=2, head_dim=16)


def test_a_file_without_a_name_is_named_by_its_stem(gguf_dir: Path) -> None:
    path = gguf_dir / "nameless.gguf"
    writer = GGUFWriter(path, "llama")  # metadata: the architecture only
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    assert inspect_gguf(path).name == "nameless"


def test_file_type_gives_llama_cpp_quant_names(gguf_dir: Path) -> None:
    path = write_small(gguf_dir / "km.gguf", metadata={"general.file_type": int(LlamaFileType.MOSTLY_Q4_K_M)})
    assert inspect_gguf(path).quant == "Q4_K_M"


def test_without_file_type_the_type_holding_most_weights_names_the_quant(gguf_dir: Path) -> None:
    path = write_small(gguf_dir / "untyped.gguf", Q.Q4_0)
    assert inspect_gguf(path).quant == "Q4_0"


def test_a_vision_projector_is_flagged(gguf_dir: Path) -> None:
    path = write_small(gguf_dir / "mmproj.gguf", Q.F16, arch="clip", metadata={"general.type": "mmproj"})
    assert inspect_gguf(path).is_projector


def test_a_chat_model_is_not_a_projector(tiny_gguf: Path) -> None:
    assert not inspect_gguf(tiny_gguf).is_projector


def test_a_split_file_says_which_shard_it_is(gguf_dir: Path) -> None:
    path = write_small(gguf_dir / "split-00002-of-00003.gguf", metadata={"split.no": 1, "split.count": 3})
    assert inspect_gguf(path).shard == (2, 3)


def test_a_whole_file_is_no_shard(tiny_gguf: Path) -> None:
    assert inspect_gguf(tiny_gguf).shard is None


def test_a_truncated_file_says_so_in_one_line(tiny_gguf: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_gguf.read_bytes()[:-100])
    with pytest.raises(ModelError, match=r"^cut.gguf: it is truncated: [\d,]+ bytes of the [\d,]+") as e:
        inspect_gguf(cut)
    assert "\n" not in str(e.value)


def test_a_file_cut_inside_its_header_is_corrupt(tiny_gguf: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_gguf.read_bytes()[:300])
    with pytest.raises(ModelError, match="^cut.gguf: its GGUF header is corrupt"):
        inspect_gguf(cut)


def test_an_impossible_count_is_corrupt_not_a_long_loop(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 2**60))
    with pytest.raises(ModelError, match="header is corrupt"):
        inspect_gguf(bad)


def test_a_file_of_another_format_is_not_gguf(tmp_path: Path) -> None:
    other = tmp_path / "model.gguf"
    other.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(ModelError, match="^model.gguf: it is not a GGUF file$"):
        inspect_gguf(other)


def test_an_empty_file_says_it_is_empty(tmp_path: Path) -> None:
    empty = tmp_path / "empty.gguf"
    empty.touch()
    with pytest.raises(ModelError, match="^empty.gguf: it is empty$"):
        inspect_gguf(empty)


def test_a_missing_file_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="^cannot read .*missing.gguf"):
        inspect_gguf(tmp_path / "missing.gguf")
