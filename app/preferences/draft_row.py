"""Preferences ▸ Speculative decoding: the loaded model's draft model, chosen among this computer's MLX models (the
list is read off the UI thread), and what the loaded model runs with now."""

from __future__ import annotations

from concurrent.futures import Future

from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from app.context import AppContext
from app.drafts import NONE, draft_candidates, draft_of, draft_status, set_draft, shown_name
from app.models.jobs import Watcher
from app.preferences.editors import HINT_STYLE
from engine.models.store import list_models



class DraftRow(QWidget):
    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self._context = context
        self.choice = QComboBox()
        self.choice.setToolTip("A smaller MLX model with the same tokenizer proposes tokens; the model keeps the ones "
                               "it would have written itself (the answers stay its own)")  # fmt: skip
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setStyleSheet(HINT_STYLE)
        """What the loaded model runs with; the window puts it on its own row under the choice."""
        self._watcher = Watcher(lambda: None)
        self._watcher.setParent(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.choice)
        self.choice.activated.connect(self._chosen)
        context.models.sig_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """List the models again (off the UI thread) and show the loaded model's draft."""
        target = self._context.models.info
        self.choice.setEnabled(False)
        self.choice.clear()
        current = draft_of(self._context.settings, target) if target is not None else None
        self.choice.addItem(shown_name(current), current)
        self.status.setText(draft_status(self._context.engine, target))
        if target is not None:
            self._watcher.watch(self._context.background.submit(list_models), self._fill)

    def _fill(self, future: Future) -> None:
        target = self._context.models.info
        if target is None:
            return
        current = draft_of(self._context.settings, target)
        self.choice.clear()
        self.choice.addItem(NONE, None)
        for model in draft_candidates(future.result(), target):
            self.choice.addItem(model.info.name, model.key)
        if current is not None and self.choice.findData(current) < 0:
            self.choice.addItem(shown_name(current), current)  # set before, not listed now (moved, or not found)
        self.choice.setCurrentIndex(max(0, self.choice.findData(current)))
        self.choice.setEnabled(True)

    def _chosen(self, index: int) -> None:
        target = self._context.models.info
        if target is None:
            return
        set_draft(self._context.settings, self._context.engine, target, self.choice.itemData(index))
        self.status.setText(f"Saved. Used the next time {target.name} is loaded.")
