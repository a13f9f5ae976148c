"""The tiny multimodal GGUF pairs (tests/mmproj_factory.py) run on llama.cpp's multimodal library as real ones do:
llama-cpp-python's own MTMDChatHandler answers a message holding an image, the image changes what the model
predicts, and mtmd turns one image into the tokens its family uses (Gemma 3's between begin/end text tokens;
Qwen2-VL's between vision start/end tokens, at fewer positions than tokens, as its text model numbers positions in
several dimensions, M-RoPE).
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

from tests.mmproj_factory import (  # noqa: E402
    IMAGE_BEGIN,
    IMAGE_END,
    VISION_END,
    VISION_START,
    write_gemma3_pair,
    write_llava_pair,
    write_qwen2vl_pair,
)

Pair = tuple[Path, Path]
WRITERS: dict[str, Callable[..., Pair]] = {"llava": write_llava_pair, "gemma3": write_gemma3_pair,
                                           "qwen2vl": write_qwen2vl_pair}  # fmt: skip
IMAGE_TOKENS = 4  # LLaVA and Gemma 3: 2×2 outputs (LLaVA 28 px / 14 px patches; Gemma 3 32 px / 8 px pooled by 2)
# Qwen2-VL: the 40×30 px test image resized to at least 8 tokens of 28 px (14 px patches merged 2×2), 112×84 px:
# 4×3 tokens, which M-RoPE numbers with max(4, 3) positions
QWEN2VL_IMAGE_TOKENS, QWEN2VL_IMAGE_POSITIONS = 12, 4
MARKER = mtmd.mtmd_default_marker().decode()  # where a prompt's text puts the image
# a prompt counts an image's positions (llama-cpp-python's n_tokens), and Gemma 3's or Qwen2-VL's delimiters
PROMPT_TOKENS_PER_IMAGE = {"llava": IMAGE_TOKENS, "gemma3": 1 + IMAGE_TOKENS + 1,
                           "qwen2vl": 1 + QWEN2VL_IMAGE_POSITIONS + 1}  # fmt: skip


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
    llm = llama_cpp.Llama(model_path=str(model), n_ctx=512, logits_all=True, verbose=False)
    params = mtmd.mtmd_context_params_default()
    params.use_gpu, params.print_timings, params.n_threads = False, False, 1
    context = mtmd.mtmd_init_from_file(str(mmproj).encode(), llm.model, params)
    assert context is not None
    try:
        yield llm, context
    finally:
        mtmd.mtmd_free(context)
        llm.close()


@contextmanager
def tokenized(context: mtmd.mtmd_context_p, text: str, image: bytes) -> Iterator[list[mtmd.mtmd_input_chunk_p]]:
    """mtmd's chunks for `text` (holding one media marker) with `image`, in order."""
    bitmap = mtmd.mtmd_helper_bitmap_init_from_buf(context, (ctypes.c_uint8 * len(image)).from_buffer_copy(image),
                                                   len(image), False)  # fmt: skip
    prompt = mtmd.mtmd_input_text()
    prompt.text, prompt.text_len = text.encode(), len(text.encode())
    prompt.add_special = prompt.parse_special = True
    found = mtmd.mtmd_input_chunks_init()
    try:
        assert mtmd.mtmd_tokenize(context, found, ctypes.byref(prompt), (mtmd.mtmd_bitmap_p_ctypes * 1)(bitmap), 1) == 0
        yield [mtmd.mtmd_input_chunks_get(found, index) for index in range(mtmd.mtmd_input_chunks_size(found))]
    finally:
        mtmd.mtmd_input_chunks_free(found)
        mtmd.mtmd_bitmap_free(bitmap)


def is_text(chunk: mtmd.mtmd_input_chunk_p) -> bool:
    return mtmd.mtmd_input_chunk_get_type(chunk) == mtmd.MTMD_INPUT_CHUNK_TYPE_TEXT


def text_ids(chunk: mtmd.mtmd_input_chunk_p) -> list[int]:
    size = ctypes.c_size_t()
    ids = mtmd.mtmd_input_chunk_get_tokens_text(chunk, ctypes.byref(size))
    return [ids[i] for i in range(size.value)]


def chunks(context: mtmd.mtmd_context_p, text: str, image: bytes) -> list[tuple[str, object]]:
    """mtmd's tokenization of `text` with `image`: ("text", ids) or ("image", (tokens, positions, non-causal))."""
    with tokenized(context, text, image) as found:
        return [("text", text_ids(chunk)) if is_text(chunk) else
                ("image", (mtmd.mtmd_input_chunk_get_n_tokens(chunk), mtmd.mtmd_input_chunk_get_n_pos(chunk),
                           mtmd.mtmd_decode_use_non_causal(context, chunk)))
                for chunk in found]  # fmt: skip


def evaluate_image(llm: llama_cpp.Llama, context: mtmd.mtmd_context_p, chunk: mtmd.mtmd_input_chunk_p) -> int:
    """Decode an image chunk at the model's next position, as MTMDChatHandler does; the position after it."""
    after = llama_cpp.llama_pos(0)
    assert mtmd.mtmd_helper_eval_chunk_single(context, llm._ctx.ctx, chunk, llm.n_tokens, 0, llm.n_batch, False,
                                              ctypes.byref(after)) == 0  # fmt: skip
    llm.n_tokens = after.value
    return after.value


def text_around_image(llm: llama_cpp.Llama, context: mtmd.mtmd_context_p) -> Iterator[tuple[int, int]]:
    """Evaluate "A", an image, "B" chunk by chunk; yield each chunk's (first position, position after it)."""
    with tokenized(context, f"A{MARKER}B", png("red")) as found:
        for chunk in found:
            start = llm.n_tokens
            if is_text(chunk):
                llm.eval(text_ids(chunk))
            else:
                evaluate_image(llm, context, chunk)
            yield start, llm.n_tokens


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
        assert found == [("text", [a]), ("image", (IMAGE_TOKENS, IMAGE_TOKENS, False)), ("text", [b])]


def test_a_gemma3_image_is_four_non_causal_tokens_between_its_begin_and_end_tokens(gemma3_gguf_pair: Pair) -> None:
    with loaded(gemma3_gguf_pair) as (llm, context):
        found = chunks(context, f"A{MARKER}B", png("red"))
        begin, end = one_token(llm, IMAGE_BEGIN), one_token(llm, IMAGE_END)
        assert found == [("text", [one_token(llm, "A"), begin]), ("image", (IMAGE_TOKENS, IMAGE_TOKENS, True)),
                         ("text", [end, one_token(llm, "B")])]  # fmt: skip


def test_a_qwen2vl_image_is_twelve_causal_tokens_at_four_positions_between_the_vision_tokens(
    qwen2vl_gguf_pair: Pair,
) -> None:
    with loaded(qwen2vl_gguf_pair) as (llm, context):
        found = chunks(context, f"A{MARKER}B", png("red"))
        start, end = one_token(llm, VISION_START), one_token(llm, VISION_END)
        image = (QWEN2VL_IMAGE_TOKENS, QWEN2VL_IMAGE_POSITIONS, False)
        a, b = one_token(llm, "A"), one_token(llm, "B")
        assert found == [("text", [a, start]), ("image", image), ("text", [end, b])]


def test_only_the_qwen2vl_pair_decodes_with_multidimensional_positions(pair: Pair, family: str) -> None:
    with loaded(pair) as (_, context):
        assert mtmd.mtmd_decode_use_mrope(context) == (family == "qwen2vl")


def test_text_after_a_qwen2vl_image_continues_from_the_image_start_plus_its_positions(qwen2vl_gguf_pair: Pair) -> None:
    with loaded(qwen2vl_gguf_pair) as (llm, context):
        spans = list(text_around_image(llm, context))  # "A <|vision_start|>", the image, "<|vision_end|> B"
        image_start = spans[1][0]
        assert spans[1:] == [(image_start, image_start + QWEN2VL_IMAGE_POSITIONS),
                             (image_start + QWEN2VL_IMAGE_POSITIONS, image_start + QWEN2VL_IMAGE_POSITIONS + 2)]  # fmt: skip


def test_text_after_a_qwen2vl_image_can_be_removed_and_evaluated_again(qwen2vl_gguf_pair: Pair) -> None:
    with loaded(qwen2vl_gguf_pair) as (llm, context):
        *_, (after_image, end) = text_around_image(llm, context)
        ids, first = llm.input_ids[after_image:end].tolist(), llm.scores[end - 1].copy()
        assert llm._ctx.kv_cache_seq_rm(0, after_image, -1)
        llm.n_tokens = after_image
        llm.eval(ids)
        assert np.array_equal(llm.scores[end - 1], first)


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
