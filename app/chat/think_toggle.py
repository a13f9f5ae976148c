"""The Think switch beside the composer: whether a reasoning model thinks before answering, per conversation.

It shows only while the loaded model's chat template takes `enable_thinking` (Qwen3, SmolLM3); other
models think always (DeepSeek-R1 distills, gpt-oss) or never, and have nothing to switch.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QToolButton

from engine.chat_template import takes_thinking_switch

if TYPE_CHECKING:
    from engine.generation import Engine

ON_TIP = "The model thinks before it answers (slower, often better). Click to answer at once."
OFF_TIP = "The model answers at once, without thinking first. Click to let it think."


def model_takes_switch(backend: Any) -> bool:
    """On the engine's worker: whether the loaded model's template takes `enable_thinking`."""
    return backend is not None and takes_thinking_switch(getattr(backend.tokenizer, "chat_template", None))


class ThinkToggle(QToolButton):
    sig_changed = Signal(bool)
    """The user switched thinking on (True) or off (False) for this conversation."""

    def __init__(self) -> None:
        super().__init__()
        self.setCheckable(True)
        self.setChecked(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toggled.connect(self._toggled)
        self._tip(True)
        self.hide()

    def show_state(self, thinking: bool | None) -> None:
        """Show a conversation's switch (None, the model's default, is on: these templates think by default)."""
        self.blockSignals(True)
        self.setChecked(thinking is not False)
        self.blockSignals(False)
        self._tip(self.isChecked())

    def follow_model(self, engine: Engine) -> asyncio.Task:
        """Hide, then show again if the loaded model's template takes the switch (asked on the engine's worker)."""
        self.hide()
        return asyncio.ensure_future(self._show_if_switchable(engine))

    async def _show_if_switchable(self, engine: Engine) -> None:
        self.setVisible(await asyncio.wrap_future(engine.run_with_backend(model_takes_switch)))

    def _toggled(self, checked: bool) -> None:
        self._tip(checked)
        self.sig_changed.emit(checked)

    def _tip(self, checked: bool) -> None:
        self.setText("Think: On" if checked else "Think: Off")
        self.setToolTip(ON_TIP if checked else OFF_TIP)
