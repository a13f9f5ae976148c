"""What the frozen app must carry beyond what PyInstaller finds by following imports (cabin.spec uses it).

None of MLX, mlx-lm, coremltools or Cabin's BLAS shim has a PyInstaller hook, and each loads parts of
itself in ways the import scanner cannot see:
- MLX's C++ core imports `mlx._reprlib_fix` and `mlx.__array_api_info` itself;
- mlx-lm picks its model module by the config's model_type at run time ("Model type llama not
  supported" otherwise), and likewise its chat templates and tool parsers;
- transformers imports tokenizer and model classes lazily, by name, from the model's config;
- Cabin finds `engine._blas_shim` with importlib and dlopens scipy-openblas32's library (engine/blas.py),
- llama-cpp-python loads libllama and ggml with ctypes from its own `llama_cpp/lib` folder,
  and imports each command's module by name once it is chosen (engine/cli);
- on a Mac, Metal finds `mlx.metallib` next to the libmlx it was loaded from (dladdr), so the
  library goes beside libmlx and a link at the top level, where PyInstaller also links libmlx.
This module imports no PyInstaller, so the tests can check the recipe.
"""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path

from engine.coreml.source import SUPPORTED_ARCHITECTURES

APP_NAME = "Cabin"
BUNDLE_ID = "app.cabin.Cabin"
MINIMUM_MACOS = "14.0"

HIDDEN_IMPORTS = (
    "mlx._reprlib_fix",
    "mlx.__array_api_info",
    "engine._blas_shim",
)

SUBMODULE_PACKAGES = (
    "mlx_lm.models",
    "mlx_lm.chat_templates",
    "mlx_lm.tool_parsers",
    "mlx_vlm.models",
    "cabin",
    "engine",
    "app",
)
"""Collected whole: chosen by name at run time, or (Cabin's own) small and all needed."""

EXPORT_ARCHITECTURES = SUPPORTED_ARCHITECTURES
"""Model families whose transformers modeling code the Core ML export instantiates (AutoModelForCausalLM)."""

TRANSFORMERS_LAZY_KINDS = ("configuration_", "tokenization_", "image_processing_", "processing_")
"""Of every transformers model family, the config, tokenizer, image processor and processor modules: any chat model's
tokenizer loads, and any vision model's processor (mlx-vlm prepares images with transformers' own)."""

DATA_PACKAGES = ("transformers", "tokenizers", "huggingface_hub", "kernels", "docx")
"""Packages with non-Python files to carry: huggingface_hub's model-card template is written by every conversion;
kernels (required by transformers 5.25) reads its python_depends.json when the Core ML export imports transformers;
python-docx reads its default parts (docx/templates) for a Word document that lacks them."""

METADATA = (
    "cabin-ai",
    "mlx",
    "mlx-lm",
    "transformers",
    "tokenizers",
    "huggingface-hub",
    "safetensors",
    "torch",
    "coremltools",
    "numpy",
    "scikit-learn",
    "llguidance",
)
"""Distributions whose version is read with importlib.metadata at run time (Cabin's own --version included;
llguidance reads its own when imported, which every answer does)."""

LINUX_ONLY_METADATA = ("scipy-openblas32", "mlx-cpu")

EXCLUDES = (
    "tkinter",
    "matplotlib",
    "IPython",
    "jupyter_client",
    "notebook",
    "pytest",
    "_pytest",
    "pytestqt",
    "PyQt5",
    "PyQt6",
    "PySide2",
    "tensorboard",
    "torch.utils.tensorboard",
    "torchvision",
    "torchaudio",
    "coremltools.test",
    "cv2",
    "mlx_audio",
    "miniaudio",
    "datasets",
    "pandas",
    "pyarrow",
    "fastapi",
    "uvicorn",
    "starlette",
)
"""Never needed by the app; some are optional imports of torch, transformers or coremltools that would pull in hundreds of MB.
mlx-vlm requires OpenCV, datasets, mlx-audio and a web stack for its video, audio and server modules: the image chat
models Cabin loads (and `mlx_vlm.load`/`generate`) import none of them, so they stay out (~550 MB)."""

SUBMODULE_EXCLUDE_MARKERS = (".test", ".tests", "._test", ".testing")

DROPPED_FILES = (
    "torch/test/*",
    "torch/bin/test_*",
    "torch/bin/*Test",
    "torch/bin/protoc*",
    "torch/bin/*.pt",
    "torch/bin/*.ptl",
    "torch/lib/*test*.so",
    "torch/lib/libaoti_custom_ops.so",
    "torch/lib/libbackend_with_compiler.so",
)
"""Files torch's hook collects that only its own C++ test suite uses (~130 MB); torch_shm_manager stays."""


def keep_submodule(name: str) -> bool:
    """Skip test packages when collecting a package's submodules."""
    return not any(marker in name for marker in SUBMODULE_EXCLUDE_MARKERS)


def keep_file(dest: str) -> bool:
    """Whether a collected file (its path inside the bundle) belongs in the app."""
    return not any(fnmatch(dest, pattern) for pattern in DROPPED_FILES)


def wanted_transformers_module(name: str) -> bool:
    """transformers.models.<family>.<module>: every config/tokenizer module, and modeling for the exported families.

    Family packages themselves are kept (their lazy __init__ is small), or their modules would not be visited.
    """
    parts = name.split(".")
    if parts[:2] != ["transformers", "models"] or len(parts) not in (3, 4):
        return False
    if len(parts) == 3:
        return True
    family, module = parts[2], parts[3]
    if module.startswith(TRANSFORMERS_LAZY_KINDS):
        return True
    return family in EXPORT_ARCHITECTURES and module == f"modeling_{family}"


def metal_library_entries(mlx_package: Path) -> list[tuple[str, str, str]]:
    """TOC entries for Metal's shader library: the file beside libmlx, and a link to it at the top level.

    Empty where MLX has no Metal library (its CPU build on Linux).
    """
    metallib = mlx_package / "lib" / "mlx.metallib"
    if not metallib.is_file():
        return []
    beside_libmlx = "mlx/lib/mlx.metallib"
    return [(beside_libmlx, str(metallib), "DATA"), ("mlx.metallib", beside_libmlx, "SYMLINK")]


def openblas_entries(openblas_package: Path | None) -> list[tuple[str, str]]:
    """(source, destination folder) for scipy-openblas32's library, which engine/blas.py dlopens by path."""
    if openblas_package is None:
        return []
    return [(str(library), "scipy_openblas32/lib") for library in sorted((openblas_package / "lib").glob("libscipy_openblas*"))]


LLAMA_CPP_LIBRARIES = ("libllama", "libggml", "libmtmd")
"""llama.cpp's libraries that llama-cpp-python loads (libmtmd: images, with a GGUF's vision projector)."""


def llama_cpp_entries(llama_cpp_package: Path | None) -> list[tuple[str, str]]:
    """(source, destination folder) for llama.cpp's libraries, loaded with ctypes from the package's lib folder
    (llama_cpp/llama_cpp.py); libllama finds ggml through its $ORIGIN (or @loader_path) run path, so they stay together."""
    if llama_cpp_package is None:
        return []
    libraries = sorted((llama_cpp_package / "lib").glob("lib*"))
    return [(str(library), "llama_cpp/lib") for library in libraries if library.name.startswith(LLAMA_CPP_LIBRARIES)]


def sqlite_vec_entries(sqlite_vec_package: Path | None) -> list[tuple[str, str]]:
    """(source, destination folder) for sqlite-vec's loadable extension (vec0.so / vec0.dylib), which SQLite opens
    by path from the package's folder (sqlite_vec.loadable_path()); no `lib` prefix, so collect_dynamic_libs misses it."""
    if sqlite_vec_package is None:
        return []
    return [(str(library), "sqlite_vec") for library in sorted(sqlite_vec_package.glob("vec0.*"))]


def metadata_names(platform: str) -> tuple[str, ...]:
    return METADATA + (LINUX_ONLY_METADATA if platform.startswith("linux") else ())
