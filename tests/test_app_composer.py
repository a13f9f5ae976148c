"""The composer's keys: Enter sends, Shift+Enter adds a line, Ctrl+Enter (⌘↩ on macOS) sends."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.chat.composer import Composer


@pytest.fixture
def composer(qtbot) -> Composer:
    composer = Composer()
    qtbot.addWidget(composer)
    return composer


def sent_by(qtbot, composer: Composer, modifier: Qt.KeyboardModifier) -> list[str]:
    sent: list[str] = []
    composer.sig_send.connect(sent.append)
    composer.edit.setPlainText("hi")
    composer.edit.moveCursor(composer.edit.textCursor().MoveOperation.End)
    qtbot.keyClick(composer.edit, Qt.Key.Key_Return, modifier)
    return sent


def test_enter_sends(qtbot, composer: Composer) -> None:
    assert sent_by(qtbot, composer, Qt.KeyboardModifier.NoModifier) == ["hi"]


def test_ctrl_enter_sends(qtbot, composer: Composer) -> None:
    assert sent_by(qtbot, composer, Qt.KeyboardModifier.ControlModifier) == ["hi"]


def test_shift_enter_adds_a_new_line(qtbot, composer: Composer) -> None:
    assert sent_by(qtbot, composer, Qt.KeyboardModifier.ShiftModifier) == []
    assert composer.edit.toPlainText() == "hi\n"


def test_blank_text_is_not_sent(qtbot, composer: Composer) -> None:
    sent: list[str] = []
    composer.sig_send.connect(sent.append)
    composer.edit.setPlainText("  \n ")
    qtbot.keyClick(composer.edit, Qt.Key.Key_Return)
    assert sent == []


def test_while_busy_the_button_stops_instead_of_sending(qtbot, composer: Composer) -> None:
    stops: list[bool] = []
    composer.sig_stop.connect(lambda: stops.append(True))
    composer.set_busy(True)
    composer.button.click()
    assert composer.button.text() == "Stop" and stops == [True]


def test_the_box_grows_with_the_text_up_to_a_limit(qtbot, composer: Composer) -> None:
    one_line = composer.edit.height()
    composer.edit.setPlainText("\n".join(["line"] * 4))
    four_lines = composer.edit.height()
    composer.edit.setPlainText("\n".join(["line"] * 40))
    assert one_line < four_lines < composer.edit.height() <= one_line * 12


def test_the_hint_names_the_macos_send_key_on_macos(qtbot, monkeypatch) -> None:
    monkeypatch.setattr("sys.platform", "darwin")
    composer = Composer()
    qtbot.addWidget(composer)
    assert "⌘↩ also sends" in composer.hint.text()
