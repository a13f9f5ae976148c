"""Shared fixtures: tiny local models (nothing downloaded), an offline HF cache, an engine per test."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Before anything imports huggingface_hub (it reads these at import time): no network, a private cache.
_HF_HOME = Path(tempfile.mkdtemp(prefix="cabin-test-hf-"))
os.environ["HF_HOME"] = str(_HF_HOME)
os.environ["HF_HUB_CACHE"] = str(_HF_HOME / "hub")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sys  # noqa: E402

import pytest  # noqa: E402

from engine.generation import Engine  # noqa: E402
from tests.model_factory import ModelSpec, build_model  # noqa: E402

pytest_plugins = ["tests.app_fixtures"]
sys.path.append(str(Path(__file__).resolve().parents[1] / "packaging"))  # packaging/'s scripts, for their tests


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def llama_model(models_dir: Path) -> Path:
    return build_model(models_dir / "tiny-llama", ModelSpec())


@pytest.fixture(scope="session")
def qwen2_model(models_dir: Path) -> Path:
    return build_model(models_dir / "tiny-qwen2", ModelSpec(arch="qwen2", seed=1))


@pytest.fixture(scope="session")
def llama_fp16_model(models_dir: Path) -> Path:
    return build_model(models_dir / "tiny-llama-fp16", ModelSpec(dtype="float16"))


@pytest.fixture(scope="session")
def llama_4bit_model(models_dir: Path) -> Path:
    return build_model(models_dir / "tiny-llama-4bit", ModelSpec(bits=4))


@pytest.fixture(scope="session")
def bf16_4bit_model(models_dir: Path) -> Path:
    """Like a community 4-bit model: bfloat16 weights quantized with bfloat16 scales and biases."""
    return build_model(models_dir / "tiny-llama-bf16-4bit", ModelSpec(dtype="bfloat16", bits=4, seed=3))


@pytest.fixture(scope="session")
def bigger_model(models_dir: Path) -> Path:
    """About 4 MB of weights: big enough for memory to be measurable."""
    return build_model(models_dir / "bigger-llama", ModelSpec(hidden_size=256, intermediate_size=512, seed=2))


@pytest.fixture(scope="session")
def eos_model(models_dir: Path, llama_model: Path) -> Path:
    """The tiny llama, with its first greedy answer token to "Hello" declared as EOS: it stops at once."""
    import mlx_lm

    model, tokenizer = mlx_lm.load(str(llama_model))
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "Hello"}], add_generation_prompt=True)
    first = next(mlx_lm.stream_generate(model, tokenizer, prompt, max_tokens=1)).token
    dest = models_dir / "eos-llama"
    shutil.copytree(llama_model, dest)
    config = json.loads((dest / "config.json").read_text())
    config["eos_token_id"] = [config["eos_token_id"], first]
    (dest / "config.json").write_text(json.dumps(config))
    return dest


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = Engine()
    yield engine
    engine.shutdown()


@pytest.fixture
def engine_as_stored() -> Iterator[Engine]:
    """An engine that runs weights exactly as stored (no float32 upcast on the CPU backend), like raw mlx_lm."""
    engine = Engine(upcast_on_cpu=False)
    yield engine
    engine.shutdown()


@pytest.fixture
def llama_engine(engine: Engine, llama_model: Path) -> Engine:
    engine.load(llama_model).result()
    return engine


@pytest.fixture
def hf_cache() -> Path:
    """The (empty-at-start, test-private) Hugging Face hub cache directory."""
    path = Path(os.environ["HF_HUB_CACHE"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def put_in_hf_cache(cache: Path, repo_id: str, model: Path, revision: str = "0" * 40) -> Path:
    """Lay out `model` as huggingface_hub stores a downloaded snapshot (blobs omitted: files copied)."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / revision
    shutil.copytree(model, snapshot, dirs_exist_ok=True)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(revision)
    return snapshot
