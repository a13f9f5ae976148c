"""The saved package and its folder: interface, iOS 18 states, fused attention, compression, metadata, files."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import coremltools as ct
import numpy as np
import pytest

from engine.coreml.compress import weight_constants
from engine.coreml.checks import program_predict
from engine.coreml.golden import replay
from engine.coreml.mil_runtime import load_program
from engine.coreml.package import verify_files

IOS18_SPEC = 9


def package_of(export: tuple[Path, object]) -> Path:
    folder, summary = export
    return folder / summary.package


@pytest.fixture(scope="module")
def spec(coreml_palettized: tuple[Path, object]):
    return ct.models.MLModel(str(package_of(coreml_palettized)), skip_model_load=True).get_spec()


@pytest.fixture(scope="module")
def op_counts(coreml_palettized: tuple[Path, object]) -> Counter:
    program = load_program(package_of(coreml_palettized))
    return Counter(op.op_type for op in program.functions["main"].operations)


def test_targets_ios18(spec) -> None:
    assert spec.specificationVersion >= IOS18_SPEC


def test_inputs_are_flexible_token_ids_and_an_fp16_mask(spec) -> None:
    inputs = {i.name: i.type.multiArrayType for i in spec.description.input}
    assert list(inputs) == ["inputIds", "fullAttentionMask"]
    ids, mask = inputs["inputIds"], inputs["fullAttentionMask"]
    assert ids.dataType == ct.proto.FeatureTypes_pb2.ArrayFeatureType.INT32
    assert mask.dataType == ct.proto.FeatureTypes_pb2.ArrayFeatureType.FLOAT16
    assert [(r.lowerBound, r.upperBound) for r in ids.shapeRange.sizeRanges] == [(1, 1), (1, 32)]
    assert [(r.lowerBound, r.upperBound) for r in mask.shapeRange.sizeRanges] == [(1, 1), (1, 1), (1, 32), (1, 32)]


def test_states_are_fp16_key_and_value_caches_of_the_context(spec) -> None:
    states = {s.name: s.type.stateType.arrayType for s in spec.description.state}
    assert set(states) == {"keyCache", "valueCache"}
    for array in states.values():
        assert list(array.shape) == [2, 1, 2, 32, 16]  # layers, batch, kv heads, context, head dim
        assert array.dataType == ct.proto.FeatureTypes_pb2.ArrayFeatureType.FLOAT16


def test_output_is_fp16_logits(spec) -> None:
    (output,) = spec.description.output
    assert output.name == "logits"
    assert output.type.multiArrayType.dataType == ct.proto.FeatureTypes_pb2.ArrayFeatureType.FLOAT16


def test_attention_uses_the_fused_sdpa_op_in_every_layer(op_counts: Counter) -> None:
    assert op_counts["scaled_dot_product_attention"] == 2
    assert op_counts["softmax"] == 0


def test_the_cache_is_read_and_written_as_state(op_counts: Counter) -> None:
    assert op_counts["read_state"] == 2 and op_counts["coreml_update_state"] >= 2


def test_every_large_weight_is_compressed(op_counts: Counter, coreml_palettized: tuple[Path, object]) -> None:
    program = load_program(package_of(coreml_palettized))
    assert weight_constants(program, 2048) == []
    assert len(coreml_palettized[1].layers) == 12


def test_linear_layers_get_palettes_and_the_embedding_int8_blocks(op_counts: Counter, coreml_palettized) -> None:
    embedding = [layer for layer in coreml_palettized[1].layers if layer.role == "embedding"]
    assert [(layer.bits, layer.group_size) for layer in embedding] == [(8, 32)]
    assert op_counts["constexpr_lut_to_dense"] == 11 and op_counts["constexpr_blockwise_shift_scale"] == 1


def test_metadata_names_source_context_bits_and_tokens(spec) -> None:
    meta = dict(spec.description.metadata.userDefined)
    assert meta["cabin.architecture"] == "llama"
    assert meta["cabin.context_length"] == "32"
    assert (meta["cabin.compression"], meta["cabin.bits"], meta["cabin.group_size"]) == ("palettize", "4", "16")
    assert json.loads(meta["cabin.eos_token_ids"]) == [2]
    assert spec.description.metadata.author and spec.description.metadata.shortDescription


def test_reconstruction_error_per_layer_is_within_bounds(coreml_palettized: tuple[Path, object]) -> None:
    layers = coreml_palettized[1].layers
    assert all(layer.relative_error < 0.10 for layer in layers if layer.bits == 4)
    assert all(layer.relative_error < 0.01 for layer in layers if layer.bits == 8)


def test_package_is_about_a_quarter_smaller_than_fp16_or_better(coreml_palettized: tuple[Path, object]) -> None:
    assert coreml_palettized[1].package_bytes < 0.8 * coreml_palettized[1].fp16_bytes


def test_folder_holds_tokenizer_config_golden_manifest_and_readme(coreml_palettized: tuple[Path, object]) -> None:
    folder, summary = coreml_palettized
    names = {p.name for p in folder.iterdir()}
    assert {summary.package, "tokenizer.json", "tokenizer_config.json", "config.json", "golden.npz",
            "manifest.json", "README.md", "CabinGenerator"} <= names


def test_tokenizer_config_carries_the_chat_template(coreml_palettized: tuple[Path, object]) -> None:
    config = json.loads((coreml_palettized[0] / "tokenizer_config.json").read_text())
    assert "<|im_start|>" in config["chat_template"]


def test_manifest_checksums_match_every_file(coreml_palettized: tuple[Path, object]) -> None:
    folder = coreml_palettized[0]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert any(entry["path"].endswith("weight.bin") for entry in manifest["files"])
    assert manifest["recipe"]["bits"] == 4 and manifest["recipe"]["granularity"] == "per_grouped_channel"
    assert verify_files(folder) == []


def test_manifest_notices_a_changed_file(tmp_path: Path, coreml_palettized: tuple[Path, object]) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(coreml_palettized[0], copy)
    (copy / "config.json").write_text("{}")
    assert verify_files(copy) == ["config.json"]


def swift_names(generator: str) -> dict[str, str]:
    """`public static let name = "value"` lines of Generator.swift's Names enum, and its states list."""
    names = dict(re.findall(r'public static let (\w+) = "(\w+)"', generator))
    names["states"] = re.search(r"public static let states = \[(.*)\]", generator).group(1).replace('"', "")
    return names


def test_the_swift_package_streams_replies_with_one_state(coreml_palettized: tuple[Path, object]) -> None:
    folder, summary = coreml_palettized
    package = (folder / "CabinGenerator" / "Package.swift").read_text()
    generator = (folder / "CabinGenerator" / "Sources" / "CabinGenerator" / "Generator.swift").read_text()
    assert "https://github.com/huggingface/swift-transformers" in package and '"Tokenizers"' in package
    assert "-> AsyncThrowingStream<String, Error>" in generator and "applyChatTemplate" in generator
    assert generator.count("makeState()") == 1 and "using: state" in generator
    assert f'"{summary.package}"' in generator and "contextLength = 32" in generator


def test_the_swift_names_are_the_package_interface(coreml_palettized: tuple[Path, object], spec) -> None:
    folder = coreml_palettized[0]
    names = swift_names((folder / "CabinGenerator" / "Sources" / "CabinGenerator" / "Generator.swift").read_text())
    assert [i.name for i in spec.description.input] == [names["inputIds"], names["fullAttentionMask"]]
    assert [o.name for o in spec.description.output] == [names["logits"]]
    assert ", ".join(s.name for s in spec.description.state) == names["states"]


def test_the_readme_shows_how_to_add_the_swift_package(coreml_palettized: tuple[Path, object]) -> None:
    readme = (coreml_palettized[0] / "README.md").read_text()
    assert "Add Local" in readme and "import CabinGenerator" in readme and "generator.stream(messages:" in readme


def test_the_export_ran_its_own_checks(coreml_palettized: tuple[Path, object]) -> None:
    summary = coreml_palettized[1]
    assert summary.torch_vs_mlx < 1e-3
    assert summary.program_vs_torch < 1e-2 and summary.program_top_token_matches


def test_saved_program_reproduces_the_golden_vectors(coreml_palettized: tuple[Path, object]) -> None:
    folder, summary = coreml_palettized
    golden = dict(np.load(folder / "golden.npz"))
    agreement = replay(program_predict(folder / summary.package), golden)
    assert agreement.relative_error < 1e-2 and agreement.same_top_token
