"""Images in messages: their bytes (base64, a data: URL or a file: URL; never the network), their digest, and a
check that they are pictures a vision model can read.

An `Image` part arrives from the window (a file the user attached, pasted or dropped), from the API (OpenAI's
`image_url`, Ollama's `images`) or from the conversation store (a file: URL to its copy beside the database).
Whatever the source, `image_bytes` gives the bytes and `readable` checks them with Pillow before a model sees them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from engine.errors import CabinError
from engine.messages import Image

MAX_IMAGE_BYTES = 20 * 1024**2
"""Larger images are refused before decoding."""
MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp", "BMP": "image/bmp"}


class ImageError(CabinError):
    """An image that cannot be read; the message is one line saying why."""


def image_bytes(part: Image) -> bytes:
    """The image's bytes, from its base64 `data` or its data:/file: `url`. ImageError for anything else."""
    if part.data is not None:
        return _base64(part.data.split(",", 1)[1] if part.data.startswith("data:") else part.data)
    if part.url is None:
        raise ImageError("an image part holds neither data nor a URL")
    scheme = urlparse(part.url).scheme.lower()
    if scheme == "data":
        return _data_url(part.url)
    if scheme == "file":
        return _file_url(part.url)
    if scheme in ("http", "https"):
        raise ImageError("image URLs on the network are not fetched: send the image as a data: URL (base64)")
    raise ImageError(f"unsupported image URL scheme {scheme or part.url[:20]!r}: use a data: or file: URL")


def _base64(text: str) -> bytes:
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ImageError("the image is not valid base64") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageError(f"the image is {len(data) / 1024**2:,.0f} MB: too big (at most {MAX_IMAGE_BYTES // 1024**2} MB)")
    return data


def _data_url(url: str) -> bytes:
    header, _, payload = url.partition(",")
    if not header.endswith(";base64"):
        raise ImageError("a data: URL image must be base64 (data:image/png;base64,...)")
    return _base64(payload)


def _file_url(url: str) -> bytes:
    parsed = urlparse(url)
    if parsed.netloc not in ("", "localhost"):
        raise ImageError(f"file URL on another host ({parsed.netloc}): only local files are read")
    path = Path(url2pathname(unquote(parsed.path)))
    try:
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            raise ImageError(f"{path.name} is {size / 1024**2:,.0f} MB: too big")
        return path.read_bytes()
    except OSError as e:
        raise ImageError(f"could not read image {path}: {e.strerror or e}") from None


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def readable(data: bytes, name: str = "the image") -> Any:
    """The decoded picture (a Pillow image in RGB); ImageError when Pillow cannot read it."""
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    try:
        with PILImage.open(io.BytesIO(data)) as picture:
            picture.load()
            return picture.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise ImageError(f"{name} is not an image Cabin can read ({str(e).splitlines()[0] or type(e).__name__})") from None


def media_type(data: bytes) -> str:
    """The image's media type, from its own header (not its name)."""
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(data)) as picture:
        return MEDIA_TYPES.get(picture.format or "", "image/png")


def image_part(data: bytes, name: str = "the image") -> Image:
    """A checked Image part holding `data` (base64) with its digest and media type."""
    readable(data, name)
    return Image(data=base64.b64encode(data).decode("ascii"), sha256=digest(data), media_type=media_type(data))


def with_digest(part: Image) -> Image:
    """`part` with its sha256 and media type filled in (reading its bytes once)."""
    if part.sha256 is not None and part.media_type is not None:
        return part
    data = image_bytes(part)
    readable(data)
    return Image(part.url, part.data, part.detail, digest(data), media_type(data))


def image_file(path: Path) -> Image:
    """An image file as a checked Image part; ImageError (one line naming the file) when it cannot be one."""
    try:
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            raise ImageError(f"{path.name} is {size / 1024**2:,.0f} MB: too big (at most {MAX_IMAGE_BYTES // 1024**2} MB)")
        data = path.read_bytes()
    except OSError as e:
        raise ImageError(f"Could not read {path.name}: {e.strerror or e}.") from None
    return image_part(data, path.name)


def refuse_for_text_model(image_count: int, model_name: str, vision: bool) -> None:
    """ImageError when images go to a model that reads text only."""
    if image_count and not vision:
        raise ImageError(f"{model_name} reads text only: load a vision model to ask about images")
