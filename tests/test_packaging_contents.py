"""What packaging/cabin.spec puts in the bundle beyond the import graph, and Cabin.app's Info.plist."""

from __future__ import annotations

import importlib.util
import os
from importlib.metadata import distribution, version
from pathlib import Path

import pytest

import bundle_contents as contents
from info_plist import info_plist


@pytest.mark.parametrize("module", contents.HIDDEN_IMPORTS + contents.SUBMODULE_PACKAGES + contents.DATA_PACKAGES)
def test_every_module_the_spec_adds_by_name_exists(module: str) -> None:
    assert importlib.util.find_spec(module) is not None, f"{module} was renamed or removed: update bundle_contents.py"


@pytest.mark.parametrize("name", contents.metadata_names("linux"))
def test_every_distribution_whose_metadata_is_copied_is_installed(name: str) -> None:
    assert distribution(name).version


def test_the_metal_library_goes_beside_libmlx_with_a_link_at_the_top_level(tmp_path: Path) -> None:
    mlx = tmp_path / "mlx"
    (mlx / "lib").mkdir(parents=True)
    (mlx / "lib" / "libmlx.dylib").write_bytes(b"")
    (mlx / "lib" / "mlx.metallib").write_bytes(b"MTLB")
    entries = contents.metal_library_entries(mlx)
    assert ("mlx/lib/mlx.metallib", str(mlx / "lib" / "mlx.metallib"), "DATA") in entries
    top_level = next(entry for entry in entries if entry[2] == "SYMLINK")
    assert top_level[0] == "mlx.metallib"
    assert os.path.normpath(os.path.join(os.path.dirname(top_level[0]), top_level[1])) == "mlx/lib/mlx.metallib"


def test_mlx_without_metal_needs_no_metal_entries(tmp_path: Path) -> None:
    (tmp_path / "mlx" / "lib").mkdir(parents=True)
    (tmp_path / "mlx" / "lib" / "libmlx.so").write_bytes(b"")
    assert contents.metal_library_entries(tmp_path / "mlx") == []


def test_openblas_lands_where_engine_blas_looks_for_it() -> None:
    import scipy_openblas32

    package = Path(scipy_openblas32.__file__).parent
    [(source, folder)] = contents.openblas_entries(package)
    assert Path(source).name == scipy_openblas32.get_library(fullname=True)
    assert Path(folder) == Path(scipy_openblas32.get_lib_dir()).relative_to(package.parent)


def test_without_scipy_openblas32_nothing_is_added() -> None:
    assert contents.openblas_entries(None) == []


def test_llama_cpp_libraries_land_where_llama_cpp_loads_them() -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    package = Path(llama_cpp.__file__).parent
    entries = contents.llama_cpp_entries(package)
    assert {Path(folder) for _, folder in entries} == {llama_cpp.llama_cpp._base_path.relative_to(package.parent)}
    names = {Path(source).name for source, _ in entries}
    assert {"libllama.so", "libggml.so.0", "libggml-base.so.0", "libmtmd.so.0"} <= names or "libllama.dylib" in names


def test_without_llama_cpp_nothing_is_added() -> None:
    assert contents.llama_cpp_entries(None) == []


@pytest.mark.parametrize(
    ("module", "wanted"),
    [
        ("transformers.models.qwen2", True),
        ("transformers.models.qwen2.tokenization_qwen2", True),
        ("transformers.models.bert.tokenization_bert", True),
        ("transformers.models.mixtral.configuration_mixtral", True),
        ("transformers.models.qwen2_vl.image_processing_qwen2_vl", True),
        ("transformers.models.qwen2_vl.processing_qwen2_vl", True),
        ("transformers.models.llama.modeling_llama", True),
        ("transformers.models.qwen2.modeling_qwen2", True),
        ("transformers.models.bert.modeling_bert", False),
        ("transformers.models.llama.convert_llama_weights_to_hf", False),
        ("transformers.pipelines", False),
    ],
)
def test_transformers_keeps_every_tokenizer_and_the_exported_families_models(module: str, wanted: bool) -> None:
    assert contents.wanted_transformers_module(module) is wanted


def test_test_packages_are_left_out() -> None:
    assert contents.keep_submodule("coremltools.converters.mil.frontend.torch.ops")
    assert not contents.keep_submodule("coremltools.test.api")
    assert not contents.keep_submodule("engine.tests")


def test_the_plist_makes_an_arm64_app_for_macos_14_that_follows_dark_mode() -> None:
    plist = info_plist(version("cabin-ai"))
    assert plist["CFBundleIdentifier"] == contents.BUNDLE_ID
    assert plist["CFBundleShortVersionString"] == version("cabin-ai")
    assert plist["LSMinimumSystemVersion"] == "14.0"
    assert plist["LSArchitecturePriority"] == ["arm64"]
    assert plist["NSRequiresAquaSystemAppearance"] is False
    assert plist["NSHighResolutionCapable"] is True


def test_a_local_version_suffix_is_dropped_from_the_bundle_version() -> None:
    plist = info_plist("0.2.0+g1a2b3c")
    assert plist["CFBundleShortVersionString"] == plist["CFBundleVersion"] == "0.2.0"


def lay_out_app_bundle(toc: list[tuple[str, str, str]], app: Path) -> None:
    """Cabin.app's Contents/ as PyInstaller's BUNDLE arranges this TOC (its own relocation code, run off macOS)."""
    from PyInstaller.building.osx import BUNDLE

    for dest, source, typecode in BUNDLE._process_bundle_toc(BUNDLE.__new__(BUNDLE), toc):
        path = app / dest
        path.parent.mkdir(parents=True, exist_ok=True)
        if typecode == "SYMLINK":
            path.symlink_to(source)
        else:
            path.write_bytes(Path(source).read_bytes())


def test_in_cabin_app_metal_finds_its_library_beside_libmlx_by_either_path_libmlx_is_loaded_from(tmp_path: Path) -> None:
    """MLX looks for mlx.metallib in the folder of the libmlx it was loaded from (dladdr): the library's own
    folder, or the top-level link PyInstaller adds for every collected library."""
    mlx = tmp_path / "site" / "mlx"
    (mlx / "lib").mkdir(parents=True)
    (mlx / "lib" / "libmlx.dylib").write_bytes(b"MACHO")
    (mlx / "lib" / "mlx.metallib").write_bytes(b"MTLB")
    toc = [
        ("mlx/lib/libmlx.dylib", str(mlx / "lib" / "libmlx.dylib"), "BINARY"),
        ("libmlx.dylib", "mlx/lib/libmlx.dylib", "SYMLINK"),
        *contents.metal_library_entries(mlx),
    ]
    app = tmp_path / "Cabin.app"
    lay_out_app_bundle(toc, app)
    frameworks = app / "Contents" / "Frameworks"
    for libmlx in (frameworks / "mlx" / "lib" / "libmlx.dylib", frameworks / "libmlx.dylib"):
        assert libmlx.read_bytes() == b"MACHO"
        assert (libmlx.parent / "mlx.metallib").read_bytes() == b"MTLB"


@pytest.mark.parametrize(
    ("dest", "kept"),
    [
        ("torch/test/Dict_test", False),
        ("torch/bin/test_jit", False),
        ("torch/bin/TCPStoreTest", False),
        ("torch/bin/protoc-3.13.0.0", False),
        ("torch/lib/libtorchbind_test.so", False),
        ("torch/bin/torch_shm_manager", True),
        ("torch/lib/libtorch_cpu.so", True),
        ("mlx/lib/libmlx.so", True),
    ],
)
def test_torchs_own_test_binaries_stay_out_of_the_bundle(dest: str, kept: bool) -> None:
    assert contents.keep_file(dest) is kept


def test_sqlite_vec_extension_lands_in_its_package_folder() -> None:
    sqlite_vec = pytest.importorskip("sqlite_vec")
    package = Path(sqlite_vec.__file__).parent
    entries = contents.sqlite_vec_entries(package)
    assert [Path(source).stem for source, _ in entries] == ["vec0"]
    assert Path(sqlite_vec.loadable_path()).parent.name == entries[0][1]
