"""The llama.cpp backend reading images: a GGUF model with its vision projector (`mmproj`), through llama.cpp's
multimodal library (mtmd, bound by `llama_cpp.mtmd_cpp`).

Images enter the prompt as engine/backends/image_ids.py says. `ProjectorTokenizer` renders an image part as its
marker, written as a text part (any template that writes text parts places it), and encoding expands each marker
into what mtmd makes of that one image: the text tokens some families put around an image (Gemma 3's
`<start_of_image>`) and the image's tokens. `LlamaCppVisionBackend` prefills text runs as the text backend does
and each image's run through mtmd (the vision encoder, then the model, at the run's position), so the KV cache,
its saving per conversation and the prompt cache work as for text.

Models that number an image's positions in several dimensions (M-RoPE: Qwen2-VL, Qwen2.5-VL, Qwen3-VL) give an image
fewer positions than tokens: the conversation's cache records each such gap (`LlamaKV.gaps`), so trimming and
restoring find a token's position from its index.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterator
from dataclasses import dataclass
from threading import Event as StopFlag
from typing import Any

from engine.backends.base import MemoryCounters, PrefillStopped, worker_only
from engine.backends.image_ids import MARKER, PreparedImages, image_id, marker
from engine.backends.llamacpp import PREFILL_STEP, LlamaCppBackend, LlamaKV, open_llama, require_llama_cpp
from engine.backends.llamacpp_log import error_lines, quiet_mtmd
from engine.backends.llamacpp_tokenizer import LlamaCppTokenizer
from engine.errors import ModelError
from engine.images import image_bytes, readable, with_digest
from engine.messages import Image
from engine.models.folder import ModelInfo

NO_MTMD = "this llama-cpp-python was built without llama.cpp's multimodal library (mtmd): rebuild it with scripts/setup.sh"


@dataclass
class ImageInput:
    """One image as mtmd tokenized it for this model."""

    ids: list[int]
    """Text ids mtmd puts around the image, and the image's tokens as `image_id`s."""
    tokens: int
    """How many tokens (KV cells) the image takes."""
    positions: int
    """How many positions it advances (fewer than `tokens` with M-RoPE)."""
    chunks: Any
    """mtmd's chunk list (owned: freed by `Projector.free`)."""
    chunk: Any
    """The image chunk inside `chunks`."""


class Projector:
    """llama.cpp's multimodal context for one loaded model: it tokenizes images and feeds them to the model."""

    def __init__(self, mtmd: Any, context: Any) -> None:
        self._mtmd = mtmd
        self._context = context

    @classmethod
    def open(cls, info: ModelInfo, llama: Any, threads: int) -> Projector:
        """The projector file of `info` on `llama`'s model; one ModelError line when it cannot serve it."""
        assert info.projector is not None
        llama_cpp = require_llama_cpp()
        try:
            import llama_cpp.mtmd_cpp as mtmd
        except (ImportError, OSError, FileNotFoundError):
            raise ModelError(NO_MTMD) from None
        quiet_mtmd(mtmd)
        params = mtmd.mtmd_context_params_default()
        params.use_gpu = llama_cpp.llama_supports_gpu_offload()
        params.print_timings = False
        params.n_threads = threads
        params.warmup = False
        with error_lines() as errors:
            context = mtmd.mtmd_init_from_file(str(info.projector).encode(), llama.model, params)
        name = info.projector.name
        if not context:
            raise ModelError(f"could not load the vision projector {name}: {errors[0] if errors else 'llama.cpp refused it'}")
        projector = cls(mtmd, context)
        if not mtmd.mtmd_support_vision(context):
            projector.close()
            raise ModelError(f"{name} holds no vision encoder: it cannot read images")
        return projector

    def tokenize(self, picture: Any, sha256: str) -> ImageInput:
        """`picture` (a Pillow RGB image) as mtmd's chunks for this model."""
        mtmd = self._mtmd
        pixels = picture.tobytes()
        bitmap = mtmd.mtmd_bitmap_init(picture.width, picture.height, (ctypes.c_uint8 * len(pixels)).from_buffer_copy(pixels))
        if not bitmap:
            raise ModelError("llama.cpp could not take this image")
        text = mtmd.mtmd_input_text()
        text.text = mtmd.mtmd_default_marker()
        text.text_len = len(text.text)
        text.add_special = False
        text.parse_special = True
        chunks = mtmd.mtmd_input_chunks_init()
        try:
            with error_lines() as errors:
                failed = mtmd.mtmd_tokenize(self._context, chunks, ctypes.byref(text), (mtmd.mtmd_bitmap_p_ctypes * 1)(bitmap), 1)
            if failed:
                raise ModelError(f"llama.cpp could not prepare this image ({errors[0] if errors else f'code {failed}'})")
            return self._image_input(chunks, sha256)
        except BaseException:
            mtmd.mtmd_input_chunks_free(chunks)
            raise
        finally:
            mtmd.mtmd_bitmap_free(bitmap)

    def _image_input(self, chunks: Any, sha256: str) -> ImageInput:
        mtmd = self._mtmd
        ids: list[int] = []
        image = None
        tokens = positions = 0
        for index in range(mtmd.mtmd_input_chunks_size(chunks)):
            chunk = mtmd.mtmd_input_chunks_get(chunks, index)
            if mtmd.mtmd_input_chunk_get_type(chunk) == mtmd.MTMD_INPUT_CHUNK_TYPE_TEXT:
                count = ctypes.c_size_t()
                text = mtmd.mtmd_input_chunk_get_tokens_text(chunk, ctypes.byref(count))
                ids += [text[i] for i in range(count.value)]
            else:
                image, tokens = chunk, mtmd.mtmd_input_chunk_get_n_tokens(chunk)
                positions = mtmd.mtmd_input_chunk_get_n_pos(chunk)
                ids += [image_id(sha256)] * tokens
        if image is None:
            raise ModelError("llama.cpp made no image input of this image")
        return ImageInput(ids, tokens, positions, chunks, image)

    def feed(self, image: ImageInput, llama: Any, position: int) -> None:
        """Encode `image` and decode it into `llama`'s context at `position`."""
        import llama_cpp

        after = llama_cpp.llama_pos(0)
        with error_lines() as errors:
            failed = self._mtmd.mtmd_helper_eval_chunk_single(
                self._context, llama._ctx.ctx, image.chunk, position, 0, PREFILL_STEP, False, ctypes.byref(after)
            )
        if failed or after.value != position + image.positions:
            raise ModelError(f"llama.cpp could not read the image ({errors[0] if errors else f'code {failed}'})")

    def free(self, image: ImageInput) -> None:
        self._mtmd.mtmd_input_chunks_free(image.chunks)

    def close(self) -> None:
        self._mtmd.mtmd_free(self._context)
        self._context = None


class ProjectorTokenizer:
    """The GGUF's tokenizer, plus images: renders each as its marker and encodes a marker as mtmd's image input.

    Everything else (`decode`, `bos_token`, `vocab_size`...) is the wrapped tokenizer's own."""

    reads_images = True

    def __init__(self, tokenizer: LlamaCppTokenizer, projector: Projector) -> None:
        self._tokenizer = tokenizer
        self._projector = projector
        self.images: PreparedImages[ImageInput] = PreparedImages(projector.free)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tokenizer, name)

    def apply_chat_template(self, conversation: list[dict[str, Any]], **kwargs: Any) -> str | list[int]:
        """Render with the model's template, each image part ({"type": "image", "image": Image}) prepared and
        written as a text part holding its marker."""
        count = 0
        for message in conversation:
            if isinstance(message.get("content"), list):
                for index, item in enumerate(message["content"]):
                    if item.get("type") == "image":
                        message["content"][index] = {"type": "text", "text": marker(self.prepare(item["image"]))}
                        count += 1
        rendered = self._tokenizer.apply_chat_template(conversation, **{**kwargs, "tokenize": False})
        assert isinstance(rendered, str)
        placed = len(MARKER.findall(rendered))
        if placed != count:
            raise ModelError(f"this model's chat template placed {placed} image(s) for {count}")
        return self.encode(rendered, add_special_tokens=False) if kwargs.get("tokenize") else rendered

    def prepare(self, part: Image) -> str:
        """Read, check and tokenize an image once (kept by digest); its digest."""
        part = with_digest(part)
        sha = part.sha256 or ""
        if sha in self.images:
            self.images.touch(sha)
        else:
            self.images.add(sha, self._projector.tokenize(readable(image_bytes(part)), sha))
        return sha

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return self.images.encode(text, self._tokenizer.encode, add_special_tokens)


class LlamaCppVisionBackend(LlamaCppBackend):
    """A GGUF model and its vision projector, loaded with llama-cpp-python. Made by `load`, on the worker."""

    def __init__(self, llama: Any, weight_bytes: int, projector: Projector) -> None:
        super().__init__(llama, weight_bytes)
        self._projector = projector
        self._tokenizer: ProjectorTokenizer = ProjectorTokenizer(self._tokenizer, projector)  # type: ignore[assignment]

    @classmethod
    def load(cls, info: ModelInfo, context: int) -> LlamaCppVisionBackend:
        """Load a validated GGUF file and its projector (the projector's weights are in `info.weight_bytes`)."""
        llama = open_llama(info, context)
        try:
            projector = Projector.open(info, llama, os.cpu_count() or 1)
        except BaseException:
            llama.close()
            raise
        return cls(llama, info.weight_bytes, projector)

    def _prefill(self, kv: LlamaKV, prompt: list[int], stop: StopFlag) -> None:
        """Text runs as on the text backend; each image's run through the projector, at its position."""
        for run, image in self._runs(prompt):
            if image is None:
                super()._prefill(kv, run, stop)
                continue
            if stop.is_set():
                raise PrefillStopped
            self._projector.feed(image, self._llama, kv.position(len(kv.tokens)))
            kv.tokens.extend(run)
            if image.positions != image.tokens:
                kv.gaps += ((len(kv.tokens), image.tokens - image.positions),)
            self._llama.n_tokens = kv.position(len(kv.tokens))

    def _runs(self, prompt: list[int]) -> Iterator[tuple[list[int], ImageInput | None]]:
        """`prompt` cut into runs of text ids (None) and whole images (an image's run is its own)."""
        by_id = self._tokenizer.images.by_id()
        start = index = 0
        while index < len(prompt):
            token = prompt[index]
            if token >= 0:
                index += 1
                continue
            if token not in by_id:
                raise ModelError("an image in this conversation is no longer prepared: send it again")
            if start < index:
                yield prompt[start:index], None
            image = by_id[token]
            yield prompt[index : index + image.tokens], image
            start = index = index + image.tokens
        if start < len(prompt):
            yield prompt[start:], None

    @worker_only
    def release(self) -> MemoryCounters:
        self._tokenizer.images.clear()
        self._projector.close()
        return super().release()
