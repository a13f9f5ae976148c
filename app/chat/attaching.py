"""Attaching files to the next message: read each off the UI thread, count its tokens with the loaded model's
tokenizer (on the engine's worker, which owns it), and put it in the composer only if the conversation has room.

Files are taken one at a time, so two dropped together are measured against each other. Without a model the
file is attached uncounted, and counted once a model has loaded (so is every chip, with a new model's tokenizer).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QImage

from app.chat.composer import Composer
from app.chat.session import ChatSession
from app.context import AppContext
from app.model_state import ModelStatus
from app.chat.images import image_from_file, image_from_qimage
from engine.attachments import IMAGE_SUFFIXES, Room, file_block, read_attachment
from engine.conversations.history import prompt_messages
from engine.errors import CabinError
from engine.generation.settings import within_model_context
from engine.messages import File, Image, Message, user


class Attacher(QObject):
    def __init__(self, context: AppContext, session: ChatSession, composer: Composer) -> None:
        super().__init__(composer)
        self._context, self._session, self._composer = context, session, composer
        self._turn: asyncio.Lock | None = None
        self.pending: set[asyncio.Task] = set()
        """Attachments being read or counted (tests wait for them)."""
        composer.sig_attach.connect(self.attach)
        composer.sig_attach_image.connect(self.attach_image)
        context.models.sig_changed.connect(self._model_changed)

    def attach(self, paths: list[Path]) -> None:
        for path in paths:
            self._run(self._attach(path))

    def _run(self, work) -> None:
        task = asyncio.ensure_future(work)
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _attach(self, path: Path) -> None:
        if path.suffix.lower() in IMAGE_SUFFIXES:
            await self._attach_image(lambda: image_from_file(path), path.name)
            return
        self._turn = self._turn or asyncio.Lock()
        async with self._turn:
            self._composer.show_notice(f"Reading {path.name}…")
            try:
                file = await asyncio.wrap_future(self._context.background.submit(read_attachment, path))
                if self._context.models.status is ModelStatus.READY:
                    file = await self._counted(file)
            except CabinError as e:  # AttachmentError, or ModelError when the model went away
                self._composer.show_notice(str(e))
                return
            refusal = await self._refusal(file)
            self._composer.show_notice(refusal or "")
            if refusal is None:
                self._composer.add_attachment(file)

    def attach_image(self, picture: QImage) -> None:
        """A pasted picture."""
        self._run(self._attach_image(lambda: image_from_qimage(picture), "The pasted image"))

    async def _attach_image(self, read: Callable[[], Image], name: str) -> None:
        """An image goes to a model that reads images; a text-only model refuses it with one line."""
        info = self._context.models.info
        if info is not None and not info.vision:
            self._composer.show_notice(f"{name} is an image: {info.name} reads text only (load a vision model).")
            return
        try:
            image = await asyncio.wrap_future(self._context.background.submit(read))
        except CabinError as e:
            self._composer.show_notice(str(e))
            return
        self._composer.show_notice("")
        self._composer.add_attachment(image)

    async def _counted(self, file: File) -> File:
        tokens = await asyncio.wrap_future(self._context.engine.count_tokens(file_block(file)))
        return replace(file, tokens=tokens)

    async def _refusal(self, file: File, replacing: File | None = None) -> str | None:
        """Why `file` does not fit in the conversation with the other files attached (None: it does);
        `replacing`: the attachment it is a recount of."""
        if file.tokens is None:
            return None
        messages = self._conversation() + [user("")]
        used = await asyncio.wrap_future(self._context.engine.count_prompt(messages))
        attached = sum(f.tokens or 0 for f in self._composer.attachments if isinstance(f, File) and f is not replacing)
        settings = within_model_context(self._context.settings.sampling(), self._model_context())
        return Room.of(settings.context_length, used + attached, settings.max_tokens).refusal(file.name, file.tokens)

    def _conversation(self) -> list[Message]:
        return prompt_messages(self._session.system_prompt, [m.message for m in self._session.thread])

    def _model_context(self) -> int | None:
        info = self._context.models.info
        return info.context_length if info else None

    def _model_changed(self) -> None:
        if self._context.models.status is ModelStatus.READY and self._composer.attachments:
            self._run(self._recount())

    async def _recount(self) -> None:
        """Count every attached file again with the model just loaded; one that no longer fits is taken off."""
        for file in [f for f in self._composer.attachments if isinstance(f, File)]:
            try:
                counted = await self._counted(file)
                refusal = await self._refusal(counted, replacing=file)
            except CabinError:
                return
            if refusal is None:
                self._composer.replace_attachment(file, counted)
            else:
                self._composer.remove_file(file)
                self._composer.show_notice(refusal)
