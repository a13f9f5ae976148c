"""Images in API requests (OpenAI `image_url` parts, Ollama `images`): read and checked while parsing, refused when
the model that will answer reads text only.

Only images the request carries are read: base64 (Ollama), data: URLs and local file: URLs (OpenAI). An http(s)
URL is refused (400), never fetched: nothing Cabin does reaches the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.images import ImageError, with_digest
from engine.messages import Image, Message
from engine.server.errors import ApiError

if TYPE_CHECKING:
    from engine.server.request_queue import RequestQueue


def checked_images(messages: list[Message], param: str) -> list[Message]:
    """`messages` with every image read and checked (its digest filled in); a 400 naming the first bad one."""
    return [_checked(message, index, param) for index, message in enumerate(messages)]


def _checked(message: Message, index: int, param: str) -> Message:
    if not message.of_kind(Image):
        return message
    try:
        return Message(message.role, tuple(with_digest(p) if isinstance(p, Image) else p for p in message.parts))
    except ImageError as e:
        where = param.format(index=index)
        raise ApiError.invalid(f"Invalid image in '{where}': {e}.", where, "invalid_image") from None


def holds_images(messages: list[Message]) -> bool:
    return any(message.of_kind(Image) for message in messages)


async def refuse_images_for_text_model(queue: RequestQueue, model: str, messages: list[Message], param: str) -> None:
    """Load `model` (when its turn comes) if the request holds images, and refuse (400) if it reads text only."""
    if not holds_images(messages):
        return
    await queue.load(model)
    info = queue.engine.model_info
    if info is None or not info.vision:
        raise ApiError.invalid(f"Image input is not supported: {model} reads text only (load a vision model).",
                               param, "unsupported_parameter")
