"""Finding the models other apps keep (Ollama, LM Studio, llama.cpp, the HF cache) without changing their stores."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from engine.models.elsewhere import HF_CACHE, LLAMA_CPP, LM_STUDIO, OLLAMA, FoundModel, Stores, scan
from engine.models.fit import Verdict
from engine.models.gguf_info import inspect_gguf
from tests.gguf_factory import Q
from tests.store_factory import add_to_ollama, write_small


def by_name(stores: Stores) -> dict[str, FoundModel]:
    return {m.name: m for m in scan(stores)}


def test_every_store_is_scanned_in_order(other_stores: Stores) -> None:
    assert [(m.source, m.name) for m in scan(other_stores)] == [
        (OLLAMA, "bartowski/cut:q4"),
        (OLLAMA, "smol:135m"),
        (LM_STUDIO, "lmstudio-community/Tiny-Q4_0"),
        (LM_STUDIO, "mlx-community/tiny-llama"),
        (LLAMA_CPP, "ggml-org_tiny"),
        (HF_CACHE, "TheBloke/Tiny-GGUF/tiny.Q8_0.gguf"),
    ]


def test_an_ollama_model_is_its_manifest_name_and_blob(other_stores: Stores) -> None:
    model = by_name(other_stores)["smol:135m"]
    assert model.path.parent == other_stores.ollama / "blobs"
    assert model.path.name == "sha256-" + hashlib.sha256(model.path.read_bytes()).hexdigest()
    assert (model.architecture, model.quant, model.kind) == ("llama", "Q8_0", "gguf")


def test_an_ollama_alias_of_the_same_blob_is_listed_once(other_stores: Stores) -> None:
    assert "smol:latest" not in by_name(other_stores)


def test_an_ollama_model_from_another_registry_names_it(tmp_path: Path, tiny_gguf: Path) -> None:
    root = tmp_path / "ollama"
    add_to_ollama(root, "bartowski/tiny:q8", tiny_gguf.read_bytes(), registry="hf.co")
    stores = Stores(root, (), (), None)
    assert [m.name for m in scan(stores)] == ["hf.co/bartowski/tiny:q8"]


def test_a_manifest_whose_blob_is_missing_is_listed_as_unusable(tmp_path: Path, tiny_gguf: Path) -> None:
    root = tmp_path / "ollama"
    add_to_ollama(root, "gone:1b", tiny_gguf.read_bytes()).unlink()
    [model] = scan(Stores(root, (), (), None))
    assert (model.name, model.problem) == ("gone:1b", "its model blob is missing")


def test_a_manifest_without_a_model_layer_says_so(tmp_path: Path, tiny_gguf: Path) -> None:
    root = tmp_path / "ollama"
    add_to_ollama(root, "odd:1b", tiny_gguf.read_bytes())
    manifest = root / "manifests" / "registry.ollama.ai" / "library" / "odd" / "1b"
    manifest.write_text(json.dumps({"layers": []}))
    [model] = scan(Stores(root, (), (), None))
    assert model.problem == "its manifest has no model layer"


def test_a_truncated_blob_is_listed_with_the_reason(other_stores: Stores) -> None:
    model = by_name(other_stores)["bartowski/cut:q4"]
    assert not model.usable
    assert model.problem.startswith("it is truncated:")


def test_an_lm_studio_gguf_has_its_quant(other_stores: Stores) -> None:
    model = by_name(other_stores)["lmstudio-community/Tiny-Q4_0"]
    assert (model.quant, model.path.name) == ("Q4_0", "Tiny-Q4_0.gguf")


def test_a_vision_projector_is_not_listed(other_stores: Stores) -> None:
    assert not any("mmproj" in m.path.name for m in scan(other_stores))


def test_a_projector_is_recognised_by_its_header_too(tmp_path: Path) -> None:
    folder = tmp_path / "lms" / "someone" / "Vision-GGUF"
    folder.mkdir(parents=True)
    write_small(folder / "projector.gguf", Q.F16, arch="clip", metadata={"general.type": "mmproj"})
    assert scan(Stores(tmp_path / "none", (tmp_path / "lms",), (), None)) == []


def test_an_lm_studio_mlx_folder_is_listed_to_add(other_stores: Stores) -> None:
    model = by_name(other_stores)["mlx-community/tiny-llama"]
    assert (model.kind, model.architecture, model.usable) == ("mlx", "llama", True)
    assert model.import_command == f"cabin models add {model.path}"


def test_a_gguf_is_imported_by_its_path(other_stores: Stores) -> None:
    model = by_name(other_stores)["TheBloke/Tiny-GGUF/tiny.Q8_0.gguf"]
    assert model.import_command == f"cabin models import {model.path}"


def test_a_path_with_spaces_is_quoted_in_the_command(tmp_path: Path) -> None:
    folder = tmp_path / "my models" / "pub" / "repo"
    folder.mkdir(parents=True)
    write_small(folder / "m.gguf")
    [model] = scan(Stores(tmp_path / "none", (tmp_path / "my models",), (), None))
    assert model.import_command == f"cabin models import '{model.path}'"


def test_a_split_gguf_is_one_entry_sized_over_its_shards(other_stores: Stores) -> None:
    model = by_name(other_stores)["ggml-org_tiny"]
    shards = sorted(model.path.parent.glob("ggml-org_tiny-*.gguf"))
    assert model.path == shards[0]
    assert (model.files, model.size_bytes) == (2, sum(s.stat().st_size for s in shards))


def test_a_split_gguf_says_it_must_be_joined_before_import(other_stores: Stores) -> None:
    model = by_name(other_stores)["ggml-org_tiny"]
    assert model.problem.startswith("split into 2 files: Cabin imports single-file GGUFs")


def test_a_split_gguf_with_a_shard_missing_names_it(other_stores: Stores) -> None:
    next(iter(other_stores.llama_cpp)).joinpath("ggml-org_tiny-00002-of-00002.gguf").unlink()
    model = by_name(other_stores)["ggml-org_tiny"]
    assert model.problem.startswith("shard 2 of 2: cannot read it")


def test_fit_uses_the_tensor_bytes_and_kv_shape(other_stores: Stores) -> None:
    model = by_name(other_stores)["smol:135m"]
    fit = model.fit(context=4096, budget=8 * 1024**3)
    assert (fit.verdict, fit.weights) == (Verdict.FITS, model.weight_bytes)
    assert fit.kv_cache == model.kv.bytes_per_token * 4096 > 0


def test_an_unusable_model_has_no_fit(other_stores: Stores) -> None:
    assert by_name(other_stores)["bartowski/cut:q4"].fit(4096, 8 * 1024**3) is None


def test_missing_stores_find_nothing(tmp_path: Path) -> None:
    assert scan(Stores(tmp_path / "a", (tmp_path / "b",), (tmp_path / "c",), tmp_path / "d")) == []


def test_stores_default_to_the_apps_own_folders(tmp_path: Path) -> None:
    stores = Stores.from_env(tmp_path, env={})
    assert stores.ollama == tmp_path / ".ollama" / "models"
    assert tmp_path / ".lmstudio" / "models" in stores.lm_studio
    assert tmp_path / ".cache" / "llama.cpp" in stores.llama_cpp


def test_environment_variables_move_ollama_and_llama_cpp(tmp_path: Path) -> None:
    stores = Stores.from_env(tmp_path, env={"OLLAMA_MODELS": "/o", "LLAMA_CACHE": "/l"})
    assert (stores.ollama, stores.llama_cpp) == (Path("/o"), (Path("/l"),))


def snapshot_of(home: Path) -> dict[str, tuple[str, int]]:
    """Every file under `home`: content hash and modification time."""
    return {str(p): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(home.rglob("*")) if p.is_file()}  # fmt: skip


def test_scanning_changes_nothing_in_the_stores(other_stores: Stores) -> None:
    home = other_stores.ollama.parents[1]
    before = snapshot_of(home)
    names_before = sorted(str(p) for p in home.rglob("*"))
    scan(other_stores)
    assert snapshot_of(home) == before
    assert sorted(str(p) for p in home.rglob("*")) == names_before


def test_an_ollama_blob_is_imported_under_its_model_name(other_stores: Stores) -> None:
    model = by_name(other_stores)["smol:135m"]
    assert model.import_command == f"cabin models import {model.path} --name smol-135m"


def test_a_model_already_imported_is_marked_as_in_cabin(other_stores: Stores, cabin_data: Path) -> None:
    (cabin_data / "models" / "smol-135m").mkdir(parents=True)
    found = by_name(other_stores)
    assert found["smol:135m"].in_cabin and not found["smol:135m"].importable
    assert not found["lmstudio-community/Tiny-Q4_0"].in_cabin


def test_an_mlx_folder_already_added_is_marked_as_in_cabin(other_stores: Stores, cabin_data: Path) -> None:
    from engine.models.store import add_model_folder

    add_model_folder(by_name(other_stores)["mlx-community/tiny-llama"].path)
    assert by_name(other_stores)["mlx-community/tiny-llama"].in_cabin


def test_an_lm_studio_gguf_with_its_projector_is_listed_as_reading_images(llava_gguf_pair: tuple[Path, Path],
                                                                         tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "home" / ".lmstudio" / "models" / "ggml-org" / "tiny-llava-GGUF"
    folder.mkdir(parents=True)
    for file in llava_gguf_pair:
        shutil.copy(file, folder)
    [model] = scan(Stores(tmp_path / "none", (tmp_path / "home" / ".lmstudio" / "models",), (), None))
    assert (model.name, model.architecture) == ("ggml-org/tiny-llava.Q8_0", "llama + vision")
    assert model.weight_bytes == sum(inspect_gguf(file).tensor_bytes for file in llava_gguf_pair)
