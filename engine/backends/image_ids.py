"""How an image sits in a prompt, on every backend that reads images (MLX through mlx-vlm, llama.cpp through its
projector).

The engine's prompt cache keeps a conversation's exact token ids (engine/generation/prompt_cache.py). An image has
no token ids of its own, so:

- rendering, the chat template's place for an image holds a marker naming the image's sha256 (`marker`);
- encoding, a marker becomes as many ids as the model spends on the image, each the same negative id derived from
  the digest (`image_id`): prompts with different images differ there, prompts with the same image match, so a
  text turn after an image reuses the cache, the image included; and since a cached prefix ends where two prompts
  first differ, it never ends inside an image;
- generating, the backend finds each image's run of ids in the part still to prefill and feeds the image there.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from engine.errors import ModelError

MARKER = re.compile(r"\x1eimage:([0-9a-f]{64})\x1e")
"""Where an image sits in a rendered prompt (record separators around its digest: no template writes those)."""
KEPT_IMAGES = 32
"""Prepared images kept per model (a conversation's images are rendered again every turn)."""

class HasIds(Protocol):
    ids: list[int]
    """The image's ids in a prompt: its tokens as `image_id`s, and any text ids its family puts around it."""


T = TypeVar("T", bound=HasIds)


def marker(sha256: str) -> str:
    return f"\x1eimage:{sha256}\x1e"


def image_id(sha256: str) -> int:
    """The negative id an image's positions carry in the prompt cache (a real token id is never negative)."""
    return -(int(sha256[:14], 16) + 1)


class PreparedImages(Generic[T]):
    """The last KEPT_IMAGES images a model prepared (preprocessed, tokenized), by digest; `release` is called on
    each one dropped."""

    def __init__(self, release: Callable[[T], None] = lambda _image: None) -> None:
        self._images: OrderedDict[str, T] = OrderedDict()
        self._release = release

    def __contains__(self, sha256: str) -> bool:
        return sha256 in self._images

    def touch(self, sha256: str) -> None:
        self._images.move_to_end(sha256)

    def add(self, sha256: str, image: T) -> None:
        self._images[sha256] = image
        while len(self._images) > KEPT_IMAGES:
            self._release(self._images.popitem(last=False)[1])

    def get(self, sha256: str) -> T:
        if sha256 not in self._images:
            raise ModelError(f"image {sha256[:12]} was not prepared for this model")
        return self._images[sha256]

    def by_id(self) -> dict[int, T]:
        """Each kept image by the negative id its positions carry."""
        return {image_id(sha): image for sha, image in self._images.items()}

    def encode(self, text: str, encode_text: Callable[..., list[int]], add_special_tokens: bool, **kwargs: object
               ) -> list[int]:  # fmt: skip
        """`text` as ids: without markers, the tokenizer's own `encode_text` (so `encode("")` still says whether it
        adds BOS); with markers, each image's ids between its text pieces, encoded without special tokens."""
        pieces = MARKER.split(text)
        if len(pieces) == 1:
            return encode_text(text, add_special_tokens=add_special_tokens, **kwargs)
        ids: list[int] = []
        for index, piece in enumerate(pieces):
            if index % 2:
                ids += self.get(piece).ids
            elif piece:
                ids += encode_text(piece, add_special_tokens=False, **kwargs)
        return ids

    def clear(self) -> None:
        while self._images:
            self._release(self._images.popitem()[1])
