"""Importing GGUF files: each architecture computes what transformers computes from the same tiny file, and
bad input, cancels and existing folders end in one clear line with nothing left behind."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import mlx.core as mx
import mlx_lm
import numpy as np
import pytest

from engine.cli import main
from engine.compute_dtype import upcast_to_float32
from engine.errors import CancelledByUser, ModelError
from engine.models.gguf_import import default_import_dest, import_gguf
from tests.gguf_factory import GgufSpec, Q, transformers_logits, write_gguf

TEXT = "Hello there, the cat sat on the mat."
# One tiny model per architecture, each with other block types (all exact ones), as llama.cpp lays them out.
ARCHES = {
    "llama": GgufSpec("llama", linear_type=Q.Q4_K, embedding_type=Q.Q8_0),
    "qwen2": GgufSpec("qwen2", linear_type=Q.Q4_0, embedding_type=Q.Q5_0, seed=1),
    "qwen3": GgufSpec("qwen3", linear_type=Q.Q5_K, embedding_type=Q.Q4_1, heads=2, kv_heads=1, seed=2),  # head_dim 128
    "gemma3": GgufSpec("gemma3", linear_type=Q.Q3_K, embedding_type=Q.BF16, norm_type=Q.BF16, hidden=512, heads=2,
                       kv_heads=1, layers=6, tied=True, seed=3),  # head_dim 256, one global layer in six  # fmt: skip
    "llama-f16": GgufSpec("llama", linear_type=Q.F16, embedding_type=Q.F16, norm_type=Q.F16, seed=5),
    "phi3": GgufSpec("phi3", linear_type=Q.Q5_1, embedding_type=Q.F32, seed=4),
}


def nothing_left_beside(dest: Path) -> bool:
    return not dest.exists() and not list(dest.parent.glob(f".{dest.name}*"))


@pytest.fixture(scope="module")
def tiny_llama_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_gguf(tmp_path_factory.mktemp("gguf") / "tiny-llama.gguf", ARCHES["llama"])


@pytest.mark.parametrize("arch", ARCHES)
def test_each_architecture_computes_what_transformers_computes_from_the_same_file(arch: str, tmp_path: Path) -> None:
    gguf = write_gguf(tmp_path / f"{arch}.gguf", ARCHES[arch])
    import_gguf(gguf, tmp_path / arch)
    model, tokenizer = mlx_lm.load(str(tmp_path / arch))
    upcast_to_float32(model)  # compute in float32 as transformers does (exact: float32 scales, widened halves)
    ids = tokenizer.encode(TEXT)
    reference = transformers_logits(gguf, ids)
    logits = np.array(model(mx.array([ids]))[0])
    # mlx_lm's gemma3 rounds its sqrt(hidden) embedding scale to bfloat16: ~1e-4 relative. Others agree to ~1e-6.
    assert np.abs(logits - reference).max() <= 1e-3 * np.abs(reference).max()


def test_llama3_rope_scaling_is_recovered_from_the_rope_freqs_tensor(tmp_path: Path) -> None:
    from engine.models.gguf_config import llama3_factors

    scaling = {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
    factors = llama3_factors(64, 10_000.0, 8.0, 1.0, 4.0, 8192).astype(np.float32)
    gguf = write_gguf(tmp_path / "l3.gguf", GgufSpec(layers=1, extra_tensors={"rope_freqs.weight": factors}))
    import_gguf(gguf, tmp_path / "model")
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    assert config["rope_scaling"] == {"rope_type": "llama3", **scaling}


def test_rope_freqs_that_match_no_known_llama3_scaling_are_refused(tmp_path: Path) -> None:
    factors = np.linspace(1, 3, 32, dtype=np.float32)
    gguf = write_gguf(tmp_path / "odd.gguf", GgufSpec(layers=1, extra_tensors={"rope_freqs.weight": factors}))
    with pytest.raises(ModelError, match="rope_freqs"):
        import_gguf(gguf, tmp_path / "model")
    assert nothing_left_beside(tmp_path / "model")


def test_phi3_long_context_rope_factors_become_longrope_scaling(tmp_path: Path) -> None:
    long, short = np.linspace(1, 4, 32, dtype=np.float32), np.ones(32, np.float32)
    spec = GgufSpec("phi3", layers=1, extra_metadata={"phi3.rope.scaling.original_context_length": 256},
                    extra_tensors={"rope_factors_long.weight": long, "rope_factors_short.weight": short})  # fmt: skip
    import_gguf(write_gguf(tmp_path / "phi3.gguf", spec), tmp_path / "model")
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    assert config["rope_scaling"] == {"type": "longrope", "long_factor": long.tolist(), "short_factor": short.tolist()}
    assert config["original_max_position_embeddings"] == 256
    mlx_lm.load(str(tmp_path / "model"))


def test_the_summary_lists_types_forms_and_sizes(tiny_llama_gguf: Path, tmp_path: Path) -> None:
    summary = import_gguf(tiny_llama_gguf, tmp_path / "model")
    text = "\n".join(summary.lines())
    assert "Q4_K -> 4-bit g32 (fp32 scales): 15 tensors" in text  # 7 projections x 2 layers + output
    assert "Q8_0 -> 8-bit g32 (fp32 scales): 1 tensor" in text  # the embedding
    assert "Size:" in text and "Every tensor kept exact." in text


def test_tensors_mlx_cannot_hold_exactly_are_listed(tmp_path: Path) -> None:
    gguf = write_gguf(tmp_path / "q6k.gguf", GgufSpec(linear_type=Q.Q6_K, layers=1))
    summary = import_gguf(gguf, tmp_path / "model")
    assert "blk.0.attn_q.weight" in summary.not_exact
    assert any(line.startswith("Not kept exact") for line in summary.lines())


def test_each_quantized_layer_has_its_own_quantization_entry(tiny_llama_gguf: Path, tmp_path: Path) -> None:
    import_gguf(tiny_llama_gguf, tmp_path / "model")
    quantization = json.loads((tmp_path / "model" / "config.json").read_text())["quantization"]
    assert quantization["model.embed_tokens"] == {"group_size": 32, "bits": 8, "mode": "affine"}
    assert quantization["model.layers.1.mlp.down_proj"] == {"group_size": 32, "bits": 4, "mode": "affine"}


def test_progress_rises_to_the_end(tiny_llama_gguf: Path, tmp_path: Path) -> None:
    seen: list[float] = []
    import_gguf(tiny_llama_gguf, tmp_path / "model", on_progress=lambda fraction, _: seen.append(fraction))
    assert seen == sorted(seen) and seen[0] == 0 and seen[-1] == 1


def test_an_existing_folder_is_refused_unless_overwrite(tiny_llama_gguf: Path, tmp_path: Path) -> None:
    dest = tmp_path / "model"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    with pytest.raises(ModelError, match="already exists"):
        import_gguf(tiny_llama_gguf, dest)
    assert (dest / "keep.txt").exists()
    import_gguf(tiny_llama_gguf, dest, overwrite=True)
    assert not (dest / "keep.txt").exists() and (dest / "config.json").exists()


def test_a_cancel_leaves_nothing_behind(tiny_llama_gguf: Path, tmp_path: Path) -> None:
    cancel = threading.Event()

    def cancel_midway(fraction: float, _: str) -> None:
        if fraction > 0.3:
            cancel.set()

    with pytest.raises(CancelledByUser):
        import_gguf(tiny_llama_gguf, tmp_path / "model", on_progress=cancel_midway, cancel=cancel)
    assert nothing_left_beside(tmp_path / "model")


def test_a_file_that_is_not_gguf_is_refused_in_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"PK\x03\x04 not a gguf at all")
    with pytest.raises(ModelError, match="not a GGUF file"):
        import_gguf(bogus, tmp_path / "model")
    assert nothing_left_beside(tmp_path / "model")


@pytest.mark.parametrize("keep", [2_000, 200_000])
def test_a_truncated_file_is_refused_and_leaves_nothing(tiny_llama_gguf: Path, tmp_path: Path, keep: int) -> None:
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(tiny_llama_gguf.read_bytes()[:keep])
    with pytest.raises(ModelError, match="truncated or corrupt"):
        import_gguf(truncated, tmp_path / "model")
    assert nothing_left_beside(tmp_path / "model")


def bare_gguf(path: Path, arch: str) -> Path:
    """A file with an embedding and no metadata beyond the architecture."""
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), arch)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_an_unsupported_architecture_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="architecture 'bloom' is not supported"):
        import_gguf(bare_gguf(tmp_path / "bloom.gguf", "bloom"), tmp_path / "model")


def test_one_part_of_a_split_gguf_is_refused(tmp_path: Path) -> None:
    spec = GgufSpec(layers=1, extra_metadata={"split.no": 0, "split.count": 3})
    with pytest.raises(ModelError, match=r"one part of a split GGUF \(3 parts\)"):
        import_gguf(write_gguf(tmp_path / "part.gguf", spec), tmp_path / "model")
    assert nothing_left_beside(tmp_path / "model")


def test_missing_metadata_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="lacks llama.embedding_length, llama.block_count"):
        import_gguf(bare_gguf(tmp_path / "llama.gguf", "llama"), tmp_path / "model")
    assert nothing_left_beside(tmp_path / "model")


def test_an_unsupported_tensor_type_names_the_tensor_and_the_type(tmp_path: Path) -> None:
    gguf = write_gguf(tmp_path / "iq.gguf", GgufSpec(linear_type=Q.IQ4_NL, layers=1))
    with pytest.raises(ModelError, match=r"tensor blk\.0\.attn_q\.weight is IQ4_NL"):
        import_gguf(gguf, tmp_path / "model")
    assert nothing_left_beside(tmp_path / "model")


def test_the_default_destination_is_in_cabins_models_folder_and_listed(tiny_llama_gguf: Path, cabin_data: Path) -> None:
    from engine.models.store import list_models

    dest = default_import_dest(tiny_llama_gguf)
    assert dest == cabin_data / "models" / "tiny-llama"
    import_gguf(tiny_llama_gguf, dest)
    assert str(dest) in [model.key for model in list_models()]


def test_cli_import_prints_the_summary_and_how_to_chat(tiny_llama_gguf: Path, cabin_data: Path, capsys) -> None:
    assert main(["models", "import", str(tiny_llama_gguf), "--name", "imported"]) == 0
    out = capsys.readouterr().out
    assert "Every tensor kept exact." in out
    assert f"cabin chat --model {cabin_data / 'models' / 'imported'}" in out


def test_cli_import_of_a_bad_file_is_one_line_and_exit_1(tmp_path: Path, capsys) -> None:
    bogus = tmp_path / "x.gguf"
    bogus.write_text("hello")
    assert main(["models", "import", str(bogus), "--out", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err.strip() == "cabin: error: x.gguf is not a GGUF file"


def test_an_imported_model_exports_to_core_ml_and_matches_mlx(tiny_llama_gguf: Path, tmp_path: Path) -> None:
    from engine.coreml.export import run_export
    from engine.coreml.options import ExportOptions

    import_gguf(tiny_llama_gguf, tmp_path / "model")
    out = tmp_path / "coreml"
    out.mkdir()
    options = ExportOptions(model=str(tmp_path / "model"), out=out, context=32, mode="fp16")
    summary = run_export(options, out, lambda _: None)
    assert summary.torch_vs_mlx < 1e-3 and summary.program_top_token_matches


def test_ctrl_c_during_a_cli_import_leaves_nothing(tiny_llama_gguf: Path, tmp_path: Path, monkeypatch) -> None:
    from engine.models import gguf_import

    written: list[str] = []
    write_job = gguf_import.write_job

    def interrupt_after_two(out, job, arch) -> None:
        if len(written) == 2:
            raise KeyboardInterrupt
        written.append(job.name)
        write_job(out, job, arch)

    monkeypatch.setattr(gguf_import, "write_job", interrupt_after_two)
    assert main(["models", "import", str(tiny_llama_gguf), "--out", str(tmp_path / "model")]) == 130
    assert nothing_left_beside(tmp_path / "model")


def test_importing_a_gguf_with_a_projector_says_the_copy_reads_text_only(llava_gguf_pair: tuple[Path, Path],
                                                                        tmp_path: Path) -> None:
    model, projector = llava_gguf_pair
    summary = import_gguf(model, tmp_path / "out")
    assert summary.lines()[-1] == (f"The vision projector ({projector.name}) is not imported: the MLX copy reads text "
                                   f"only. To ask about images, run {model.name} as it is.")
