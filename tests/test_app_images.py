"""Images in the chat window with the tiny LLaVA: attach or paste, a thumbnail in the composer and on the sent
message, the answer; a text-only model refuses an image with one line."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtGui import QColor, QImage

from app.chat.images import ImageChip
from engine.messages import Image
from tests.app_fixtures import WAIT, chat_pane, send
from tests.vision_factory import png_bytes


def picture(tmp_path: Path, name: str = "red.png") -> Path:
    (tmp_path / name).write_bytes(png_bytes((200, 30, 30)))
    return tmp_path / name


def attach(qtbot, pane, *paths: Path) -> None:
    pane.open_files(list(paths))
    qtbot.waitUntil(lambda: not pane.attacher.pending, timeout=WAIT)


def test_an_attached_image_is_sent_shown_as_a_thumbnail_and_answered(qtbot, make_window, vision_model, tmp_path) -> None:
    window = make_window(vision_model)
    pane = chat_pane(window)
    attach(qtbot, pane, picture(tmp_path))
    assert len(pane.composer.findChildren(ImageChip)) == 1
    send(qtbot, pane, "What is this?")
    asked, answer = pane.session.thread[-2], pane.session.thread[-1]
    assert [type(p) for p in asked.message.parts] == [Image, type(asked.message.parts[1])]
    assert answer.message.text and answer.error is None
    [chip] = pane.chat.views[0].findChildren(ImageChip)
    assert chip.remove_button is None
    assert window.grab().save(str(Path(os.environ.get("CABIN_PNG_DIR", tmp_path)) / "image-message.png"))


def test_a_pasted_picture_is_attached_as_an_image(qtbot, make_window, vision_model) -> None:
    window = make_window(vision_model)
    pane = chat_pane(window)
    pasted = QImage(30, 20, QImage.Format.Format_RGB32)
    pasted.fill(QColor("blue"))
    pane.attacher.attach_image(pasted)
    qtbot.waitUntil(lambda: not pane.attacher.pending, timeout=WAIT)
    [image] = pane.composer.attachments
    assert isinstance(image, Image) and image.media_type == "image/png"


def test_a_text_only_model_refuses_an_image_with_one_line(qtbot, window, tmp_path) -> None:
    pane = chat_pane(window)
    attach(qtbot, pane, picture(tmp_path))
    assert pane.composer.attachments == []
    assert pane.composer.hint.text() == "red.png is an image: tiny-llama reads text only (load a vision model)."


def test_an_image_in_another_format_qt_reads_is_attached_as_png(qtbot, make_window, vision_model, tmp_path) -> None:
    window = make_window(vision_model)
    pane = chat_pane(window)
    bitmap = QImage(30, 20, QImage.Format.Format_RGB32)
    bitmap.fill(QColor("green"))
    bitmap.save(str(tmp_path / "green.bmp"), "BMP")
    attach(qtbot, pane, tmp_path / "green.bmp")
    [image] = pane.composer.attachments
    assert image.media_type == "image/png"


def test_a_file_named_like_an_image_that_is_none_gets_one_line(qtbot, make_window, vision_model, tmp_path) -> None:
    window = make_window(vision_model)
    pane = chat_pane(window)
    (tmp_path / "cat.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    attach(qtbot, pane, tmp_path / "cat.jpg")
    assert pane.composer.attachments == []
    assert pane.composer.hint.text().startswith("cat.jpg is not an image Cabin can read")
    assert "\n" not in pane.composer.hint.text()


def test_a_gguf_with_its_projector_answers_an_attached_image(qtbot, make_window, llava_gguf_pair, tmp_path) -> None:
    window = make_window(llava_gguf_pair[0])
    pane = chat_pane(window)
    attach(qtbot, pane, picture(tmp_path))
    send(qtbot, pane, "What is this?")
    answer = pane.session.thread[-1]
    assert answer.message.text and answer.error is None
