"""The MLX vision backend: a vision-language model folder (Qwen2.5-VL, Gemma 3, SmolVLM, LLaVA...) run by mlx-vlm.

Everything above the backend stays the same as for text models: the worker thread, events, stop, context fitting
and the prompt cache of exact token ids. Images get into those ids as engine/backends/image_ids.py says
(`VisionTokenizer`):

- rendering a conversation, each image is read, checked and preprocessed once (its pixels, by the model's own
  processor) and the chat template's image token is replaced by a marker naming the image's sha256, so two
  prompts with different images never share a rendered prefix;
- encoding, a marker becomes the model's image tokens, with each image-token id swapped for a negative id derived
  from the image's digest, so the prompt cache's ids differ where the images differ, and match where they are the
  same (a text turn after an image reuses the whole cache, the image included);
- generating, the backend swaps those ids back and hands the images' pixels of the part still to prefill to
  mlx-vlm's `generate_step`, which merges the vision encoder's features into the embeddings.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from threading import Event as StopFlag
from typing import Any

import mlx.core as mx
from mlx.utils import tree_flatten

from engine.allocator import return_freed_memory
from engine.backends.base import MemoryCounters, PrefillStopped, Step, worker_only
from engine.backends.image_ids import PreparedImages, image_id, marker
from engine.backends.mlx import PREFILL_STEP, logits_processors, sampler
from engine.backends.mlx_runtime import MLXRuntime, read_counters
from engine.compute_dtype import ComputePlan, apply_compute_policy, float32_fit
from engine.errors import ModelError
from engine.generation.settings import SamplingSettings
from engine.images import image_bytes, readable, with_digest
from engine.messages import Image
from engine.models.fit import memory_budget
from engine.models.folder import ModelInfo

PER_IMAGE_INPUTS = ("image_grid_thw", "image_sizes")
"""Processor outputs besides the pixels that some models read (Qwen-VL's patch grid, Pixtral's sizes)."""


@dataclass(frozen=True)
class PreparedImage:
    ids: list[int]
    """The image's tokens, image-token ids replaced by `image_id` (other ids, e.g. begin/end of image, kept)."""
    pixels: Any
    """The processor's pixel values for this one image (batch of 1)."""
    extras: dict[str, Any]
    """What else the processor says of the image that the model reads (its grid, its size), one row per image."""


class VisionTokenizer:
    """The model's Hugging Face tokenizer, plus images: renders them as markers and encodes markers as image tokens.

    Everything else (`decode`, `bos_token`, `eos_token_id`, `vocab_size`...) is the tokenizer's own."""

    reads_images = True

    def __init__(self, processor: Any, image_token_id: int) -> None:
        self._processor = processor
        self._tokenizer = processor.tokenizer
        self._image_token_id = image_token_id
        self._images: PreparedImages[PreparedImage] = PreparedImages()
        self.chat_template = getattr(processor, "chat_template", None) or self._tokenizer.chat_template

    @functools.cached_property
    def _placeholder(self) -> str:
        """What the chat template writes for one image ("<image>\n", "<start_of_image>",
        "<|vision_start|><|image_pad|><|vision_end|>"...): the difference between a message with an image and
        the same message without. The model's processor expands exactly that text into the image's tokens."""

        def rendered(*items: dict[str, str]) -> str:
            message = {"role": "user", "content": [*items, {"type": "text", "text": "\x1f"}]}
            return self._tokenizer.apply_chat_template([message], chat_template=self.chat_template, tokenize=False)

        try:
            with_image, without = rendered({"type": "image"}), rendered()
        except Exception as e:  # noqa: BLE001 — a template error of any kind: this model's template takes no images
            raise ModelError(f"this model's chat template cannot place an image ({e})") from None
        start = len(os.path.commonprefix([with_image, without]))
        end = len(os.path.commonprefix([with_image[start:][::-1], without[start:][::-1]]))
        placeholder = with_image[start : len(with_image) - end]
        if not placeholder:
            raise ModelError("this model's chat template writes nothing for an image")
        return placeholder

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tokenizer, name)

    def apply_chat_template(self, conversation: list[dict[str, Any]], **kwargs: Any) -> str:
        """Render with the model's template; each image part ({"type": "image", "image": Image}) is prepared, and
        the image token the template writes for it becomes the image's marker."""
        digests = []
        for message in conversation:
            if isinstance(message.get("content"), list):
                for item in message["content"]:
                    if item.get("type") == "image":
                        digests.append(self.prepare(item.pop("image")))
        kwargs.pop("chat_template", None)
        rendered = self._tokenizer.apply_chat_template(conversation, chat_template=self.chat_template, **kwargs)
        pieces = rendered.split(self._placeholder)
        if len(pieces) - 1 != len(digests):
            raise ModelError(f"this model's chat template placed {len(pieces) - 1} image(s) for {len(digests)}")
        return pieces[0] + "".join(marker(sha) + piece for sha, piece in zip(digests, pieces[1:]))

    def prepare(self, part: Image) -> str:
        """Read, check and preprocess an image once (kept by digest); its digest."""
        part = with_digest(part)
        sha = part.sha256 or ""
        if sha in self._images:
            self._images.touch(sha)
            return sha
        picture = readable(image_bytes(part))
        inputs = self._processor(text=[self._placeholder], images=[picture], return_tensors="mlx")
        ids = [image_id(sha) if t == self._image_token_id else t for t in mx.array(inputs["input_ids"])[0].tolist()]
        extras = {k: mx.array(v) for k, v in inputs.items() if k in PER_IMAGE_INPUTS}
        self._images.add(sha, PreparedImage(ids, mx.array(inputs["pixel_values"]), extras))
        return sha

    def encode(self, text: str, add_special_tokens: bool = True, **kwargs: Any) -> list[int]:
        return self._images.encode(text, self._tokenizer.encode, add_special_tokens, **kwargs)

    def model_inputs(self, prompt: list[int]) -> tuple[list[int], Any, dict[str, Any]]:
        """The real token ids of `prompt`, the pixels of the images in it (None: it holds none) and their extras.

        `prompt` is the part still to prefill: its images are whole (an image's ids are all equal, so a cached
        prefix never ends inside one)."""
        by_id = self._images.by_id()
        ids: list[int] = []
        images: list[PreparedImage] = []
        index = 0
        while index < len(prompt):
            token = prompt[index]
            if token >= 0:
                ids.append(token)
                index += 1
                continue
            if token not in by_id:
                raise ModelError("an image in this conversation is no longer prepared: send it again")
            run = sum(1 for t in by_id[token].ids if t < 0)
            ids += [self._image_token_id] * run
            images.append(by_id[token])
            index += run
        if not images:
            return ids, None, {}
        extras = {key: mx.concatenate([image.extras[key] for image in images], axis=0) for key in images[0].extras}
        return ids, mx.concatenate([image.pixels for image in images], axis=0), extras


class VisionBackend(MLXRuntime):
    """A vision-language model loaded with mlx-vlm. Made by `load`, on the thread that will use it."""

    context_limit = None
    kv_bits = None
    batchable = False
    """Answers run one at a time: mlx_lm's batch generator drives text models only, not mlx-vlm's image inputs."""

    def __init__(self, model: Any, processor: Any, compute_plan: ComputePlan) -> None:
        super().__init__()
        self._model = model
        self.compute_plan: ComputePlan | None = compute_plan
        self.resident_weight_bytes = sum(v.nbytes for _, v in tree_flatten(model.parameters()))
        image_token_id = getattr(model.config, "image_token_index", None) or getattr(model.config, "image_token_id")
        self._tokenizer = VisionTokenizer(processor, image_token_id)
        self._detokenizer = processor.detokenizer
        self._eos = eos_ids(model.config, processor.tokenizer)

    @classmethod
    def load(cls, info: ModelInfo, context: int, upcast_on_cpu: bool) -> VisionBackend:
        """Load a validated vision model folder (weights of the vision encoder included in the fit check)."""
        from mlx_vlm import load

        try:
            model, processor = load(str(info.path))
        except Exception as e:  # noqa: BLE001 — mlx-vlm raises many kinds; the user needs one line
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ModelError(f"could not load {info.name}: {reason}") from e
        plan = apply_compute_policy(model, float32_fit(info, context, memory_budget()), upcast_on_cpu)
        backend = cls(model, processor, plan)
        return_freed_memory()
        return backend

    @worker_only
    def new_cache(self) -> list[Any]:
        from mlx_vlm.models.cache import make_prompt_cache

        return make_prompt_cache(self._model.language_model)

    @worker_only
    def generate(self, prompt: list[int], kv: list[Any], settings: SamplingSettings, stop: StopFlag) -> Iterator[Step]:
        from mlx_vlm.generate import generate_step

        if settings.seed is not None:
            mx.random.seed(settings.seed)
        ids, pixels, extras = self._tokenizer.model_inputs(prompt)

        def check_stop(_done: int, _kv: Any) -> None:
            if stop.is_set():
                raise PrefillStopped

        tokens = generate_step(
            mx.array([ids]),
            self._model,
            pixels,
            mx.ones((1, len(ids)), dtype=mx.int32),
            max_tokens=settings.max_tokens,
            sampler=sampler(settings, self._tokenizer.vocab_size),
            logits_processors=logits_processors(settings, self._tokenizer),
            prompt_cache=kv,
            prefill_step_size=PREFILL_STEP,
            prompt_cache_checkpoint=check_stop,
            prompt_cache_checkpoint_lengths=list(range(PREFILL_STEP, len(ids), PREFILL_STEP)),
            **extras,
        )
        return self._steps(tokens, len(ids), settings.max_tokens)

    def _steps(self, tokens: Iterator[Any], prompt_len: int, max_tokens: int) -> Iterator[Step]:
        started = time.perf_counter()
        detokenizer = self._detokenizer
        detokenizer.reset()
        prompt_tps, decode_started = 0.0, started
        try:
            for n, (token, _logprobs) in enumerate(tokens, start=1):
                self.check_thread("generate")
                now = time.perf_counter()
                if n == 1:
                    prompt_tps, decode_started = prompt_len / max(now - started, 1e-9), now
                reason = "stop" if token in self._eos else "length" if n >= max_tokens else None
                if reason == "stop":
                    detokenizer.finalize()
                else:
                    detokenizer.add_token(token)
                    if reason:
                        detokenizer.finalize()
                yield Step(token, detokenizer.last_segment, reason, prompt_tps, n,
                           (n - 1) / max(now - decode_started, 1e-9), mx.get_peak_memory())
                if reason:
                    return
        finally:
            tokens.close()

    @worker_only
    def release(self) -> MemoryCounters:
        self._model = self._tokenizer = self._detokenizer = None
        mx.clear_cache()
        return_freed_memory()
        return read_counters()


def eos_ids(config: Any, tokenizer: Any) -> set[int]:
    """The ids that end an answer: the model config's (one or a list) and the tokenizer's."""
    configured = getattr(config, "eos_token_id", None)
    ids = set(configured if isinstance(configured, list) else [] if configured is None else [configured])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids
