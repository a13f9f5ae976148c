"""A multimodal GGUF model with its vision projector (`mmproj`) reads images on llama.cpp (engine/backends/
llamacpp_vision.py): found beside the model, counted in the fit, answering as llama-cpp-python's own
MTMDChatHandler does on the same files, and keeping the prompt cache across text turns and conversations."""

from __future__ import annotations

import base64
import io
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image as Picture

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (scripts/setup.sh builds it)")

from engine.errors import ModelError  # noqa: E402
from engine.generation import Engine, SamplingSettings  # noqa: E402
from engine.models.gguf_info import inspect_gguf  # noqa: E402
from engine.models.gguf_model import inspect_gguf_model  # noqa: E402
from engine.messages import Image, Message, Text  # noqa: E402
from tests.mmproj_factory import write_gemma3_pair, write_llava_pair  # noqa: E402

Pair = tuple[Path, Path]
GREEDY = SamplingSettings(temperature=0, max_tokens=8)


def png(color: str, size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Picture.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def image(color: str) -> Image:
    return Image(data=base64.b64encode(png(color)).decode())


def asking(color: str, text: str = "What is this?") -> Message:
    return Message("user", (image(color), Text(text)))


POSITIONS_SAVED = {"llava": 0, "gemma3": 0, "qwen2vl": 12 - 4}
"""Tokens an image takes beyond its positions: Qwen2-VL's image (M-RoPE) fills 12 KV cells over 4 positions."""


@pytest.fixture(params=sorted(POSITIONS_SAVED))
def family(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def pair(family: str, request: pytest.FixtureRequest) -> Pair:
    return request.getfixturevalue(f"{family}_gguf_pair")


@pytest.fixture
def vision_gguf(engine: Engine, pair: Pair) -> Engine:
    engine.load(pair[0]).result()
    return engine


def reference_answer(pair: Pair, color: str, max_tokens: int) -> tuple[int, list[int]]:
    """llama-cpp-python's own multimodal chat on the same files: its prompt's length and the first ids it generated
    (read back from its context, which holds every id it evaluated)."""
    import llama_cpp
    from llama_cpp.llama_chat_format import MTMDChatHandler

    model, mmproj = pair
    handler = MTMDChatHandler(clip_model_path=str(mmproj), verbose=False)
    llm = llama_cpp.Llama(model_path=str(model), chat_handler=handler, n_ctx=512, verbose=False)
    try:
        url = "data:image/png;base64," + base64.b64encode(png(color)).decode()
        parts = [{"type": "image_url", "image_url": {"url": url}}, {"type": "text", "text": "What is this?"}]
        answer = llm.create_chat_completion([{"role": "user", "content": parts}], temperature=0, repeat_penalty=1.0,
                                            max_tokens=max_tokens)  # fmt: skip
        prompt = answer["usage"]["prompt_tokens"]
        return prompt, llm.input_ids[prompt : min(llm.n_tokens, prompt + max_tokens)].tolist()
    finally:
        llm.close()


# -- finding the projector ---------------------------------------------------------------------------------------
def test_a_gguf_with_its_projector_beside_it_reads_images(llava_gguf_pair: Pair) -> None:
    model, mmproj = llava_gguf_pair
    info = inspect_gguf_model(model)
    assert (info.vision, info.projector, info.type_label) == (True, mmproj, "llama + vision")


def test_the_projector_weights_count_in_the_fit(llava_gguf_pair: Pair) -> None:
    model, mmproj = llava_gguf_pair
    assert inspect_gguf_model(model).weight_bytes == inspect_gguf(model).tensor_bytes + inspect_gguf(mmproj).tensor_bytes


def test_a_gguf_alone_reads_text_only(llava_gguf_pair: Pair, tmp_path: Path) -> None:
    model = Path(shutil.copy(llava_gguf_pair[0], tmp_path))
    info = inspect_gguf_model(model)
    assert (info.vision, info.projector) == (False, None)


def test_a_projector_for_another_width_is_not_taken(llava_gguf_pair: Pair, tmp_path: Path) -> None:
    """A folder of several models: a projector whose output width is not the model's embedding width is another's."""
    model = Path(shutil.copy(llava_gguf_pair[0], tmp_path))
    from tests.gguf_factory import GgufSpec, write_gguf

    other = write_gguf(tmp_path / "other.gguf", GgufSpec(hidden=128, intermediate=256))
    shutil.copy(llava_gguf_pair[1], tmp_path / "mmproj-tiny-llava-f16.gguf")
    assert inspect_gguf_model(model).vision
    assert not inspect_gguf_model(other).vision


def test_of_two_projectors_the_one_named_like_the_model_is_taken(tmp_path: Path) -> None:
    llava_model, _ = write_llava_pair(tmp_path)
    gemma_folder = tmp_path / "gemma"
    _, gemma_projector = write_gemma3_pair(gemma_folder)
    moved = Path(shutil.copy(gemma_projector, tmp_path / "mmproj-zz-other-f16.gguf"))
    assert inspect_gguf_model(llava_model).projector == tmp_path / "mmproj-tiny-llava-f16.gguf"
    assert moved.exists()


def test_an_ollama_model_finds_its_projector_layer(llava_gguf_pair: Pair, tmp_path: Path) -> None:
    blobs, manifests = tmp_path / "blobs", tmp_path / "manifests" / "registry.ollama.ai" / "library" / "tiny-llava"
    blobs.mkdir()
    manifests.mkdir(parents=True)
    model, projector = blobs / "sha256-aaaa", blobs / "sha256-bbbb"
    shutil.copy(llava_gguf_pair[0], model)
    shutil.copy(llava_gguf_pair[1], projector)
    layers = [{"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:aaaa"},
              {"mediaType": "application/vnd.ollama.image.projector", "digest": "sha256:bbbb"}]  # fmt: skip
    (manifests / "latest").write_text(json.dumps({"layers": layers}))
    info = inspect_gguf_model(model)
    assert (info.name, info.projector) == ("tiny-llava:latest", projector)


# -- answering ---------------------------------------------------------------------------------------------------
def test_an_answer_about_an_image_is_llama_cpp_pythons_own(vision_gguf: Engine, pair: Pair, family: str) -> None:
    """Same prompt, same greedy ids as llama-cpp-python's MTMDChatHandler on the same two files (which counts the
    prompt in positions, Cabin in tokens)."""
    prompt, reference = reference_answer(pair, "red", GREEDY.max_tokens)
    answer = vision_gguf.chat([asking("red")], GREEDY).result()
    assert answer.stats.prompt_tokens == prompt + POSITIONS_SAVED[family]
    assert len(reference) >= 1
    assert list(answer.token_ids[: len(reference)]) == reference


def test_the_image_reaches_the_model(vision_gguf: Engine) -> None:
    """Answers to a few different pictures are not all the same (a projector that fed nothing would make them so)."""
    answers = {vision_gguf.chat([asking(color)], GREEDY).result().token_ids for color in ("red", "blue", "white", "black")}
    assert len(answers) > 1


def follow_up(color: str) -> list[Message]:
    """A second question about the image, after an answer written here (a random model's own answer, rendered again,
    need not give back the ids it generated, which the prompt cache keeps)."""
    return [asking(color), Message("assistant", (Text("A square."),)), Message("user", (Text("And now?"),))]


def fresh_answer(model: Path, messages: list[Message]) -> tuple[int, ...]:
    engine = Engine()
    try:
        engine.load(model).result()
        return engine.chat(messages, GREEDY).result().token_ids
    finally:
        engine.shutdown()


def test_a_text_turn_after_an_image_prefills_only_the_new_text(vision_gguf: Engine) -> None:
    first = vision_gguf.chat([asking("red")], GREEDY, "c").result()
    second = vision_gguf.chat(follow_up("red"), GREEDY, "c").result()
    assert second.stats.prefilled_tokens == second.stats.prompt_tokens - first.stats.prompt_tokens


def test_a_cached_image_answers_as_a_fresh_one(vision_gguf: Engine, pair: Pair) -> None:
    vision_gguf.chat([asking("red")], GREEDY, "c").result()
    cached = vision_gguf.chat(follow_up("red"), GREEDY, "c").result()
    assert cached.error is None
    assert cached.token_ids == fresh_answer(pair[0], follow_up("red"))


def test_another_image_in_the_same_place_is_not_taken_from_the_cache(vision_gguf: Engine) -> None:
    """Only the few tokens before the image ("<|im_start|>user\n") can be kept when the image changes."""
    vision_gguf.chat([asking("red")], GREEDY, "c").result()
    blue = vision_gguf.chat([asking("blue")], GREEDY, "c").result()
    assert blue.stats.prefilled_tokens >= blue.stats.prompt_tokens - len("<|im_start|>user\n")


def test_conversations_with_images_keep_their_answers_when_switched(vision_gguf: Engine, pair: Pair) -> None:
    """Each conversation's keys and values, image included, are saved and restored when another one answers."""
    first = vision_gguf.chat([asking("red")], GREEDY, "red").result()
    vision_gguf.chat([asking("blue")], GREEDY, "blue").result()
    switched = vision_gguf.chat(follow_up("red"), GREEDY, "red").result()
    assert switched.stats.prefilled_tokens == switched.stats.prompt_tokens - first.stats.prompt_tokens
    assert switched.token_ids == fresh_answer(pair[0], follow_up("red"))


def test_a_text_only_question_needs_no_image(vision_gguf: Engine) -> None:
    answer = vision_gguf.chat([Message("user", (Text("Hello"),))], GREEDY).result()
    assert answer.error is None and answer.stats.generated_tokens >= 1


def test_an_image_that_is_not_a_picture_fails_the_answer_in_one_line(vision_gguf: Engine) -> None:
    broken = Image(data=base64.b64encode(b"not a picture").decode())
    answer = vision_gguf.chat([Message("user", (broken, Text("What?")))], GREEDY).result()
    assert answer.error is not None and "not an image" in answer.error and "\n" not in answer.error


def test_a_projector_llama_cpp_refuses_is_one_line(llava_gguf_pair: Pair, tmp_path: Path, engine: Engine) -> None:
    """A projector whose header reads but whose type llama.cpp does not know: loading says so, naming the file."""
    from gguf import GGUFWriter

    model = Path(shutil.copy(llava_gguf_pair[0], tmp_path))
    writer = GGUFWriter(str(tmp_path / "mmproj-broken.gguf"), "clip")
    writer.add_type("mmproj")
    writer.add_bool("clip.has_vision_encoder", True)
    writer.add_string("clip.projector_type", "no-such-projector")
    writer.add_uint32("clip.vision.projection_dim", 64)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(ModelError) as error:
        engine.load(model).result()
    assert "mmproj-broken.gguf" in str(error.value) and "\n" not in str(error.value)


def test_a_model_that_starts_with_bos_gets_it_before_a_prompt_with_images(tmp_path: Path) -> None:
    """The engine asks `encode("")` whether the tokenizer adds BOS (engine/generation/turn.py: with_bos)."""
    from dataclasses import replace

    from engine.backends.llamacpp_vision import LlamaCppVisionBackend
    from tests.gguf_factory import write_gguf
    from tests.mmproj_factory import text_spec, write_llava_mmproj

    model = write_gguf(tmp_path / "tiny-llava.Q8_0.gguf", replace(text_spec("llama", 0), add_bos=True))
    write_llava_mmproj(tmp_path / "mmproj-tiny-llava-f16.gguf", 1)
    backend = LlamaCppVisionBackend.load(inspect_gguf_model(model), 512)
    try:
        tokenizer = backend.tokenizer
        assert tokenizer.encode("") == [tokenizer.bos_token_id]
    finally:
        backend.release()
