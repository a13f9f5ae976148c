"""Vision-language models on the engine: tiny random LLaVA and Gemma 3 models run by mlx-vlm through Cabin's worker,
images in the prompt cache, and a text-only model refusing an image."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import mlx.core as mx
import pytest

from engine.generation import Engine, SamplingSettings
from engine.images import readable
from engine.messages import Image, Message, Text
from engine.models.loading import inspect_model
from tests.vision_factory import VisionSpec, image_tokens, png_bytes

GREEDY = SamplingSettings(temperature=0.0, max_tokens=12)
RED, BLUE = png_bytes((200, 30, 30)), png_bytes((30, 30, 200))


def image(data: bytes) -> Image:
    return Image(data=base64.b64encode(data).decode("ascii"))


def question(data: bytes, text: str = "What is this?") -> Message:
    return Message("user", (image(data), Text(text)))


@dataclass(frozen=True)
class Family:
    fixture: str
    prompt: str
    """The first question as the family's template writes it, with the processor's image placeholder."""
    next_question: str
    """What follows an answer when the user asks "And now?"."""
    next_image_question: str
    """What follows an answer when the user asks "And now?" with another image (the processor's placeholder in it)."""


FAMILIES = {
    "llava": Family("vision_model", "<|im_start|>user\n<image>\nWhat is this?<|im_end|>\n<|im_start|>assistant\n",
                    "<|im_end|>\n<|im_start|>user\nAnd now?<|im_end|>\n<|im_start|>assistant\n",
                    "<|im_end|>\n<|im_start|>user\n<image>\nAnd now?<|im_end|>\n<|im_start|>assistant\n"),
    "gemma3": Family("gemma3_vision_model",
                     "<bos><start_of_turn>user\n<start_of_image>What is this?<end_of_turn>\n<start_of_turn>model\n",
                     "<end_of_turn>\n<start_of_turn>user\nAnd now?<end_of_turn>\n<start_of_turn>model\n",
                     "<end_of_turn>\n<start_of_turn>user\n<start_of_image>And now?<end_of_turn>\n<start_of_turn>model\n"),
}


@pytest.fixture(params=list(FAMILIES))
def family(request: pytest.FixtureRequest, engine: Engine) -> tuple[Family, Path, Engine]:
    """Each vision family: its description, its model folder, and the engine with it loaded."""
    family = FAMILIES[request.param]
    path = request.getfixturevalue(family.fixture)
    engine.load(path).result()
    return family, path, engine


def mlx_vlm_tokens(model_path: Path, prompt: str, data: bytes, max_tokens: int,
                   after: tuple[list[int], str] = ([], "")) -> list[int]:
    """mlx-vlm's own greedy generation on its processor's ids for `prompt` and the image, followed by `after`: ids
    as they are (an earlier answer), then text to tokenize (the next question)."""
    from mlx_vlm import load, stream_generate

    model, processor = load(str(model_path))
    inputs = processor(text=[prompt], images=[readable(data)], return_tensors="mlx")
    more = after[0] + processor.tokenizer.encode(after[1], add_special_tokens=False)
    ids = mx.concatenate([inputs["input_ids"], mx.array([more], dtype=inputs["input_ids"].dtype)], axis=1)
    responses = stream_generate(model, processor, "", input_ids=ids, pixel_values=inputs["pixel_values"],
                                mask=mx.ones_like(ids), max_tokens=max_tokens, temperature=0.0)
    return [response.token for response in responses][:max_tokens]  # mlx-vlm repeats the last in a final response


def test_a_llava_folder_is_a_vision_model_whose_fit_counts_the_vision_encoder(vision_model: Path) -> None:
    info = inspect_model(vision_model)
    vision_bytes = sum(v.nbytes for k, v in mx.load(str(vision_model / "model.safetensors")).items()
                       if k.startswith("vision_tower"))
    all_bytes = sum(v.nbytes for v in mx.load(str(vision_model / "model.safetensors")).values())
    assert info.vision and vision_bytes > 0
    assert info.weight_bytes >= all_bytes


def test_greedy_answer_to_an_image_equals_mlx_vlms_own_generate(family: tuple[Family, Path, Engine]) -> None:
    described, path, engine = family
    finished = engine.chat([question(RED)], GREEDY, "c").result()
    assert finished.finish_reason == "length"  # these seeds' random models say no EOS in 12 tokens
    assert list(finished.token_ids) == mlx_vlm_tokens(path, described.prompt, RED, GREEDY.max_tokens)


def test_the_answer_depends_on_the_image(vision_engine: Engine) -> None:
    red = vision_engine.chat([question(RED)], GREEDY, "red").result()
    blue = vision_engine.chat([question(BLUE)], GREEDY, "blue").result()
    assert red.token_ids != blue.token_ids


def test_a_text_turn_after_an_image_prefills_only_the_new_text(family: tuple[Family, Path, Engine]) -> None:
    described, path, engine = family
    first = engine.chat([question(RED)], GREEDY, "c").result()
    follow_up = [question(RED), Message("assistant", (Text(first.text),)), Message("user", (Text("And now?"),))]
    cached = engine.chat(follow_up, GREEDY, "c").result()
    assert cached.stats.prefilled_tokens < cached.stats.prompt_tokens - len(first.token_ids)
    expected = mlx_vlm_tokens(path, described.prompt, RED, GREEDY.max_tokens,
                              (list(first.token_ids), described.next_question))
    assert list(cached.token_ids) == expected


def test_a_second_image_later_in_the_conversation_prefills_only_that_turn(family: tuple[Family, Path, Engine]) -> None:
    from mlx_vlm import load, stream_generate

    described, path, engine = family
    first = engine.chat([question(RED)], GREEDY, "c").result()
    follow_up = [question(RED), Message("assistant", (Text(first.text),)), question(BLUE, "And now?")]
    cached = engine.chat(follow_up, GREEDY, "c").result()
    assert cached.stats.prefilled_tokens < cached.stats.prompt_tokens - len(first.token_ids)

    model, processor = load(str(path))
    opening = processor(text=[described.prompt], images=[readable(RED)], return_tensors="mlx")
    closing = processor(text=[described.next_image_question], images=[readable(BLUE)], return_tensors="mlx")
    answer = mx.array([list(first.token_ids)], dtype=opening["input_ids"].dtype)
    ids = mx.concatenate([opening["input_ids"], answer, closing["input_ids"].astype(answer.dtype)], axis=1)
    pixels = mx.concatenate([opening["pixel_values"], closing["pixel_values"]], axis=0)
    responses = stream_generate(model, processor, "", input_ids=ids, pixel_values=pixels, mask=mx.ones_like(ids),
                                max_tokens=GREEDY.max_tokens, temperature=0.0)
    assert list(cached.token_ids) == [r.token for r in responses][: GREEDY.max_tokens]


def test_another_image_in_the_same_place_is_not_taken_from_the_cache(vision_engine: Engine) -> None:
    vision_engine.chat([question(RED)], GREEDY, "c").result()
    blue = vision_engine.chat([question(BLUE)], GREEDY, "c").result()
    fresh = vision_engine.chat([question(BLUE)], GREEDY, "fresh").result()
    assert blue.token_ids == fresh.token_ids
    assert blue.stats.prefilled_tokens > image_tokens(VisionSpec())


def test_a_text_only_model_refuses_an_image_with_one_line(llama_engine: Engine) -> None:
    finished = llama_engine.chat([question(RED)], GREEDY, "c").result()
    assert finished.finish_reason == "error"
    assert finished.error.endswith("message 1 holds an image, but this model reads text only")
    assert "\n" not in finished.error


def test_an_image_that_is_no_picture_ends_the_answer_with_one_line(vision_engine: Engine) -> None:
    finished = vision_engine.chat([question(b"not a picture at all")], GREEDY, "c").result()
    assert finished.finish_reason == "error" and "not an image Cabin can read" in finished.error


def test_an_image_url_on_the_network_is_never_fetched(vision_engine: Engine) -> None:
    message = Message("user", (Image(url="https://example.com/cat.png"), Text("What is this?")))
    finished = vision_engine.chat([message], GREEDY, "c").result()
    assert finished.finish_reason == "error" and "not fetched" in finished.error
