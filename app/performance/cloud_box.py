"""Cloud answers beside the local ones in the Performance view: how many, their tokens, what they cost (estimated
from the prices in Preferences ▸ Cloud) and the latest one's speed. Read from the conversation history, so the
totals survive restarts."""

from __future__ import annotations

from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QVBoxLayout

from app.performance.figures import Figure, tok_s
from engine.conversations.store import CloudTotals, ConversationStore

MUTED = "color: palette(placeholder-text)"


def cost_text(dollars: float) -> str:
    return f"${dollars:,.2f}" if dollars >= 0.01 or dollars == 0 else f"${dollars:.4f}"


class CloudBox(QGroupBox):
    def __init__(self, store: ConversationStore) -> None:
        super().__init__("Cloud answers")
        self._store = store
        self._shown: CloudTotals | None = None
        self.answers_figure = Figure("Answers", "Answers written (wholly or partly) by a cloud model")
        self.tokens_figure = Figure("Tokens", "Prompt tokens sent and answer tokens received")
        self.cost_figure = Figure("Cost estimate", "From the prices per million tokens in Preferences ▸ Cloud")
        self.speed_figure = Figure("Last cloud answer", "Answer tokens per second, as they streamed in")
        figures = QHBoxLayout()
        for figure in (self.answers_figure, self.tokens_figure, self.cost_figure, self.speed_figure):
            figures.addWidget(figure, 1)
        note = QLabel("Local only conversations never reach the cloud; see Preferences ▸ Cloud.")
        note.setStyleSheet(MUTED)
        layout = QVBoxLayout(self)
        layout.addLayout(figures)
        layout.addWidget(note)

    def refresh(self) -> None:
        totals = self._store.cloud_usage()
        if totals == self._shown:
            return
        self._shown = totals
        self.answers_figure.set_value(f"{totals.answers:,}")
        self.tokens_figure.set_value(f"{totals.prompt_tokens + totals.answer_tokens:,}",
                                     f"{totals.prompt_tokens:,} in · {totals.answer_tokens:,} out")
        self.cost_figure.set_value(cost_text(totals.cost))
        self.speed_figure.set_value(tok_s(totals.last_tps) if totals.answers else "–")
