"""The tiny multimodal GGUF pairs (tests/mmproj_factory.py) run on llama.cpp's multimodal library as real ones do:
llama-cpp-python's own MTMDChatHandler answers a message holding an image, the image changes what the model
predicts, and mtmd turns one image into the tokens its family uses (Gemma 3's between begin/end text tokens).
"""

from __future__ import annotations

import base64
import ctypes
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (scripts/setup.sh builds it)")

import llama_cpp  # noqa: E402
from llama_cpp import mtmd_cpp as mtmd  # noqa: E402
from llama_cpp.llama_chat_format import MTMDChatHandler  # noqa: E402

from tests.mmproj_factory import IMAGE_BEGIN, IMAGE_END, write_gemma3_pair, write_llava_pair  # noqa: E402

Pair = tuple[Path, Path]
WRITERS: dict[str, Callable[..., Pair]] = {"llava": write_llava_pair, "gemma3": write_gemma3_pair}
IMAGE_TOKENS = 4  # both projectors: 2×2 outputs (LLaVA 28 px / 14 px patches; Gemma 3 32 px / 8 px pooled by 2)
MARKER = mtmd.mtmd_default_marker().decode()  # where a prompt's text puts the image
PROMPT_TOKENS_PER_IMAGE = {"llava": IMAGE_TOKENS, "gemma3": 1 + IMAGE_TOKENS + 1}  # Gemma 3's begin and end tokens


def png(color: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, "PNG")
    return buffer.getvalue()


def image_message(image: bytes, text: str = "What is this?") -> list[dict]:
    url = "data:image/png;base64," + base64.b64encode(image).decode()
    parts = [{"type": "image_url", "image_url": {"url": url}}, {"type": "text", "text": text}]
    return [{"role": "user", "content": parts}]


@pytest.fixture(scope="module", params=sorted(WRITERS))
def family(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def pair(family: str, request: pytest.FixtureRequest) -> Pair:
    return request.getfixturevalue(f"{family}_gguf_pair")


@pytest.fixture(scope="module")
def chat(pair: Pair) -> Iterator[llama_cpp.Llama]:
    """The pair loaded as llama-cpp-python runs it: the text model with an MTMDChatHandler for the projector."""
    model, mmproj = pair
    handler = MTMDChatHandler(clip_model_path=str(mmproj), verbose=False)
    llm = llama_cpp.Llama(model_path=str(model), chat_handler=handler, n_ctx=512, logits_all=True, verbose=False)
    yield llm
    llm.close()


@contextmanager
def loaded(pair: Pair) -> Iterator[tuple[llama_cpp.Llama, mtmd.mtmd_context_p]]:
    """The text model and an mtmd context for its projector (as MTMDChatHandler makes one)."""
    model, mmproj = pair
    llm = llama_cpp.Llama(model_path=str(model), n_ctx=512, verbose=False)
    params = mtmd.mtmd_context_params_default()
    params.use_gpu, params.print_timings, params.n_threads = False, False, 1
    context = mtmd.mtmd_init_from_file(str(mmproj).encode(), llm.model, params)
    assert context is not None
    try:
        yield llm, context
    finally:
        mtmd.mtmd_free(context)
        llm.close()


def chunks(context: mtmd.mtmd_context_p, text: str, image: bytes) -> list[tuple[str, object]]:
    """mtmd's tokenization of `text` (holding one media marker) with `image`: ("text", ids) or ("image", chunk)."""
    bitmap = mtmd.mtmd_helper_bitmap_init_from_buf(context, (ctypes.c_uint8 * len(image)).from_buffer_copy(image),
                                                   len(image), False)  # fmt: skip
    prompt = mtmd.mtmd_input_text()
    prompt.text, prompt.text_len = text.encode(), len(text.encode())
    prompt.add_special = prompt.parse_special = True
    found = mtmd.mtmd_input_chunks_init()
    try:
        assert mtmd.mtmd_tokenize(context, found, ctypes.byref(prompt), (mtmd.mtmd_bitmap_p_ctypes * 1)(bitmap), 1) == 0
        listed: list[tuple[str, object]] = []
        for index in range(mtmd.mtmd_input_chunks_size(found)):
            chunk = mtmd.mtmd_input_chunks_get(found, index)
            if mtmd.mtmd_input_chunk_get_type(chunk) == mtmd.MTMD_INPUT_CHUNK_TYPE_TEXT:
                size = ctypes.c_size_t()
                ids = mtmd.mtmd_input_chunk_get_tokens_text(chunk, ctypes.byref(size))
                listed.append(("text", [ids[i] for i in range(size.value)]))
            else:
                listed.append(("image", (mtmd.mtmd_input_chunk_get_n_tokens(chunk),
                                         mtmd.mtmd_decode_use_non_causal(context, chunk))))  # fmt: skip
        return listed
    finally:
        mtmd.mtmd_input_chunks_free(found)
        mtmd.mtmd_bitmap_free(bitmap)


def one_token(llm: llama_cpp.Llama, text: str) -> int:
    [token] = llm.tokenize(text.encode(), add_bos=False, special=True)
    return token


def next_token_logits(llm: llama_cpp.Llama, image: bytes) -> np.ndarray:
    """The logits after the prompt holding `image` (the handler evaluates it, logits_all keeps every row)."""
    answer = llm.create_chat_completion(messages=image_message(image), temperature=0, max_tokens=1)
    return llm.scores[answer["usage"]["prompt_tokens"] - 1].copy()


def test_the_chat_handler_answers_an_image_and_text(chat: llama_cpp.Llama) -> None:
    answer = chat.create_chat_completion(messages=image_message(png("red")), temperature=0, max_tokens=4)
    assert answer["usage"]["completion_tokens"] >= 1
    assert isinstance(answer["choices"][0]["message"]["content"], str)


def test_the_prompt_counts_the_image_tokens(chat: llama_cpp.Llama, family: str) -> None:
    text_only = [{"role": "user", "content": [{"type": "text", "text": "What is this?"}]}]
    with_image = chat.create_chat_completion(messages=image_message(png("red")), max_tokens=1)["usage"]
    without = chat.create_chat_completion(messages=text_only, max_tokens=1)["usage"]
    assert with_image["prompt_tokens"] - without["prompt_tokens"] == PROMPT_TOKENS_PER_IMAGE[family]


def test_two_images_give_different_predictions(chat: llama_cpp.Llama) -> None:
    red, blue = next_token_logits(chat, png("red")), next_token_logits(chat, png("blue"))
    assert np.abs(red - blue).max() > 0.01


def test_the_same_image_gives_the_same_predictions(chat: llama_cpp.Llama) -> None:
    assert np.array_equal(next_token_logits(chat, png("red")), next_token_logits(chat, png("red")))


def test_a_llava_image_is_four_causal_tokens_with_no_text_around_it(llava_gguf_pair: Pair) -> None:
    with loaded(llava_gguf_pair) as (llm, context):
        found = chunks(context, f"A{MARKER}B", png("red"))
        a, b = one_token(llm, "A"), one_token(llm, "B")
        assert found == [("text", [a]), ("image", (IMAGE_TOKENS, False)), ("text", [b])]


def test_a_gemma3_image_is_four_non_causal_tokens_between_its_begin_and_end_tokens(gemma3_gguf_pair: Pair) -> None:
    with loaded(gemma3_gguf_pair) as (llm, context):
        found = chunks(context, f"A{MARKER}B", png("red"))
        begin, end = one_token(llm, IMAGE_BEGIN), one_token(llm, IMAGE_END)
        assert found == [("text", [one_token(llm, "A"), begin]), ("image", (IMAGE_TOKENS, True)),
                         ("text", [end, one_token(llm, "B")])]  # fmt: skip


def test_a_seed_writes_the_same_files(family: str, tmp_path: Path) -> None:
    first, second = WRITERS[family](tmp_path / "first", seed=3), WRITERS[family](tmp_path / "second", seed=3)
    assert [path.read_bytes() for path in first] == [path.read_bytes() for path in second]


def test_another_seed_writes_other_weights(family: str, tmp_path: Path) -> None:
    first, second = WRITERS[family](tmp_path / "first", seed=3), WRITERS[family](tmp_path / "second", seed=4)
    assert all(a.read_bytes() != b.read_bytes() for a, b in zip(first, second, strict=True))


def test_both_files_are_tiny(pair: Pair) -> None:
    assert all(path.stat().st_size < 500_000 for path in pair)


def test_the_projector_sits_beside_its_model_named_as_llama_cpp_publishes_them(pair: Pair) -> None:
    model, mmproj = pair
    assert mmproj.parent == model.parent and mmproj.name.startswith("mmproj-") and mmproj.suffix == ".gguf"
