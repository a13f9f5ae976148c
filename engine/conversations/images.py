"""The images of a conversation database: one file per image in an `images` folder beside the database, named by
the sha256 of its bytes (an image attached twice is stored once).

A message keeps only the digest and media type of each image (`stored`); read back, each image gets a file: URL
to its file (`resolved`), which the engine reads like any other image URL (engine/images.py).
"""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path

from engine.images import image_bytes, with_digest
from engine.messages import Image, Part


class ImageFolder:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256

    def stored(self, parts: tuple[Part, ...]) -> tuple[Part, ...]:
        """`parts` with each image written to its file (once) and kept as its digest and media type only."""
        return tuple(self._keep(part) if isinstance(part, Image) else part for part in parts)

    def _keep(self, part: Image) -> Image:
        part = with_digest(part)
        target = self.path(part.sha256 or "")
        if not target.exists():
            self._write(target, image_bytes(part))
        return Image(detail=part.detail, sha256=part.sha256, media_type=part.media_type)

    def _write(self, target: Path, data: bytes) -> None:
        """Through a temporary file and a rename: a crash never leaves half an image under its digest."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)

    def keep_only(self, digests: set[str]) -> None:
        """Delete every image file whose digest is not in `digests` (and leftovers of interrupted writes)."""
        if not self.root.is_dir():
            return
        for file in self.root.iterdir():
            if file.name not in digests:
                file.unlink(missing_ok=True)

    def resolved(self, parts: tuple[Part, ...]) -> tuple[Part, ...]:
        """`parts` with each stored image pointing at its file (a file: URL)."""
        return tuple(
            Image(self.path(part.sha256).as_uri(), None, part.detail, part.sha256, part.media_type)
            if isinstance(part, Image) and part.sha256 and part.url is None and part.data is None else part
            for part in parts
        )


def inline(part: Image) -> Image:
    """The image with its bytes inline (base64): for an export that must carry it."""
    return Image(data=base64.b64encode(image_bytes(part)).decode("ascii"), detail=part.detail, sha256=part.sha256,
                 media_type=part.media_type)
